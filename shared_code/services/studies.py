"""Research studies: admins set them up, patients enrol and withdraw, researchers see pseudonyms only.

Where things live (no new containers):
- the study, its researchers, its participants and its research exports: the clinic's partition
  of CLINICS (a study belongs to a clinic);
- the enrolment (consent, folders, status): the patient's partition of PATIENTS. It is the source of
  truth for access: every researcher read re-reads it, so a withdrawal stops access at the next request;
- LOOKUPS: study id -> clinic, enrolment code -> study, researcher sub -> studies (membership is
  data, read at every request, like clinic membership).

A researcher is a staff user (clinician app role) with membership in a study; clinic membership
neither gives nor needs it. Researchers never see a name, NHS number, date of birth, email, notes or
folder names: only the participant code, year of birth, sex if given, body site and days since
enrolment. Every researcher access is written to the patient's audit trail.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from shared_code.auth.principal import CLINICIAN, Principal
from shared_code.domain.common import iso, new_id, new_share_code, normalise_share_code, parse_instant, stable_id
from shared_code.domain.errors import NotFoundError, RateLimited, RuleViolation
from shared_code.domain.studies import Study, day_number, new_participant_code, schedule, timepoint_for, uk_day
from shared_code.ports import CLINICS, IMAGES, LOOKUPS, PATIENTS, Conflict, MetadataStore, NotFound, PreconditionFailed
from shared_code.services import access, audit, clinics, concurrency, paging, profile, safeguards
from shared_code.services.library import image_blob_name
from shared_code.services.plaintext import read_all

ACTIVE, WITHDRAWN = "active", "withdrawn"
WRONG_CODE_LIMIT = 10  # per patient per hour
STUDY_INDEX = "__study-index__"


# ---------------------------------------------------------------------- keys
def _hash(sub: str) -> str:
    return hashlib.sha256(sub.encode()).hexdigest()[:32]


def _researcher_key(sub: str) -> str:
    return "researcher:" + _hash(sub)


def _researcher_doc_id(study_id: str, sub: str) -> str:
    return f"researcher:{study_id}:{_hash(sub)}"


def _participant_doc_id(study_id: str, code: str) -> str:
    return f"participant:{study_id}:{code}"


# ---------------------------------------------------------------------- loading
def load_study(store: MetadataStore, study_id: str) -> Study:
    try:
        entry = store.read(LOOKUPS, "study:" + study_id, "study:" + study_id)
        doc = store.read(CLINICS, entry["clinicId"], study_id)
    except NotFound:
        raise NotFoundError() from None
    if doc.get("type") != "study":
        raise NotFoundError()
    return Study.from_doc(doc)


# ---------------------------------------------------------------------- admins
def create_study(services: Any, body: dict) -> dict:
    store, now = services.store, services.clock.now()
    clinics.get_clinic(store, body["clinicId"])
    study_id = new_id("std")
    wanted = normalise_share_code(body["enrolmentCode"]) if body.get("enrolmentCode") else None
    study = Study.new(study_id, body, "", now)  # validates before anything is written
    for _ in range(10):
        code = wanted or new_share_code()
        try:
            store.create(LOOKUPS, {"id": "studycode:" + code, "key": "studycode:" + code, "studyId": study_id, "clinicId": study.clinic_id})
            break
        except Conflict:
            if wanted:
                raise RuleViolation("That enrolment code is already in use.") from None
    else:  # pragma: no cover - 31^8 codes
        raise RuleViolation("Could not allocate an enrolment code; try again.")
    study.enrolment_code = code
    store.create(LOOKUPS, {"id": "study:" + study_id, "key": "study:" + study_id, "clinicId": study.clinic_id})
    store.upsert(
        LOOKUPS, {"id": "study-index:" + study_id, "key": STUDY_INDEX, "type": "study-index", "studyId": study_id, "clinicId": study.clinic_id}
    )
    created = store.create(CLINICS, study.to_doc())
    return Study.from_doc(created).manage_view()


def list_studies(services: Any) -> list[dict]:
    entries = paging.fetch_all(services.store, LOOKUPS, STUDY_INDEX, where={"type": "study-index"}, order_by="studyId")
    return [load_study(services.store, e["studyId"]).manage_view() for e in entries]


def get_study(services: Any, study_id: str) -> dict:
    return load_study(services.store, study_id).manage_view()


def add_information_version(services: Any, study_id: str, body: dict) -> dict:
    """A new participant information version: patients enrolling from now on accept this one."""
    now = services.clock.now()

    def change(doc: dict) -> None:
        study = Study.from_doc(doc)
        study.add_information(body["title"], body["paragraphs"], now)
        doc.update(study.to_doc())

    study = load_study(services.store, study_id)
    stored = concurrency.modify(services.store, CLINICS, (study.clinic_id, study.id), change)
    assert stored is not None
    return Study.from_doc(stored).manage_view()


def add_researcher(services: Any, study_id: str, body: dict) -> dict:
    store, now = services.store, services.clock.now()
    study = load_study(store, study_id)
    sub = body["sub"].strip()
    doc = {
        "id": _researcher_doc_id(study_id, sub),
        "clinicId": study.clinic_id,
        "type": "researcher",
        "studyId": study_id,
        "sub": sub,
        "name": body["name"].strip(),
        "email": body.get("email"),
        "addedAt": iso(now),
    }
    store.upsert(CLINICS, doc)
    _update_membership(store, sub, doc["name"], add=study_id)
    return {"studyId": study_id, "sub": sub, "name": doc["name"], "email": doc["email"]}


def list_researchers(services: Any, study_id: str) -> list[dict]:
    study = load_study(services.store, study_id)
    docs = paging.fetch_all(services.store, CLINICS, study.clinic_id, where={"type": "researcher", "studyId": study_id}, order_by="name")
    return [{"studyId": study_id, "sub": d["sub"], "name": d["name"], "email": d.get("email")} for d in docs if not d.get("removed")]


def remove_researcher(services: Any, study_id: str, sub: str) -> None:
    store = services.store
    study = load_study(store, study_id)
    try:
        doc = store.read(CLINICS, study.clinic_id, _researcher_doc_id(study_id, sub))
    except NotFound:
        doc = None
    if doc is None or doc.get("removed"):
        raise NotFoundError("That person is not a researcher on this study.")
    doc["removed"] = True  # kept: the patients' "who has looked" still names them
    store.replace(CLINICS, doc, if_match=doc["_etag"])
    _update_membership(store, sub, doc["name"], remove=study_id)


def _update_membership(store: MetadataStore, sub: str, name: str, *, add: str | None = None, remove: str | None = None) -> None:
    key = _researcher_key(sub)

    def change(doc: dict) -> None:
        ids = [s for s in doc.get("studyIds", []) if s != remove]
        if add and add not in ids:
            ids.append(add)
        doc["studyIds"] = ids
        doc["name"] = name

    concurrency.modify(store, LOOKUPS, (key, key), change, create=lambda: {"id": key, "key": key, "studyIds": [], "name": name}, attempts=10)


def study_ids_of_researcher(store: MetadataStore, sub: str) -> list[str]:
    """Read at every request: removing a researcher takes effect at once."""
    key = _researcher_key(sub)
    try:
        return list(store.read(LOOKUPS, key, key).get("studyIds", []))
    except NotFound:
        return []


def researcher_name(store: MetadataStore, sub: str) -> str:
    """For the patient's "who has looked" (the name outlives removal from the study)."""
    key = _researcher_key(sub)
    try:
        return str(store.read(LOOKUPS, key, key).get("name") or "A researcher")
    except NotFound:
        return "A researcher"


