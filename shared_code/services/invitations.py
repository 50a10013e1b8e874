"""Photo requests: a clinic invites a patient (by email) to share photos with it.

The clinic's "Request photos" creates an invitation with a one-time random code that expires in 14
days, and queues an email with a link to the patient app (`/app/?invite=CODE`). Signed in, the
patient looks the code up (the clinic and its instruction) and accepts it, which ties it to them:
no second patient can use it. Granting a share to that clinic completes it. Until photos arrive
the clinic's worklist shows the request as "Waiting for photos".

The invitation lives in the clinic's partition (as a worklist row of kind "invitation"); the code
is found through a lookup entry; the patient's partition holds a link to each accepted invitation.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from shared_code.auth.principal import Principal
from shared_code.domain.common import iso, new_id, stable_id
from shared_code.domain.conversation import (
    ACCEPTED,
    CANCELLED,
    COMPLETED,
    EXPIRED,
    INVITATION_LIFETIME,
    REMINDER_SCHEDULES,
    invitation_state,
    valid_email,
)
from shared_code.domain.errors import AlreadyTaken, Gone, NotFoundError, RuleViolation
from shared_code.domain.triage import AWAITING, queue_key
from shared_code.ports import CLINICS, LOOKUPS, NOTIFICATIONS_QUEUE, PATIENTS, Conflict, Dependencies, NotFound
from shared_code.services import access, audit, clinics, concurrency, paging, reminders

INVITATION_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["email"],
    "properties": {
        "email": {"type": "string", "minLength": 3, "maxLength": 254},
        "instruction": {"type": ["string", "null"], "maxLength": 500},
        "reminder": {"enum": [*REMINDER_SCHEDULES, None]},
        # needed only by a clinician who belongs to more than one clinic
        "clinicId": {"type": "string", "minLength": 1, "maxLength": 100},
    },
}
NO_SUCH_CODE = "This link is not valid. Check you opened the whole link, or ask your clinic to send a new one."


_CODE_ALPHABET = string.ascii_letters + string.digits


def new_invitation_code() -> str:
    """143 random bits in letters and digits only: not guessable, fits a link, and always passes the
    API's id rule (token_urlsafe's "_" and a leading "-" did not, so some codes could never be used)."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(24))


def _code_key(code: str) -> str:
    return "invite:" + code


def clinic_view(doc: dict, now: Any) -> dict:
    """The invitation as the clinic sees it (never the code: that is the patient's to use)."""
    return {
        "id": doc["id"],
        "clinicId": doc["clinicId"],
        "email": doc["email"],
        "instruction": doc.get("instruction"),
        "reminder": doc.get("reminder"),
        "state": invitation_state(doc, now),
        "createdAt": doc["createdAt"],
        "expiresAt": doc["expiresAt"],
        "acceptedAt": doc.get("acceptedAt"),
        "completedAt": doc.get("completedAt"),
        "cancelledAt": doc.get("cancelledAt"),
    }


def create(services: Dependencies, user: Principal, body: dict) -> dict:
    store, now = services.store, services.clock.now()
    clinic_id = body.get("clinicId")
    if clinic_id is None:
        if len(user.clinic_ids) != 1:
            raise RuleViolation("You belong to more than one clinic: say which clinic is asking (clinicId).")
        clinic_id = user.clinic_ids[0]
    if clinic_id not in user.clinic_ids:
        raise NotFoundError()
    email = body["email"].strip()
    if not valid_email(email):
        raise RuleViolation("email must be the patient's email address.")
    clinic = clinics.get_clinic(store, clinic_id)
    code = new_invitation_code()
    invitation_id = new_id("inv")
    store.create(LOOKUPS, {"id": _code_key(code), "key": _code_key(code), "clinicId": clinic["id"], "invitationId": invitation_id})
    doc = {
        "id": invitation_id,
        "clinicId": clinic["id"],
        "type": "case",  # a worklist row: "Waiting for photos"
        "kind": "invitation",
        "active": True,
        "email": email,
        "instruction": (body.get("instruction") or "").strip() or None,
        "reminder": body.get("reminder"),
        "code": code,
        "createdAt": iso(now),
        "createdBy": user.sub,
        "expiresAt": iso(now + INVITATION_LIFETIME),
        "lastActivityAt": iso(now),
        "acceptedBy": None,
        "acceptedAt": None,
        "completedAt": None,
        "cancelledAt": None,
        # sorts with the cases awaiting triage, longest waiting first (worklist ?sort=urgency)
        "queueKey": queue_key(AWAITING, now),
    }
    created = store.create(CLINICS, doc)
    services.queue.send(NOTIFICATIONS_QUEUE, {"kind": "invitation", "clinicId": clinic["id"], "invitationId": invitation_id})
    return clinic_view(created, now)


def _clinics_invitation(store: Any, user: Principal, invitation_id: str) -> dict:
    for clinic_id in user.clinic_ids:
        try:
            doc = store.read(CLINICS, clinic_id, invitation_id)
        except NotFound:
            continue
        if doc.get("kind") == "invitation":
            return doc
    raise NotFoundError()


def get_for_clinic(services: Dependencies, user: Principal, invitation_id: str) -> dict:
    return clinic_view(_clinics_invitation(services.store, user, invitation_id), services.clock.now())


