"""Who may read what, decided at the moment of every read.

A patient reads their own things. A clinician reads a patient's folder or image only while a share
from that patient to one of the clinician's clinics is active and covers the folder; each such read
is audited. Everyone else gets 404: we never reveal that an id exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared_code.auth.principal import CLINICIAN, PATIENT, Principal
from shared_code.domain.errors import NotFoundError
from shared_code.domain.sharing import ACTIVE, covers_folder, share_state
from shared_code.ports import LOOKUPS, PATIENTS, Conflict, Dependencies, MetadataStore, NotFound
from shared_code.services import audit, paging, pending_work


@dataclass(frozen=True)
class Access:
    patient_id: str
    principal: Principal
    share: dict[str, Any] | None = None  # the active share a clinician reads through

    @property
    def clinic_id(self) -> str | None:
        return self.share["clinicId"] if self.share else None


def owner_key(kind: str, item_id: str) -> str:
    return f"{kind}:{item_id}"


def register_owner(store: MetadataStore, kind: str, item_id: str, patient_id: str, folder_id: str | None = None) -> None:
    """Index an id to its patient so reads by id can be authorised (and clinicians' reads resolved)."""
    key = owner_key(kind, item_id)
    try:
        store.create(LOOKUPS, {"id": key, "key": key, "patientId": patient_id, "folderId": folder_id})
    except Conflict:
        pass


def forget_owner(store: MetadataStore, kind: str, item_id: str) -> None:
    key = owner_key(kind, item_id)
    try:
        store.delete(LOOKUPS, key, key)
    except NotFound:
        pass


def owner_of(store: MetadataStore, kind: str, item_id: str) -> dict[str, Any]:
    key = owner_key(kind, item_id)
    try:
        return store.read(LOOKUPS, key, key)
    except NotFound:
        raise NotFoundError() from None


def active_share(store: MetadataStore, patient_id: str, clinic_ids: tuple[str, ...], now: Any, folder_id: str | None = None) -> dict[str, Any] | None:
    if not clinic_ids or pending_work.erasure_pending(store, patient_id):
        return None  # an account being erased is shared with no one, from the moment it was asked
    for clinic_id in clinic_ids:
        page = store.query(PATIENTS, patient_id, where={"type": "share", "clinicId": clinic_id}, order_by="grantedAt", descending=True, limit=50)
        for share in page.items:
            if share_state(share, now) == ACTIVE and (folder_id is None or covers_folder(share, folder_id)):
                return share
    return None


def folders_in_scope(store: MetadataStore, patient_id: str, share: dict[str, Any]) -> list[dict[str, Any]]:
    """The patient's folders a share covers, oldest first."""
    folders = paging.fetch_all(store, PATIENTS, patient_id, where={"type": "folder"}, order_by="createdAt")
    return [f for f in folders if covers_folder(share, f["id"])]


def ready_images(store: MetadataStore, patient_id: str, folder_id: str) -> list[dict[str, Any]]:
    """A folder's accepted photos, by capture time: what a clinic may see of it."""
    return paging.fetch_all(store, PATIENTS, patient_id, where={"type": "image", "folderId": folder_id, "status": "ready"}, order_by="capturedAt")


def authorise(
    services: Dependencies, principal: Principal, patient_id: str, folder_id: str | None, *, action: str | None, target_type: str, target_id: str
) -> Access:
    """The reader's access, or 404. A clinician's read is audited as `action` (None: a later part of
    a read already audited, such as the second part of a ranged download)."""
    now = services.clock.now()
    if principal.kind == PATIENT:
        if principal.patient_id != patient_id:
            raise NotFoundError()
        return Access(patient_id=patient_id, principal=principal)
    if principal.kind == CLINICIAN:
        share = active_share(services.store, patient_id, principal.clinic_ids, now, folder_id)
        if share is None:
            raise NotFoundError()
        if action is not None:
            audit.by_clinician(services.store, now, patient_id, principal.sub, action, share["clinicId"], (target_type, target_id))
        return Access(patient_id=patient_id, principal=principal, share=share)
    raise NotFoundError()


def image_for(services: Dependencies, principal: Principal, image_id: str, *, action: str | None = "viewed-image") -> tuple[dict[str, Any], Access]:
    owner = owner_of(services.store, "img", image_id)
    try:
        image = services.store.read(PATIENTS, owner["patientId"], image_id)
    except NotFound:
        raise NotFoundError() from None
    if principal.kind == CLINICIAN and image.get("status") != "ready":
        raise NotFoundError()  # before authorise: a photo the clinic cannot see is not audited as seen
    access = authorise(services, principal, owner["patientId"], owner.get("folderId"), action=action, target_type="image", target_id=image_id)
    return image, access


def folder_for(services: Dependencies, principal: Principal, folder_id: str, *, action: str = "viewed-folder") -> tuple[dict[str, Any], Access]:
    if principal.kind == PATIENT:
        # fast path: the patient's own partition
        try:
            folder = services.store.read(PATIENTS, principal.patient_id, folder_id)
        except NotFound:
            raise NotFoundError() from None
        if folder.get("type") != "folder":
            raise NotFoundError()
        return folder, Access(patient_id=principal.patient_id, principal=principal)
    owner = owner_of(services.store, "fld", folder_id)
    access = authorise(services, principal, owner["patientId"], folder_id, action=action, target_type="folder", target_id=folder_id)
    try:
        return services.store.read(PATIENTS, owner["patientId"], folder_id), access
    except NotFound:
        raise NotFoundError() from None
