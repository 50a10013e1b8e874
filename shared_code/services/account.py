"""Patient control over the whole account: download everything, or erase everything.

Erasure removes every blob in every container and all metadata, and ends every share. The audit
trail of who accessed what stays (it holds ids, never images, notes or names). It is a durable job
(services/pending_work.py): once asked for, the account answers 404 and the job runs until done.
"""

from __future__ import annotations

import json
import logging
import tempfile
import zipfile
from typing import Any

from shared_code.auth.principal import Principal
from shared_code.domain.common import iso, uk_file_stamp
from shared_code.domain.errors import RuleViolation
from shared_code.domain.ranges import ByteRange, parse_range
from shared_code.ports import BLOB_CONTAINERS, CLINICS, EXPORTS, IMAGES, PATIENTS, NotFound
from shared_code.services import access, clinical_records, comments, deletion, keys, paging, pending_work, profile, reminders, sharing, studies
from shared_code.services.blob_pipe import upload_while_written
from shared_code.services.library import folder_view, image_blob_name, image_view
from shared_code.services.plaintext import read_part

log = logging.getLogger("skinvault.account")

SPOOL_BYTES = 32 * 1024 * 1024
SELF_EXPORT_BLOB = "account-export.zip"  # in the exports container, under the patient's id


def _all(store: Any, patient_id: str, doc_type: str, order_by: str = "createdAt") -> list[dict[str, Any]]:
    return paging.fetch_all(store, PATIENTS, patient_id, where={"type": doc_type}, order_by=order_by)


def export_everything(services: Any, user: Principal) -> bytes:
    """A ZIP of the patient's decrypted originals, metadata and annotations, and clinic comments."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        _write_export(services, user, spool)
        spool.seek(0)
        return spool.read()


def export_everything_part(services: Any, user: Principal, range_header: str | None) -> tuple[bytes, ByteRange | None]:
    """The same ZIP, asked for part by part with Range (issue 15): the first part (bytes=0-...)
    builds it into an encrypted blob of the patient's (uploaded as it is written, never held
    whole) and later parts are read from there, one part at a time. Erasure deletes it with
    everything else of the patient's."""
    if not range_header:
        return export_everything(services, user), None
    name = f"{user.patient_id}/{SELF_EXPORT_BLOB}"
    if range_header.replace(" ", "").lower().startswith("bytes=0-"):
        upload_while_written(services.blobs, EXPORTS, name, lambda out: _write_export(services, user, out))
    try:
        total = services.blobs.plaintext_size(EXPORTS, name)
    except NotFound:
        raise RuleViolation("Start the download again from the beginning.") from None
    part = parse_range(range_header, total)
    if part is None:
        return export_everything(services, user), None
    return read_part(services.blobs.read_decrypted(EXPORTS, name, offset=part.first, length=part.length)), part


def _write_export(services: Any, user: Principal, target: Any) -> None:
    store, pid = services.store, user.patient_id
    prof = profile.get_or_create(store, user, services.clock.now())
    folders = _all(store, pid, "folder")
    images = _all(store, pid, "image", order_by="capturedAt")
    shares = sharing.list_shares(services, user, 200, None)["items"]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as zf:
        names = {f["id"]: f["name"] for f in folders}
        listing = []
        for image in images:
            entry = image_view(image)
            if image.get("status") == "ready":
                folder = _safe(names.get(image["folderId"], "folder"))
                arcname = f"photos/{folder}/{uk_file_stamp(image.get('capturedAt'))}_{image['id'][-8:]}.jpg"  # UK time
                with zf.open(arcname, "w", force_zip64=True) as out:
                    for chunk in services.blobs.read_decrypted(IMAGES, image_blob_name(pid, image["id"], "original")):
                        out.write(chunk)
                entry["file"] = arcname
            listing.append(entry)
        data = {
            "exportedAt": iso(services.clock.now()),
            "profile": profile.profile_view(prof),
            "folders": [folder_view(f) for f in folders],
            "images": listing,
            "comments": comments.comments_of_patient(store, pid),
            "shares": shares,
        }
        zf.writestr("skinvault.json", json.dumps(data, indent=2, default=str))
        zf.writestr("README.txt", "Your SkinVault photos and notes. skinvault.json lists every folder, photo, note and clinic comment.\n")


def _safe(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in " -_" else "_" for ch in name).strip()
    return cleaned[:60] or "folder"


def erase(services: Any, user: Principal) -> None:
    """Erase the account: a durable job, finished now if everything answers, else by the timer.

    1. Record the erasure job. It is also the mark: from then on every request for the account
       answers 404 (the patient's own requests at sign-in, clinicians' reads through any share).
       If this write fails, nothing has happened and the 503 says so truthfully.
    2. The rest, retried until nothing is left (finish_erasure). A failure here is logged and the
       patient is still told the account is erased: the job finishes it in the background.
    """
    pid = user.patient_id
    # 1. the job, which is also the mark (a failure here is an honest 503: nothing has happened)
    item = pending_work.record(services.store, pending_work.ERASE_ACCOUNT, pid, pid, services.clock.now() + deletion.RETRY_AFTER)
    # 2. everything else, now if every dependency answers, else by the reconciliation timer
    deletion.finish_now(services, item, lambda: finish_erasure(services, pid))


def finish_erasure(services: Any, pid: str) -> None:
    """Everything of the account but the audit trail (idempotent; raises when a step fails).

    Metadata before blobs: an upload processed meanwhile finds its photo gone and deletes what it
    wrote, and the blobs step below removes anything written before that.
    """
    store, blobs = services.store, services.blobs
    keys.shred_patient_key(services, pid)  # first: from here no blob of theirs decrypts, backups included
    # clinic-side cases first (the worklist must not keep a ghost of the patient), then the shares
    for share in _all(store, pid, "share", order_by="grantedAt"):
        clinical_records.forget_case(store, share["clinicId"], sharing.case_id_for(share["clinicId"], pid))
        try:
            store.delete(CLINICS, share["clinicId"], sharing.case_id_for(share["clinicId"], pid))
        except NotFound:
            pass  # a second share to the same clinic, or a retry: its case is gone already
    sharing.end_all_shares(services, pid)
    for doc_type, kind in (("image", "img"), ("folder", "fld"), ("export", "exp")):
        for doc in _all(store, pid, doc_type):
            access.forget_owner(store, kind, doc["id"])
    for reminder in _all(store, pid, "reminder", order_by="nextDueAt"):
        reminders.forget(store, pid, reminder["folderId"])
    studies.forget_patient(services, pid)  # research participant records lose the link to the account
    store.delete_partition(PATIENTS, pid)
    for container in BLOB_CONTAINERS:
        blobs.delete_prefix(container, f"{pid}/")
    keys.shred_patient_key(services, pid)  # again: a late processing step may have made a new data key (idempotent)
    log.info("account erased patient_id=%s", pid)
