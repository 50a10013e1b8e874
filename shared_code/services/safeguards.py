"""Safeguards in use: what a share may include (intimate sites, under 18) and "Show photo" on an
intimate-site photo, audited as its own action."""

from __future__ import annotations

from typing import Any

from shared_code.auth.principal import Principal
from shared_code.domain.common import iso
from shared_code.domain.errors import NotFoundError, RuleViolation
from shared_code.domain.safeguards import check_share, is_intimate
from shared_code.domain.triage import uk_date
from shared_code.ports import PATIENTS, NotFound
from shared_code.services import access, cases, paging, profile


def check_grant(services: Any, user: Principal, all_folders: bool, folder_ids: list[str], purposes: list[str]) -> None:
    """Before a share is stored: refuse intimate-site folders for teaching/research and for under-18s."""
    store = services.store
    if all_folders:
        folders = paging.fetch_all(store, PATIENTS, user.patient_id, where={"type": "folder"}, order_by="createdAt")
    else:
        folders = [store.read(PATIENTS, user.patient_id, fid) for fid in folder_ids]
    prof = profile.read_profile(store, user.patient_id) or {}
    check_share([f.get("bodySite") for f in folders], purposes, prof.get("dateOfBirth"), uk_date(services.clock.now()))


def reveal_photo(services: Any, user: Principal, case_id: str, image_id: str) -> dict:
    """The clinician chose "Show photo" on a blurred intimate-site photo: audited, then allowed."""
    case = cases.find_case(services.store, user.clinic_ids, case_id)
    owner = access.owner_of(services.store, "img", image_id)
    if owner["patientId"] != case["patientId"]:
        raise NotFoundError()
    try:
        folder = services.store.read(PATIENTS, case["patientId"], owner.get("folderId") or "")
    except NotFound:
        raise NotFoundError() from None
    share = access.active_share(services.store, case["patientId"], (case["clinicId"],), services.clock.now(), folder["id"])
    if share is None:
        raise NotFoundError()
    if not is_intimate(folder.get("bodySite")):
        raise RuleViolation("This photo is not of an intimate area: it is shown without asking.")
    access.image_for(services, user, image_id, action="revealed-intimate-photo")
    return {"imageId": image_id, "revealedAt": iso(services.clock.now())}


def check_research_enrolment(services: Any, patient_id: str, folders: list[dict]) -> None:
    """A research study (issue 12's studies) is research use: intimate-site folders and patients under
    18 cannot take part. Call before an enrolment is stored, with the folders the patient chose."""
    prof = profile.read_profile(services.store, patient_id) or {}
    check_share([f.get("bodySite") for f in folders], ["direct-care", "research"], prof.get("dateOfBirth"), uk_date(services.clock.now()))