# ---------------------------------------------------------------------- patients
def _check_rate(store: MetadataStore, patient_id: str, now: Any) -> str:
    doc_id = f"wrongstudycode:{patient_id}:{now.strftime('%Y%m%d%H')}"
    try:
        if store.read(LOOKUPS, doc_id, doc_id).get("count", 0) >= WRONG_CODE_LIMIT:
            raise RateLimited("Too many wrong study codes. Try again in an hour.", retry_after_seconds=3600 - now.minute * 60)
    except NotFound:
        pass
    return doc_id


def find_by_code(services: Any, user: Principal, code: str) -> dict:
    """A patient looks a study up by the code the research team gave them: what they would join."""
    store, now = services.store, services.clock.now()
    rate_id = _check_rate(store, user.patient_id, now)
    normalised = normalise_share_code(code)
    try:
        entry = store.read(LOOKUPS, "studycode:" + normalised, "studycode:" + normalised)
    except NotFound:
        try:
            concurrency.modify(
                store,
                LOOKUPS,
                (rate_id, rate_id),
                lambda d: d.update(count=d.get("count", 0) + 1),
                create=lambda: {"id": rate_id, "key": rate_id, "count": 0},
            )
        except PreconditionFailed:
            pass
        raise NotFoundError("No study has that code. Check it with the research team.") from None
    study = load_study(store, entry["studyId"])
    clinic = clinics.get_clinic(store, study.clinic_id)
    view = study.public_view()
    view["clinic"] = {"id": clinic["id"], "name": clinic["name"]}
    view["openForEnrolment"] = study.is_open(uk_day(now))
    return view


