"""Append-only audit trail of clinician access and consent events, readable by the patient.

Records hold ids, actor, action, outcome and time: never image data, notes or names. Names are
resolved when the patient reads the trail. Nothing updates or deletes an audit record, and the
trail outlives the erasure of the account it concerns.
"""

from __future__ import annotations

from typing import Any

from shared_code.domain.common import iso, new_id
from shared_code.ports import AUDIT, CLINICS, MetadataStore, NotFound

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
}


def record(
    store: MetadataStore,
    now: Any,
    *,
    patient_id: str,
    actor_kind: str,
    actor_id: str,
    action: str,
    clinic_id: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    outcome: str = "success",
) -> None:
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
            "targetType": target_type,
            "targetId": target_id,
            "outcome": outcome,
        },
    )


def by_clinician(store: MetadataStore, now: Any, patient_id: str, clinician_sub: str, action: str, clinic_id: str, target: tuple[str, str]) -> None:
    """A clinician of `clinic_id` did `action` to target (type, id) of the patient's."""
    record(
        store,
        now,
        patient_id=patient_id,
        actor_kind="clinician",
        actor_id=clinician_sub,
        action=action,
        clinic_id=clinic_id,
        target_type=target[0],
        target_id=target[1],
    )


def by_patient(store: MetadataStore, now: Any, patient_id: str, action: str, clinic_id: str, target: tuple[str, str]) -> None:
    """The patient did `action` (share granted, revoked) concerning `clinic_id`."""
    record(
        store,
        now,
        patient_id=patient_id,
        actor_kind="patient",
        actor_id=patient_id,
        action=action,
        clinic_id=clinic_id,
        target_type=target[0],
        target_id=target[1],
    )


def read_trail(store: MetadataStore, patient_id: str, limit: int, continuation: str | None) -> dict:
    from shared_code.services import paging

    page = paging.fetch(store, AUDIT, patient_id, where={"type": "audit"}, order_by="at", limit=limit, token=continuation)
    names: dict[tuple[str, str], str] = {}
    clinics: dict[str, str] = {}
    items = []
    for rec in page.items:
        clinic_name = None
        if rec.get("clinicId"):
            if rec["clinicId"] not in clinics:
                try:
                    clinics[rec["clinicId"]] = store.read(CLINICS, rec["clinicId"], rec["clinicId"])["name"]
                except NotFound:
                    clinics[rec["clinicId"]] = "a clinic"
            clinic_name = clinics[rec["clinicId"]]
        who = "You"
        if rec["actorKind"] == "clinician":
            from shared_code.services.clinics import member_name

            key = (rec.get("clinicId") or "", rec["actorId"])
            if key not in names:
                names[key] = member_name(store, key[0], rec["actorId"].removeprefix("clinician:"))
            who = names[key]
        elif rec["actorKind"] == "system":
            who = "SkinVault"
        phrase = ACTIONS.get(rec["action"], rec["action"])
        summary = f"{phrase} {clinic_name}" if rec["actorKind"] != "clinician" else f"{who} ({clinic_name}) {phrase}"
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
