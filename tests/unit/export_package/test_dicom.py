"""DICOM VL Photographic Image objects in the export: dciodvfy-clean, pixels equal to the stored JPEG."""

import io
import shutil
import subprocess
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pydicom
import pytest
from PIL import Image, ImageChops, ImageStat
from pydicom.encaps import generate_frames

from tests.support.export_fixtures import VALID_NHS_NUMBER, build_sample_package, sample_export

LONDON = ZoneInfo("Europe/London")
VL_PHOTO = "1.2.840.10008.5.1.4.1.1.77.1.4"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"


def dicom_files(package) -> dict[str, bytes]:
    archive = package.zip
    return {name: archive.read(name) for name in archive.namelist() if name.startswith("dicom/")}


def read(data: bytes) -> pydicom.Dataset:
    return pydicom.dcmread(io.BytesIO(data))


def decoded(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


@pytest.mark.parametrize(("nhs_number", "body_sites"), [(VALID_NHS_NUMBER, True), (None, True), (None, False)])
def test_every_dicom_file_passes_dciodvfy_with_no_errors(tmp_path, nhs_number, body_sites):
    dciodvfy = shutil.which("dciodvfy")
    assert dciodvfy, "dciodvfy (Debian package dicom3tools) must be installed"
    sample = sample_export(nhs_number=nhs_number, progressive_photo=True)
    if not body_sites:
        sample.folders = [replace(folder, body_site=None) for folder in sample.folders]
    files = dicom_files(build_sample_package(sample))
    assert len(files) == 3
    for name, data in files.items():
        path = tmp_path / name.replace("/", "_")
        path.write_bytes(data)
        result = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True, timeout=60)
        report = result.stdout + result.stderr
        assert "VLPhotographicImage" in report, report
        errors = [line for line in report.splitlines() if line.startswith("Error")]
        assert errors == [], f"{name}:\n{report}"


def test_stored_baseline_jpeg_is_encapsulated_unchanged_and_decodes_to_the_same_pixels():
    sample = sample_export()
    package = build_sample_package(sample)
    datasets = {read(data).SOPInstanceUID: read(data) for data in dicom_files(package).values()}
    passthrough = 0
    for ds in datasets.values():
        assert ds.file_meta.TransferSyntaxUID == JPEG_BASELINE
        frame = next(generate_frames(ds.PixelData, number_of_frames=1))
        if ds.ImageType[0] != "ORIGINAL":
            continue
        # the frame is the stored JPEG byte for byte (plus at most one pad byte to an even length)
        original = next(j for j in sample.jpegs.values() if frame[: len(j)] == j and len(frame) - len(j) <= 1)
        assert decoded(frame).tobytes() == decoded(original).tobytes()
        assert (ds.Rows, ds.Columns) == (decoded(original).height, decoded(original).width)
        assert ds.PhotometricInterpretation == "YBR_FULL_422"
        passthrough += 1
    assert passthrough == 2  # img-001 and img-002 (4:2:0 baseline); img-003 is 4:4:4 and re-encoded


def test_progressive_and_444_jpegs_are_reencoded_as_baseline_with_nearly_identical_pixels():
    sample = sample_export(progressive_photo=True)
    package = build_sample_package(sample)
    assert set(package.stats.reencoded_photo_ids) == {"img-002", "img-003"}
    by_instance = {int(read(d).SeriesNumber) * 10 + int(read(d).InstanceNumber): read(d) for d in dicom_files(package).values()}
    for key, photo_id in ((12, "img-002"), (21, "img-003")):
        ds = by_instance[key]
        assert ds.ImageType[0] == "DERIVED" and "re-encoded" in ds.DerivationDescription
        frame = next(generate_frames(ds.PixelData, number_of_frames=1))
        assert frame[:2] == b"\xff\xd8" and b"\xff\xc0" in frame  # baseline frame header
        new, old = decoded(frame), decoded(sample.jpegs[photo_id])
        assert new.size == old.size == (ds.Columns, ds.Rows)
        mean_difference = sum(ImageStat.Stat(ImageChops.difference(new, old)).mean) / 3
        assert mean_difference < 4.0


def test_patient_module_uses_the_valid_nhs_number_with_issuer_nhs():
    ds = read(next(iter(dicom_files(build_sample_package(sample_export())).values())))
    assert ds.SOPClassUID == VL_PHOTO and ds.Modality == "XC"
    assert ds.PatientID == VALID_NHS_NUMBER
    assert ds.IssuerOfPatientID == "NHS"
    assert ds.IssuerOfPatientIDQualifiersSequence[0].UniversalEntityID == "2.16.840.1.113883.2.1.4.1"
    assert str(ds.PatientName) == "Zoë Ćwikła-Smith"
    assert ds.PatientBirthDate == "19781123"


