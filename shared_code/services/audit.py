"""Append-only audit trail of clinician access and consent events, readable by the patient.

Records hold ids, actor, action, outcome and time: never image data, notes or names. Names are
resolved when the patient reads the trail. Nothing updates or deletes an audit record, and the
trail outlives the erasure of the account it concerns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared_code.domain.audit_entry import AuditEntry
from shared_code.domain.common import iso, new_id
from shared_code.domain.errors import NotFoundError
from shared_code.ports import MetadataStore
from shared_code.repositories.audit_entries import AuditRepository
from shared_code.services import clinics, paging

# action -> plain words for the patient
ACTIONS = {
    "share-granted": "You shared photos with",
    "share-revoked": "You stopped sharing with",
    "share-expired": "Your share ended with",
    "viewed-worklist": "saw your case in the clinic list",
    "viewed-case": "opened your case",
    "viewed-folder": "looked at the folder",
    "viewed-image": "looked at the details of a photo",
    "viewed-image-content": "viewed a photo",
    "commented": "commented",
    "triaged": "recorded a triage outcome",
    "reviewed": "marked your case as reviewed",
    "export-requested": "started a copy of your photos into the hospital record",
    "export-downloaded": "downloaded the copy for the hospital record",
    "replied": "You replied to",
    "comment-withdrawn": "withdrew a comment posted in error",
    "noted": "added an internal note to your case",
    "invitation-accepted": "You accepted a request for photos from",
    "study-enrolled": "You joined a research study run by",
    "study-withdrawn": "You left a research study run by",
    "research-viewed-participants": "saw your pseudonymised study record",
    "research-viewed-photo": "viewed a study photo",
    "research-exported": "included your pseudonymised photos in a research export",
    "revealed-intimate-photo": "chose to show a photo of an intimate area",
    "measured": "measured a photo",
}


def record(
    store: MetadataStore,
    now: datetime,
    patient_id: str,
    actor_kind: str,
    actor_id: str,
    action: str,
    clinic_id: str | None,
    target: tuple[str, str],
) -> None:
    """Append one record: who (kind and id) did what, concerning which clinic and target (type, id)."""
    assert action in ACTIONS, action
    entry = AuditEntry(
        id=new_id("aud"),
        patient_id=patient_id,
        at=iso(now),
        actor_kind=actor_kind,
        actor_id=actor_id,
        clinic_id=clinic_id,
        action=action,
        target_type=target[0],
        target_id=target[1],
    )
    AuditRepository(store).append(entry)


def by_clinician(
    store: MetadataStore, now: datetime, patient_id: str, clinician_sub: str, action: str, clinic_id: str, target: tuple[str, str]
) -> None:
    """A clinician of `clinic_id` did `action` to target (type, id) of the patient's."""
    record(store, now, patient_id, "clinician", clinician_sub, action, clinic_id, target)


def by_patient(store: MetadataStore, now: datetime, patient_id: str, action: str, clinic_id: str, target: tuple[str, str]) -> None:
    """The patient did `action` (share granted, revoked) concerning `clinic_id`."""
    record(store, now, patient_id, "patient", patient_id, action, clinic_id, target)


def read_trail(store: MetadataStore, patient_id: str, limit: int, continuation: str | None) -> dict[str, Any]:
    entries, next_token = AuditRepository(store).page(patient_id, limit, continuation)
    names: dict[tuple[str, str], str] = {}
    clinic_names: dict[str, str] = {}
    items = []
    for rec in entries:
        clinic_name = None
        if rec.clinic_id:
            if rec.clinic_id not in clinic_names:
                try:
                    clinic_names[rec.clinic_id] = clinics.get_clinic(store, rec.clinic_id)["name"]
                except NotFoundError:
                    clinic_names[rec.clinic_id] = "a clinic"
            clinic_name = clinic_names[rec.clinic_id]
        who = "You"
        if rec.actor_kind == "clinician":
            key = (rec.clinic_id or "", rec.actor_id)
            if key not in names:
                names[key] = clinics.member_name(store, key[0], rec.actor_id)
            who = names[key]
        elif rec.actor_kind == "researcher":
            from shared_code.services.studies import researcher_name  # studies records through this module

            who = researcher_name(store, rec.actor_id)
        elif rec.actor_kind == "system":
            who = "SkinVault"
        phrase = ACTIONS.get(rec.action, rec.action)
        summary = f"{phrase} {clinic_name}" if rec.actor_kind not in ("clinician", "researcher") else f"{who} ({clinic_name}) {phrase}"
        items.append(
            {
                "id": rec.id,
                "at": rec.at,
                "action": rec.action,
                "actor": {"kind": rec.actor_kind, "name": who},
                "clinic": {"id": rec.clinic_id, "name": clinic_name} if rec.clinic_id else None,
                "target": {"type": rec.target_type, "id": rec.target_id} if rec.target_type else None,
                "outcome": rec.outcome,
                "summary": summary,
            }
        )
    return paging.response(items, next_token)
