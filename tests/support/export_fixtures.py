"""Sample data for the EPR export package tests: real JPEGs made with Pillow, plain export metadata."""

from __future__ import annotations

import hashlib
import io
import random
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from shared_code.export_package.model import (
    ClinicianInfo,
    ClinicInfo,
    CommentInfo,
    ExportRequestInfo,
    FolderInfo,
    PatientInfo,
    PhotoInfo,
    ShareInfo,
    TriageInfo,
)

VALID_NHS_NUMBER = "9434765919"


def make_jpeg(
    seed: int,
    size: tuple[int, int] = (320, 240),
    *,
    progressive: bool = False,
    quality: int = 90,
    subsampling: int = 2,
    noise: bool = False,
) -> bytes:
    """A deterministic photo-like JPEG (smooth shapes; with noise=True, incompressible texture)."""
    rng = random.Random(seed)
    width, height = size
    if noise:
        image = Image.frombytes("RGB", size, rng.randbytes(width * height * 3))
    else:
        image = Image.new("RGB", size, (rng.randrange(120, 230), rng.randrange(90, 180), rng.randrange(80, 160)))
        draw = ImageDraw.Draw(image)
        for _ in range(12):
            x0, y0 = rng.randrange(width), rng.randrange(height)
            x1, y1 = x0 + rng.randrange(10, width // 2), y0 + rng.randrange(10, height // 2)
            colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        image = image.filter(ImageFilter.GaussianBlur(1.5))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, subsampling=subsampling, progressive=progressive, optimize=False)
    return out.getvalue()


def make_large_jpeg(seed: int, target_bytes: int) -> bytes:
    """A noise JPEG of roughly target_bytes (about 0.95 bytes per pixel at quality 92)."""
    pixels = max(target_bytes / 0.95, 64 * 64)
    width = int((pixels * 4 / 3) ** 0.5) // 16 * 16
    height = int(width * 3 / 4) // 16 * 16
    return make_jpeg(seed, (width, height), noise=True, quality=92)


@dataclass
class ExportSample:
    info: ExportRequestInfo
    folders: list[FolderInfo]
    photos: list[PhotoInfo]
    comments: list[CommentInfo]
    jpegs: dict[str, bytes] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)

    def open_photo(self, photo_id: str) -> bytes:
        self.reads.append(photo_id)
        return self.jpegs[photo_id]

    def sha1(self, photo_id: str) -> bytes:
        return hashlib.sha1(self.jpegs[photo_id], usedforsecurity=False).digest()


def export_info(*, nhs_number: str | None = VALID_NHS_NUMBER, triage: bool = True, export_id: str = "exp-7f3a9c21") -> ExportRequestInfo:
    return ExportRequestInfo(
        export_id=export_id,
        created_at="2024-06-03T09:15:00Z",
        clinic=ClinicInfo(name="Riverside Dermatology", ods_code="RX1DE"),
        clinician=ClinicianInfo(name="Dr Priya Raman", sub="clinician-sub-123"),
        share=ShareInfo(
            granted_at="2024-05-20T08:00:00Z",
            expires_at="2024-08-20T08:00:00Z",
            purposes=("direct-care", "teaching"),
            consent_version="2024-03",
            consent_text_hash="sha256:3f1c2e9d8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d",
        ),
        patient=PatientInfo(display_name="Zoë Ćwikła-Smith", date_of_birth="1978-11-23", nhs_number=nhs_number),
        triage=(
            TriageInfo(
                outcome="list-for-excision",
                note="Irregular border on the forearm lesion; book excision biopsy.",
                recorded_by="Dr Priya Raman",
                recorded_at="2024-06-02T16:40:00Z",
            )
            if triage
            else None
        ),
    )


