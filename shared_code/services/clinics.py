"""Clinics and their members (admin tools), and looking a clinic up by its share code."""

from __future__ import annotations

import hashlib
from typing import Any

from shared_code.domain.clinic import Clinic
from shared_code.domain.common import is_valid_id, iso, new_id, new_share_code, normalise_share_code
from shared_code.domain.email_address import check_email_address
from shared_code.domain.errors import NotFoundError, RuleViolation
from shared_code.ports import CLINICS, LOOKUPS, Conflict, MetadataStore, NotFound, PreconditionFailed
from shared_code.repositories.clinics import ClinicRepository
from shared_code.services import concurrency, rate_limits

CLINIC_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "odsCode", "notificationEmail"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "odsCode": {"type": "string", "minLength": 3, "maxLength": 10},
        "notificationEmail": {"type": "string", "minLength": 3, "maxLength": 254},
        "shareCode": {"type": "string", "minLength": 8, "maxLength": 9},
        # what the clinic's EPR exports hold (issue 15): the PDF summary always
        "exportFormats": {"enum": ["fhir-jpeg", "dicom", "both"]},
        "exportInlineBinary": {"type": "boolean"},
    },
}
MEMBER_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["sub", "name"],
    "properties": {
        "sub": {"type": "string", "minLength": 1, "maxLength": 200},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "email": {"type": ["string", "null"], "maxLength": 254},
    },
}
WRONG_CODE_LIMIT = 10  # per patient per hour
WRONG_CODE_LIMIT_PER_ADDRESS = 30  # per client address per hour (a household or a ward shares one)
# Share codes are random (31^8). The one exception is the demo clinic's documented code, accepted
# only where the app runs locally (SKINVAULT_ENVIRONMENT=local) for the demo seed.
DEMO_SHARE_CODE = "NEWC-DERM"


def _member_key(sub: str) -> str:
    return "member:" + hashlib.sha256(sub.encode()).hexdigest()[:32]


def clinic_view(doc: dict[str, Any]) -> dict[str, Any]:
    return Clinic.from_doc(doc).view()


def create_clinic(store: MetadataStore, body: dict[str, Any], now: Any, *, allow_demo_code: bool = False) -> dict[str, Any]:
    ods = body["odsCode"].strip().upper()
    if not ods.isalnum():
        raise RuleViolation("odsCode must be letters and digits only.")
    email = check_email_address(body["notificationEmail"], "notificationEmail")
    clinic_id = new_id("cln")
    wanted = normalise_share_code(body["shareCode"]) if body.get("shareCode") else None
    if wanted is not None and not (allow_demo_code and wanted == DEMO_SHARE_CODE):
        raise RuleViolation("Share codes are chosen at random so that nobody can guess them: leave shareCode out.")
    for _ in range(10):
        code = wanted or new_share_code()
        try:
            store.create(LOOKUPS, {"id": "code:" + code, "key": "code:" + code, "clinicId": clinic_id})
            break
        except Conflict:
            if wanted:
                raise RuleViolation("That share code is already in use.") from None
    else:  # pragma: no cover - 31^8 codes
        raise RuleViolation("Could not allocate a share code; try again.")
    clinic = Clinic(
        id=clinic_id,
        name=body["name"].strip(),
        ods_code=ods,
        notification_email=email,
        share_code=code,
        created_at=iso(now),
        extra={"exportFormats": body.get("exportFormats") or "both", "exportInlineBinary": bool(body.get("exportInlineBinary"))},
    )
    return ClinicRepository(store).add(clinic).view()


def list_clinics(store: MetadataStore) -> list[dict[str, Any]]:
    # Admin view: a handful of clinics; each lives in its own partition, found through the code lookups.
    return [clinic.view() for clinic in ClinicRepository(store).all()]


def get_clinic(store: MetadataStore, clinic_id: str) -> dict[str, Any]:
    """The stored clinic document (callers not yet moved to the typed Clinic read it as a dict)."""
    clinic = ClinicRepository(store).get(clinic_id)
    if clinic is None:
        raise NotFoundError()
    return clinic.to_doc()


def index_clinic(store: MetadataStore, clinic: dict[str, Any]) -> None:
    ClinicRepository(store).index(Clinic.from_doc(clinic))


