"""Shares: a patient grants a clinic access to some or all folders after accepting the consent text.

A second share to the same clinic replaces the first: the earlier share ends ("replaced") and the
new one's folders, purposes and end date are what the clinic can see from then on. One clinic,
one active share: what the patient sees in their list is exactly what the clinic can see.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from shared_code.auth.principal import Principal
from shared_code.domain.common import iso, new_id, parse_instant, stable_id
from shared_code.domain.errors import NotFoundError, RuleViolation
from shared_code.domain.identity import identity_keys
from shared_code.domain.share import Share, ShareConsent
from shared_code.domain.sharing import EXPIRED, check_grant
from shared_code.ports import CLINICS, NOTIFICATIONS_QUEUE, PATIENTS, Dependencies, NotFound
from shared_code.repositories.shares import ShareRepository
from shared_code.services import access, audit, case_summary, clinics, concurrency, consent, invitations, paging, profile, safeguards, triage_summary
from shared_code.services.export_scope import end_exports_out_of_scope

SHARE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["clinicId", "purposes", "expiresAt", "consent"],
    "properties": {
        "clinicId": {"type": "string", "minLength": 1, "maxLength": 100},
        "folderIds": {"type": "array", "items": {"type": "string", "maxLength": 100}, "minItems": 1, "maxItems": 500, "uniqueItems": True},
        "allFolders": {"type": "boolean"},
        # Which purposes are allowed is a consent rule (check_grant): 422 saying why, not a schema 400.
        "purposes": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 10, "uniqueItems": True},
        "expiresAt": {"type": "string", "maxLength": 40},
        "consent": {
            "type": "object",
            "additionalProperties": False,
            "required": ["textVersion", "accepted"],
            "properties": {"textVersion": {"type": "string", "maxLength": 40}, "accepted": {"type": "boolean"}},
        },
    },
}


def case_id_for(clinic_id: str, patient_id: str) -> str:
    return stable_id("case", clinic_id, patient_id)


def share_view(share: Share, now: datetime, clinic_name: str | None = None) -> dict[str, Any]:
    return share.view(now, clinic_name)


def consent_text(services: Dependencies, clinic_id: str) -> dict[str, Any]:
    clinic = clinics.get_clinic(services.store, clinic_id)
    return consent.render(clinic)


def grant(services: Dependencies, user: Principal, body: dict[str, Any]) -> dict[str, Any]:
    store, now = services.store, services.clock.now()
    patient_id = _patient(user)
    clinic = clinics.get_clinic(services.store, body["clinicId"])
    all_folders = bool(body.get("allFolders"))
    folder_ids = body.get("folderIds") or []
    if all_folders == bool(folder_ids):
        raise RuleViolation("Choose either some folders (folderIds) or allFolders: true.")
    for folder_id in folder_ids:
        try:
            folder = store.read(PATIENTS, patient_id, folder_id)
        except NotFound:
            folder = None
        if folder is None or folder.get("type") != "folder":
            raise RuleViolation("You can only share your own folders.")
    try:
        expires_at = parse_instant(body["expiresAt"])
    except ValueError:
        raise RuleViolation("expiresAt must be a date and time with a time zone.") from None
    check_grant(body["purposes"], expires_at, now)
    safeguards.check_grant(services, user, all_folders, folder_ids, body["purposes"])
    accepted = body["consent"]
    if accepted.get("accepted") is not True:
        raise RuleViolation("You need to accept the consent text to share.")
    if accepted["textVersion"] != consent.current_version():
        raise RuleViolation("The consent text has changed. Read the current version and accept it to share.")
    rendered = consent.render(clinic, accepted["textVersion"])

    share = Share(
        id=new_id("shr"),
        patient_id=patient_id,
        clinic_id=clinic["id"],
        all_folders=all_folders,
        folder_ids=None if all_folders else tuple(folder_ids),
        purposes=tuple(sorted(body["purposes"])),
        expires_at=iso(expires_at),
        granted_at=iso(now),
        consent=ShareConsent(text_version=rendered["version"], text_hash=rendered["textHash"], accepted_at=iso(now), accepted_by=patient_id),
    )
    shares = ShareRepository(store)
    created = shares.add(share)
    created = _replace_others(services, created, now)
    end_exports_out_of_scope(services, patient_id)  # a narrower share ends exports of what it no longer covers
    case_id = _open_case(services, clinic["id"], patient_id, created, now)
    if created.is_active(now):
        invitations.complete_for_share(services, patient_id, clinic["id"], created.to_doc(), case_id)
    audit.by_patient(store, now, patient_id, "share-granted", clinic["id"], ("share", created.id))
    services.queue.send(NOTIFICATIONS_QUEUE, {"kind": "share-granted", "clinicId": clinic["id"], "shareId": created.id, "caseId": case_id})
    return share_view(created, now, clinic["name"])


def _patient(user: Principal) -> str:
    if user.patient_id is None:  # the routes only let patients in; this keeps the type honest
        raise NotFoundError()
    return user.patient_id


def _replace_others(services: Dependencies, created: Share, now: datetime) -> Share:
    """End the patient's other active shares with this clinic: the newest (grantedAt, id) stays.

    Decided after our own share is stored, so that concurrent grants agree: of any two, whichever
    looks second sees the other and ends the older one (which may be its own)."""
    for other in _active_shares_with(services, created.patient_id, created.clinic_id, now):
        if other.id == created.id:
            continue
        if other.order_key() < created.order_key():
            _end(services, other, now, reason="replaced")
        else:
            return _end(services, created, now, reason="replaced")
    return created


def _active_shares_with(services: Dependencies, patient_id: str, clinic_id: str, now: datetime) -> list[Share]:
    return [s for s in ShareRepository(services.store).with_clinic(patient_id, clinic_id) if s.is_active(now)]


def _open_case(services: Dependencies, clinic_id: str, patient_id: str, share: Share, now: datetime) -> str:
    case_id = case_id_for(clinic_id, patient_id)
    identity = identity_keys(profile.read_profile(services.store, patient_id) or {})  # to spot one NHS number on two people
    in_scope = access.folders_in_scope(services.store, patient_id, share.to_doc())
    scope = [f["id"] for f in in_scope]

    # the worklist row and the count of photos in scope, from the folders' counts (never the photos)
    fields = case_summary.scope_fields(services.store, patient_id, share.to_doc())

    def new_case() -> dict[str, Any]:
        # a clinic that has never reviewed the case has every photo in scope to look at
        ready = fields["imageCount"]
        return {
            "id": case_id,
            "clinicId": clinic_id,
            "type": "case",
            "patientId": patient_id,
            "lastReviewedAt": None,
            "triage": None,
            "awaitingTriage": True,
            "newImageCount": ready,
        }

    def renew(case: dict[str, Any]) -> None:
        # a (new or renewed) share is something new for the clinic to look at: it shows under filter=new
        case.update({"active": True, "shareId": share.id, "lastActivityAt": iso(now), "hasNew": True, "sharingEndedAt": None, "endedPatient": None})
        case.update(fields)
        triage_summary.stamp_opened_case(case, now)
        case.update(identity)
        added = triage_summary.widen_scope(case, scope, now)  # folders the clinic could not see before
        if added:
            # from the folders' kept counts (case_summary.py), never by listing their photos
            case["newImageCount"] = case.get("newImageCount", 0) + sum(
                case_summary.folder_ready_count(services.store, f) for f in in_scope if f["id"] in added
            )

    concurrency.modify(services.store, CLINICS, (clinic_id, case_id), renew, create=new_case)
    return case_id


def _end(services: Dependencies, share: Share, now: datetime, *, reason: str) -> Share:
    return _end_once(services, share, now, reason=reason)[0]


def _end_once(services: Dependencies, share: Share, now: datetime, *, reason: str) -> tuple[Share, bool]:
    """End a share; (the stored share, whether this call ended it). Of concurrent callers exactly
    one ends it, so exactly one writes what follows (the audit record)."""
    ended_here = False

    def change(current: Share) -> Share | None:
        nonlocal ended_here
        ended_here = False  # decided afresh on every attempt: a lost race re-reads
        if current.revoked_at:
            return None
        ended_here = True
        return current.ended(iso(now), reason)

    # raises PreconditionFailed rather than report an end that was not stored
    stored = ShareRepository(services.store).modify(share, change)
    return (stored or share), ended_here and stored is not None


def revoke(services: Dependencies, user: Principal, share_id: str) -> dict[str, Any]:
    store, now = services.store, services.clock.now()
    patient_id = _patient(user)
    share = ShareRepository(store).get(patient_id, share_id)
    if share is None:
        raise NotFoundError()
    if share.is_active(now):
        share, ended_here = _end_once(services, share, now, reason="revoked")
        if ended_here:  # two revokes at once: one audit record, by whichever ended it
            end_exports_out_of_scope(services, patient_id)
            _close_case_if_no_share(services, share.clinic_id, patient_id, now, ended_by_patient=True)
            audit.by_patient(store, now, patient_id, "share-revoked", share.clinic_id, ("share", share_id))
    return share_view(share, now)


def _close_case_if_no_share(services: Dependencies, clinic_id: str, patient_id: str, now: datetime, *, ended_by_patient: bool = False) -> None:
    """No share left: the case leaves the worklist. When the patient stopped sharing, it stays 30 days
    as "Sharing ended by the patient" with the summary the worklist showed, and the clinic is told."""
    if _active_shares_with(services, patient_id, clinic_id, now):
        return
    case_id = case_id_for(clinic_id, patient_id)
    if not ended_by_patient:
        concurrency.modify(services.store, CLINICS, (clinic_id, case_id), lambda case: case.update(active=False))
        return
    prof = profile.read_profile(services.store, patient_id) or {}
    summary = {"displayName": prof.get("displayName") or "", "dateOfBirth": prof.get("dateOfBirth"), "nhsNumber": prof.get("nhsNumber")}

    def ended(case: dict[str, Any]) -> bool | None:
        if not case.get("active"):
            return False
        case.update(
            {
                "sharingEndedAt": iso(now),
                "endedPatient": summary,
                "lastActivityAt": iso(now),
                "hasNew": False,
                "awaitingTriage": False,
                "waitingForPhotos": False,
            }
        )
        return None

    if concurrency.modify(services.store, CLINICS, (clinic_id, case_id), ended) is not None:
        services.queue.send(NOTIFICATIONS_QUEUE, {"kind": "sharing-ended", "clinicId": clinic_id, "caseId": case_id, "at": iso(now)})


def list_shares(services: Dependencies, user: Principal, limit: int, token: str | None) -> dict[str, Any]:
    store, now = services.store, services.clock.now()
    shares, continuation = ShareRepository(store).page(_patient(user), limit, token)
    names: dict[str, str] = {}
    items = []
    for share in shares:
        note_expiry(services, share, now)
        if share.clinic_id not in names:
            try:
                names[share.clinic_id] = clinics.get_clinic(store, share.clinic_id)["name"]
            except NotFoundError:
                names[share.clinic_id] = "A clinic that has closed"
        items.append(share_view(share, now, names[share.clinic_id]))
    return paging.response(items, continuation)


def note_expiry(services: Dependencies, share: Share, now: datetime) -> None:
    """Record a share's expiry in the audit trail once, the first time anyone notices it."""
    if share.state(now) != EXPIRED:
        return
    noted_here = False

    def note(current: Share) -> Share | None:
        nonlocal noted_here
        noted_here = not current.expiry_audited
        if not noted_here:
            return None  # someone else noted it
        return replace(current, expiry_audited=True)

    ShareRepository(services.store).modify(share, note)
    if not noted_here:
        return
    audit.record(services.store, now, share.patient_id, "system", "skinvault", "share-expired", share.clinic_id, ("share", share.id))
    _close_case_if_no_share(services, share.clinic_id, share.patient_id, now)


def note_expiries(services: Dependencies, patient_id: str) -> None:
    """Note every share of the patient's that has expired unnoticed, e.g. before showing the audit trail."""
    now = services.clock.now()
    for share in list(ShareRepository(services.store).all(patient_id)):
        note_expiry(services, share, now)


def end_all_shares(services: Dependencies, patient_id: str) -> None:
    """Account erasure: end every share (the audit trail keeps the record)."""
    now = services.clock.now()
    for share in list(ShareRepository(services.store).all(patient_id)):
        if share.is_active(now) and _end_once(services, share, now, reason="account-erased")[1]:
            audit.by_patient(services.store, now, patient_id, "share-revoked", share.clinic_id, ("share", share.id))
        _close_case_if_no_share(services, share.clinic_id, patient_id, now)


def audit_trail(services: Dependencies, patient_id: str, limit: int, token: str | None) -> dict[str, Any]:
    """The patient's 'who has looked' trail, with any share that ran out noted first."""
    note_expiries(services, patient_id)
    return audit.read_trail(services.store, patient_id, limit, token)