def cancel(services: Dependencies, user: Principal, invitation_id: str) -> dict:
    now = services.clock.now()
    doc = _clinics_invitation(services.store, user, invitation_id)

    def change(d: dict) -> bool | None:
        if d.get("completedAt"):
            raise AlreadyTaken("The patient has already shared photos for this request.")
        if d.get("cancelledAt"):
            return False
        d.update({"cancelledAt": iso(now), "active": False})
        return None

    updated = concurrency.modify(services.store, CLINICS, doc, change) or doc
    return clinic_view(updated, now)


# ----------------------------------------------------------------------------- the patient's side
def _by_code(services: Dependencies, code: str) -> dict:
    if not code or len(code) > 64:
        raise NotFoundError(NO_SUCH_CODE)
    try:
        entry = services.store.read(LOOKUPS, _code_key(code), _code_key(code))
        return services.store.read(CLINICS, entry["clinicId"], entry["invitationId"])
    except NotFound:
        raise NotFoundError(NO_SUCH_CODE) from None


def _usable_by(doc: dict, patient_id: str, now: Any) -> str:
    """The invitation's state for this patient, or the plain reason it cannot be used."""
    state = invitation_state(doc, now)
    if doc.get("acceptedBy") and doc["acceptedBy"] != patient_id:
        raise AlreadyTaken("This link has already been used. Ask your clinic to send you a new one.")
    if state == CANCELLED:
        raise Gone("Your clinic has cancelled this request. Contact them if you think this is a mistake.")
    if state == EXPIRED:
        raise Gone("This link has expired. Ask your clinic to send you a new one.")
    if state == COMPLETED and doc.get("acceptedBy") != patient_id:
        raise AlreadyTaken("This link has already been used. Ask your clinic to send you a new one.")
    return state


def patient_view(services: Dependencies, doc: dict, state: str) -> dict:
    clinic = clinics.get_clinic(services.store, doc["clinicId"])
    return {
        "clinic": {"id": clinic["id"], "name": clinic["name"]},
        "instruction": doc.get("instruction"),
        "reminder": doc.get("reminder"),
        "expiresAt": doc["expiresAt"],
        "state": state,
    }


def look_up(services: Dependencies, user: Principal, code: str) -> dict:
    doc = _by_code(services, code)
    return patient_view(services, doc, _usable_by(doc, user.patient_id, services.clock.now()))


def accept(services: Dependencies, user: Principal, code: str) -> dict:
    """Tie the invitation to this patient (once; the same patient accepting again is no change)."""
    store, now, pid = services.store, services.clock.now(), user.patient_id
    doc = _by_code(services, code)
    accepted_here = False

    def change(d: dict) -> bool | None:
        nonlocal accepted_here
        _usable_by(d, pid, now)
        if d.get("acceptedBy") == pid:
            return False
        d.update({"acceptedBy": pid, "acceptedAt": iso(now), "lastActivityAt": iso(now)})
        accepted_here = True
        return None

    updated = concurrency.modify(store, CLINICS, doc, change) or doc
    link_id = stable_id("invl", updated["id"])
    link = {
        "id": link_id,
        "patientId": pid,
        "type": "invitation-link",
        "clinicId": updated["clinicId"],
        "invitationId": updated["id"],
        "completedAt": None,
    }
    try:
        store.create(PATIENTS, link)
    except Conflict:
        pass  # accepted before: the link exists
    if accepted_here:
        audit.by_patient(store, now, pid, "invitation-accepted", updated["clinicId"], ("invitation", updated["id"]))
    return patient_view(services, updated, invitation_state(updated, now))


def complete_for_share(services: Dependencies, patient_id: str, clinic_id: str, share: dict, case_id: str) -> None:
    """A share to a clinic completes the patient's accepted invitations from it; the case then waits
    for photos (unless the shared folders have some) and any reminder the clinic asked for is set."""
    store, now = services.store, services.clock.now()
    links = paging.fetch_all(
        store, PATIENTS, patient_id, where={"type": "invitation-link", "clinicId": clinic_id, "completedAt": None}, order_by="id"
    )
    if not links:
        return
    every = None
    for link in links:
        try:
            invitation = store.read(CLINICS, clinic_id, link["invitationId"])
        except NotFound:
            invitation = None
        if invitation is not None and invitation_state(invitation, now) == ACCEPTED:

            def complete(d: dict) -> bool | None:
                if d.get("completedAt") or d.get("cancelledAt"):
                    return False
                d.update({"completedAt": iso(now), "active": False, "caseId": case_id})
                return None

            concurrency.modify(store, CLINICS, invitation, complete)
            every = invitation.get("reminder") or every
        concurrency.modify(store, PATIENTS, link, lambda d: d.update(completedAt=iso(now)))
    folders = access.folders_in_scope(store, patient_id, share)
    if every:
        reminders.set_for_folders(services, patient_id, [f["id"] for f in folders], every, {"kind": "clinic", "clinicId": clinic_id})
    has_photos = any(access.ready_images(store, patient_id, f["id"]) for f in folders)
    concurrency.modify(store, CLINICS, (clinic_id, case_id), lambda c: c.update(waitingForPhotos=not has_photos))
