"""What the clinic's case view and worklist add for clinical depth: each folder's current triage,
the patient's lesion history, intimate-site safeguards, "Under 18", and how the NHS number was
obtained. Adds fields beside the existing ones; reads nothing the case view has not already shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared_code.domain.identity import nhs_number_status
from shared_code.domain.lesion_history import LesionHistory
from shared_code.domain.safeguards import is_intimate, is_under_18
from shared_code.domain.triage import uk_date
from shared_code.services import profile, triage_summary


def row_flags(row: dict, now: datetime) -> dict:
    """A worklist row's flags, from the patient summary it already carries."""
    patient = row.get("patient") or {}
    return {"under18": is_under_18(patient.get("dateOfBirth"), uk_date(now))}


def case_fields(services: Any, case: dict, share: dict, folders: list[dict]) -> dict:
    """Mutates each folder view of the case (adds triage, lesion history, intimate) and returns the
    case-level fields to add (urgency, FDS clock, patient flags)."""
    now = services.clock.now()
    for view in folders:
        view.update(triage_summary.folder_fields(case, view["id"]))
        view["intimate"] = is_intimate(view.get("bodySite"))
        view["lesionHistory"] = LesionHistory.view_of(view.get("lesionHistory"))
    prof = profile.read_profile(services.store, case["patientId"]) or {}
    flags = {
        "under18": is_under_18(prof.get("dateOfBirth"), uk_date(now)),
        "nhsNumberStatus": nhs_number_status(prof),
    }
    return {**triage_summary.worklist_fields(case, now), "patientFlags": flags}
