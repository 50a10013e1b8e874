"""The clinic's side: worklist, case view, reviewed, triage, internal notes. Every read re-checks the share.

The worklist also shows a clinic's photo requests ("Waiting for photos") and, for 30 days, cases
whose patient stopped sharing ("Sharing ended by the patient on <date>": what the list showed
before, nothing more, and no way into the case).
"""

from __future__ import annotations

from typing import Any

from shared_code.auth.principal import Principal
from shared_code.domain.common import iso, new_id
from shared_code.domain.conversation import OUTCOME_TEXT, REMINDER_SCHEDULES, invitation_state, sharing_end_still_shown
from shared_code.domain.errors import BadRequest, NotFoundError, RuleViolation
from shared_code.domain.vocabulary import TriageOutcome, values
from shared_code.ports import CLINICS, NOTIFICATIONS_QUEUE, PATIENTS, NotFound
from shared_code.services import (
    access,
    audit,
    case_summary,
    clinical_view,
    clinics,
    comments,
    concurrency,
    paging,
    profile,
    reminders,
    triage_summary,
)
from shared_code.services.library import folder_view, image_view
from shared_code.services.paging import decode_token, encode_token

TRIAGE_OUTCOMES = values(TriageOutcome)
TRIAGE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["outcome"],
    "properties": {
        "outcome": {"enum": list(TRIAGE_OUTCOMES)},
        # the clinic's internal note: never shown to the patient, never in their export or emails
        "note": {"type": ["string", "null"], "maxLength": 2000},
        # words for the patient, shown with the outcome's plain-English text
        "patientMessage": {"type": ["string", "null"], "maxLength": 2000},
        # request-more-photos only: remind the patient to photograph the shared folders
        "reminder": {"enum": [*REMINDER_SCHEDULES, None]},
    },
}
NOTE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["text"],
    "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 4000}},
}
OPEN, WAITING, ENDED = "open", "waiting-for-photos", "sharing-ended"
FILTERS = {"all": {}, "new": {"hasNew": True}, "awaiting-triage": {"awaitingTriage": True}, "urgent": {"urgent": True}}
# worklist order: "urgency" (most urgent first, then longest waiting) or "recent" (latest activity first)
SORTS = {"urgency": ("queueKey", True), "recent": ("lastActivityAt", True)}
WORKLIST_TOKEN = {"i": int, "c": str}  # which of the clinician's clinics, and the store's token inside it


def _patient_summary(store: Any, patient_id: str) -> dict:
    prof = profile.read_profile(store, patient_id) or {}
    return {"displayName": prof.get("displayName") or "", "dateOfBirth": prof.get("dateOfBirth"), "nhsNumber": prof.get("nhsNumber")}


def worklist(services: Any, user: Principal, filter_name: str | None, limit: int, token: str | None, sort: str | None = None) -> dict:
    store, now = services.store, services.clock.now()
    filter_name = filter_name or "all"
    if filter_name not in FILTERS:
        raise BadRequest("filter must be new, awaiting-triage, urgent or all.")
    if (sort or "recent") not in SORTS:
        raise BadRequest("sort must be urgency or recent.")
    order_by, descending = SORTS[sort or "recent"]
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
            order_by=order_by,
            descending=descending,
            limit=limit - len(items),
            token=cont,
        )
        for case in page.items:
            row = _worklist_row(services, user, case, now)
            if row is not None:
                items.append({**row, **clinical_view.row_flags(row, now)})
        if page.continuation:
            cont = page.continuation
            next_token = encode_token({"i": index, "c": cont})
            break
        index, cont = index + 1, None
        next_token = encode_token({"i": index}) if index < len(clinic_ids) else None
    return {"items": items, "continuationToken": next_token}


def _row(case: dict, status: str, **fields: Any) -> dict:
    row = {
        "caseId": case["id"],
        "clinicId": case["clinicId"],
        "status": status,
        "patient": None,
        "folders": [],
        "newImageCount": 0,
        "newReplyCount": 0,
        "triage": case.get("triage"),
        "shareExpiresAt": None,
        "sharingEndedAt": None,
        "invitation": None,
        "lastActivityAt": case.get("lastActivityAt"),
        "lastReviewedAt": case.get("lastReviewedAt"),
    }
    row.update(fields)
    return row


