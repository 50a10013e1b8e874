"""The clinic's side: worklist, case view, reviewed, triage. Every read re-checks the share."""

from __future__ import annotations

from typing import Any

from shared_code.auth.principal import Principal
from shared_code.domain.common import iso
from shared_code.domain.errors import BadRequest, NotFoundError
from shared_code.ports import CLINICS, NOTIFICATIONS_QUEUE, NotFound
from shared_code.services import access, audit, clinics, concurrency, paging, profile
from shared_code.services.library import folder_view, image_view
from shared_code.services.paging import decode_token, encode_token

TRIAGE_OUTCOMES = (
    "list-for-excision",
    "sun-damage-treatment-follow-up",
    "routine-follow-up",
    "urgent-suspected-cancer-referral",
    "discharge",
    "request-more-photos",
)
TRIAGE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["outcome"],
    "properties": {"outcome": {"enum": list(TRIAGE_OUTCOMES)}, "note": {"type": ["string", "null"], "maxLength": 2000}},
}
FILTERS = {"all": {}, "new": {"hasNew": True}, "awaiting-triage": {"awaitingTriage": True}}
WORKLIST_TOKEN = {"i": int, "c": str}  # which of the clinician's clinics, and the store's token inside it


def _patient_summary(store: Any, patient_id: str) -> dict:
    prof = profile.read_profile(store, patient_id) or {}
    return {"displayName": prof.get("displayName") or "", "dateOfBirth": prof.get("dateOfBirth"), "nhsNumber": prof.get("nhsNumber")}


def worklist(services: Any, user: Principal, filter_name: str | None, limit: int, token: str | None) -> dict:
    store, now = services.store, services.clock.now()
    filter_name = filter_name or "all"
    if filter_name not in FILTERS:
        raise BadRequest("filter must be new, awaiting-triage or all.")
    state = decode_token(token, shape=WORKLIST_TOKEN) if token else {}
    clinic_ids = list(user.clinic_ids)
    index = int(state.get("i", 0))
    cont = state.get("c")
    items: list[dict] = []
    next_token = None
    while index < len(clinic_ids) and len(items) < limit:
        clinic_id = clinic_ids[index]
        page = paging.fetch(  # a forged store token inside ours is a 400 too
            store,
            CLINICS,
            clinic_id,
            where={"type": "case", "active": True, **FILTERS[filter_name]},
            order_by="lastActivityAt",
            descending=True,
            limit=limit - len(items),
            token=cont,
        )
        for case in page.items:
            share = access.active_share(store, case["patientId"], (clinic_id,), now)
            if share is None:
                continue  # expired since: not listed
            audit.by_clinician(store, now, case["patientId"], user.sub, "viewed-worklist", clinic_id, ("case", case["id"]))
            folders = access.folders_in_scope(store, case["patientId"], share)
            items.append(
                {
                    "caseId": case["id"],
                    "clinicId": clinic_id,
                    "patient": _patient_summary(store, case["patientId"]),
                    "folders": [{"id": f["id"], "name": f["name"]} for f in folders],
                    "newImageCount": case.get("newImageCount", 0),
                    "triage": case.get("triage"),
                    "shareExpiresAt": share["expiresAt"],
                    "lastActivityAt": case.get("lastActivityAt"),
                    "lastReviewedAt": case.get("lastReviewedAt"),
                }
            )
        if page.continuation:
            cont = page.continuation
            next_token = encode_token({"i": index, "c": cont})
            break
        index, cont = index + 1, None
        next_token = encode_token({"i": index}) if index < len(clinic_ids) else None
    return {"items": items, "continuationToken": next_token}


def find_case(store: Any, clinic_ids: tuple[str, ...], case_id: str) -> dict:
    """A case of one of these clinics, or 404."""
    for clinic_id in clinic_ids:
        try:
            case = store.read(CLINICS, clinic_id, case_id)
        except NotFound:
            continue
        if case.get("type") == "case":
            return case
    raise NotFoundError()


def _case_for(services: Any, user: Principal, case_id: str, action: str) -> tuple[dict, dict]:
    """(case, active share) or 404. Audits the access."""
    store, now = services.store, services.clock.now()
    case = find_case(store, user.clinic_ids, case_id)
    share = access.active_share(store, case["patientId"], (case["clinicId"],), now)
    if share is None:
        raise NotFoundError()
    audit.by_clinician(store, now, case["patientId"], user.sub, action, case["clinicId"], ("case", case_id))
    return case, share


def get_case(services: Any, user: Principal, case_id: str) -> dict:
    store = services.store
    case, share = _case_for(services, user, case_id, "viewed-case")
    folders = []
    for folder in access.folders_in_scope(store, case["patientId"], share):
        view = folder_view(folder)
        view["images"] = [image_view(i) for i in access.ready_images(store, case["patientId"], folder["id"])]
        folders.append(view)
    return {
        "caseId": case["id"],
        "clinicId": case["clinicId"],
        "patient": _patient_summary(store, case["patientId"]),
        "share": {"id": share["id"], "purposes": share["purposes"], "expiresAt": share["expiresAt"], "grantedAt": share["grantedAt"]},
        "triage": case.get("triage"),
        "lastReviewedAt": case.get("lastReviewedAt"),
        "newImageCount": case.get("newImageCount", 0),
        "folders": folders,
    }


def _update_case(services: Any, case: dict, change: Any) -> dict:
    """Apply `change(case)` with optimistic concurrency; a lost race re-reads and re-applies."""
    updated = concurrency.modify(services.store, CLINICS, case, change)
    if updated is None:
        raise NotFoundError()
    return updated


def mark_reviewed(services: Any, user: Principal, case_id: str) -> dict:
    case, _ = _case_for(services, user, case_id, "reviewed")
    now = iso(services.clock.now())

    def change(c: dict) -> None:
        c.update({"lastReviewedAt": now, "newImageCount": 0, "hasNew": False})

    updated = _update_case(services, case, change)
    return {"caseId": case_id, "lastReviewedAt": updated["lastReviewedAt"]}


def set_triage(services: Any, user: Principal, case_id: str, body: dict) -> dict:
    case, _ = _case_for(services, user, case_id, "triaged")
    now = services.clock.now()
    triage = {
        "outcome": body["outcome"],
        "note": (body.get("note") or "").strip() or None,
        "recordedAt": iso(now),
        "recordedBy": clinics.member_name(services.store, case["clinicId"], user.sub),
    }

    def change(c: dict) -> None:
        c.update({"triage": triage, "awaitingTriage": False, "lastActivityAt": iso(now)})

    _update_case(services, case, change)
    if body["outcome"] == "request-more-photos":
        services.queue.send(
            NOTIFICATIONS_QUEUE,
            {"kind": "more-photos-requested", "clinicId": case["clinicId"], "caseId": case_id, "patientId": case["patientId"], "at": iso(now)},
        )
    return triage


def note_new_image(services: Any, clinic_id: str, patient_id: str) -> str:
    """A new ready photo in a shared folder: bump the case's 'new since review' badge."""
    from shared_code.services.sharing import case_id_for

    case_id = case_id_for(clinic_id, patient_id)
    try:
        case = services.store.read(CLINICS, clinic_id, case_id)
    except NotFound:
        return case_id
    now = iso(services.clock.now())

    def change(c: dict) -> None:
        c.update({"newImageCount": c.get("newImageCount", 0) + 1, "hasNew": True, "lastActivityAt": now})

    _update_case(services, case, change)
    return case_id
