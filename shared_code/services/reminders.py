"""Reminders to take new photos, per folder: set by the patient, or by a clinic asking for more photos.

A reminder is a document in the patient's partition plus an entry in one index partition ordered by
due date, which the timer-triggered `send_due` walks. Each due date is sent once, however many
timers run at once or run again: a deterministic claim per (reminder, due date) is created before
the email is sent (a second runner's create conflicts), and the email's message id is deterministic
too. The email says only that it is time to take photos: no folder name, body site or condition.
The same timer emails each due timepoint of a research study once (studies.timepoints_due), to the
patient's verified address only, naming no study.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from shared_code.auth.principal import Principal
from shared_code.domain.common import iso, parse_instant, stable_id
from shared_code.domain.conversation import REMINDER_LABELS, REMINDER_SCHEDULES, following_due, next_due
from shared_code.domain.errors import NotFoundError
from shared_code.ports import LOOKUPS, PATIENTS, Conflict, DependencyUnavailable, EmailMessage, NotFound, PreconditionFailed
from shared_code.services import access, clinics, concurrency, email_verification, paging, profile, studies

log = logging.getLogger("skinvault.reminders")

REMINDER_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["every"],
    "properties": {"every": {"enum": list(REMINDER_SCHEDULES)}},
}
INDEX = "__reminders__"  # the LOOKUPS partition of due dates
CLAIM_TIMEOUT = timedelta(minutes=15)  # a runner that claimed a due date and died is taken over after this


def reminder_id(patient_id: str, folder_id: str) -> str:
    return stable_id("rem", patient_id, folder_id)


def reminder_view(services: Any, doc: dict, now: Any) -> dict:
    set_by = doc.get("setBy") or {"kind": "patient"}
    clinic_name = None
    if set_by.get("kind") == "clinic":
        try:
            clinic_name = clinics.get_clinic(services.store, set_by.get("clinicId", ""))["name"]
        except NotFoundError:
            clinic_name = "A clinic"
    return {
        "folderId": doc["folderId"],
        "every": doc["every"],
        "label": REMINDER_LABELS[doc["every"]],
        "nextDueAt": doc["nextDueAt"],
        "lastDueAt": doc.get("lastDueAt"),
        "due": _due(services, doc, now),
        "setBy": {"kind": set_by.get("kind", "patient"), "clinicName": clinic_name},
        "setAt": doc.get("setAt"),
    }


def _due(services: Any, doc: dict, now: Any) -> bool:
    """Photos are due when a due date has passed and no photo has been added to the folder since."""
    passed = doc.get("lastDueAt")
    if parse_instant(doc["nextDueAt"]) <= now:
        passed = doc["nextDueAt"]
    if not passed:
        return False
    images = paging.fetch_all(services.store, PATIENTS, doc["patientId"], where={"type": "image", "folderId": doc["folderId"]}, order_by="uploadedAt")
    return not any(i.get("uploadedAt") and parse_instant(i["uploadedAt"]) >= parse_instant(passed) for i in images)


def _store(services: Any, patient_id: str, folder_id: str, every: str, set_by: dict) -> dict:
    store, now = services.store, services.clock.now()
    rid = reminder_id(patient_id, folder_id)

    def change(doc: dict) -> None:
        doc.update({"every": every, "setBy": set_by, "setAt": iso(now), "nextDueAt": iso(next_due(now, every))})

    doc = concurrency.modify(
        store, PATIENTS, (patient_id, rid), change, create=lambda: {"id": rid, "patientId": patient_id, "type": "reminder", "folderId": folder_id}
    )
    assert doc is not None
    _index(store, doc)
    return doc


def _index(store: Any, doc: dict) -> None:
    store.upsert(LOOKUPS, {"id": doc["id"], "key": INDEX, "patientId": doc["patientId"], "folderId": doc["folderId"], "nextDueAt": doc["nextDueAt"]})


def _unindex(store: Any, rid: str) -> None:
    try:
        store.delete(LOOKUPS, INDEX, rid)
    except NotFound:
        pass


def set_reminder(services: Any, user: Principal, folder_id: str, every: str) -> dict:
    folder, _ = access.folder_for(services, user, folder_id)
    doc = _store(services, user.patient_id, folder["id"], every, {"kind": "patient"})
    return reminder_view(services, doc, services.clock.now())


def set_for_folders(services: Any, patient_id: str, folder_ids: list[str], every: str, set_by: dict) -> None:
    """A clinic's request for more photos sets a reminder on each folder it can see."""
    for folder_id in folder_ids:
        _store(services, patient_id, folder_id, every, set_by)


def remove_reminder(services: Any, user: Principal, folder_id: str) -> None:
    folder, _ = access.folder_for(services, user, folder_id)
    forget(services.store, user.patient_id, folder["id"])


def forget(store: Any, patient_id: str, folder_id: str) -> None:
    """Remove a folder's reminder (the folder is deleted, or the patient turned it off)."""
    rid = reminder_id(patient_id, folder_id)
    _unindex(store, rid)
    try:
        store.delete(PATIENTS, patient_id, rid)
    except NotFound:
        pass


def list_reminders(services: Any, user: Principal) -> dict:
    now = services.clock.now()
    docs = paging.fetch_all(services.store, PATIENTS, user.patient_id, where={"type": "reminder"}, order_by="nextDueAt")
    return {"items": [reminder_view(services, d, now) for d in docs], "continuationToken": None}


