"""Research export package: de-identified DICOM (dciodvfy-clean), CSVs and a FHIR bundle, no identifiers."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime

import pydicom
import pytest
from PIL import Image

from shared_code.export_package.dicom import uuid_derived_uid
from shared_code.export_package.research import (
    ResearchParticipant,
    ResearchPhoto,
    ResearchStudyInfo,
    build_research_package,
    strip_jpeg_metadata,
)
from tests.support.images import make_photo

STUDY = ResearchStudyInfo("Psoriasis photo study", "Newcastle upon Tyne Hospitals", "24/NE/0123", "312456", (0, 4, 12))
PARTICIPANTS = [
    ResearchParticipant("SVP-AAAA-BBBB", "on-study", 1961, "female"),
    ResearchParticipant("SVP-CCCC-DDDD", "on-study", None, None),
    ResearchParticipant("SVP-EEEE-FFFF", "withdrawn", 1990, "male", withdrawn_day=10),
]
CAPTURED = datetime(2026, 5, 17, 9, 41, 3, tzinfo=UTC)
PHOTOS = {
    "img-source-1": make_photo(320, 240, seed=1, captured_at=CAPTURED, gps=False),
    "img-source-2": make_photo(320, 240, seed=2, captured_at=CAPTURED, gps=False),
    "img-source-3": make_photo(240, 320, seed=3, orientation=6, captured_at=CAPTURED, gps=False),
}
ROWS = [
    ResearchPhoto("img-source-1", "fld-source-1", "SVP-AAAA-BBBB", 0, 0, "left-forearm"),
    ResearchPhoto("img-source-2", "fld-source-1", "SVP-AAAA-BBBB", 29, 4, "left-forearm"),
    ResearchPhoto("img-source-3", "fld-source-2", "SVP-CCCC-DDDD", 2, 0, None),
]


def _package(export_id: str = "rex-1") -> zipfile.ZipFile:
    out = io.BytesIO()
    build_research_package(export_id, "2026-11-27T10:00:00Z", STUDY, PARTICIPANTS, ROWS, PHOTOS.__getitem__, out)
    return zipfile.ZipFile(io.BytesIO(out.getvalue()))


def _dicoms(archive: zipfile.ZipFile) -> dict[str, pydicom.Dataset]:
    return {n: pydicom.dcmread(io.BytesIO(archive.read(n))) for n in archive.namelist() if n.endswith(".dcm")}


def test_every_research_dicom_object_passes_dciodvfy_with_no_errors(tmp_path):
    dciodvfy = shutil.which("dciodvfy")
    assert dciodvfy, "dciodvfy (Debian package dicom3tools) must be installed"
    archive = _package()
    names = [n for n in archive.namelist() if n.endswith(".dcm")]
    assert len(names) == 3
    for name in names:
        path = tmp_path / name.replace("/", "_")
        path.write_bytes(archive.read(name))
        result = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True, timeout=60)
        report = result.stdout + result.stderr
        assert "VLPhotographicImage" in report, report
        errors = [line for line in report.splitlines() if line.startswith("Error")]
        assert errors == [], f"{name}:\n{report}"


def test_dicom_records_the_basic_profile_and_carries_only_the_pseudonym():
    for ds in _dicoms(_package()).values():
        assert ds.PatientIdentityRemoved == "YES"
        assert "Annex E" in ds.DeidentificationMethod[0]
        assert [item.CodeValue for item in ds.DeidentificationMethodCodeSequence] == ["113100", "113107", "113105"]
        assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
        assert ds.PatientName == ds.PatientID == ds.ClinicalTrialSubjectID
        assert str(ds.PatientID).startswith("SVP-")
        assert ds.PatientBirthDate == "" and "InstitutionName" not in ds and ds.StudyID == ""
        assert ds.ContentDate.startswith("2000")  # shifted: enrolment day is 2000-01-01


def test_uids_are_new_consistent_within_an_export_and_different_in_the_next():
    first, second = _dicoms(_package("rex-1")), _dicoms(_package("rex-1"))
    by_day = {int(ds.ClinicalTrialTimePointDescription.split()[1]): ds for ds in first.values()}
    assert by_day[0].SeriesInstanceUID == by_day[29].SeriesInstanceUID  # same folder: same series
    assert by_day[0].StudyInstanceUID == by_day[29].StudyInstanceUID
    assert by_day[2].StudyInstanceUID != by_day[0].StudyInstanceUID  # another participant
    uids_1 = {ds.SOPInstanceUID for ds in first.values()} | {ds.SeriesInstanceUID for ds in first.values()}
    uids_2 = {ds.SOPInstanceUID for ds in second.values()} | {ds.SeriesInstanceUID for ds in second.values()}
    assert not uids_1 & uids_2
    scope = "rex-1/SVP-AAAA-BBBB"
    originals = {uuid_derived_uid(kind, scope, source) for kind, source in (("instance", "img-source-1"), ("series", "fld-source-1"))}
    originals.add(uuid_derived_uid("study", scope))
    assert not originals & (uids_1 | {ds.StudyInstanceUID for ds in first.values()})


def test_embedded_jpeg_metadata_is_gone_and_rotation_is_applied():
    stripped = strip_jpeg_metadata(PHOTOS["img-source-1"])
    assert b"Exif" not in stripped and b"2026:05:17" not in stripped
    with Image.open(io.BytesIO(stripped)) as image:
        assert image.size == (320, 240)
    archive = _package()
    for name, ds in _dicoms(archive).items():
        assert b"2026" not in archive.read(name)
        if ds.PatientID == "SVP-CCCC-DDDD":
            assert (ds.Rows, ds.Columns) == (240, 320)  # orientation 6 applied: stored 240x320 turned upright


def test_csvs_and_bundle_describe_participants_and_timepoints():
    archive = _package()
    participants = list(csv.DictReader(io.StringIO(archive.read("participants.csv").decode())))
    assert [(p["participant_id"], p["status"], p["year_of_birth"], p["photo_count"]) for p in participants] == [
        ("SVP-AAAA-BBBB", "on-study", "1961", "2"),
        ("SVP-CCCC-DDDD", "on-study", "", "1"),
        ("SVP-EEEE-FFFF", "withdrawn", "1990", "0"),
    ]
    timepoints = list(csv.DictReader(io.StringIO(archive.read("timepoints.csv").decode())))
    assert [(t["participant_id"], t["timepoint_week"], t["day"]) for t in timepoints] == [
        ("SVP-AAAA-BBBB", "0", "0"),
        ("SVP-AAAA-BBBB", "4", "29"),
        ("SVP-CCCC-DDDD", "0", "2"),
    ]
    assert all(t["dicom_file"] in archive.namelist() for t in timepoints)
    bundle = json.loads(archive.read("fhir/bundle.json"))
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("Patient") == 3 and kinds.count("ResearchSubject") == 3 and kinds.count("Media") == 3
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            assert set(resource) <= {"resourceType", "gender", "birthDate"}
            assert len(resource.get("birthDate", "1961")) == 4


@pytest.mark.parametrize("marker", [b"Exif", b"ICC_PROFILE"])
def test_strip_keeps_no_app_segments(marker):
    assert marker not in strip_jpeg_metadata(make_photo(64, 48, seed=5, captured_at=CAPTURED, gps=True))


def test_bundle_validates_as_fhir_r4_and_carries_no_direct_identifiers():
    from fhir.resources.R4B.bundle import Bundle

    bundle = json.loads(_package().read("fhir/bundle.json"))
    model = Bundle.model_validate(bundle)
    assert model.type == "collection"
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert not {"name", "telecom", "address", "photo", "contact"} & set(resource)
        for identifier in resource.get("identifier", []):
            assert "nhs-number" not in identifier["system"]
