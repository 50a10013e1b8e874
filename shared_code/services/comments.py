"""The conversation between a clinic and a patient, kept in the patient's partition.

Clinicians comment on photos and folders; the patient replies in their own shared folders (to one
clinic: the reply is that clinic's to read); a triage outcome leaves a message for the patient
(plain-English text per outcome plus the clinician's optional words, never the internal note). A
comment posted in error is withdrawn, not deleted: the patient sees that it was withdrawn, not
what it said. Each clinic sees only its own side of the conversation.
"""

from __future__ import annotations

from typing import Any

from shared_code.auth.principal import CLINICIAN, PATIENT, Principal
from shared_code.domain.common import iso, new_id
from shared_code.domain.conversation import OUTCOME_TEXT
from shared_code.domain.errors import NotFoundError, RuleViolation
from shared_code.domain.sharing import ACTIVE, covers_folder, share_state
from shared_code.ports import CLINICS, NOTIFICATIONS_QUEUE, PATIENTS, NotFound
from shared_code.services import access, audit, clinics, concurrency, paging, profile

COMMENT_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["text"],
    "properties": {
        "text": {"type": "string", "minLength": 1, "maxLength": 4000},
        # a patient's reply: which clinic it is for (needed only when more than one clinic sees the folder)
        "clinicId": {"type": "string", "minLength": 1, "maxLength": 100},
    },
}
COMMENT = "comment"  # a clinician's comment on a photo or folder
REPLY = "reply"  # the patient's reply in a folder
OUTCOME = "outcome"  # the patient-facing message of a triage outcome


def _target(services: Any, user: Principal, target_type: str, target_id: str, action: str) -> tuple[dict, access.Access]:
    if target_type == "image":
        image, acc = access.image_for(services, user, target_id, action=action)
        return {"folderId": image["folderId"]}, acc
    folder, acc = access.folder_for(services, user, target_id, action=action)
    return {"folderId": folder["id"]}, acc


def kind_of(doc: dict) -> str:
    return doc.get("kind") or (REPLY if doc["authorKind"] == PATIENT else COMMENT)


def comment_view(doc: dict, *, for_patient: bool = False) -> dict:
    """One message as the API shows it. A withdrawn message keeps its place; the patient no longer
    sees its words (the clinic still does, marked withdrawn)."""
    withdrawn = bool(doc.get("withdrawnAt"))
    kind = kind_of(doc)
    return {
        "id": doc["id"],
        "kind": kind,
        "targetType": doc["targetType"],
        "targetId": doc["targetId"],
        "folderId": doc.get("folderId"),
        "clinicId": doc.get("clinicId"),
        "author": {"kind": doc["authorKind"], "name": doc["authorName"], "clinicName": doc.get("clinicName")},
        "text": None if withdrawn and for_patient else doc.get("text"),
        "outcome": {"code": doc["outcome"], "text": OUTCOME_TEXT.get(doc["outcome"], "")}
        if kind == OUTCOME and not (withdrawn and for_patient)
        else None,
        "withdrawn": withdrawn,
        "withdrawnAt": doc.get("withdrawnAt"),
        "createdAt": doc["createdAt"],
    }