def find_by_code(store: MetadataStore, code: str, patient_id: str, now: Any, client_address: str | None = None) -> dict[str, Any]:
    """A patient looks a clinic up by the code it gave them. Wrong codes are limited per patient and
    per client address (so neither many accounts from one place nor one account from many places
    can walk the code space)."""
    counters = [(rate_limits.for_patient(patient_id, "wrong-clinic-codes"), WRONG_CODE_LIMIT)]
    if client_address:
        counters.append((rate_limits.for_address(client_address, "wrong-clinic-codes"), WRONG_CODE_LIMIT_PER_ADDRESS))
    for counter, limit in counters:
        rate_limits.check(store, counter, limit=limit, window_seconds=3600, now=now, detail="Too many wrong clinic codes. Try again in an hour.")
    normalised = normalise_share_code(code or "")
    try:
        entry = store.read(LOOKUPS, "code:" + normalised, "code:" + normalised) if is_valid_id("code:" + normalised) else None
    except NotFound:
        entry = None
    if entry is None:
        for counter, _limit in counters:
            try:
                rate_limits.add(store, counter, window_seconds=3600, now=now)
            except PreconditionFailed:
                pass  # a burst of wrong codes at once: the others were counted
        raise NotFoundError("No clinic has that code. Check it with your clinic.")
    return Clinic.from_doc(get_clinic(store, entry["clinicId"])).public_view()


def add_member(store: MetadataStore, clinic_id: str, body: dict[str, Any], now: Any) -> dict[str, Any]:
    get_clinic(store, clinic_id)
    sub = body["sub"].strip()
    if body.get("email") is not None:
        body = {**body, "email": check_email_address(body["email"])}
    member = {
        "id": _member_key(sub),
        "clinicId": clinic_id,
        "type": "member",
        "sub": sub,
        "name": body["name"].strip(),
        "email": body.get("email"),
        "addedAt": iso(now),
    }
    store.upsert(CLINICS, member)
    _update_membership(store, sub, add=clinic_id)
    return {"clinicId": clinic_id, "sub": sub, "name": member["name"], "email": member["email"]}


def remove_member(store: MetadataStore, clinic_id: str, sub: str) -> None:
    get_clinic(store, clinic_id)
    try:
        member = store.read(CLINICS, clinic_id, _member_key(sub))
    except NotFound:
        member = None
    if member is None or member.get("removed"):
        raise NotFoundError("That person is not a member of this clinic.")
    # Kept, marked removed: patients' access logs must still name who looked. Access itself goes
    # with the membership lookup below (read at every request); add_member reinstates the document.
    member["removed"] = True
    store.replace(CLINICS, member, if_match=member["_etag"])
    _update_membership(store, sub, remove=clinic_id)


def list_members(store: MetadataStore, clinic_id: str) -> list[dict[str, Any]]:
    get_clinic(store, clinic_id)
    page = store.query(CLINICS, clinic_id, where={"type": "member"}, order_by="name", limit=1000)
    return [{"sub": m["sub"], "name": m["name"], "email": m.get("email")} for m in page.items if not m.get("removed")]


def member_name(store: MetadataStore, clinic_id: str, sub: str) -> str:
    try:
        name: str = store.read(CLINICS, clinic_id, _member_key(sub))["name"]
        return name
    except NotFound:
        return "A clinician"


def _update_membership(store: MetadataStore, sub: str, *, add: str | None = None, remove: str | None = None) -> None:
    key = _member_key(sub)

    def change(doc: dict[str, Any]) -> None:
        ids = [c for c in doc.get("clinicIds", []) if c != remove]
        if add and add not in ids:
            ids.append(add)
        doc["clinicIds"] = ids

    concurrency.modify(store, LOOKUPS, (key, key), change, create=(lambda: {"id": key, "key": key, "clinicIds": []}) if add else None, attempts=10)


def clinic_ids_of_member(store: MetadataStore, sub: str) -> list[str]:
    """Membership is data, read at every request: removing a member takes effect at once."""
    key = _member_key(sub)
    try:
        return list(store.read(LOOKUPS, key, key).get("clinicIds", []))
    except NotFound:
        return []
