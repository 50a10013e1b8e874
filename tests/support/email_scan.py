"""Scan emails for patient data: no email may carry a name, NHS number, date of birth, body site,
condition, note, comment, message or instruction. The values to look for are read from what the
store holds (every patient's profile, folders, photos and conversation; every clinic's cases,
internal notes and photo requests), so a new field of patient data is caught when it is added
below, and a test need not list its own values."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from shared_code.ports import CLINICS, PATIENTS, EmailMessage

NHS_NUMBER = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")
# document type -> the fields that hold patient data
PATIENT_FIELDS = {
    "profile": ("displayName", "givenName", "familyName", "dateOfBirth", "nhsNumber"),
    "folder": ("name", "notes", "condition", "treatment", "bodySite"),
    "image": ("notes", "treatment"),
    "comment": ("text",),
}
CLINIC_FIELDS = {"case-note": ("text",), "case": ("instruction",)}
MIN_LENGTH = 4  # shorter values ("Mo") would match ordinary words


def sensitive_values(store: Any) -> set[str]:
    """Every patient-data value the (fake) store holds (a real store: none; NHS numbers are still found)."""
    values: set[str] = set()
    if not hasattr(store, "documents"):
        return values
    for doc in store.documents(PATIENTS):
        values.update(_fields(doc, PATIENT_FIELDS.get(doc.get("type", ""), ())))
    for doc in store.documents(CLINICS):
        values.update(_fields(doc, CLINIC_FIELDS.get(doc.get("type", ""), ())))
        triage = doc.get("triage") or {}
        values.update(_fields(triage, ("note", "patientMessage")))
        values.update(_fields(doc.get("endedPatient") or {}, PATIENT_FIELDS["profile"]))
    return values


class SqliteSnapshot:
    """Every document of a SQLite metadata file (the local stack's), read-only, for scanning."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def documents(self, container: Any) -> list[dict]:
        if not self.path.exists():
            return []
        with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as conn:
            try:
                rows = conn.execute(f'SELECT body FROM "{container.name}"').fetchall()  # noqa: S608 - one of our container names
            except sqlite3.OperationalError:
                return []
        return [json.loads(body) for (body,) in rows]


def _fields(doc: dict, names: Iterable[str]) -> list[str]:
    return [str(doc[n]).strip() for n in names if isinstance(doc.get(n), str) and len(doc[n].strip()) >= MIN_LENGTH]


def content_of(mail: EmailMessage) -> str:
    """What an email says (its recipient is, of course, the one address it carries)."""
    return "\n".join((mail.subject, mail.text, mail.html or ""))


def eml_content(path: Path) -> str:
    message = BytesParser(policy=policy.default).parse(path.open("rb"))
    parts = [str(message["Subject"] or "")]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
    return "\n".join(parts)


def patient_data_in(text: str, values: Iterable[str]) -> list[str]:
    found = [v for v in values if v in text]
    found += [m.group(0) for m in NHS_NUMBER.finditer(text)]
    return found


def assert_no_patient_data(texts: Iterable[str], store: Any) -> int:
    """Fails naming what leaked; returns how many emails were scanned."""
    values = sensitive_values(store)
    scanned = 0
    for text in texts:
        scanned += 1
        leaked = patient_data_in(text, values)
        assert not leaked, f"an email carries patient data: {leaked}"
    return scanned