def add_comment(services: Any, user: Principal, target_type: str, target_id: str, text: str, clinic_id: str | None = None) -> dict:
    if user.kind == PATIENT and target_type == "folder":
        return reply(services, user, target_id, text, clinic_id)
    if user.kind != CLINICIAN:
        raise NotFoundError()
    if not text.strip():  # before _target, which records the comment in the patient's audit trail
        raise RuleViolation("A comment needs some text.")
    if clinic_id is not None:
        raise RuleViolation("clinicId is for a patient's reply: a clinician comments for the clinic that has the share.")
    where, acc = _target(services, user, target_type, target_id, "commented")
    now = services.clock.now()
    clinic = clinics.get_clinic(services.store, acc.clinic_id or "")
    doc = {
        "id": new_id("cmt"),
        "patientId": acc.patient_id,
        "type": "comment",
        "kind": COMMENT,
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
    created = services.store.create(PATIENTS, doc)
    tell_patient(services, acc.patient_id, clinic["id"], created["id"])
    return comment_view(created)


def tell_patient(services: Any, patient_id: str, clinic_id: str, message_id: str) -> None:
    """Queue the patient's "your clinic has sent you a message" email (ids only; coalesced when sent)."""
    services.queue.send(NOTIFICATIONS_QUEUE, {"kind": "clinic-message", "patientId": patient_id, "clinicId": clinic_id, "messageId": message_id})


def _shares_covering(services: Any, patient_id: str, folder_id: str) -> list[dict]:
    now = services.clock.now()
    shares = paging.fetch_all(services.store, PATIENTS, patient_id, where={"type": "share"}, order_by="grantedAt")
    return [s for s in shares if share_state(s, now) == ACTIVE and covers_folder(s, folder_id)]


def reply(services: Any, user: Principal, folder_id: str, text: str, clinic_id: str | None) -> dict:
    """The patient replies in one of their folders that a clinic can see; it is new activity for that clinic."""
    from shared_code.services.sharing import case_id_for

    folder, _ = access.folder_for(services, user, folder_id)  # the patient's own folder, or 404
    if not text.strip():
        raise RuleViolation("A reply needs some text.")
    shares = _shares_covering(services, user.patient_id, folder["id"])
    if clinic_id is not None:
        shares = [s for s in shares if s["clinicId"] == clinic_id]
    if not shares:
        raise RuleViolation("You can reply only in a folder you share with a clinic.")
    if len({s["clinicId"] for s in shares}) > 1:
        raise RuleViolation("This folder is shared with more than one clinic: say which clinic the reply is for (clinicId).")
    store, now = services.store, services.clock.now()
    clinic = clinics.get_clinic(store, shares[0]["clinicId"])
    prof = profile.read_profile(store, user.patient_id) or {}
    doc = {
        "id": new_id("cmt"),
        "patientId": user.patient_id,
        "type": "comment",
        "kind": REPLY,
        "targetType": "folder",
        "targetId": folder["id"],
        "folderId": folder["id"],
        "clinicId": clinic["id"],
        "clinicName": clinic["name"],
        "authorKind": PATIENT,
        "authorSub": None,
        "authorName": prof.get("displayName") or "The patient",
        "text": text.strip(),
        "createdAt": iso(now),
    }
    created = store.create(PATIENTS, doc)
    case_id = case_id_for(clinic["id"], user.patient_id)

    def new_activity(case: dict) -> None:
        case.update({"newReplyCount": case.get("newReplyCount", 0) + 1, "hasNew": True, "lastActivityAt": iso(now)})

    concurrency.modify(store, CLINICS, (clinic["id"], case_id), new_activity)
    audit.by_patient(store, now, user.patient_id, "replied", clinic["id"], ("folder", folder["id"]))
    services.queue.send(NOTIFICATIONS_QUEUE, {"kind": "patient-reply", "clinicId": clinic["id"], "caseId": case_id, "commentId": created["id"]})
    return comment_view(created, for_patient=True)


def list_comments(services: Any, user: Principal, target_type: str, target_id: str) -> dict:
    _, acc = _target(services, user, target_type, target_id, "viewed-image" if target_type == "image" else "viewed-folder")
    where: dict[str, Any] = {"type": "comment", "targetType": target_type, "targetId": target_id}
    if user.kind != PATIENT:
        where["clinicId"] = acc.clinic_id
    page = services.store.query(PATIENTS, acc.patient_id, where=where, order_by="createdAt", limit=200)
    return {"items": [comment_view(c, for_patient=user.kind == PATIENT) for c in page.items], "continuationToken": None}


def folder_messages(services: Any, user: Principal, folder_id: str) -> dict:
    """A folder's whole conversation, oldest first: comments on it and its photos, the patient's
    replies, and triage outcome messages for the folders they covered. A clinician sees their clinic's."""
    folder, acc = access.folder_for(services, user, folder_id, action="viewed-folder")
    docs = paging.fetch_all(services.store, PATIENTS, acc.patient_id, where={"type": "comment"}, order_by="createdAt")
    mine = [d for d in docs if d.get("folderId") == folder["id"] or folder["id"] in (d.get("folderIds") or [])]
    if user.kind != PATIENT:
        mine = [d for d in mine if d.get("clinicId") == acc.clinic_id]
    return {"items": [comment_view(d, for_patient=user.kind == PATIENT) for d in mine], "continuationToken": None}


def inbox(services: Any, user: Principal, limit: int, token: str | None) -> dict:
    """Every message between the patient and their clinics, newest first."""
    page = paging.fetch(services.store, PATIENTS, user.patient_id, where={"type": "comment"}, order_by="createdAt", limit=limit, token=token)
    return paging.response([comment_view(d, for_patient=True) for d in page.items], page.continuation)


def record_outcome_message(
    services: Any, case: dict, share: dict, user: Principal, outcome: str, message: str | None, folder_id: str | None = None
) -> dict:
    """A triage outcome's message for the patient: the outcome (its text is the domain's) and the
    clinician's optional words. The internal note is not passed here and never stored with it.
    With `folder_id` (triage per folder) the message belongs to that folder's conversation only."""
    folders = access.folders_in_scope(services.store, case["patientId"], share)
    if folder_id is not None:
        folders = [f for f in folders if f["id"] == folder_id]
    clinic = clinics.get_clinic(services.store, case["clinicId"])
    doc = {
        "id": new_id("cmt"),
        "patientId": case["patientId"],
        "type": "comment",
        "kind": OUTCOME,
        "outcome": outcome,
        "targetType": "case",
        "targetId": case["id"],
        "folderId": folder_id,
        "folderIds": [f["id"] for f in folders],
        "clinicId": clinic["id"],
        "clinicName": clinic["name"],
        "authorKind": CLINICIAN,
        "authorSub": user.sub,
        "authorName": clinics.member_name(services.store, clinic["id"], user.sub),
        "text": message,
        "createdAt": iso(services.clock.now()),
    }
    return services.store.create(PATIENTS, doc)


def withdraw(services: Any, user: Principal, case: dict, comment_id: str) -> tuple[dict, bool]:
    """A clinician of the case's clinic withdraws one of the clinic's messages posted in error.
    Returns the message and whether this call withdrew it (withdrawing twice is no change)."""
    try:
        doc = services.store.read(PATIENTS, case["patientId"], comment_id)
    except NotFound:
        raise NotFoundError() from None
    if doc.get("type") != "comment" or doc.get("clinicId") != case["clinicId"] or doc.get("authorKind") != CLINICIAN:
        raise NotFoundError()
    now = iso(services.clock.now())
    withdrawn_here = False

    def change(d: dict) -> bool | None:
        nonlocal withdrawn_here
        withdrawn_here = not d.get("withdrawnAt")
        if not withdrawn_here:
            return False
        d.update({"withdrawnAt": now, "withdrawnBy": user.sub})
        return None

    updated = concurrency.modify(services.store, PATIENTS, doc, change)
    if updated is None:
        raise NotFoundError()
    return comment_view(updated), withdrawn_here


def comments_of_patient(store: Any, patient_id: str) -> list[dict]:
    docs = paging.fetch_all(store, PATIENTS, patient_id, where={"type": "comment"}, order_by="createdAt")
    return [comment_view(c, for_patient=True) for c in docs]
