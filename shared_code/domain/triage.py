"""Triage per folder (per lesion): coded outcomes, urgency, excision listing and the cancer clock. Pure.

A clinician triages each shared folder on its own (a mole to excise and a patch of psoriasis get
different outcomes). Every decision is a new `TriageEntry`; entries are never changed, so the
folder's history says who decided what, when, and why. The case shows its most urgent open outcome.

SNOMED CT codes, and where each was checked (a clinical-safety reviewer confirms the [M] ones on a
terminology server before the codes are relied on; `Coding.to_confirm` says which):
- [CID 4409] DICOM PS3.16 CID 4409 "Skin Procedure";
- [UK] NHS England code set "Fast track cancer referral" (UK clinical extension, namespace 1000000);
- [M] from the SNOMED CT browser by memory only.
Every code passes the Verhoeff check digit (tests/unit/domain/test_triage.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from shared_code.domain.body_sites import BODY_SITES, SNOMED_CT_SYSTEM, human_label
from shared_code.domain.common import UK, parse_instant
from shared_code.domain.errors import RuleViolation

# ----------------------------------------------------------------------------- urgency
USC, URGENT, AWAITING, ROUTINE, CLOSED = "usc", "urgent", "awaiting-triage", "routine", "closed"
# most urgent first; a case nobody has triaged yet sits above the routine ones
URGENCY_ORDER = (USC, URGENT, AWAITING, ROUTINE, CLOSED)
URGENCY_LABELS = {
    USC: "Urgent suspected cancer",
    URGENT: "Urgent",
    AWAITING: "Awaiting triage",
    ROUTINE: "Routine",
    CLOSED: "Closed",
}
FDS_DAYS = 28  # Faster Diagnosis Standard: diagnosis or cancer ruled out within 28 days of referral


@dataclass(frozen=True)
class Coding:
    code: str
    display: str
    source: str  # "CID 4409", "UK", "M" (see the module docstring)
    system: str = SNOMED_CT_SYSTEM

    @property
    def to_confirm(self) -> bool:
        return self.source == "M"

    def view(self) -> dict[str, Any]:
        return {"system": self.system, "code": self.code, "display": self.display, "toConfirm": self.to_confirm}


@dataclass(frozen=True)
class Outcome:
    key: str
    label: str
    coding: Coding | None  # None: an administrative step, not a clinical outcome
    urgency: str  # the urgency the outcome itself carries (list-for-excision: its priority decides)

    @property
    def open(self) -> bool:
        return self.urgency != CLOSED


_FOLLOW_UP = Coding("390906007", "Follow-up encounter", "M")
OUTCOMES: dict[str, Outcome] = {
    o.key: o
    for o in (
        Outcome("urgent-suspected-cancer-referral", "Urgent suspected cancer", Coding("199251000000107", "Fast track cancer referral", "UK"), USC),
        Outcome("list-for-excision", "List for excision", Coding("440258006", "Excision of skin", "CID 4409"), ROUTINE),
        Outcome("sun-damage-treatment-follow-up", "Sun damage: treatment and follow-up", _FOLLOW_UP, ROUTINE),
        Outcome("routine-follow-up", "Routine follow-up", _FOLLOW_UP, ROUTINE),
        Outcome("request-more-photos", "More photos requested", None, ROUTINE),
        Outcome("discharge", "Discharge", Coding("306689006", "Discharge to home", "M"), CLOSED),
    )
}


@dataclass(frozen=True)
class Procedure:
    key: str
    label: str
    coding: Coding


PROCEDURES: dict[str, Procedure] = {
    p.key: p
    for p in (
        Procedure("excision-biopsy", "Excision biopsy", Coding("440258006", "Excision of skin", "CID 4409")),
        # shave and punch: the parent concept from CID 4409, the technique in the text; a more
        # specific concept is to be chosen on a terminology server
        Procedure("shave", "Shave biopsy", Coding("240977001", "Biopsy of skin", "CID 4409")),
        Procedure("punch", "Punch biopsy", Coding("240977001", "Biopsy of skin", "CID 4409")),
        Procedure("curettage", "Curettage", Coding("56757003", "Curettage", "M")),
    )
}
# FHIR request-priority codes; what each means for the worklist
PRIORITIES: dict[str, str] = {"routine": ROUTINE, "urgent": URGENT, "asap": URGENT}
PRIORITY_LABELS = {"routine": "Routine", "urgent": "Urgent", "asap": "As soon as possible"}


def all_codings() -> list[Coding]:
    return [o.coding for o in OUTCOMES.values() if o.coding] + [p.coding for p in PROCEDURES.values()]


# ----------------------------------------------------------------------------- the aggregate
@dataclass(frozen=True)
class Excision:
    """What "List for excision" lists: where (the folder's body site), how and how soon."""

    procedure: str  # a key of PROCEDURES
    priority: str  # a key of PRIORITIES
    body_site: str | None  # a key of BODY_SITES (the folder's), or None when the folder has none
    site_text: str  # the folder's name: where the patient says it is

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Excision:
        return cls(procedure=doc["procedure"], priority=doc["priority"], body_site=doc.get("bodySite"), site_text=doc.get("siteText") or "")

    def to_doc(self) -> dict[str, Any]:
        return {"procedure": self.procedure, "priority": self.priority, "bodySite": self.body_site, "siteText": self.site_text}

    def view(self) -> dict[str, Any]:
        site = None
        if self.body_site in BODY_SITES:
            code, display = BODY_SITES[self.body_site]
            site = {"key": self.body_site, "label": human_label(self.body_site), "system": SNOMED_CT_SYSTEM, "code": code, "display": display}
        procedure = PROCEDURES[self.procedure]
        return {
            "procedure": {"key": procedure.key, "label": procedure.label, "coding": procedure.coding.view()},
            "priority": self.priority,
            "priorityLabel": PRIORITY_LABELS[self.priority],
            "bodySite": site,
            "siteText": self.site_text,
        }


def check_excision(outcome: str, excision: dict[str, Any] | None) -> None:
    if outcome == "list-for-excision" and not excision:
        raise RuleViolation("List for excision needs a procedure and a priority.")
    if outcome != "list-for-excision" and excision:
        raise RuleViolation("A procedure and priority go with List for excision only.")


def urgency_of(outcome: str, excision: Excision | None) -> str:
    if outcome == "list-for-excision" and excision is not None:
        return PRIORITIES[excision.priority]
    return OUTCOMES[outcome].urgency


@dataclass(frozen=True)
class TriageEntry:
    """One triage decision on one folder. Stored once in the clinic's partition, never changed."""

    id: str
    clinic_id: str
    case_id: str
    folder_id: str
    outcome: str
    urgency: str
    note: str | None  # the clinic's internal note: never shown to the patient
    patient_message: str | None
    excision: Excision | None
    recorded_at: str
    recorded_by: str  # the clinician's name
    recorded_by_sub: str

    TYPE = "triage-entry"

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> TriageEntry:
        return cls(
            id=doc["id"],
            clinic_id=doc["clinicId"],
            case_id=doc["caseId"],
            folder_id=doc["folderId"],
            outcome=doc["outcome"],
            urgency=doc["urgency"],
            note=doc.get("note"),
            patient_message=doc.get("patientMessage"),
            excision=Excision.from_doc(doc["excision"]) if doc.get("excision") else None,
            recorded_at=doc["recordedAt"],
            recorded_by=doc["recordedBy"],
            recorded_by_sub=doc["recordedBySub"],
        )

    def to_doc(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "clinicId": self.clinic_id,
            "type": self.TYPE,
            "caseId": self.case_id,
            "folderId": self.folder_id,
            "outcome": self.outcome,
            "urgency": self.urgency,
            "note": self.note,
            "patientMessage": self.patient_message,
            "excision": self.excision.to_doc() if self.excision else None,
            "recordedAt": self.recorded_at,
            "recordedBy": self.recorded_by,
            "recordedBySub": self.recorded_by_sub,
        }

    @property
    def open(self) -> bool:
        return self.urgency != CLOSED

    def clinic_view(self) -> dict[str, Any]:
        """What the clinic sees (the internal note included). There is no patient view of an entry:
        the patient reads the outcome message in the conversation."""
        outcome = OUTCOMES[self.outcome]
        return {
            "id": self.id,
            "folderId": self.folder_id,
            "outcome": self.outcome,
            "outcomeLabel": outcome.label,
            "coding": outcome.coding.view() if outcome.coding else None,
            "urgency": self.urgency,
            "note": self.note,
            "patientMessage": self.patient_message,
            "excision": self.excision.view() if self.excision else None,
            "recordedAt": self.recorded_at,
            "recordedBy": self.recorded_by,
        }


def urgency_rank(urgency: str) -> int:
    return URGENCY_ORDER.index(urgency)


def most_urgent(entries: Iterable[TriageEntry]) -> TriageEntry | None:
    """The open entry the case shows: the most urgent; of equals, the latest decision."""
    candidates = [e for e in entries if e.open]
    if not candidates:
        return None
    best = min(urgency_rank(e.urgency) for e in candidates)
    return max((e for e in candidates if urgency_rank(e.urgency) == best), key=lambda e: parse_instant(e.recorded_at))


def case_urgency(current: Iterable[TriageEntry], folders_untriaged: bool) -> str:
    """The case's urgency from each folder's current entry; a folder nobody triaged yet counts as awaiting."""
    ranks = [urgency_rank(e.urgency) for e in current]
    if folders_untriaged:
        ranks.append(urgency_rank(AWAITING))
    return URGENCY_ORDER[min(ranks)] if ranks else AWAITING


# ----------------------------------------------------------------------------- the clock
def uk_date(moment: datetime) -> date:
    return moment.astimezone(UK).date()


@dataclass(frozen=True)
class FdsClock:
    """The 28-day Faster Diagnosis Standard clock, from the day the clinic received the photos (UK)."""

    started_on: date
    due_on: date

    @classmethod
    def starting(cls, received_at: datetime) -> FdsClock:
        start = uk_date(received_at)
        return cls(start, start + timedelta(days=FDS_DAYS))

    def days_remaining(self, now: datetime) -> int:
        return (self.due_on - uk_date(now)).days

    def view(self, now: datetime) -> dict[str, Any]:
        remaining = self.days_remaining(now)
        return {
            "startedOn": self.started_on.isoformat(),
            "dueOn": self.due_on.isoformat(),
            "daysRemaining": remaining,
            "breached": remaining < 0,
        }


# ----------------------------------------------------------------------------- worklist order
_FAR = 10**10  # seconds: later than any waiting-since we will see


def queue_key(urgency: str, waiting_since: datetime) -> str:
    """A string that sorts DESCENDING as the worklist wants: most urgent first, then longest waiting.
    (Descending, so that cases stored before the key existed, which have none, come last.)"""
    inverted_rank = len(URGENCY_ORDER) - 1 - urgency_rank(urgency)
    inverted_wait = _FAR - int(waiting_since.timestamp())
    return f"{inverted_rank}|{inverted_wait:011d}"


def worklist_order(rows: Iterable[tuple[str, datetime]]) -> list[tuple[str, datetime]]:
    """(urgency, waiting since) pairs in worklist order (the rule queue_key encodes, for tests and reading)."""
    return sorted(rows, key=lambda r: (urgency_rank(r[0]), r[1]))
