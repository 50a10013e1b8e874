"""Triage per folder: record a decision (append-only), read a folder's history, and keep the case's
summary (most urgent open outcome, urgency, the cancer clock, the worklist's sort key) in step.

The clinic's internal note stays in the clinic's partition with the entry; the patient gets the
outcome's plain-English text and the clinician's words for them, in the folder's conversation.
"""

from __future__ import annotations

from typing import Any

from shared_code.auth.principal import Principal
from shared_code.domain.common import iso, new_id
from shared_code.domain.errors import NotFoundError
from shared_code.domain.sharing import covers_folder
from shared_code.domain.triage import OUTCOMES, PRIORITIES, PROCEDURES, Excision, TriageEntry, check_excision, urgency_of
from shared_code.ports import CLINICS, NOTIFICATIONS_QUEUE, PATIENTS, NotFound
from shared_code.services import access, audit, cases, clinics, comments, concurrency, paging
from shared_code.services.triage_summary import summarise

FOLDER_TRIAGE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["outcome"],
    "properties": {
        "outcome": {"enum": list(OUTCOMES)},
        # the clinic's internal note: never shown to the patient, never in their export or emails
        "note": {"type": ["string", "null"], "maxLength": 2000},
        # words for the patient, shown with the outcome's plain-English text
        "patientMessage": {"type": ["string", "null"], "maxLength": 2000},
        # list-for-excision only: the site is the folder's body site
        "excision": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "required": ["procedure", "priority"],
            "properties": {"procedure": {"enum": list(PROCEDURES)}, "priority": {"enum": list(PRIORITIES)}},
        },
    },
}


def _case_and_folder(services: Any, user: Principal, case_id: str, folder_id: str, action: str | None) -> tuple[dict, dict, dict]:
    """(case, active share, folder) when the folder is in the share's scope; else 404."""
    store, now = services.store, services.clock.now()
    case = cases.find_case(store, user.clinic_ids, case_id)
    share = access.active_share(store, case["patientId"], (case["clinicId"],), now)
    if share is None or not covers_folder(share, folder_id):
        raise NotFoundError()
    try:
        folder = store.read(PATIENTS, case["patientId"], folder_id)
    except NotFound:
        raise NotFoundError() from None
    if folder.get("type") != "folder":
        raise NotFoundError()
    if action is not None:
        audit.by_clinician(store, now, case["patientId"], user.sub, action, case["clinicId"], ("folder", folder_id))
    return case, share, folder


def record(services: Any, user: Principal, case_id: str, folder_id: str, body: dict) -> dict:
    """Append a triage decision for one folder and bring the case's summary up to date."""
    outcome = body["outcome"]
    check_excision(outcome, body.get("excision"))
    case, share, folder = _case_and_folder(services, user, case_id, folder_id, "triaged")
    now = services.clock.now()
    excision = None
    if body.get("excision"):
        excision = Excision(
            procedure=body["excision"]["procedure"],
            priority=body["excision"]["priority"],
            body_site=folder.get("bodySite"),
            site_text=folder.get("name") or "",
        )
    entry = TriageEntry(
        id=new_id("tri"),
        clinic_id=case["clinicId"],
        case_id=case["id"],
        folder_id=folder_id,
        outcome=outcome,
        urgency=urgency_of(outcome, excision),
        note=(body.get("note") or "").strip() or None,
        patient_message=(body.get("patientMessage") or "").strip() or None,
        excision=excision,
        recorded_at=iso(now),
        recorded_by=clinics.member_name(services.store, case["clinicId"], user.sub),
        recorded_by_sub=user.sub,
    )
    services.store.create(CLINICS, entry.to_doc())
    in_scope = [f["id"] for f in access.folders_in_scope(services.store, case["patientId"], share)]

    def change(c: dict) -> None:
        current = dict(c.get("folderTriage") or {})
        current[folder_id] = entry.to_doc()
        c["folderTriage"] = current
        summarise(c, in_scope, now)
        c["lastActivityAt"] = iso(now)

    if concurrency.modify(services.store, CLINICS, case, change) is None:
        raise NotFoundError()
    message = comments.record_outcome_message(services, case, share, user, outcome, entry.patient_message, folder_id=folder_id)
    if outcome == "request-more-photos":
        services.queue.send(
            NOTIFICATIONS_QUEUE,
            {"kind": "more-photos-requested", "clinicId": case["clinicId"], "caseId": case["id"], "patientId": case["patientId"], "at": iso(now)},
        )
    else:
        comments.tell_patient(services, case["patientId"], case["clinicId"], message["id"])
    return entry.clinic_view()


def history(services: Any, user: Principal, case_id: str, folder_id: str) -> dict:
    """Every decision on the folder, oldest first (the clinic's own records: no patient data read)."""
    case, _, _ = _case_and_folder(services, user, case_id, folder_id, None)
    docs = paging.fetch_all(
        services.store,
        CLINICS,
        case["clinicId"],
        where={"type": TriageEntry.TYPE, "caseId": case["id"], "folderId": folder_id},
        order_by="recordedAt",
    )
    return {"items": [TriageEntry.from_doc(d).clinic_view() for d in docs], "continuationToken": None}
