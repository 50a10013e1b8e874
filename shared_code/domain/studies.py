"""Research studies: the Study aggregate, enrolments, schedules and pseudonyms (pure, no I/O).

A study belongs to a clinic (stored in the clinic's partition). Its participant information text is
versioned and hashed like the consent texts: a patient enrols by accepting one version, and the
enrolment keeps the version and the SHA-256 of the exact text shown. Researchers know participants
only by a random participant code; dates are shown as days relative to enrolment (day 0, day 28).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shared_code.domain.body_sites import BODY_SITES, body_site, human_label
from shared_code.domain.common import UK, iso
from shared_code.domain.errors import RuleViolation

PARTICIPANT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
SEXES = ("female", "male", "other", "not-stated")
# A photo counts for a timepoint when taken from this many days before to this many after it is due.
WINDOW_BEFORE_DAYS = 3
WINDOW_AFTER_DAYS = 7
MAX_WEEKS = 520

_TEXT = {"type": "string", "minLength": 1, "maxLength": 4000}
INFORMATION_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "paragraphs"],
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 200},
        "paragraphs": {"type": "array", "minItems": 1, "maxItems": 40, "items": _TEXT},
    },
}
STUDY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["clinicId", "title", "sponsor", "recReference", "startDate", "endDate", "scheduleWeeks", "participantInformation"],
    "properties": {
        "clinicId": {"type": "string", "minLength": 1, "maxLength": 100},
        "title": {"type": "string", "minLength": 1, "maxLength": 200},
        "sponsor": {"type": "string", "minLength": 1, "maxLength": 200},
        "recReference": {"type": "string", "minLength": 1, "maxLength": 40},
        "irasId": {"type": ["string", "null"], "maxLength": 20},
        "startDate": {"type": "string", "maxLength": 10},
        "endDate": {"type": "string", "maxLength": 10},
        "scheduleWeeks": {"type": "array", "minItems": 1, "maxItems": 52, "items": {"type": "integer", "minimum": 0, "maximum": MAX_WEEKS}},
        "bodySites": {"type": "array", "maxItems": 60, "items": {"type": "string", "maxLength": 40}, "uniqueItems": True},
        "participantInformation": INFORMATION_SCHEMA,
        "enrolmentCode": {"type": "string", "minLength": 8, "maxLength": 9},
    },
}
RESEARCHER_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["sub", "name"],
    "properties": {
        "sub": {"type": "string", "minLength": 1, "maxLength": 200},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "email": {"type": ["string", "null"], "maxLength": 254},
    },
}
ENROLMENT_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["studyId", "folderIds", "consent"],
    "properties": {
        "studyId": {"type": "string", "minLength": 1, "maxLength": 100},
        "folderIds": {"type": "array", "minItems": 1, "maxItems": 100, "uniqueItems": True, "items": {"type": "string", "maxLength": 100}},
        "sex": {"type": ["string", "null"], "enum": [*SEXES, None]},
        "consent": {
            "type": "object",
            "additionalProperties": False,
            "required": ["version", "textHash", "accepted"],
            "properties": {
                "version": {"type": "string", "minLength": 1, "maxLength": 20},
                "textHash": {"type": "string", "minLength": 1, "maxLength": 80},
                "accepted": {"type": "boolean"},
            },
        },
    },
}


def information_hash(title: str, paragraphs: list[str]) -> str:
    """SHA-256 of the text exactly as shown (title, blank line, paragraphs), as consent texts are hashed."""
    text = title + "\n\n" + "\n\n".join(paragraphs)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_participant_code() -> str:
    """A random pseudonym ("SVP-7K3M-9Q2X"): not derived from anything about the patient."""
    raw = "".join(secrets.choice(PARTICIPANT_ALPHABET) for _ in range(8))
    return f"SVP-{raw[:4]}-{raw[4:]}"


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise RuleViolation(f"{name} must be a date like 2027-01-31.") from None


def _check_information(title: str, paragraphs: list[str]) -> None:
    if not title.strip() or any(not p.strip() for p in paragraphs):
        raise RuleViolation("The participant information needs a title and no blank paragraphs.")


@dataclass
class InformationVersion:
    version: str
    title: str
    paragraphs: list[str]
    text_hash: str
    created_at: str

    def to_doc(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "title": self.title,
            "paragraphs": list(self.paragraphs),
            "textHash": self.text_hash,
            "createdAt": self.created_at,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> InformationVersion:
        return cls(doc["version"], doc["title"], list(doc["paragraphs"]), doc["textHash"], doc["createdAt"])

    def view(self) -> dict[str, Any]:
        return {"version": self.version, "title": self.title, "paragraphs": list(self.paragraphs), "textHash": self.text_hash}


@dataclass
class Study:
    id: str
    clinic_id: str
    title: str
    sponsor: str
    rec_reference: str
    iras_id: str | None
    enrolment_code: str
    start_date: date
    end_date: date
    schedule_weeks: list[int]
    body_sites: list[str]
    information: list[InformationVersion]
    created_at: str
    etag: str | None = field(default=None, compare=False)

    # ------------------------------------------------------------------ building and storing
    @classmethod
    def new(cls, study_id: str, body: dict[str, Any], enrolment_code: str, now: datetime) -> Study:
        start, end = _date(body["startDate"], "startDate"), _date(body["endDate"], "endDate")
        if end < start:
            raise RuleViolation("endDate must not be before startDate.")
        weeks = sorted(set(body["scheduleWeeks"]))
        sites = list(body.get("bodySites") or [])
        unknown = [s for s in sites if s not in BODY_SITES]
        if unknown:
            raise RuleViolation("bodySites must be body site codes from GET /api/body-sites.")
        for name in ("title", "sponsor", "recReference"):
            if not body[name].strip():
                raise RuleViolation(f"{name} must not be blank.")
        info = body["participantInformation"]
        _check_information(info["title"], info["paragraphs"])
        first = InformationVersion("1", info["title"].strip(), [p.strip() for p in info["paragraphs"]], "", iso(now))
        first.text_hash = information_hash(first.title, first.paragraphs)
        return cls(
            id=study_id,
            clinic_id=body["clinicId"],
            title=body["title"].strip(),
            sponsor=body["sponsor"].strip(),
            rec_reference=body["recReference"].strip(),
            iras_id=(body.get("irasId") or "").strip() or None,
            enrolment_code=enrolment_code,
            start_date=start,
            end_date=end,
            schedule_weeks=weeks,
            body_sites=sites,
            information=[first],
            created_at=iso(now),
        )

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Study:
        return cls(
            id=doc["id"],
            clinic_id=doc["clinicId"],
            title=doc["title"],
            sponsor=doc["sponsor"],
            rec_reference=doc["recReference"],
            iras_id=doc.get("irasId"),
            enrolment_code=doc["enrolmentCode"],
            start_date=date.fromisoformat(doc["startDate"]),
            end_date=date.fromisoformat(doc["endDate"]),
            schedule_weeks=[int(w) for w in doc["scheduleWeeks"]],
            body_sites=list(doc.get("bodySites") or []),
            information=[InformationVersion.from_doc(v) for v in doc["information"]],
            created_at=doc["createdAt"],
            etag=doc.get("_etag"),
        )

    def to_doc(self) -> dict[str, Any]:
        doc = {
            "id": self.id,
            "clinicId": self.clinic_id,
            "type": "study",
            "title": self.title,
            "sponsor": self.sponsor,
            "recReference": self.rec_reference,
            "irasId": self.iras_id,
            "enrolmentCode": self.enrolment_code,
            "startDate": self.start_date.isoformat(),
            "endDate": self.end_date.isoformat(),
            "scheduleWeeks": list(self.schedule_weeks),
            "bodySites": list(self.body_sites),
            "information": [v.to_doc() for v in self.information],
            "createdAt": self.created_at,
        }
        if self.etag:
            doc["_etag"] = self.etag
        return doc

    # ------------------------------------------------------------------ rules
    @property
    def current_information(self) -> InformationVersion:
        return self.information[-1]

    def information_version(self, version: str) -> InformationVersion | None:
        return next((v for v in self.information if v.version == version), None)

    def add_information(self, title: str, paragraphs: list[str], now: datetime) -> InformationVersion:
        _check_information(title, paragraphs)
        version = InformationVersion(str(len(self.information) + 1), title.strip(), [p.strip() for p in paragraphs], "", iso(now))
        version.text_hash = information_hash(version.title, version.paragraphs)
        self.information.append(version)
        return version

    def is_open(self, today: date) -> bool:
        return self.start_date <= today <= self.end_date

    def check_consent(self, consent: dict[str, Any], today: date) -> InformationVersion:
        """The participant information version a patient accepted; only the current one, only while open."""
        if not self.is_open(today):
            raise RuleViolation("This study is not taking part in enrolment now.")
        if consent.get("accepted") is not True:
            raise RuleViolation("Enrolling needs your consent: read the participant information and accept it.")
        shown = self.information_version(consent["version"])
        if shown is None or shown.version != self.current_information.version:
            raise RuleViolation("The participant information has changed. Read the current version and accept it.")
        if not secrets.compare_digest(shown.text_hash, consent["textHash"]):
            raise RuleViolation("The participant information you accepted is not the text we hold. Read it again and accept it.")
        return shown

    def body_site_views(self) -> list[dict[str, Any]]:
        return [{"code": key, "label": human_label(key), "snomedCode": body_site(key)[0]} for key in self.body_sites]

    def public_view(self) -> dict[str, Any]:
        """What a patient sees before enrolling (no researcher or enrolment details)."""
        return {
            "id": self.id,
            "title": self.title,
            "sponsor": self.sponsor,
            "recReference": self.rec_reference,
            "irasId": self.iras_id,
            "startDate": self.start_date.isoformat(),
            "endDate": self.end_date.isoformat(),
            "scheduleWeeks": list(self.schedule_weeks),
            "bodySites": self.body_site_views(),
            "participantInformation": self.current_information.view(),
        }

    def manage_view(self) -> dict[str, Any]:
        view = self.public_view()
        view.update(
            clinicId=self.clinic_id,
            enrolmentCode=self.enrolment_code,
            createdAt=self.created_at,
            informationVersions=[{"version": v.version, "textHash": v.text_hash, "createdAt": v.created_at} for v in self.information],
        )
        return view


# ---------------------------------------------------------------------- days and schedules
def uk_day(moment: datetime) -> date:
    return moment.astimezone(UK).date()


def day_number(enrolled: date, moment: date) -> int:
    """Day 0 is the enrolment day (UK calendar days)."""
    return (moment - enrolled).days


def timepoint_for(weeks: list[int], day: int) -> int | None:
    """The schedule week a photo taken on `day` counts for (nearest due day within its window)."""
    best: tuple[int, int] | None = None
    for week in weeks:
        due = week * 7
        if due - WINDOW_BEFORE_DAYS <= day <= due + WINDOW_AFTER_DAYS:
            distance = abs(day - due)
            if best is None or distance < best[0]:
                best = (distance, week)
    return best[1] if best else None


def schedule(weeks: list[int], enrolled: date, today: date, photo_days: list[int]) -> list[dict[str, Any]]:
    """Each timepoint's due date and state: done (a photo in its window), due, upcoming or missed."""
    taken = {timepoint_for(weeks, d) for d in photo_days}
    now_day = day_number(enrolled, today)
    out = []
    for week in weeks:
        due = week * 7
        if week in taken:
            state = "done"
        elif now_day < due - WINDOW_BEFORE_DAYS:
            state = "upcoming"
        elif now_day <= due + WINDOW_AFTER_DAYS:
            state = "due"
        else:
            state = "missed"
        out.append(
            {
                "week": week,
                "day": due,
                "dueDate": date.fromordinal(enrolled.toordinal() + due).isoformat(),
                "windowStart": date.fromordinal(enrolled.toordinal() + max(0, due - WINDOW_BEFORE_DAYS)).isoformat(),
                "windowEnd": date.fromordinal(enrolled.toordinal() + due + WINDOW_AFTER_DAYS).isoformat(),
                "state": state,
            }
        )
    return out
