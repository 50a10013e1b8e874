"""The case's triage summary, kept on the case document: the most urgent open outcome, urgency,
the "Urgent" flag, the Faster Diagnosis Standard clock and the worklist's sort key.

Plain functions over the stored case (no I/O), kept apart from services/triage.py so that cases.py
and sharing.py can call them without an import cycle.
"""

from __future__ import annotations

from datetime import datetime

from shared_code.domain.common import iso, parse_instant
from shared_code.domain.conversation import OUTCOME_TEXT
from shared_code.domain.triage import AWAITING, OUTCOMES, USC, FdsClock, TriageEntry, case_urgency, most_urgent, queue_key


def _received_at(case: dict) -> datetime:
    return parse_instant(case.get("receivedAt") or case.get("lastActivityAt") or "1970-01-01T00:00:00Z")


def summarise(case: dict, folder_ids_in_scope: list[str], now: datetime) -> None:
    """Recompute the case's triage summary from each folder's current entry (mutates `case`)."""
    current = [TriageEntry.from_doc(d) for fid, d in (case.get("folderTriage") or {}).items() if fid in folder_ids_in_scope]
    untriaged = any(fid not in (case.get("folderTriage") or {}) for fid in folder_ids_in_scope)
    shown = most_urgent(current)
    if shown is not None:
        case["triage"] = {
            "outcome": shown.outcome,
            "note": shown.note,
            "patientMessage": shown.patient_message,
            "patientText": _patient_text(shown.outcome),
            "reminder": None,
            "recordedAt": shown.recorded_at,
            "recordedBy": shown.recorded_by,
            "folderId": shown.folder_id,
        }
    elif current:  # every folder closed (discharged): the latest decision stands
        latest = max(current, key=lambda e: parse_instant(e.recorded_at))
        case["triage"] = {
            "outcome": latest.outcome,
            "note": latest.note,
            "patientMessage": latest.patient_message,
            "patientText": _patient_text(latest.outcome),
            "reminder": None,
            "recordedAt": latest.recorded_at,
            "recordedBy": latest.recorded_by,
            "folderId": latest.folder_id,
        }
    case["awaitingTriage"] = untriaged
    set_urgency(case, case_urgency(current, untriaged), now)


def _patient_text(outcome: str) -> str:
    return OUTCOME_TEXT[outcome]


def set_urgency(case: dict, urgency: str, now: datetime) -> None:
    """Urgency, the "Urgent" filter flag, the FDS clock (started once, on the first USC outcome) and the sort key."""
    case.setdefault("receivedAt", iso(_received_at(case)))
    case["urgency"] = urgency
    case["urgent"] = urgency == USC
    if urgency == USC and not case.get("fdsStartedAt"):
        case["fdsStartedAt"] = case["receivedAt"]  # the clock runs from when the clinic received the photos
    case["queueKey"] = queue_key(urgency, parse_instant(case["receivedAt"]))


def after_case_triage(case: dict, outcome: str, now: datetime) -> None:
    """The whole-case triage (PUT .../triage) moves the case's urgency too (mutates `case`)."""
    set_urgency(case, OUTCOMES[outcome].urgency, now)


def stamp_opened_case(case: dict, now: datetime) -> None:
    """A case opened or shared again: it was received now (if not before) and sorts by its urgency."""
    case.setdefault("receivedAt", iso(now))
    set_urgency(case, case.get("urgency") or AWAITING, now)


def worklist_fields(case: dict, now: datetime) -> dict:
    """What a worklist row adds: urgency and, on urgent suspected cancer cases, the FDS clock."""
    fds = FdsClock.starting(parse_instant(case["fdsStartedAt"])).view(now) if case.get("urgent") and case.get("fdsStartedAt") else None
    return {"urgency": case.get("urgency") or AWAITING, "fds": fds}


def folder_fields(case: dict, folder_id: str) -> dict:
    """What a case view's folder adds: its current triage decision (clinic view)."""
    doc = (case.get("folderTriage") or {}).get(folder_id)
    return {"triage": TriageEntry.from_doc(doc).clinic_view() if doc else None}


def widen_scope(case: dict, folder_ids_in_scope: list[str], now: datetime) -> list[str]:
    """Record the folders the case's share covers; return those added since the last share of a case
    that already had one (their photos are new to the clinic, and the case awaits triage again)."""
    before = case.get("scopeFolderIds")
    case["scopeFolderIds"] = list(folder_ids_in_scope)
    if before is None:
        return []
    added = [fid for fid in folder_ids_in_scope if fid not in before]
    if added:
        case["awaitingTriage"] = True
        case["hasNew"] = True
        set_urgency(case, case_urgency_with_untriaged(case), now)
    return added


def case_urgency_with_untriaged(case: dict) -> str:
    current = [TriageEntry.from_doc(d) for d in (case.get("folderTriage") or {}).values()]
    return case_urgency(current, folders_untriaged=True)
