"""A researcher's study screen in the clinician web app (headless Chromium, local stack): pseudonyms only,
photos shown, the research export built by the export job and downloaded; axe-clean throughout."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime

import httpx
from playwright.sync_api import expect

from tests.e2e.helpers import ok, unique, upload_photo
from tests.e2e.web.helpers import CLINICIAN, assert_accessible, sign_in, token, wait_ready, wait_view
from tests.support.images import make_photo

PATIENT_NAME = "Winifred Study-Participant"


def _study(base: str) -> tuple[dict, dict]:
    admin = token(base, unique("admin"), "admin", "Ada Admin")
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin}"}, timeout=30) as api:
        clinic = ok(api.post("/api/manage/clinics", json={"name": "Study Clinic", "odsCode": "RTD", "notificationEmail": "study@nhs.example"}))
        body = {
            "clinicId": clinic["id"],
            "title": unique("Alopecia photo study"),
            "sponsor": "Newcastle upon Tyne Hospitals",
            "recReference": "24/NE/0456",
            "irasId": "334455",
            "startDate": "2026-01-01",
            "endDate": "2030-12-31",
            "scheduleWeeks": [0, 4, 12],
            "bodySites": ["scalp"],
            "participantInformation": {"title": "Taking part", "paragraphs": ["We would like to use photos of your scalp."]},
        }
        study = ok(api.post("/api/manage/studies", json=body))
        ok(api.post(f"/api/manage/studies/{study['id']}/researchers", json={"sub": CLINICIAN["sub"], "name": CLINICIAN["name"]}))
    patient = token(base, unique("patient"), "patient", PATIENT_NAME)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {patient}"}, timeout=60) as api:
        ok(api.put("/api/me", json={"displayName": PATIENT_NAME, "dateOfBirth": "1972-06-30", "nhsNumber": "9434765919"}))
        folder = ok(api.post("/api/folders", json={"name": "Patch above left ear", "bodySite": "scalp", "notes": "Started after the holiday"}))
        image = upload_photo(api, folder["id"], make_photo(640, 480, seed=7, gps=False), captured_at=datetime.now(UTC).replace(microsecond=0))
        wait_ready(api, [image])
        info = ok(api.get("/api/studies", params={"code": study["enrolmentCode"]}))["participantInformation"]
        consent = {"version": info["version"], "textHash": info["textHash"], "accepted": True}
        enrolment = ok(api.post("/api/enrolments", json={"studyId": study["id"], "folderIds": [folder["id"]], "sex": "female", "consent": consent}))
    return study, enrolment


def test_researcher_sees_pseudonymised_participants_photos_and_downloads_the_research_export(stack, page):
    base = stack.base_url
    study, enrolment = _study(base)
    sign_in(page, base)
    wait_view(page, "worklist")

    page.get_by_role("contentinfo").get_by_role("link", name="Research studies").click()
    wait_view(page, "research")
    assert_accessible(page, "research studies")
    page.get_by_role("link", name=study["title"]).click()
    wait_view(page, "research-study")
    table = page.locator("[data-testid='participants']")
    expect(table).to_contain_text(enrolment["participantCode"])
    expect(table).to_contain_text("1972")
    expect(table).to_contain_text("Female")
    content = page.locator("main").inner_text()
    for secret in (PATIENT_NAME, "943 476 5919", "9434765919", "30 June 1972", "Patch above left ear", "Started after the holiday"):
        assert secret not in content
    photo = page.get_by_role("img", name=f"Photo of participant {enrolment['participantCode']}: Day 0, week 0 timepoint, Scalp")
    expect(photo).to_have_attribute("src", re.compile(r"^blob:"))
    page.wait_for_function("() => [...document.querySelectorAll('.app-research-photo img')].every(i => i.complete && i.naturalWidth > 0)")
    assert_accessible(page, "research study")

    page.get_by_role("button", name="Start a research export").click()
    download_button = page.locator("[data-action='download-research-export']")
    expect(download_button).to_be_visible(timeout=90000)
    assert_accessible(page, "research study with an export")
    with page.expect_download() as info:
        download_button.click()
    data = info.value.path().read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert "participants.csv" in names and "fhir/bundle.json" in names
        assert len([n for n in names if n.endswith(".dcm")]) == 1
        assert enrolment["participantCode"].encode() in archive.read("participants.csv")
        for name in names:
            assert PATIENT_NAME.encode() not in archive.read(name)


def test_a_clinician_without_a_study_sees_no_studies_and_an_unknown_study_is_not_available(stack, page):
    base = stack.base_url
    sign_in(page, base)
    wait_view(page, "worklist")
    page.goto(base + "/research/studies/std-not-mine")
    wait_view(page, "research-study")
    expect(page.get_by_role("heading", level=1)).to_have_text("This study is not available to you")
    assert_accessible(page, "study not available")
