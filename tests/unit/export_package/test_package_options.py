"""Package options (issue 15): FHIR Media point at the JPEG files (each photo read once, the bundle
stored, not deflated), a clinic's choice of formats, PDF thumbnails from the stored previews."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections import Counter

import pytest
from fhir.resources.R4B.bundle import Bundle

from shared_code.export_package import EXPORT_FORMATS, PackageOptions, build_export_package
from tests.support.export_fixtures import make_jpeg, sample_export


def build(sample, options, **kw):
    reads: Counter[str] = Counter()

    def open_photo(photo_id: str) -> bytes:
        reads[photo_id] += 1
        return sample.open_photo(photo_id)

    out = io.BytesIO()
    stats = build_export_package(sample.info, sample.folders, sample.photos, sample.comments, open_photo, out, options=options, **kw)
    return stats, zipfile.ZipFile(io.BytesIO(out.getvalue())), reads


def test_media_point_at_the_jpeg_files_and_each_photo_is_read_once():
    sample = sample_export()
    _, archive, reads = build(sample, PackageOptions(inline_binary=False))
    assert set(reads.values()) == {1} and len(reads) == len(sample.photos)
    assert archive.getinfo("fhir/bundle.json").compress_type == zipfile.ZIP_STORED
    bundle = json.loads(archive.read("fhir/bundle.json"))
    model = Bundle.model_validate(bundle)
    kinds = [e.resource.get_resource_type() for e in model.entry]
    assert "Binary" not in kinds and kinds.count("Media") == len(sample.photos)
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] != "Media":
            continue
        content = entry["resource"]["content"]
        jpeg = archive.read(content["url"])  # the JPEG file in the package, once
        assert content["size"] == len(jpeg)
        assert content["hash"] == base64.b64encode(hashlib.sha1(jpeg, usedforsecurity=False).digest()).decode()
    targets = {t["reference"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Provenance" for t in e["resource"]["target"]}
    assert targets <= {e["fullUrl"] for e in bundle["entry"]}


@pytest.mark.parametrize(
    ("choice", "images", "dicom", "bundle"), [("fhir-jpeg", True, False, True), ("dicom", False, True, False), ("both", True, True, True)]
)
def test_a_clinic_gets_the_formats_it_chose_and_always_the_pdf(choice, images, dicom, bundle):
    sample = sample_export()
    _, archive, _ = build(sample, PackageOptions(formats=EXPORT_FORMATS[choice], inline_binary=False))
    names = archive.namelist()
    assert "summary.pdf" in names
    assert any(n.startswith("images/") for n in names) is images
    assert any(n.startswith("dicom/") for n in names) is dicom
    assert ("fhir/bundle.json" in names) is bundle


def test_pdf_thumbnails_come_from_the_stored_previews_not_the_originals():
    sample = sample_export()
    previews: Counter[str] = Counter()

    def open_preview(photo_id: str) -> bytes:
        previews[photo_id] += 1
        return make_jpeg(7, (320, 240))

    _, archive, reads = build(sample, PackageOptions(inline_binary=False), open_thumbnail=open_preview)
    assert set(previews.values()) == {1} and len(previews) == len(sample.photos)
    assert set(reads.values()) == {1}
    assert archive.read("summary.pdf").startswith(b"%PDF")