def sample_export(
    *,
    nhs_number: str | None = VALID_NHS_NUMBER,
    triage: bool = True,
    progressive_photo: bool = False,
) -> ExportSample:
    """Two folders (left forearm mole, scalp), three photos, comments on photos and a folder."""
    folders = [
        FolderInfo(id="fld-mole", name="Mole on left forearm", body_site="left-forearm", condition="Changing mole", treatment="None yet"),
        FolderInfo(id="fld-scalp", name="Scalp patch", body_site="scalp", condition="Psoriasis", treatment="Coal tar shampoo"),
    ]
    photos = [
        PhotoInfo(
            id="img-001",
            folder_id="fld-mole",
            captured_at="2024-05-01T12:10:05+01:00",
            uploaded_at="2024-05-01T12:11:00Z",
            notes="It itches at night.",
        ),
        PhotoInfo(
            id="img-002",
            folder_id="fld-mole",
            captured_at="2024-05-15T11:30:00+01:00",
            uploaded_at="2024-05-15T10:31:00Z",
            notes="Looks darker than last time.",
        ),
        PhotoInfo(id="img-003", folder_id="fld-scalp", captured_at="2024-05-20T13:00:00Z", uploaded_at="2024-05-20T13:05:00Z", notes=None),
    ]
    jpegs = {
        "img-001": make_jpeg(1, (320, 240)),
        "img-002": make_jpeg(2, (240, 320), progressive=progressive_photo),
        "img-003": make_jpeg(3, (400, 300), subsampling=0),
    }
    photos = [
        PhotoInfo(**{**p.__dict__, "width": _dims(jpegs[p.id])[0], "height": _dims(jpegs[p.id])[1], "size_bytes": len(jpegs[p.id])}) for p in photos
    ]
    comments = [
        CommentInfo("image", "img-001", "Dr Priya Raman", "Asymmetric pigment network noted.", "2024-06-01T10:00:00Z"),
        CommentInfo("image", "img-002", "Nurse Tom Okafor", "Border looks irregular at 3 o'clock.", "2024-06-01T10:05:00Z"),
        CommentInfo("image", "img-003", "Dr Priya Raman", "Plaque psoriasis, stable.", "2024-06-01T10:10:00Z"),
        CommentInfo("folder", "fld-scalp", "Dr Priya Raman", "Continue current treatment.", "2024-06-01T10:12:00Z"),
    ]
    return ExportSample(export_info(nhs_number=nhs_number, triage=triage), folders, photos, comments, jpegs)


def _dims(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def write_large_photos(directory: Path, count: int, target_bytes: int) -> tuple[list[FolderInfo], list[PhotoInfo], dict[str, Path]]:
    """count noise JPEGs of about target_bytes on disk (so the test itself holds none in memory)."""
    folders = [FolderInfo(id="fld-a", name="Leg ulcer", body_site="left-lower-leg"), FolderInfo(id="fld-b", name="Back", body_site="back")]
    photos, paths = [], {}
    base = make_large_jpeg(0, target_bytes)
    for index in range(count):
        photo_id = f"img-{index:04d}"
        path = directory / f"{photo_id}.jpg"
        # Vary each file cheaply: same pixels, distinct JPEG comment, so hashes differ.
        path.write_bytes(base[:2] + _com_segment(photo_id) + base[2:])
        paths[photo_id] = path
        photos.append(
            PhotoInfo(
                id=photo_id,
                folder_id=folders[index % 2].id,
                captured_at=f"2024-05-{1 + index % 28:02d}T10:{index % 60:02d}:00Z",
                uploaded_at="2024-06-01T00:00:00Z",
                notes=f"note {index}",
            )
        )
    return folders, photos, paths


def _com_segment(text: str) -> bytes:
    payload = text.encode("ascii")
    return b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload


@dataclass
class BuiltPackage:
    stats: object
    data: bytes

    @property
    def zip(self):
        import zipfile

        return zipfile.ZipFile(io.BytesIO(self.data))

    def bundle(self) -> dict:
        import json

        return json.loads(self.zip.read("fhir/bundle.json"))


def build_sample_package(sample: ExportSample) -> BuiltPackage:
    from shared_code.export_package import build_export_package

    out = io.BytesIO()
    stats = build_export_package(sample.info, sample.folders, sample.photos, sample.comments, sample.open_photo, out)
    return BuiltPackage(stats, out.getvalue())