def _enrolments(store: MetadataStore, patient_id: str) -> list[dict]:
    return paging.fetch_all(store, PATIENTS, patient_id, where={"type": "enrolment"}, order_by="enrolledAt")


def enrol(services: Any, user: Principal, body: dict) -> dict:
    store, now = services.store, services.clock.now()
    patient_id = user.patient_id
    study = load_study(store, body["studyId"])
    shown = study.check_consent(body["consent"], uk_day(now))
    if any(e["studyId"] == study.id and e["status"] == ACTIVE for e in _enrolments(store, patient_id)):
        raise RuleViolation("You are already taking part in this study.")
    chosen: list[dict] = []
    for folder_id in body["folderIds"]:
        try:
            folder = store.read(PATIENTS, patient_id, folder_id)
        except NotFound:
            folder = None
        if folder is None or folder.get("type") != "folder":
            raise RuleViolation("You can only choose your own folders.")
        chosen.append(folder)
    # research use: no intimate-site folders and nobody under 18 (the same rule as a research share)
    safeguards.check_research_enrolment(services, patient_id, chosen)
    enrolment_id = new_id("enr")
    for _ in range(10):
        code = new_participant_code()
        participant = {
            "id": _participant_doc_id(study.id, code),
            "clinicId": study.clinic_id,
            "type": "participant",
            "studyId": study.id,
            "participantCode": code,
            "patientId": patient_id,  # internal link; never shown to researchers
            "enrolmentId": enrolment_id,
            "enrolledAt": iso(now),
        }
        try:
            store.create(CLINICS, participant)
            break
        except Conflict:
            continue
    else:  # pragma: no cover - 31^8 codes
        raise RuleViolation("Could not allocate a participant code; try again.")
    doc = {
        "id": enrolment_id,
        "patientId": patient_id,
        "type": "enrolment",
        "studyId": study.id,
        "clinicId": study.clinic_id,
        "participantCode": code,
        "folderIds": list(body["folderIds"]),
        "sex": body.get("sex"),
        "consent": {"version": shown.version, "textHash": shown.text_hash, "acceptedAt": iso(now)},
        "status": ACTIVE,
        "enrolledAt": iso(now),
        "enrolledOn": uk_day(now).isoformat(),
        "withdrawnAt": None,
    }
    store.create(PATIENTS, doc)
    audit.by_patient(store, now, patient_id, "study-enrolled", study.clinic_id, ("study", study.id))
    return _enrolment_view(services, doc, study)


def photo_days(store: MetadataStore, patient_id: str, enrolment: dict) -> list[tuple[dict, dict, int]]:
    """(folder, image, day since enrolment) for the ready photos of the enrolled folders taken on or after day 0."""
    enrolled = date.fromisoformat(enrolment["enrolledOn"])
    out = []
    for folder_id in enrolment["folderIds"]:
        try:
            folder = store.read(PATIENTS, patient_id, folder_id)
        except NotFound:
            continue  # deleted by the patient: gone from the study too
        for image in access.ready_images(store, patient_id, folder_id):
            taken = image.get("capturedAt") or image["uploadedAt"]
            try:
                day = day_number(enrolled, uk_day(parse_instant(taken)))
            except ValueError:
                continue
            if day >= 0:
                out.append((folder, image, day))
    return out


def _enrolment_view(services: Any, doc: dict, study: Study | None = None) -> dict:
    store, now = services.store, services.clock.now()
    try:
        study = study or load_study(store, doc["studyId"])
    except NotFoundError:
        study = None
    view: dict[str, Any] = {
        "id": doc["id"],
        "studyId": doc["studyId"],
        "participantCode": doc["participantCode"],
        "status": doc["status"],
        "folderIds": list(doc["folderIds"]),
        "sex": doc.get("sex"),
        "consent": dict(doc["consent"]),
        "enrolledAt": doc["enrolledAt"],
        "withdrawnAt": doc.get("withdrawnAt"),
        "study": None,
        "schedule": [],
    }
    if study is not None:
        view["study"] = {"title": study.title, "sponsor": study.sponsor, "recReference": study.rec_reference, "endDate": study.end_date.isoformat()}
        accepted = study.information_version(doc["consent"]["version"])
        view["participantInformation"] = accepted.view() if accepted else None
        if doc["status"] == ACTIVE:
            days = [day for _, _, day in photo_days(store, doc["patientId"], doc)]
            view["schedule"] = schedule(study.schedule_weeks, date.fromisoformat(doc["enrolledOn"]), uk_day(now), days)
    return view


