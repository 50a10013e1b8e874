"""Patient profile rules."""

from __future__ import annotations

from datetime import date
from typing import Any

from shared_code.domain.email_address import check_email_address
from shared_code.domain.errors import RuleViolation
from shared_code.domain.nhs_number import is_valid_nhs_number

PROFILE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "displayName": {"type": "string", "minLength": 1, "maxLength": 100},
        "givenName": {"type": ["string", "null"], "maxLength": 100},
        "familyName": {"type": ["string", "null"], "maxLength": 100},
        "dateOfBirth": {"type": ["string", "null"], "maxLength": 10},
        "nhsNumber": {"type": ["string", "null"], "maxLength": 12},
        "email": {"type": ["string", "null"], "maxLength": 254},
        "administrativeGender": {"enum": ["male", "female", "other", "unknown", None]},
    },
}


def validate_profile_update(body: dict[str, Any], today: date) -> dict[str, Any]:
    """Returns the normalised fields to store; raises RuleViolation saying which rule broke."""
    changes: dict[str, Any] = {}
    if "displayName" in body:
        name = body["displayName"].strip()
        if not name:
            raise RuleViolation("displayName must not be blank.")
        changes["displayName"] = name
    for field in ("givenName", "familyName"):
        if field in body:
            value = body[field]
            if value is not None:
                value = " ".join(value.split())
                if not value:
                    raise RuleViolation(f"{field} must not be blank (send null to clear it).")
            changes[field] = value
    if "dateOfBirth" in body:
        dob = body["dateOfBirth"]
        if dob is not None:
            try:
                parsed = date.fromisoformat(dob)
            except ValueError:
                raise RuleViolation("dateOfBirth must be a date like 1980-02-29.") from None
            if parsed > today or parsed.year < 1900:
                raise RuleViolation("dateOfBirth must be a real date in the past.")
            dob = parsed.isoformat()
        changes["dateOfBirth"] = dob
    if "nhsNumber" in body:
        nhs = body["nhsNumber"]
        if nhs is not None:
            nhs = nhs.replace(" ", "").replace("-", "")
            if not is_valid_nhs_number(nhs):
                raise RuleViolation("nhsNumber must be 10 digits with a valid check digit (Modulus 11).")
        changes["nhsNumber"] = nhs
    if "administrativeGender" in body:  # optional; FHIR administrative gender
        changes["administrativeGender"] = body["administrativeGender"]
    if "email" in body:
        email = body["email"]
        changes["email"] = check_email_address(email) if email is not None else None
    return changes


def derived_display_name(given_name: str | None, family_name: str | None) -> str | None:
    """The name shown for a patient who gave their given and/or family name: "Given Family"."""
    name = " ".join(part for part in (given_name, family_name) if part)
    return name or None


def apply_profile_changes(doc: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The profile after `changes`: a change of given or family name (without an explicit
    displayName in the same update) also changes displayName, so everything that shows
    displayName (clinic worklist, exports) shows the name the patient gave."""
    updated = {**doc, **changes}
    if ("givenName" in changes or "familyName" in changes) and "displayName" not in changes:
        derived = derived_display_name(updated.get("givenName"), updated.get("familyName"))
        if derived:
            updated["displayName"] = derived
    return updated
