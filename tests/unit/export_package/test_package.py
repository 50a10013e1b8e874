"""The export ZIP: layout, file names, streaming, bounded memory, patients without an NHS number."""

import hashlib
import io
import json
import re
import tracemalloc
import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

import pydicom
import pytest

from shared_code.export_package import ExportInputError, PhotoInfo, build_export_package
from tests.support.export_fixtures import build_sample_package, export_info, make_jpeg, sample_export, write_large_photos

LONDON = ZoneInfo("Europe/London")


def test_zip_holds_summary_bundle_and_one_image_and_dicom_file_per_photo():
    sample = sample_export()
    package = build_sample_package(sample)
    archive = package.zip
    assert archive.testzip() is None
    names = archive.namelist()
    assert "summary.pdf" in names and "fhir/bundle.json" in names
    images = [n for n in names if n.startswith("images/")]
    dicoms = [n for n in names if n.startswith("dicom/")]
    assert len(images) == len(dicoms) == len(sample.photos) == package.stats.photo_count
    assert {n.removeprefix("images/").removesuffix(".jpg") for n in images} == {n.removeprefix("dicom/").removesuffix(".dcm") for n in dicoms}
    assert sorted(names) == sorted(package.stats.entries)
    assert package.stats.bytes_written == len(package.data)
    assert archive.read("summary.pdf").startswith(b"%PDF-")
    for name in dicoms:
        assert archive.read(name)[128:132] == b"DICM"


def test_images_are_the_stored_jpegs_named_by_folder_and_uk_capture_date_and_time():
    sample = sample_export()
    archive = build_sample_package(sample).zip
    by_hash = {hashlib.sha256(data).hexdigest(): pid for pid, data in sample.jpegs.items()}
    seen = set()
    for name in (n for n in archive.namelist() if n.startswith("images/")):
        photo_id = by_hash[hashlib.sha256(archive.read(name)).hexdigest()]  # byte-for-byte the stored JPEG
        photo = next(p for p in sample.photos if p.id == photo_id)
        folder = next(f for f in sample.folders if f.id == photo.folder_id)
        local = datetime.fromisoformat(photo.captured_at).astimezone(LONDON)
        match = re.fullmatch(r"images/(\d\d)-([a-z0-9-]+)_(\d{4}-\d\d-\d\d)_(\d\d-\d\d-\d\d)\.jpg", name)
        assert match, name
        assert match.group(2) == folder.name.lower().replace(" ", "-")
        assert match.group(3) == local.strftime("%Y-%m-%d")
        assert match.group(4) == local.strftime("%H-%M-%S")
        seen.add(photo_id)
    assert seen == set(sample.jpegs)


def test_photos_taken_in_the_same_second_get_distinct_names():
    sample = sample_export()
    first = sample.photos[0]
    twin = PhotoInfo(**{**first.__dict__, "id": "img-twin"})
    sample.photos.append(twin)
    sample.jpegs["img-twin"] = make_jpeg(99)
    names = [n for n in build_sample_package(sample).zip.namelist() if n.startswith("images/01-")]
    assert len(names) == len(set(names)) == 3
    assert any(n.endswith("-2.jpg") for n in names)


def test_folder_names_with_accents_and_symbols_become_safe_ascii_names():
    sample = sample_export()
    sample.folders[1] = type(sample.folders[1])(**{**sample.folders[1].__dict__, "name": "Éczéma / ../../etc"})
    names = build_sample_package(sample).zip.namelist()
    assert any(n.startswith("images/02-eczema-etc_") for n in names)
    assert not any(".." in n or n.startswith("/") for n in names)


@pytest.mark.parametrize("nhs_number", [None, "9434765918"])
def test_patient_without_a_valid_nhs_number_still_exports_everywhere(nhs_number):
    package = build_sample_package(sample_export(nhs_number=nhs_number))
    assert package.stats.nhs_number_included is False
    archive = package.zip
    patient = package.bundle()["entry"][0]["resource"]
    assert "value" not in patient["identifier"][0] and patient["birthDate"] == "1978-11-23"
    dicom = pydicom.dcmread(io.BytesIO(archive.read(next(n for n in archive.namelist() if n.startswith("dicom/")))))
    assert dicom.PatientID == "" and "absent" in dicom.PatientComments
    assert len([n for n in archive.namelist() if n.startswith("images/")]) == 3


def test_package_streams_to_an_output_that_cannot_seek_or_tell():
    class WriteOnly:
        def __init__(self):
            self.parts = []

        def write(self, data):
            self.parts.append(bytes(data))
            return len(data)

    sample = sample_export()
    out = WriteOnly()
    stats = build_export_package(sample.info, sample.folders, sample.photos, sample.comments, sample.open_photo, out)
    data = b"".join(out.parts)
    assert stats.bytes_written == len(data)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    json.loads(archive.read("fhir/bundle.json"))


def test_each_photo_is_read_once_for_files_and_once_for_the_bundle():
    sample = sample_export()
    build_sample_package(sample)
    assert sorted(sample.reads) == sorted([p.id for p in sample.photos] * 2)


def test_rebuilding_the_same_export_gives_a_byte_identical_package():
    assert build_sample_package(sample_export()).data == build_sample_package(sample_export()).data


def test_a_photo_whose_folder_is_not_exported_is_refused():
    sample = sample_export()
    sample.photos.append(PhotoInfo(id="img-x", folder_id="fld-missing", captured_at=None, uploaded_at="2024-05-01T10:00:00Z"))
    with pytest.raises(ExportInputError):
        build_sample_package(sample)


def test_bytes_that_are_not_a_jpeg_are_refused():
    sample = sample_export()
    sample.jpegs["img-001"] = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    with pytest.raises(ExportInputError):
        build_sample_package(sample)


def test_photo_without_capture_time_is_named_and_dated_by_upload_time():
    sample = sample_export()
    sample.photos[2] = PhotoInfo(**{**sample.photos[2].__dict__, "captured_at": None})
    package = build_sample_package(sample)
    assert any(n.startswith("images/02-scalp-patch_2024-05-20_14-05-00") for n in package.zip.namelist())


@pytest.mark.slow
def test_memory_stays_bounded_while_exporting_many_large_photos(tmp_path):
    photo_dir = tmp_path / "photos"
    photo_dir.mkdir()
    folders, photos, paths = write_large_photos(photo_dir, count=20, target_bytes=2_000_000)
    total = sum(p.stat().st_size for p in paths.values())
    largest = max(p.stat().st_size for p in paths.values())
    assert largest > 1_800_000

    tracemalloc.start()
    try:
        with open(tmp_path / "export.zip", "wb") as out:
            stats = build_export_package(export_info(), folders, photos, [], lambda pid: paths[pid].read_bytes(), out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    print(
        f"photos={len(photos)} total={total / 1e6:.1f} MB largest={largest / 1e6:.2f} MB peak={peak / 1e6:.1f} MB zip={stats.bytes_written / 1e6:.1f} MB"
    )
    assert stats.photo_count == 20
    assert peak < total / 2, f"peak {peak / 1e6:.1f} MB suggests photos are being held"
    assert peak < 10 * largest
    with zipfile.ZipFile(tmp_path / "export.zip") as archive:
        assert len([n for n in archive.namelist() if n.startswith("dicom/")]) == 20
        with archive.open("fhir/bundle.json") as bundle:
            head = bundle.read(200)
        assert head.startswith(b'{"resourceType": "Bundle"')
