"""Patient profile rules."""

from __future__ import annotations

from datetime import date

from shared_code.domain.email_address import check_email_address
from shared_code.domain.errors import RuleViolation
from shared_code.domain.nhs_number import is_valid_nhs_number

PROFILE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "displayName": {"type": "string", "minLength": 1, "maxLength": 100},
        "dateOfBirth": {"type": ["string", "null"], "maxLength": 10},
        "nhsNumber": {"type": ["string", "null"], "maxLength": 12},
        "email": {"type": ["string", "null"], "maxLength": 254},
    },
}


def validate_profile_update(body: dict, today: date) -> dict:
    """Returns the normalised fields to store; raises RuleViolation saying which rule broke."""
    changes: dict = {}
    if "displayName" in body:
        name = body["displayName"].strip()
        if not name:
            raise RuleViolation("displayName must not be blank.")
        changes["displayName"] = name
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
    if "email" in body:
        email = body["email"]
        changes["email"] = check_email_address(email) if email is not None else None
    return changes
