"""summary.pdf: renders with poppler and says what a clinician filing it needs to read."""

import re
import shutil
import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageStat

from tests.support.export_fixtures import build_sample_package, sample_export

LONDON = ZoneInfo("Europe/London")


def pdf_text(tmp_path, pdf: bytes, *, layout: bool = False) -> str:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext (Debian package poppler-utils) must be installed"
    path = tmp_path / "summary.pdf"
    path.write_bytes(pdf)
    args = [pdftotext, "-enc", "UTF-8", *(["-layout"] if layout else []), str(path), "-"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True)
    return result.stdout if layout else " ".join(result.stdout.split())  # join wrapped lines


def summary(sample) -> bytes:
    return build_sample_package(sample).zip.read("summary.pdf")


def test_summary_pdf_renders_every_page_with_pdftoppm(tmp_path):
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm (Debian package poppler-utils) must be installed"
    path = tmp_path / "summary.pdf"
    path.write_bytes(summary(sample_export()))
    subprocess.run([pdftoppm, "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True, capture_output=True, timeout=60)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 1
    with Image.open(pages[0]) as first:
        assert first.width > 200 and first.height > 300
        extrema = first.convert("L").getextrema()
        assert extrema[0] < 100 and extrema[1] > 200  # dark text on a light page
    # the first photo's thumbnail puts colour on the page, not only black text
    with Image.open(pages[0]) as first:
        saturation = ImageStat.Stat(first.convert("HSV")).mean[1]
        assert saturation > 2


def test_summary_text_contains_each_photos_capture_date_and_comments(tmp_path):
    sample = sample_export()
    text = pdf_text(tmp_path, summary(sample))
    for photo in sample.photos:
        captured = datetime.fromisoformat(photo.captured_at).astimezone(LONDON)
        assert f"captured {captured.day} {captured:%B %Y}" in text
        assert f"{captured:%H:%M}" in text
        if photo.notes:
            assert photo.notes in text
    for comment in sample.comments:
        assert comment.text in text
        assert comment.author_name in text


def test_summary_has_patient_clinic_share_consent_and_triage_details(tmp_path):
    sample = sample_export()
    text = pdf_text(tmp_path, summary(sample))
    info = sample.info
    for expected in (
        "Zoë Ćwikła-Smith",
        "23 November 1978",
        "943 476 5919",
        info.clinic.name,
        info.clinic.ods_code,
        info.clinician.name,
        info.share.consent_version,
        "direct care, teaching",
        "20 August 2024",
        "List for excision",
        info.triage.note,
        "Left forearm",
        "66480008",
        "Scalp",
        "Coal tar shampoo",
    ):
        assert expected in text, expected
    assert info.share.consent_text_hash.replace(" ", "") in text.replace(" ", "")


@pytest.mark.parametrize(
    ("nhs_number", "phrase"),
    [(None, "NHS number absent: the patient has not recorded one."), ("9434765918", "NHS number absent: the number the patient gave fails")],
)
def test_summary_says_in_words_when_the_nhs_number_is_absent(tmp_path, nhs_number, phrase):
    text = pdf_text(tmp_path, summary(sample_export(nhs_number=nhs_number)))
    assert phrase.removeprefix("NHS number ") in text
    assert "Name and date of birth" in text
    assert "943 476 591" not in text


def test_summary_says_when_no_triage_outcome_was_recorded(tmp_path):
    text = pdf_text(tmp_path, summary(sample_export(triage=False)), layout=True)
    section = text.split("Triage outcome", 1)[1]
    assert re.match(r"\s*Outcome +Not recorded\n", section), section[:200]