def _worklist_row(services: Any, user: Principal, case: dict, now: Any) -> dict | None:
    store, clinic_id = services.store, case["clinicId"]
    if case.get("kind") == "invitation":
        state = invitation_state(case, now)
        if state not in ("pending", "accepted"):
            _retire(services, case)  # expired: no longer waiting, so no longer read by the list
            return None
        invitation = {
            "id": case["id"],
            "email": case["email"],
            "instruction": case.get("instruction"),
            "expiresAt": case["expiresAt"],
            "state": state,
        }
        return _row(case, WAITING, invitation=invitation)
    if case.get("sharingEndedAt"):
        if not sharing_end_still_shown(case["sharingEndedAt"], now):
            _forget_ended(services, case)
            return None
        return _row(case, ENDED, patient=case.get("endedPatient"), sharingEndedAt=case["sharingEndedAt"])
    row = case_summary.row_of(case)
    if row is not None:  # the row as stored on the case: no read per row (case_summary.py)
        if case_summary.row_share_expired(row, now):
            return None  # expired since: not listed
        return _row(
            case,
            WAITING if case.get("waitingForPhotos") else OPEN,
            patient=row["patient"],
            folders=row["folders"],
            newImageCount=case.get("newImageCount", 0),
            newReplyCount=case.get("newReplyCount", 0),
            shareExpiresAt=row["shareExpiresAt"],
            **triage_summary.worklist_fields(case, now),
        )
    # a case stored before rows were kept on it: read what the row shows (no migration needed)
    share = access.active_share(store, case["patientId"], (clinic_id,), now)
    if share is None:
        return None  # expired since: not listed
    folders = access.folders_in_scope(store, case["patientId"], share)
    return _row(
        case,
        WAITING if case.get("waitingForPhotos") else OPEN,
        patient=_patient_summary(store, case["patientId"]),
        folders=[{"id": f["id"], "name": f["name"]} for f in folders],
        newImageCount=case.get("newImageCount", 0),
        newReplyCount=case.get("newReplyCount", 0),
        shareExpiresAt=share["expiresAt"],
        **triage_summary.worklist_fields(case, now),
    )


def _retire(services: Any, invitation: dict) -> None:
    def change(c: dict) -> bool | None:
        if not c.get("active"):
            return False
        c["active"] = False
        return None

    concurrency.modify(services.store, CLINICS, invitation, change)


def _forget_ended(services: Any, case: dict) -> None:
    """Thirty days after the patient stopped sharing, the case leaves the list and its summary goes."""

    def change(c: dict) -> bool | None:
        if not c.get("sharingEndedAt"):
            return False  # shared again meanwhile
        c.update({"active": False, "endedPatient": None})
        return None

    concurrency.modify(services.store, CLINICS, case, change)


def find_case(store: Any, clinic_ids: tuple[str, ...], case_id: str) -> dict:
    """A case of one of these clinics, or 404."""
    for clinic_id in clinic_ids:
        try:
            case = store.read(CLINICS, clinic_id, case_id)
        except NotFound:
            continue
        if case.get("type") == "case" and case.get("kind") != "invitation":
            return case
    raise NotFoundError()


def _case_for(services: Any, user: Principal, case_id: str, action: str | None, target: tuple[str, str] | None = None) -> tuple[dict, dict]:
    """(case, active share) or 404. Audits the access as `action` (on `target`, else the case) unless None."""
    store, now = services.store, services.clock.now()
    case = find_case(store, user.clinic_ids, case_id)
    share = access.active_share(store, case["patientId"], (case["clinicId"],), now)
    if share is None:
        raise NotFoundError()
    if action is not None:
        audit.by_clinician(store, now, case["patientId"], user.sub, action, case["clinicId"], target or ("case", case_id))
    return case, share


