"""build_export_package: writes the EPR export ZIP, photo by photo, to a binary stream.

Layout of the ZIP:
    summary.pdf                      printable summary (patient, clinic, share/consent, photos, comments, triage)
    fhir/bundle.json                 FHIR R4 transaction Bundle (Patient, Media + Binary per photo, ...)
    images/<folder>_<date>_<time>.jpg   the stored JPEGs, unchanged
    dicom/<folder>_<date>_<time>.dcm    one DICOM VL Photographic Image per photo

Memory: photos are read through open_photo(photo_id) one at a time. The first pass writes images/ and
dicom/, hashes the bytes and keeps only a digest and a small thumbnail; the bundle is then streamed
into its ZIP entry, reading each photo a second time for its Binary (checked against the first
hash). The ZIP is written strictly sequentially (data descriptors), so `out` need not be seekable:
a blob upload stream works. Peak memory is a few times the largest photo, whatever the count.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, BinaryIO

from shared_code.export_package.fhir import PhotoDigest, write_bundle
from shared_code.export_package.jpeg import NotAJpeg, dicom_ready_jpeg, inspect_jpeg, thumbnail_jpeg
from shared_code.export_package.model import DICOM, FHIR_JPEG, CommentInfo, ExportRequestInfo, FolderInfo, PackageOptions, PackageStats, PhotoInfo
from shared_code.export_package.plan import ExportInputError, plan_export
from shared_code.export_package.times import uk_local

if TYPE_CHECKING:
    from shared_code.export_package.pdf import Thumbnail

BUNDLE_NAME = "fhir/bundle.json"
SUMMARY_NAME = "summary.pdf"


class _SequentialWriter:
    """Counts bytes and hides seek(), so zipfile streams with data descriptors and never rewinds."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self.count = 0

    def write(self, data: bytes) -> int:
        self._out.write(data)
        self.count += len(data)
        return len(data)

    def tell(self) -> int:
        return self.count

    def seek(self, *_args: object) -> int:
        raise OSError("the export stream is written sequentially")

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        flush = getattr(self._out, "flush", None)
        if flush:
            flush()


def build_export_package(
    info: ExportRequestInfo,
    folders: Sequence[FolderInfo],
    photos: Sequence[PhotoInfo],
    comments: Sequence[CommentInfo],
    open_photo: Callable[[str], bytes],
    out: BinaryIO,
    *,
    options: PackageOptions | None = None,
    open_thumbnail: Callable[[str], bytes | None] | None = None,
) -> PackageStats:
    """Write the export ZIP to `out`; open_photo(photo_id) returns the decrypted stored JPEG.

    With `options` (model.PackageOptions) the package holds the chosen formats and, without inline
    binaries, each photo is read once. open_thumbnail(photo_id), when given, returns a small stored
    rendition (the preview) that the PDF's thumbnail is made from instead of decoding the original
    (None: there is none, the original is used)."""
    options = options or PackageOptions()
    with_fhir, with_dicom = FHIR_JPEG in options.formats, DICOM in options.formats
    # pydicom and fpdf2 load here, on the first export, not when a worker starts (cold start).
    from shared_code.export_package.dicom import build_dicom
    from shared_code.export_package.pdf import Thumbnail, build_summary_pdf

    plan = plan_export(info, folders, photos, comments)
    stamp = uk_local(plan.created).timetuple()[:6]
    writer = _SequentialWriter(out)
    entries: list[str] = []
    digests: dict[str, PhotoDigest] = {}
    thumbnails: dict[str, Thumbnail] = {}
    reencoded: list[str] = []

    def entry(name: str, compress: int) -> zipfile.ZipInfo:
        zinfo = zipfile.ZipInfo(name, date_time=stamp)
        zinfo.compress_type = compress
        zinfo.external_attr = 0o644 << 16
        entries.append(name)
        return zinfo

    with zipfile.ZipFile(writer, mode="w", allowZip64=True) as archive:  # type: ignore[call-overload]
        for photo in plan.photos:
            data = open_photo(photo.info.id)
            try:
                jpeg_info = inspect_jpeg(data)
            except NotAJpeg as error:
                raise ExportInputError(f"photo {photo.info.id} is not a usable JPEG: {error}") from None
            digests[photo.info.id] = PhotoDigest(
                size=len(data),
                sha1=hashlib.sha1(data, usedforsecurity=False).digest(),  # FHIR R4 Attachment.hash is SHA-1
                width=jpeg_info.width,
                height=jpeg_info.height,
            )
            if with_fhir:
                archive.writestr(entry(photo.image_name, zipfile.ZIP_STORED), data)
            if with_dicom:
                dicom_jpeg = dicom_ready_jpeg(data, jpeg_info)
                if dicom_jpeg.reencoded:
                    reencoded.append(photo.info.id)
                dicom_bytes = build_dicom(plan, photo, dicom_jpeg)
                del dicom_jpeg
                archive.writestr(entry(photo.dicom_name, zipfile.ZIP_STORED), dicom_bytes)
                del dicom_bytes
            small = open_thumbnail(photo.info.id) if open_thumbnail else None
            thumb, width, height = thumbnail_jpeg(small or data)
            del small
            thumbnails[photo.info.id] = Thumbnail(thumb, width, height)
            del data

        if with_fhir and options.inline_binary:
            bundle = entry(BUNDLE_NAME, zipfile.ZIP_DEFLATED)
            # The bundle is mostly base64 of JPEGs: level 1 wins back most of base64's third at a fraction
            # of the default level's time (zipfile on Python 3.11 reads the level from this attribute).
            bundle._compresslevel = 1  # type: ignore[attr-defined]
            # Announce the expected size so zipfile writes ZIP64 headers when the bundle may pass 2 GiB.
            bundle.file_size = sum(d.size for d in digests.values()) * 4 // 3 + 1024 * (len(digests) + 16)
            with archive.open(bundle, mode="w") as stream:
                write_bundle(plan, digests, open_photo, stream)
        elif with_fhir:  # Media point at the JPEGs: a small bundle, stored as it is
            with archive.open(entry(BUNDLE_NAME, zipfile.ZIP_STORED), mode="w") as stream:
                write_bundle(plan, digests, None, stream, inline_binary=False)

        archive.writestr(entry(SUMMARY_NAME, zipfile.ZIP_DEFLATED), build_summary_pdf(plan, thumbnails))

    writer.flush()
    return PackageStats(
        export_id=info.export_id,
        photo_count=len(plan.photos),
        folder_count=len(plan.folders),
        bytes_written=writer.count,
        entries=tuple(entries),
        nhs_number_included=plan.nhs_number is not None,
        reencoded_photo_ids=tuple(reencoded),
    )
