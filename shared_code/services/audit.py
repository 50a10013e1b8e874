"""Append-only audit trail of clinician access and consent events, readable by the patient.

Records hold ids, actor, action, outcome and time: never image data, notes or names. Names are
resolved when the patient reads the trail. Nothing updates or deletes an audit record, and the
trail outlives the erasure of the account it concerns.
"""

from __future__ import annotations

from typing import Any

from shared_code.domain.common import iso, new_id
from shared_code.domain.errors import NotFoundError
from shared_code.ports import AUDIT, MetadataStore
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
}


def record(
    store: MetadataStore, now: Any, patient_id: str, actor_kind: str, actor_id: str, action: str, clinic_id: str | None, target: tuple[str, str]
) -> None:
    """Append one record: who (kind and id) did what, concerning which clinic and target (type, id)."""
    assert action in ACTIONS, action
    store.create(
        AUDIT,
        {
            "id": new_id("aud"),
            "patientId": patient_id,
            "type": "audit",
            "at": iso(now),
            "actorKind": actor_kind,
            "actorId": actor_id,
            "clinicId": clinic_id,
            "action": action,
            "targetType": target[0],
            "targetId": target[1],
            "outcome": "success",
        },
    )


def by_clinician(store: MetadataStore, now: Any, patient_id: str, clinician_sub: str, action: str, clinic_id: str, target: tuple[str, str]) -> None:
    """A clinician of `clinic_id` did `action` to target (type, id) of the patient's."""
    record(store, now, patient_id, "clinician", clinician_sub, action, clinic_id, target)


def by_patient(store: MetadataStore, now: Any, patient_id: str, action: str, clinic_id: str, target: tuple[str, str]) -> None:
    """The patient did `action` (share granted, revoked) concerning `clinic_id`."""
    record(store, now, patient_id, "patient", patient_id, action, clinic_id, target)


def read_trail(store: MetadataStore, patient_id: str, limit: int, continuation: str | None) -> dict:
    page = paging.fetch(store, AUDIT, patient_id, where={"type": "audit"}, order_by="at", limit=limit, token=continuation)
    names: dict[tuple[str, str], str] = {}
    clinic_names: dict[str, str] = {}
    items = []
    for rec in page.items:
        clinic_name = None
        if rec.get("clinicId"):
            if rec["clinicId"] not in clinic_names:
                try:
                    clinic_names[rec["clinicId"]] = clinics.get_clinic(store, rec["clinicId"])["name"]
                except NotFoundError:
                    clinic_names[rec["clinicId"]] = "a clinic"
            clinic_name = clinic_names[rec["clinicId"]]
        who = "You"
        if rec["actorKind"] == "clinician":
            key = (rec.get("clinicId") or "", rec["actorId"])
            if key not in names:
                names[key] = clinics.member_name(store, key[0], rec["actorId"])
            who = names[key]
        elif rec["actorKind"] == "researcher":
            from shared_code.services.studies import researcher_name  # studies records through this module

            who = researcher_name(store, rec["actorId"])
        elif rec["actorKind"] == "system":
            who = "SkinVault"
        phrase = ACTIONS.get(rec["action"], rec["action"])
        summary = f"{phrase} {clinic_name}" if rec["actorKind"] not in ("clinician", "researcher") else f"{who} ({clinic_name}) {phrase}"
        items.append(
            {
                "id": rec["id"],
                "at": rec["at"],
                "action": rec["action"],
                "actor": {"kind": rec["actorKind"], "name": who},
                "clinic": {"id": rec.get("clinicId"), "name": clinic_name} if rec.get("clinicId") else None,
                "target": {"type": rec.get("targetType"), "id": rec.get("targetId")} if rec.get("targetType") else None,
                "outcome": rec["outcome"],
                "summary": summary,
            }
        )
    return paging.response(items, page.continuation)
