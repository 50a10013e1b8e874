"""How sure we are of a patient's NHS number. Pure.

NHS login puts a verified NHS number in its ID token (claim ``nhs_number``); a number the patient
typed in is only "present, not traced". Clinicians see which, FHIR carries the UK Core NHS number
verification status extension and DICOM says it in the patient's comments.
"""

from __future__ import annotations

import hashlib
from typing import Any

VERIFIED, UNVERIFIED, ABSENT = "verified", "unverified", "absent"
STATUS_LABELS = {
    VERIFIED: "verified (NHS login)",
    UNVERIFIED: "not verified (entered by the patient)",
    ABSENT: "not given",
}
UKCORE_VERIFICATION_EXTENSION = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
UKCORE_VERIFICATION_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland"
# UK Core NHS number verification status (England): code, display
VERIFICATION_CODES = {VERIFIED: ("01", "Number present and verified"), UNVERIFIED: ("02", "Number present but not traced")}


def nhs_number_status(profile: dict[str, Any]) -> str:
    if not profile.get("nhsNumber"):
        return ABSENT
    return VERIFIED if profile.get("nhsNumberVerified") else UNVERIFIED


def verification_extension(status: str) -> dict[str, Any] | None:
    """The UK Core extension for an NHS number identifier, or None when there is no number."""
    if status not in VERIFICATION_CODES:
        return None
    code, display = VERIFICATION_CODES[status]
    return {
        "url": UKCORE_VERIFICATION_EXTENSION,
        "valueCodeableConcept": {"coding": [{"system": UKCORE_VERIFICATION_SYSTEM, "code": code, "display": display}]},
    }


def identity_keys(profile: dict[str, Any]) -> dict[str, str | None]:
    """Keys a clinic's cases carry to spot one NHS number on two different people: a hash of the NHS
    number and a hash of name + date of birth (hashes, so the case document repeats no more than it must)."""
    nhs = profile.get("nhsNumber")
    name = " ".join(str(profile.get("displayName") or "").lower().split())
    person = f"{name}|{profile.get('dateOfBirth') or ''}"
    return {
        "nhsKey": hashlib.sha256(f"nhs|{nhs}".encode()).hexdigest()[:32] if nhs else None,
        "personKey": hashlib.sha256(f"person|{person}".encode()).hexdigest()[:32],
    }


def same_number_other_person(mine: dict[str, Any], others: list[dict[str, Any]]) -> bool:
    """True when another case has this NHS number but a different name or date of birth."""
    if not mine.get("nhsKey"):
        return False
    return any(o.get("nhsKey") == mine["nhsKey"] and o.get("personKey") != mine["personKey"] for o in others)