@pytest.mark.parametrize("nhs_number", [None, "9434765918"])
def test_patient_without_a_valid_nhs_number_is_identified_by_name_and_birth_date(nhs_number):
    for data in dicom_files(build_sample_package(sample_export(nhs_number=nhs_number))).values():
        ds = read(data)
        assert ds.PatientID == ""
        assert "IssuerOfPatientID" not in ds
        assert "NHS number absent" in ds.PatientComments
        assert str(ds.PatientName) and ds.PatientBirthDate == "19781123"
        assert b"9434765918" not in data


def test_one_study_per_export_and_one_series_per_folder():
    datasets = [read(d) for d in dicom_files(build_sample_package(sample_export())).values()]
    assert len({ds.StudyInstanceUID for ds in datasets}) == 1
    series = {}
    for ds in datasets:
        series.setdefault(ds.SeriesInstanceUID, set()).add(str(ds.SeriesDescription))
    assert sorted(d.pop() for d in series.values()) == ["Mole on left forearm", "Scalp patch"]
    assert len({ds.SOPInstanceUID for ds in datasets}) == 3
    for ds in datasets:
        for uid in (ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID):
            assert uid.startswith("2.25.") and len(uid) <= 64


def test_acquisition_time_is_the_capture_time_and_anatomic_region_is_the_folder_snomed_code():
    sample = sample_export()
    datasets = [read(d) for d in dicom_files(build_sample_package(sample)).values()]
    # UK time (all three photos were taken in British Summer Time)
    captured = {datetime.fromisoformat(p.captured_at).astimezone(LONDON).strftime("%Y%m%d%H%M%S") + "+0100" for p in sample.photos}
    assert {ds.AcquisitionDateTime for ds in datasets} == captured
    assert {ds.TimezoneOffsetFromUTC for ds in datasets} == {"+0100"}
    for ds in datasets:
        assert ds.ContentDate + ds.ContentTime == ds.AcquisitionDateTime[:14]
        region = ds.AnatomicRegionSequence[0]
        assert region.CodingSchemeDesignator == "SCT"
        if ds.SeriesDescription == "Mole on left forearm":
            assert (region.CodeValue, ds.ImageLaterality) == ("66480008", "L")
        else:
            assert region.CodeValue == "41695006" and "ImageLaterality" not in ds


def test_dicom_uids_are_the_same_when_the_export_is_rebuilt():
    first = sorted(read(d).SOPInstanceUID for d in dicom_files(build_sample_package(sample_export())).values())
    second = sorted(read(d).SOPInstanceUID for d in dicom_files(build_sample_package(sample_export())).values())
    assert first == second


def test_study_date_is_the_first_photo_in_uk_time_not_the_export_date():
    sample = sample_export()  # exported 3 June 2024; first photo 1 May 2024 12:10:05 BST
    for ds in (read(d) for d in dicom_files(build_sample_package(sample)).values()):
        assert (ds.StudyDate, ds.StudyTime) == ("20240501", "121005")


def test_a_photo_taken_just_after_midnight_in_summer_is_dated_that_uk_day():
    sample = sample_export()
    late = replace(sample.photos[2], captured_at="2024-05-20T23:30:00Z")  # 00:30 on 21 May in London
    sample = replace(sample, photos=[*sample.photos[:2], late])
    dated = {ds.SOPInstanceUID: ds for ds in (read(d) for d in dicom_files(build_sample_package(sample)).values())}
    assert "20240521" in {ds.ContentDate for ds in dated.values()}


def test_patient_name_is_family_caret_given_and_a_typed_nhs_number_is_marked_not_verified():
    sample = sample_export()
    patient = replace(sample.info.patient, given_name="Zoë", family_name="Ćwikła-Smith")
    sample = replace(sample, info=replace(sample.info, patient=patient))
    ds = read(next(iter(dicom_files(build_sample_package(sample)).values())))
    assert str(ds.PatientName) == "Ćwikła-Smith^Zoë"
    assert ds.PatientID == VALID_NHS_NUMBER and "not verified (entered by the patient)" in ds.PatientComments
    verified = replace(sample, info=replace(sample.info, patient=replace(patient, nhs_number_verified=True)))
    ds = read(next(iter(dicom_files(build_sample_package(verified)).values())))
    assert "PatientComments" not in ds


def test_administrative_gender_is_optional_and_maps_to_patient_sex():
    sample = sample_export()
    assert read(next(iter(dicom_files(build_sample_package(sample)).values()))).PatientSex == ""
    patient = replace(sample.info.patient, administrative_gender="female")
    ds = read(next(iter(dicom_files(build_sample_package(replace(sample, info=replace(sample.info, patient=patient)))).values())))
    assert ds.PatientSex == "F"