def _own_enrolment(store: MetadataStore, user: Principal, enrolment_id: str) -> dict:
    try:
        doc = store.read(PATIENTS, user.patient_id, enrolment_id)
    except NotFound:
        raise NotFoundError() from None
    if doc.get("type") != "enrolment":
        raise NotFoundError()
    return doc


def list_enrolments(services: Any, user: Principal) -> dict:
    return {"items": [_enrolment_view(services, d) for d in _enrolments(services.store, user.patient_id)], "continuationToken": None}


def get_enrolment(services: Any, user: Principal, enrolment_id: str) -> dict:
    return _enrolment_view(services, _own_enrolment(services.store, user, enrolment_id))


def withdraw(services: Any, user: Principal, enrolment_id: str) -> dict:
    """The patient leaves the study: researchers lose access at their next request. Exports already
    made stay as the participant information says."""
    store, now = services.store, services.clock.now()
    doc = _own_enrolment(store, user, enrolment_id)
    if doc["status"] == WITHDRAWN:
        return _enrolment_view(services, doc)
    stored = concurrency.modify(store, PATIENTS, doc, lambda d: d.update(status=WITHDRAWN, withdrawnAt=iso(now))) or doc
    try:
        concurrency.modify(
            store, CLINICS, (doc["clinicId"], _participant_doc_id(doc["studyId"], doc["participantCode"])), lambda d: d.update(withdrawnAt=iso(now))
        )
    except PreconditionFailed:
        pass  # the enrolment (read at every access) already says withdrawn
    audit.by_patient(store, now, user.patient_id, "study-withdrawn", doc["clinicId"], ("study", doc["studyId"]))
    return _enrolment_view(services, stored)


def forget_patient(services: Any, patient_id: str) -> None:
    """Account erasure: each participant record loses its link to the patient and shows as withdrawn.

    Called before the patient's partition (holding the enrolments) is deleted.
    """
    store, now = services.store, services.clock.now()
    for enrolment in _enrolments(store, patient_id):

        def unlink(doc: dict) -> None:
            doc["patientId"] = None
            doc["withdrawnAt"] = doc.get("withdrawnAt") or iso(now)

        concurrency.modify(store, CLINICS, (enrolment["clinicId"], _participant_doc_id(enrolment["studyId"], enrolment["participantCode"])), unlink)


# ---------------------------------------------------------------------- researchers
def researcher_study(services: Any, user: Principal, study_id: str) -> Study:
    """The study, when the caller is one of its researchers now; 404 otherwise (never a hint it exists)."""
    if user.kind != CLINICIAN or study_id not in study_ids_of_researcher(services.store, user.sub):
        raise NotFoundError()
    return load_study(services.store, study_id)


def my_studies(services: Any, user: Principal) -> dict:
    if user.kind != CLINICIAN:
        raise NotFoundError()
    items = []
    for study_id in study_ids_of_researcher(services.store, user.sub):
        try:
            items.append(research_view(load_study(services.store, study_id)))
        except NotFoundError:
            continue
    return {"items": items, "continuationToken": None}


def research_view(study: Study) -> dict:
    view = study.public_view()
    view.pop("participantInformation")
    return view


def get_research_study(services: Any, user: Principal, study_id: str) -> dict:
    return research_view(researcher_study(services, user, study_id))


def _active_enrolment(store: MetadataStore, participant: dict) -> dict | None:
    """The patient's enrolment, re-read now: None once withdrawn or erased."""
    if not participant.get("patientId"):
        return None  # the account was erased: the link to it is gone
    try:
        doc = store.read(PATIENTS, participant["patientId"], participant["enrolmentId"])
    except NotFound:
        return None
    return doc if doc.get("status") == ACTIVE else None


def _year_of_birth(store: MetadataStore, patient_id: str) -> int | None:
    dob = (profile.read_profile(store, patient_id) or {}).get("dateOfBirth")
    try:
        return date.fromisoformat(dob).year if dob else None
    except ValueError:
        return None


def participant_rows(services: Any, study: Study) -> list[tuple[dict, dict | None]]:
    """(participant doc, active enrolment or None) for everyone who ever enrolled, by code."""
    store = services.store
    docs = paging.fetch_all(store, CLINICS, study.clinic_id, where={"type": "participant", "studyId": study.id}, order_by="participantCode")
    return [(p, _active_enrolment(store, p)) for p in docs]


