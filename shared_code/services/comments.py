"""Clinic comments on photos and folders. The patient reads them in their folder; the clinic reads its own."""

from __future__ import annotations

from typing import Any

from shared_code.auth.principal import CLINICIAN, PATIENT, Principal
from shared_code.domain.common import iso, new_id
from shared_code.domain.errors import NotFoundError, RuleViolation
from shared_code.ports import PATIENTS
from shared_code.services import access, clinics

COMMENT_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["text"],
    "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 4000}},
}


def _target(services: Any, user: Principal, target_type: str, target_id: str, action: str) -> tuple[dict, access.Access]:
    if target_type == "image":
        image, acc = access.image_for(services, user, target_id, action=action)
        return {"folderId": image["folderId"]}, acc
    folder, acc = access.folder_for(services, user, target_id, action=action)
    return {"folderId": folder["id"]}, acc


def comment_view(doc: dict) -> dict:
    return {
        "id": doc["id"],
        "targetType": doc["targetType"],
        "targetId": doc["targetId"],
        "author": {"kind": doc["authorKind"], "name": doc["authorName"], "clinicName": doc.get("clinicName")},
        "text": doc["text"],
        "createdAt": doc["createdAt"],
    }


def add_comment(services: Any, user: Principal, target_type: str, target_id: str, text: str) -> dict:
    if user.kind != CLINICIAN:
        raise NotFoundError()
    if not text.strip():  # before _target, which records the comment in the patient's audit trail
        raise RuleViolation("A comment needs some text.")
    where, acc = _target(services, user, target_type, target_id, "commented")
    now = services.clock.now()
    clinic = clinics.get_clinic(services.store, acc.clinic_id or "")
    doc = {
        "id": new_id("cmt"),
        "patientId": acc.patient_id,
        "type": "comment",
        "targetType": target_type,
        "targetId": target_id,
        "folderId": where["folderId"],
        "clinicId": clinic["id"],
        "clinicName": clinic["name"],
        "authorKind": CLINICIAN,
        "authorSub": user.sub,
        "authorName": clinics.member_name(services.store, clinic["id"], user.sub),
        "text": text.strip(),
        "createdAt": iso(now),
    }
    return comment_view(services.store.create(PATIENTS, doc))


def list_comments(services: Any, user: Principal, target_type: str, target_id: str) -> dict:
    _, acc = _target(services, user, target_type, target_id, "viewed-image" if target_type == "image" else "viewed-folder")
    where: dict[str, Any] = {"type": "comment", "targetType": target_type, "targetId": target_id}
    if user.kind != PATIENT:
        where["clinicId"] = acc.clinic_id
    page = services.store.query(PATIENTS, acc.patient_id, where=where, order_by="createdAt", limit=200)
    return {"items": [comment_view(c) for c in page.items], "continuationToken": None}


def comments_of_patient(store: Any, patient_id: str) -> list[dict]:
    return [comment_view(c) for c in store.query(PATIENTS, patient_id, where={"type": "comment"}, order_by="createdAt", limit=1000).items]
