"""Orders and names what goes into a package; shared by the FHIR, DICOM and PDF builders (pure)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shared_code.domain.body_sites import BODY_SITES, human_label, laterality
from shared_code.domain.nhs_number import is_valid_nhs_number, normalise_nhs_number
from shared_code.export_package.model import CommentInfo, ExportRequestInfo, FolderInfo, PhotoInfo
from shared_code.export_package.naming import UniqueNames, folder_label
from shared_code.export_package.times import file_stamp, parse_instant

# Namespace for the package's deterministic UUIDs (FHIR fullUrls): a rerun of the same export job
# produces the same ids, so a receiving EPR can recognise a duplicate.
_UUID_NAMESPACE = uuid.UUID("6f1d3a52-2f3e-5c7a-9a55-0b7c1f0e5a11")


class ExportInputError(ValueError):
    """The export's input data is inconsistent (e.g. a photo in a folder that is not exported)."""


@dataclass(frozen=True)
class BodySiteCode:
    key: str
    code: str
    display: str
    label: str
    laterality: str | None


@dataclass(frozen=True)
class PlannedFolder:
    info: FolderInfo
    ordinal: int
    label: str
    body_site: BodySiteCode | None
    comments: tuple[CommentInfo, ...]


@dataclass(frozen=True)
class PlannedPhoto:
    info: PhotoInfo
    folder: PlannedFolder
    index_in_folder: int  # 1-based
    captured: datetime  # capture time, or upload time when the capture time is unknown
    capture_time_known: bool
    uploaded: datetime
    stem: str  # "01-mole_2024-05-01_14-32-05"
    comments: tuple[CommentInfo, ...]

    @property
    def image_name(self) -> str:
        return f"images/{self.stem}.jpg"

    @property
    def dicom_name(self) -> str:
        return f"dicom/{self.stem}.dcm"


@dataclass(frozen=True)
class ExportPlan:
    info: ExportRequestInfo
    created: datetime
    nhs_number: str | None  # normalised and valid, else None
    folders: tuple[PlannedFolder, ...]
    photos: tuple[PlannedPhoto, ...]

    def uuid_for(self, *parts: str) -> str:
        return str(uuid.uuid5(_UUID_NAMESPACE, "/".join((self.info.export_id, *parts))))

    @property
    def nhs_number_supplied(self) -> bool:
        return bool(self.info.patient.nhs_number)


def _body_site(key: str | None) -> BodySiteCode | None:
    if not key or key not in BODY_SITES:
        return None
    code, display = BODY_SITES[key]
    return BodySiteCode(key, code, display, human_label(key), laterality(key))


def valid_nhs_number(value: str | None) -> str | None:
    if not value:
        return None
    digits = normalise_nhs_number(value)
    return digits if is_valid_nhs_number(digits) else None


def plan_export(
    info: ExportRequestInfo,
    folders: Sequence[FolderInfo],
    photos: Sequence[PhotoInfo],
    comments: Sequence[CommentInfo],
) -> ExportPlan:
    by_target: dict[tuple[str, str], list[CommentInfo]] = {}
    for comment in comments:
        by_target.setdefault((comment.target_type, comment.target_id), []).append(comment)
    for group in by_target.values():
        group.sort(key=lambda c: parse_instant(c.created_at))

    planned_folders: dict[str, PlannedFolder] = {}
    for ordinal, folder_info in enumerate(folders, start=1):
        if folder_info.id in planned_folders:
            raise ExportInputError("a folder is listed twice")
        planned_folders[folder_info.id] = PlannedFolder(
            info=folder_info,
            ordinal=ordinal,
            label=folder_label(ordinal, folder_info.name),
            body_site=_body_site(folder_info.body_site),
            comments=tuple(by_target.get(("folder", folder_info.id), ())),
        )

    seen: set[str] = set()
    staged = []
    for photo in photos:
        if photo.id in seen:
            raise ExportInputError("a photo is listed twice")
        seen.add(photo.id)
        folder = planned_folders.get(photo.folder_id)
        if folder is None:
            raise ExportInputError("a photo's folder is not part of the export")
        uploaded = parse_instant(photo.uploaded_at)
        captured = parse_instant(photo.captured_at) if photo.captured_at else uploaded
        staged.append((folder.ordinal, captured, photo.id, photo, folder, uploaded))
    staged.sort(key=lambda row: (row[0], row[1], row[2]))

    names = UniqueNames()
    counters: dict[str, int] = {}
    planned_photos = []
    for _, captured, _, photo, folder, uploaded in staged:
        counters[folder.info.id] = counters.get(folder.info.id, 0) + 1
        planned_photos.append(
            PlannedPhoto(
                info=photo,
                folder=folder,
                index_in_folder=counters[folder.info.id],
                captured=captured,
                capture_time_known=bool(photo.captured_at),
                uploaded=uploaded,
                stem=names.claim(f"{folder.label}_{file_stamp(captured)}"),
                comments=tuple(by_target.get(("image", photo.id), ())),
            )
        )

    return ExportPlan(
        info=info,
        created=parse_instant(info.created_at),
        nhs_number=valid_nhs_number(info.patient.nhs_number),
        folders=tuple(planned_folders.values()),
        photos=tuple(planned_photos),
    )