def participant_view(services: Any, study: Study, participant: dict, enrolment: dict | None) -> dict:
    store = services.store
    enrolled = uk_day(parse_instant(participant["enrolledAt"]))
    view: dict[str, Any] = {
        "participantId": participant["participantCode"],
        "status": "on-study" if enrolment else "withdrawn",
        "enrolledDay": 0,
        "withdrawnDay": day_number(enrolled, uk_day(parse_instant(participant["withdrawnAt"]))) if participant.get("withdrawnAt") else None,
        "yearOfBirth": None,
        "sex": None,
        "photos": [],
    }
    if enrolment is None:
        return view
    view["yearOfBirth"] = _year_of_birth(store, participant["patientId"])
    view["sex"] = enrolment.get("sex")
    for folder, image, day in sorted(photo_days(store, participant["patientId"], enrolment), key=lambda row: (row[2], row[1]["id"])):
        view["photos"].append(
            {"photoId": image["id"], "day": day, "timepointWeek": timepoint_for(study.schedule_weeks, day), "bodySite": folder.get("bodySite")}
        )
    return view


def list_participants(services: Any, user: Principal, study_id: str) -> dict:
    study = researcher_study(services, user, study_id)
    store, now = services.store, services.clock.now()
    items = []
    for participant, enrolment in participant_rows(services, study):
        items.append(participant_view(services, study, participant, enrolment))
        if enrolment is not None:
            _audit(store, now, participant["patientId"], user.sub, "research-viewed-participants", study, ("study", study.id))
    return {"items": items, "continuationToken": None}


def _audit(store: MetadataStore, now: Any, patient_id: str, sub: str, action: str, study: Study, target: tuple[str, str]) -> None:
    audit.record(store, now, patient_id, "researcher", sub, action, study.clinic_id, target)


def photo_content(services: Any, user: Principal, study_id: str, participant_code: str, photo_id: str, size: str) -> tuple[bytes, str]:
    """A participant's photo, authorised now: researcher of this study, enrolment active, folder enrolled."""
    study = researcher_study(services, user, study_id)
    store = services.store
    try:
        participant = store.read(CLINICS, study.clinic_id, _participant_doc_id(study.id, participant_code))
    except NotFound:
        raise NotFoundError() from None
    enrolment = _active_enrolment(store, participant)
    if enrolment is None:
        raise NotFoundError()
    try:
        image = store.read(PATIENTS, participant["patientId"], photo_id)
    except NotFound:
        raise NotFoundError() from None
    if image.get("type") != "image" or image.get("status") != "ready" or image.get("folderId") not in enrolment["folderIds"]:
        raise NotFoundError()
    _audit(store, services.clock.now(), participant["patientId"], user.sub, "research-viewed-photo", study, ("image", photo_id))
    return read_image(services, participant["patientId"], photo_id, size), f"{participant_code}-{size}.jpg"


def read_image(services: Any, patient_id: str, image_id: str, size: str) -> bytes:
    """The one place research code reads a stored photo (decrypted)."""
    return read_all(services.blobs.read_decrypted(IMAGES, image_blob_name(patient_id, image_id, size)))


# ---------------------------------------------------------------------- reminders (hook for the reminders job)
def timepoints_due(services: Any) -> list[dict]:
    """Every active enrolment's timepoint that is due today and has no photo yet, for the reminders job.

    Ids only (patient, enrolment, study, week) and a deterministic `reminderId`, so a job that runs
    twice sends one reminder. The reminder itself must not name the study or the condition.
    """
    store, now = services.store, services.clock.now()
    today = uk_day(now)
    due = []
    for entry in paging.fetch_all(store, LOOKUPS, STUDY_INDEX, where={"type": "study-index"}, order_by="studyId"):
        try:
            study = load_study(store, entry["studyId"])
        except NotFoundError:
            continue
        if today > study.end_date:
            continue
        for participant, enrolment in participant_rows(services, study):
            if enrolment is None:
                continue
            days = [day for _, _, day in photo_days(store, participant["patientId"], enrolment)]
            for timepoint in schedule(study.schedule_weeks, date.fromisoformat(enrolment["enrolledOn"]), today, days):
                if timepoint["state"] == "due":
                    due.append(
                        {
                            "reminderId": stable_id("srm", enrolment["id"], str(timepoint["week"])),
                            "patientId": participant["patientId"],
                            "enrolmentId": enrolment["id"],
                            "studyId": study.id,
                            "week": timepoint["week"],
                            "dueDate": timepoint["dueDate"],
                        }
                    )
    return due