IMAGES_PER_FOLDER = 50  # newest first; the rest through GET /api/folders/{id}/images?continuationToken=


def _ready_images_page(store: Any, patient_id: str, folder_id: str, limit: int, token: str | None = None) -> Any:
    # the same query as library.list_images for a clinician, so its continuation token pages on there
    where = {"type": "image", "folderId": folder_id, "status": "ready"}
    return paging.fetch(store, PATIENTS, patient_id, where=where, order_by="capturedAt", limit=limit, token=token)


def _folders_page(store: Any, patient_id: str, share: dict, limit: int, token: str | None) -> tuple[list[dict], str | None]:
    """Up to `limit` folders in the share's scope, oldest first, and the token for the next ones."""
    if not share.get("allFolders"):
        ids = list(share.get("folderIds") or [])
        start = int(decode_token(token).get("o", 0)) if token else 0
        folders = []
        for folder_id in ids[start : start + limit]:  # point reads: the share names them
            try:
                doc = store.read(PATIENTS, patient_id, folder_id)
            except NotFound:
                continue
            if doc.get("type") == "folder":
                folders.append(doc)
        folders.sort(key=lambda f: f.get("createdAt") or "")
        following = start + limit
        return folders, encode_token({"o": following}) if following < len(ids) else None
    page = paging.fetch(store, PATIENTS, patient_id, where={"type": "folder"}, order_by="createdAt", descending=False, limit=limit, token=token)
    return page.items, page.continuation


