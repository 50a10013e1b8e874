"""The patient's photo library: folders, upload sessions, images, annotations and content."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shared_code import telemetry
from shared_code.auth.principal import PATIENT, Principal
from shared_code.domain.common import iso, new_id, public_view, uk_file_stamp
from shared_code.domain.errors import NotFoundError, RuleViolation
from shared_code.domain.folder import Folder
from shared_code.domain.library import check_captured_at, check_upload_request, clean_folder_fields
from shared_code.domain.ranges import ByteRange, parse_range
from shared_code.ports import IMAGES, PATIENTS, UPLOADS, NotFound
from shared_code.repositories.folders import FolderRepository
from shared_code.services import access, case_summary, concurrency, deletion, paging, pending_work, quotas
from shared_code.services.deletion import upload_blob_name
from shared_code.services.export_scope import end_exports_out_of_scope
from shared_code.services.plaintext import read_all, read_part

RENDITIONS = ("original", "thumbnail", "preview")
UPLOAD_SETTLE_TIME = timedelta(minutes=10)  # after the upload link expires, before the timer looks


# ----------------------------------------------------------------------------- folders
def folder_view(doc: dict) -> dict:
    return Folder.from_doc(doc).view()


def create_folder(services: Any, user: Principal, body: dict) -> dict:
    now = services.clock.now()
    fields = clean_folder_fields(body, now.date())
    quotas.check_new_folder(services, user.patient_id)
    folder_id = new_id("fld")
    doc = {
        "id": folder_id,
        "patientId": user.patient_id,
        "type": "folder",
        "name": fields["name"],
        "bodySite": None,
        "condition": None,
        "treatment": None,
        "notes": None,
        "startDate": None,
        "archived": False,
        "createdAt": iso(now),
        "updatedAt": iso(now),
    }
    doc.update(fields)
    doc["readyImageCount"] = 0  # kept as photos become ready or go (case_summary.py)
    access.register_owner(services.store, "fld", folder_id, user.patient_id)
    created = FolderRepository(services.store).add(Folder.from_doc(doc))
    # an all-folders share now covers it
    case_summary.after_commit("folder create", user.patient_id, lambda: case_summary.refresh_cases(services.store, user.patient_id, now))
    return created.view()


def list_folders(services: Any, user: Principal, limit: int, token: str | None) -> dict:
    folders, continuation = FolderRepository(services.store).page(user.patient_id, limit, token)
    return paging.response([folder.view() for folder in folders], continuation)


def get_folder(services: Any, user: Principal, folder_id: str) -> dict:
    folder, _ = access.folder_for(services, user, folder_id)
    return folder_view(folder)


def update_folder(services: Any, user: Principal, folder_id: str, body: dict, if_match: concurrency.IfMatch) -> dict:
    folder, _ = access.folder_for(services, user, folder_id)
    if user.kind != PATIENT:
        raise NotFoundError()
    fields = clean_folder_fields(body, services.clock.now().date())

    def change(doc: dict) -> None:
        doc.update(fields)
        doc["updatedAt"] = iso(services.clock.now())

    updated = concurrency.modify_if_match(services.store, PATIENTS, folder, change, if_match)
    # the worklist shows folder names
    case_summary.after_commit(
        "folder edit", user.patient_id, lambda: case_summary.refresh_cases(services.store, user.patient_id, services.clock.now())
    )
    return folder_view(updated)


def delete_folder(services: Any, user: Principal, folder_id: str) -> None:
    folder, _ = access.folder_for(services, user, folder_id)
    if user.kind != PATIENT:
        raise NotFoundError()
    deletion.delete_folder(services, user.patient_id, folder["id"])
    case_summary.after_commit(
        "folder delete", user.patient_id, lambda: case_summary.refresh_cases(services.store, user.patient_id, services.clock.now())
    )
    end_exports_out_of_scope(services, user.patient_id)


# ----------------------------------------------------------------------------- uploads
def image_blob_name(patient_id: str, image_id: str, rendition: str) -> str:
    return f"{patient_id}/{image_id}/{rendition}.jpg"


def start_upload(services: Any, user: Principal, folder_id: str, body: dict) -> dict:
    folder, _ = access.folder_for(services, user, folder_id)
    if user.kind != PATIENT:
        raise NotFoundError()
    now = services.clock.now()
    settings = services.settings
    content_type = check_upload_request(body["contentType"], body["sizeBytes"], settings.max_upload_bytes)
    captured = check_captured_at(body["capturedAt"], now) if body.get("capturedAt") else None
    quotas.take_upload_session(services, user.patient_id, now)
    image_id = new_id("img")
    expires = now + timedelta(minutes=settings.upload_url_minutes)
    url = services.blobs.upload_url(UPLOADS, upload_blob_name(user.patient_id, image_id), expires)
    doc = {
        "id": image_id,
        "patientId": user.patient_id,
        "type": "image",
        "folderId": folder["id"],
        "status": "pending",
        "rejectionReason": None,
        "rejectionCode": None,
        "declaredContentType": content_type,
        "declaredSizeBytes": body["sizeBytes"],
        "capturedAt": captured or iso(now),
        "capturedAtSource": "patient" if captured else "upload-time",
        "uploadedAt": iso(now),
        "notes": (body.get("notes") or "").strip() or None,
        "treatment": None,
        "rating": None,
        "description": None,
        "width": None,
        "height": None,
        "quality": None,
        # the trace of this request, continued by the upload trigger (issue 18); ids only
        "traceContext": telemetry.trace_context() or None,
    }
    # Due when the link has long expired: the timer then re-drives or rejects a photo still pending.
    pending_work.record(services.store, pending_work.UPLOAD, user.patient_id, image_id, expires + UPLOAD_SETTLE_TIME)
    access.register_owner(services.store, "img", image_id, user.patient_id, folder["id"])
    try:
        # One atomic step with the folder check: a folder deleted a moment ago gets no new photo.
        services.store.create_under(PATIENTS, doc, parent_id=folder["id"])
    except NotFound:
        access.forget_owner(services.store, "img", image_id)
        raise NotFoundError() from None
    return {"uploadId": image_id, "uploadUrl": url, "expiresAt": iso(expires), "encryption": upload_key(services)}


def upload_key(services: Any) -> dict:
    """The current version of the key-encryption key's public half, as the phone wraps content keys
    with it (Azure Storage client-side encryption v2, RSA-OAEP-256). The patient app caches it to
    encrypt photos taken offline; processing accepts every version of the configured key, so a photo
    wrapped under a version that has since been rotated out is still accepted."""
    jwk = services.kek.public_jwk()
    return {"protocol": "2.0", "kid": jwk["kid"], "alg": jwk["alg"], "jwk": jwk}


# ----------------------------------------------------------------------------- images
def image_view(doc: dict) -> dict:
    view = public_view(doc, drop=("declaredContentType", "declaredSizeBytes", "rejectionCode", "sourceEtag", "blobs", "traceContext"))
    view["id"] = doc["id"]
    view["etag"] = doc.get("_etag")
    return view


def list_images(services: Any, user: Principal, folder_id: str, limit: int, token: str | None) -> dict:
    folder, acc = access.folder_for(services, user, folder_id, action="viewed-folder")
    where: dict[str, Any] = {"type": "image", "folderId": folder["id"]}
    if user.kind != PATIENT:
        where["status"] = "ready"
    page = paging.fetch(services.store, PATIENTS, acc.patient_id, where=where, order_by="capturedAt", limit=limit, token=token)
    return paging.as_response(page, image_view)


def get_image(services: Any, user: Principal, image_id: str) -> dict:
    image, _ = access.image_for(services, user, image_id)
    return image_view(image)


def update_image(services: Any, user: Principal, image_id: str, body: dict, if_match: concurrency.IfMatch) -> dict:
    if user.kind != PATIENT:
        raise NotFoundError()
    image, _ = access.image_for(services, user, image_id)
    now = services.clock.now()
    fields: dict[str, Any] = {}
    for key, value in body.items():
        if key == "capturedAt":
            fields["capturedAt"] = check_captured_at(value, now)
            fields["capturedAtSource"] = "patient"
        else:
            fields[key] = value.strip() or None if isinstance(value, str) else value
    fields["updatedAt"] = iso(now)
    return image_view(concurrency.modify_if_match(services.store, PATIENTS, image, lambda doc: doc.update(fields), if_match))


def delete_image(services: Any, user: Principal, image_id: str) -> None:
    if user.kind != PATIENT:
        raise NotFoundError()
    image, _ = access.image_for(services, user, image_id)
    deletion.delete_image(services, image["patientId"], image["id"])
    case_summary.after_commit("photo delete", user.patient_id, lambda: case_summary.image_gone(services.store, image, services.clock.now()))
    end_exports_out_of_scope(services, user.patient_id)


def image_content(services: Any, user: Principal, image_id: str, size: str) -> tuple[bytes, str]:
    image, acc = access.image_for(services, user, image_id, action="viewed-image-content")
    if image.get("status") != "ready":
        raise RuleViolation("This photo is not ready to view." if image.get("status") == "pending" else "This photo was not accepted.")
    try:
        data = read_all(services.blobs.read_decrypted(IMAGES, image_blob_name(acc.patient_id, image_id, size)))
    except NotFound:
        # A ready photo without this rendition: the timer makes it again from the original, or
        # marks the photo lost, at its next run (a point on the work list, not a scan).
        pending_work.record(services.store, pending_work.CHECK_RENDITIONS, acc.patient_id, image_id, services.clock.now())
        raise
    captured = uk_file_stamp(image.get("capturedAt"), with_time=False)  # the UK date, as people read it
    return data, f"skinvault-{captured}-{size}.jpg"


def image_content_part(services: Any, user: Principal, image_id: str, size: str, range_header: str | None) -> tuple[bytes, str, ByteRange | None]:
    """Like image_content, but a `Range: bytes=...` ask is served one part at a time (206): the
    worker holds at most one part (domain/ranges.py), whatever the photo's size. Each part is
    audited like a whole read only when it starts at byte 0 (one view, not one per part)."""
    if not range_header:
        data, filename = image_content(services, user, image_id, size)
        return data, filename, None
    image, acc = access.image_for(services, user, image_id, action="viewed-image-content" if _first_part(range_header) else None)
    if image.get("status") != "ready":
        raise RuleViolation("This photo is not ready to view." if image.get("status") == "pending" else "This photo was not accepted.")
    name = image_blob_name(acc.patient_id, image_id, size)
    part = parse_range(range_header, services.blobs.plaintext_size(IMAGES, name))
    if part is None:
        data, filename = image_content(services, user, image_id, size)
        return data, filename, None
    data = read_part(services.blobs.read_decrypted(IMAGES, name, offset=part.first, length=part.length))
    return data, f"skinvault-{(image.get('capturedAt') or '')[:10]}-{size}.jpg", part


def _first_part(range_header: str) -> bool:
    return range_header.replace(" ", "").lower().startswith("bytes=0-")
