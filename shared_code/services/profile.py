"""The patient's own profile: created on first use, updated by the patient."""

from __future__ import annotations

from typing import Any

from shared_code.auth.principal import Principal
from shared_code.domain.common import iso, public_view
from shared_code.domain.errors import RuleViolation
from shared_code.domain.profile import apply_profile_changes, validate_profile_update
from shared_code.ports import PATIENTS, Conflict, MetadataStore, NotFound
from shared_code.services import email_verification


def profile_view(doc: dict[str, Any]) -> dict[str, Any]:
    view = public_view(doc)
    view["id"] = doc["id"]
    for field in ("givenName", "familyName"):  # profiles made before the names were asked for
        view.setdefault(field, None)
    return view


def _with_verified_nhs_number(store: MetadataStore, user: Principal, doc: dict[str, Any]) -> dict[str, Any]:
    """NHS login vouches for the number in its token: it replaces whatever the patient typed."""
    if not user.nhs_number or (doc.get("nhsNumber") == user.nhs_number and doc.get("nhsNumberVerified")):
        return doc
    doc = {**doc, "nhsNumber": user.nhs_number, "nhsNumberVerified": True}
    return store.replace(PATIENTS, doc, if_match=doc["_etag"])


def get_or_create(store: MetadataStore, user: Principal, now: Any) -> dict[str, Any]:
    pid = user.patient_id
    try:
        return _with_verified_nhs_number(store, user, store.read(PATIENTS, pid, pid))
    except NotFound:
        pass
    doc = {
        "id": pid,
        "patientId": pid,
        "type": "profile",
        "displayName": user.name or "",
        "givenName": None,
        "familyName": None,
        "dateOfBirth": None,
        "nhsNumber": user.nhs_number,
        "nhsNumberVerified": bool(user.nhs_number),
        "email": user.email,
        "createdAt": iso(now),
        "updatedAt": iso(now),
    }
    try:
        created = store.create(PATIENTS, doc)
    except Conflict:
        return store.read(PATIENTS, pid, pid)
    email_verification.note_token_email(store, user, now)  # the identity provider verified it
    return created


def update(store: MetadataStore, user: Principal, body: dict[str, Any], now: Any) -> dict[str, Any]:
    changes = validate_profile_update(body, now.date())
    if "nhsNumber" in changes:
        if user.nhs_number and changes["nhsNumber"] != user.nhs_number:
            raise RuleViolation("Your NHS number comes from NHS login, so it cannot be changed here.")
        changes["nhsNumberVerified"] = bool(user.nhs_number) and changes["nhsNumber"] == user.nhs_number
    doc = apply_profile_changes(get_or_create(store, user, now), changes)
    doc["updatedAt"] = iso(now)
    updated = store.replace(PATIENTS, doc, if_match=doc["_etag"])
    from shared_code.services import case_summary  # (imports this module)

    # the clinic's worklist shows name, birth date, NHS number
    case_summary.after_commit("profile edit", user.patient_id, lambda: case_summary.refresh_cases(store, user.patient_id, now))
    return updated


def read_profile(store: MetadataStore, patient_id: str) -> dict[str, Any] | None:
    try:
        return store.read(PATIENTS, patient_id, patient_id)
    except NotFound:
        return None