def get_case(services: Any, user: Principal, case_id: str, limit: int = 50, token: str | None = None) -> dict:
    """The case header, then one page of its folders (oldest first), each with its newest photos.

    What this reads does not grow with the library: the case, the share, the profile (or the row
    stored on the case), a page of folders and a page of photos per folder. Counts come from the
    documents (case_summary.py); more photos of a folder are paged through GET /api/folders/{id}/images
    with the folder's `imagesContinuationToken`, more folders with `foldersContinuationToken`."""
    store = services.store
    case, share = _case_for(services, user, case_id, None if token else "viewed-case")
    patient_id = case["patientId"]
    folder_docs, next_folders = _folders_page(store, patient_id, share, limit, token)
    folders = []
    for folder in folder_docs:
        view = folder_view(folder)
        page = _ready_images_page(store, patient_id, folder["id"], IMAGES_PER_FOLDER)
        view["images"] = [image_view(i) for i in page.items]
        view["imagesContinuationToken"] = page.continuation
        view["imageCount"] = case_summary.folder_ready_count(store, folder)
        folders.append(view)
    row = case_summary.row_of(case)
    image_count = case.get("imageCount")
    if not isinstance(image_count, int):  # a case from before the count was kept
        image_count = case_summary.scope_fields(store, patient_id, share)["imageCount"]
    extras = clinical_view.case_fields(services, case, share, folders)
    if next_folders or any(f.get("imagesContinuationToken") for f in folders):
        # only a page of the photos is here: the exact count of new ones would grow with the library,
        # so a large case shows the counter kept on the case as photos arrive and are reviewed
        extras["newImageCount"] = case.get("newImageCount", 0)
    return {
        "caseId": case["id"],
        "clinicId": case["clinicId"],
        "patient": row["patient"] if row is not None else _patient_summary(store, patient_id),
        "share": {"id": share["id"], "purposes": share["purposes"], "expiresAt": share["expiresAt"], "grantedAt": share["grantedAt"]},
        "triage": case.get("triage"),
        "lastReviewedAt": case.get("lastReviewedAt"),
        "imageCount": image_count,
        "newImageCount": case.get("newImageCount", 0),
        "newReplyCount": case.get("newReplyCount", 0),
        "waitingForPhotos": bool(case.get("waitingForPhotos")),
        "folders": folders,
        "foldersContinuationToken": next_folders,
        **extras,
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
        c.update({"lastReviewedAt": now, "newImageCount": 0, "newReplyCount": 0, "hasNew": False})

    updated = _update_case(services, case, change)
    return {"caseId": case_id, "lastReviewedAt": updated["lastReviewedAt"]}


def set_triage(services: Any, user: Principal, case_id: str, body: dict) -> dict:
    outcome, every = body["outcome"], body.get("reminder")
    if every and outcome != "request-more-photos":
        raise RuleViolation("A reminder goes with request-more-photos only.")
    case, share = _case_for(services, user, case_id, "triaged")
    now = services.clock.now()
    triage = {
        "outcome": outcome,
        "note": (body.get("note") or "").strip() or None,
        "patientMessage": (body.get("patientMessage") or "").strip() or None,
        "patientText": OUTCOME_TEXT[outcome],
        "reminder": every,
        "recordedAt": iso(now),
        "recordedBy": clinics.member_name(services.store, case["clinicId"], user.sub),
    }

    def change(c: dict) -> None:
        c.update({"triage": triage, "awaitingTriage": False, "lastActivityAt": iso(now)})
        triage_summary.after_case_triage(c, outcome, now)

    _update_case(services, case, change)
    message = comments.record_outcome_message(services, case, share, user, outcome, triage["patientMessage"])
    if every:
        folder_ids = [f["id"] for f in access.folders_in_scope(services.store, case["patientId"], share)]
        reminders.set_for_folders(services, case["patientId"], folder_ids, every, {"kind": "clinic", "clinicId": case["clinicId"]})
    if outcome == "request-more-photos":
        services.queue.send(
            NOTIFICATIONS_QUEUE,
            {"kind": "more-photos-requested", "clinicId": case["clinicId"], "caseId": case_id, "patientId": case["patientId"], "at": iso(now)},
        )
    else:
        comments.tell_patient(services, case["patientId"], case["clinicId"], message["id"])
    return triage


# ----------------------------------------------------------------------------- the conversation, clinic side
def withdraw_comment(services: Any, user: Principal, case_id: str, comment_id: str) -> dict:
    """Withdraw one of the clinic's messages to the patient posted in error (audited, kept as withdrawn)."""
    case, _ = _case_for(services, user, case_id, None)
    withdrawn, changed = comments.withdraw(services, user, case, comment_id)
    if changed:
        now = services.clock.now()
        audit.by_clinician(services.store, now, case["patientId"], user.sub, "comment-withdrawn", case["clinicId"], ("comment", comment_id))
    return withdrawn


def note_view(doc: dict) -> dict:
    return {"id": doc["id"], "caseId": doc["caseId"], "author": {"name": doc["authorName"]}, "text": doc["text"], "createdAt": doc["createdAt"]}


def add_note(services: Any, user: Principal, case_id: str, text: str) -> dict:
    """An internal note: the clinic's own, kept in the clinic's partition, never the patient's to see."""
    if not text.strip():
        raise RuleViolation("A note needs some text.")
    case, _ = _case_for(services, user, case_id, "noted")
    doc = {
        "id": new_id("note"),
        "clinicId": case["clinicId"],
        "type": "case-note",
        "caseId": case["id"],
        "authorSub": user.sub,
        "authorName": clinics.member_name(services.store, case["clinicId"], user.sub),
        "text": text.strip(),
        "createdAt": iso(services.clock.now()),
    }
    return note_view(services.store.create(CLINICS, doc))


def list_notes(services: Any, user: Principal, case_id: str) -> dict:
    case, _ = _case_for(services, user, case_id, None)  # the clinic's own notes: no patient data is read
    page = services.store.query(CLINICS, case["clinicId"], where={"type": "case-note", "caseId": case["id"]}, order_by="createdAt", limit=500)
    return {"items": [note_view(n) for n in page.items], "continuationToken": None}


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
        c.update({"newImageCount": c.get("newImageCount", 0) + 1, "hasNew": True, "lastActivityAt": now, "waitingForPhotos": False})
        if isinstance(c.get("imageCount"), int):
            c["imageCount"] += 1  # kept as photos arrive, never recounted (case_summary.py)

    _update_case(services, case, change)
    return case_id
