"""What the clinic's case view and worklist add for clinical depth: each folder's current triage,
the patient's lesion history, intimate-site safeguards, "Under 18", and how the NHS number was
obtained. Adds fields beside the existing ones; reads nothing the case view has not already shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared_code.domain.common import parse_instant
from shared_code.domain.identity import identity_keys, nhs_number_status, same_number_other_person
from shared_code.domain.safeguards import is_intimate, is_under_18
from shared_code.domain.triage import uk_date
from shared_code.ports import CLINICS
from shared_code.services import concurrency, profile, triage_summary


def row_flags(row: dict, now: datetime) -> dict:
    """A worklist row's flags, from the patient summary it already carries."""
    patient = row.get("patient") or {}
    return {"under18": is_under_18(patient.get("dateOfBirth"), uk_date(now))}


def stamp_identity(services: Any, case: dict, prof: dict) -> dict:
    """Keep the case's identity keys in step with the profile (written only when they changed)."""
    keys = identity_keys(prof)
    if all(case.get(k) == v for k, v in keys.items()):
        return keys

    def change(c: dict) -> bool | None:
        if all(c.get(k) == v for k, v in keys.items()):
            return False
        c.update(keys)
        return None

    concurrency.modify(services.store, CLINICS, case, change)
    return keys


def duplicate_nhs_number(services: Any, case: dict, prof: dict) -> bool:
    """Another of the clinic's cases has this NHS number with a different name or date of birth."""
    keys = stamp_identity(services, case, prof)
    if not keys["nhsKey"]:
        return False
    page = services.store.query(CLINICS, case["clinicId"], where={"type": "case", "nhsKey": keys["nhsKey"]}, limit=50)
    return same_number_other_person(keys, [c for c in page.items if c["id"] != case["id"]])


def case_fields(services: Any, case: dict, share: dict, folders: list[dict]) -> dict:
    """Mutates each folder view of the case (adds triage, lesion history, intimate) and returns the
    case-level fields to add (urgency, FDS clock, patient flags)."""
    now = services.clock.now()
    for view in folders:
        view.update(triage_summary.folder_fields(case, view["id"]))
        view["intimate"] = is_intimate(view.get("bodySite"))
        view.setdefault("lesionHistory", None)  # folder_view already shows the answers in words
    prof = profile.read_profile(services.store, case["patientId"]) or {}
    flags = {
        "under18": is_under_18(prof.get("dateOfBirth"), uk_date(now)),
        "nhsNumberStatus": nhs_number_status(prof),
        "duplicateNhsNumber": duplicate_nhs_number(services, case, prof),
    }
    return {**triage_summary.worklist_fields(case, now), "patientFlags": flags, "newImageCount": new_since_review(case, folders)}


def new_since_review(case: dict, folders: list[dict]) -> int:
    """Photos that arrived since the last review and still exist in a folder in scope (the truth the
    case's running counter only approximates: a deleted or no-longer-shared photo is not new)."""
    reviewed = case.get("lastReviewedAt")
    cutoff = parse_instant(reviewed) if reviewed else None
    count = 0
    for folder in folders:
        for image in folder.get("images", []):
            arrived = image.get("processedAt") or image.get("uploadedAt")
            if cutoff is None or (arrived and parse_instant(arrived) > cutoff):
                count += 1
    return count