# ----------------------------------------------------------------------------- the timer's work
def send_due(services: Any) -> dict[str, int]:
    """Send every reminder whose due date has come, folder reminders and study timepoints alike.
    Safe to run twice, or in two places at once."""
    now = services.clock.now()
    counts = {"sent": 0, "skipped": 0, "claimed": 0, "failed": 0}
    _send_folder_reminders(services, now, counts)
    for timepoint in studies.timepoints_due(services):
        counts[_send_timepoint(services, timepoint, now)] += 1
    return counts


def _send_folder_reminders(services: Any, now: Any, counts: dict[str, int]) -> None:
    cont = None
    while True:
        page = services.store.query(LOOKUPS, INDEX, order_by="nextDueAt", limit=100, continuation=cont)
        for entry in page.items:
            if parse_instant(entry["nextDueAt"]) > now:
                return
            counts[_send_one(services, entry, now)] += 1
        if not page.continuation:
            return
        cont = page.continuation


def _send_timepoint(services: Any, timepoint: dict, now: Any) -> str:
    """One email per study timepoint that is due, to the patient's verified address only."""
    store, reminder = services.store, timepoint["reminderId"]
    claim = _claim(store, stable_id("srmsent", reminder), now)
    if claim is None:
        return "claimed"
    email = email_verification.verified_address(store, timepoint["patientId"])
    if email:
        try:
            services.email.send(_study_email(services, email, stable_id("mail", "study-reminder", reminder)))
        except DependencyUnavailable:
            store.delete(LOOKUPS, claim["key"], claim["id"])  # the next run tries again
            log.warning("study reminder email failed enrolment_id=%s week=%s", timepoint["enrolmentId"], timepoint["week"])
            return "failed"
    claim["sentAt"] = iso(now)
    store.replace(LOOKUPS, claim, if_match=None)
    log.info(
        "study reminder %s enrolment_id=%s week=%s", "sent" if email else "due (no verified address)", timepoint["enrolmentId"], timepoint["week"]
    )
    return "sent" if email else "skipped"


def _send_one(services: Any, entry: dict, now: Any) -> str:
    store, due = services.store, entry["nextDueAt"]
    try:
        doc = store.read(PATIENTS, entry["patientId"], entry["id"])
    except NotFound:
        _unindex(store, entry["id"])  # the folder or the account has gone
        return "skipped"
    try:
        store.read(PATIENTS, doc["patientId"], doc["folderId"])
    except NotFound:
        forget(store, doc["patientId"], doc["folderId"])  # the folder was deleted
        return "skipped"
    if doc["nextDueAt"] != due:
        _index(store, doc)  # the patient changed it meanwhile: the index follows the reminder
        return "skipped"
    claim = _claim(store, stable_id("remsent", doc["id"], due), now)
    if claim is None:
        return "claimed"
    prof = profile.read_profile(store, doc["patientId"]) or {}
    email = prof.get("email")
    if email:
        try:
            services.email.send(_reminder_email(services, email, stable_id("mail", "reminder", doc["id"], due)))
        except DependencyUnavailable:
            store.delete(LOOKUPS, claim["key"], claim["id"])  # the next run tries again
            log.warning("reminder email failed reminder_id=%s", doc["id"])
            return "failed"
    claim["sentAt"] = iso(now)
    store.replace(LOOKUPS, claim, if_match=None)

    def advance(d: dict) -> bool | None:
        if d["nextDueAt"] != due:
            return False
        d.update({"lastDueAt": due, "nextDueAt": iso(following_due(parse_instant(due), d["every"], now))})
        return None

    updated = concurrency.modify(store, PATIENTS, doc, advance)
    if updated is not None:
        _index(store, updated)
    log.info("reminder %s reminder_id=%s", "sent" if email else "due (no email address)", doc["id"])
    return "sent" if email else "skipped"


def _claim(store: Any, claim_id: str, now: Any) -> dict | None:
    """This runner's claim on one due date, or None when another runner has it (or sent it)."""
    try:
        return store.create(LOOKUPS, {"id": claim_id, "key": claim_id, "claimedAt": iso(now), "sentAt": None})
    except Conflict:
        pass
    try:
        existing = store.read(LOOKUPS, claim_id, claim_id)
    except NotFound:
        return None  # released just now by a runner whose email failed: the next run sends it
    if existing.get("sentAt") or parse_instant(existing["claimedAt"]) + CLAIM_TIMEOUT > now:
        return None
    existing["claimedAt"] = iso(now)  # a runner claimed it and died: take it over
    try:
        return store.replace(LOOKUPS, existing, if_match=existing["_etag"])
    except (PreconditionFailed, NotFound):
        return None


def _study_email(services: Any, to: str, message_id: str) -> EmailMessage:
    link = f"{services.settings.public_base_url}/app/"
    lead = "It is time to take your next photos in SkinVault."
    after = "You can see your schedule, or stop taking part, in the app. Please do not reply to this email."
    return EmailMessage(
        to=to,
        subject="A reminder from SkinVault",
        text=f"{lead}\n\nOpen SkinVault: {link}\n\n{after}",
        html=f'<p>{lead}</p><p><a href="{link}">Open SkinVault</a></p><p>{after}</p>',
        message_id=message_id,
    )


def _reminder_email(services: Any, to: str, message_id: str) -> EmailMessage:
    link = f"{services.settings.public_base_url}/app/"
    lead = "It is time to take your next photos in SkinVault."
    return EmailMessage(
        to=to,
        subject="A reminder from SkinVault",
        text=f"{lead}\n\nOpen SkinVault: {link}\n\nYou can change or turn off reminders in the app. Please do not reply to this email.",
        html=f'<p>{lead}</p><p><a href="{link}">Open SkinVault</a></p><p>You can change or turn off reminders in the app. Please do not reply to this email.</p>',
        message_id=message_id,
    )
