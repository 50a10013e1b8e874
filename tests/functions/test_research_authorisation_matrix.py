"""Who may call which research-study endpoint: every endpoint x every kind of caller.

Extends the authorisation matrix (test_authorisation_matrix.py) to research studies. One patient (the
owner) is enrolled in study S1 with folder F1 (a photo) and not with F2 (a photo). Callers:

- researcher:        researcher on S1 (a staff user whose only role here is study membership)
- other-researcher:  researcher on S2, another study of the same clinic
- clinician:         a clinician of S1's clinic, with an active direct-care share of F2, but no research role
- other-patient:     a patient who is not enrolled
plus an admin and a caller with no token.

Each cell asserts the status; that a denied response (and any researcher's response) contains none of the
owner's identifiers (name, NHS number, date of birth, email, notes, folder names, patient and
enrolment ids); and that a denied call writes nothing to the owner's documents or audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from shared_code import bootstrap
from shared_code.bootstrap import Services
from shared_code.ports import AUDIT, EXPORT_JOBS_QUEUE, PATIENTS
from shared_code.services import research_exports
from shared_code.services.sharing import case_id_for
from tests.functions import test_authorisation_matrix as patient_matrix  # the patient-data half of the matrix
from tests.functions.test_studies import study_body
from tests.support.functions_client import FunctionsClient, fake_services
from tests.support.library_helpers import (
    actor,
    add_ready_image,
    clinician_of,
    create_clinic,
    create_folder,
    fork_services,
    grant_share,
    ok,
    patient_id,
)

OWNER_NAME = "Orla Quennell-Fitch"
OWNER_NHS = "9434765919"
OWNER_DOB = "1961-03-14"
OWNER_EMAIL = "orla@example.org"
F1_NAME = "Zebra mole on forearm"
F1_NOTES = "Bled after gardening in June"
I1_NOTES = "Taken the morning after the sunburn"
F2_NAME = "Scalp patch"

ACTORS = ("owner", "other-patient", "researcher", "other-researcher", "clinician", "admin", "anonymous")


@dataclass
class World:
    services: Services
    tokens: dict[str, str | None]
    ids: dict[str, str]
    identifiers: tuple[str, ...]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    services = fake_services(tmp_path_factory.mktemp("research-matrix"))
    client = FunctionsClient(services)
    try:
        admin = client.token("admin-1", "admin", "Ada Admin")
        owner = client.token("patient-owner", "patient", OWNER_NAME, OWNER_EMAIL)
        other = client.token("patient-other", "patient", "Pat Other", "pat@example.org")
        ok(client.put("/api/me", token=owner, json={"dateOfBirth": OWNER_DOB, "nhsNumber": OWNER_NHS, "email": OWNER_EMAIL}))
        ok(client.get("/api/me", token=other))
        owner_pid = patient_id(client, owner)
        clinic = create_clinic(client, admin, "Clinic A")["id"]
        doctor = clinician_of(client, admin, clinic, "doc-a", "Dr Active")
        s1 = ok(client.post("/api/manage/studies", token=admin, json=study_body(clinic)), 201)
        s2 = ok(client.post("/api/manage/studies", token=admin, json=study_body(clinic, title="Another study")), 201)
        for study, sub in ((s1, "res-1"), (s2, "res-2")):
            ok(client.post(f"/api/manage/studies/{study['id']}/researchers", token=admin, json={"sub": sub, "name": f"Dr {sub}"}), 201)
        f1 = create_folder(client, owner, F1_NAME, notes=F1_NOTES, bodySite="left-forearm")["id"]
        f2 = create_folder(client, owner, F2_NAME, bodySite="scalp")["id"]
        i1 = add_ready_image(client, owner, f1, notes=I1_NOTES)
        i2 = add_ready_image(client, owner, f2, seed=2)
        grant_share(client, owner, clinic, folder_ids=[f2])
        info = ok(client.get(f"/api/studies?code={s1['enrolmentCode']}", token=owner))["participantInformation"]
        consent = {"version": info["version"], "textHash": info["textHash"], "accepted": True}
        enrolment = ok(client.post("/api/enrolments", token=owner, json={"studyId": s1["id"], "folderIds": [f1], "consent": consent}), 201)
        researcher = actor(client, "res-1", "clinician", "Dr res-1")
        export = ok(client.post(f"/api/research/studies/{s1['id']}/exports", token=researcher.token), 202)
        for job in services.queue.take(EXPORT_JOBS_QUEUE):
            assert research_exports.build(services, job) == "ready"
        services.queue.take("notifications")
        tokens: dict[str, str | None] = {
            "owner": owner,
            "other-patient": other,
            "researcher": researcher.token,
            "other-researcher": client.token("res-2", "clinician", "Dr res-2"),
            "clinician": doctor.token,
            "admin": admin,
            "anonymous": None,
        }
        ids = {
            "study": s1["id"],
            "code": s1["enrolmentCode"],
            "enrolment": enrolment["id"],
            "participant": enrolment["participantCode"],
            "folder": f1,
            "folder2": f2,
            "image": i1,
            "image2": i2,
            "export": export["exportId"],
            "owner": owner_pid,
        }
        identifiers = (OWNER_NAME, OWNER_NHS, OWNER_DOB, OWNER_EMAIL, F1_NAME, F1_NOTES, I1_NOTES, F2_NAME, owner_pid, enrolment["id"], f1, f2)
        return World(services, tokens, ids, identifiers)
    finally:
        bootstrap.override(None)


STUDY = "/api/research/studies/{study}"
ENDPOINTS: dict[str, tuple[str, str, object]] = {
    "find-study": ("GET", "/api/studies?code={code}", None),
    "list-enrolments": ("GET", "/api/enrolments", None),
    "get-enrolment": ("GET", "/api/enrolments/{enrolment}", None),
    "enrol": ("POST", "/api/enrolments", "enrol-body"),
    "withdraw": ("DELETE", "/api/enrolments/{enrolment}", None),
    "my-studies": ("GET", "/api/research/studies", None),
    "research-study": ("GET", STUDY, None),
    "participants": ("GET", STUDY + "/participants", None),
    "participant-photo": ("GET", STUDY + "/participants/{participant}/photos/{image}/content?size=thumbnail", None),
    "unenrolled-photo": ("GET", STUDY + "/participants/{participant}/photos/{image2}/content?size=thumbnail", None),
    "list-exports": ("GET", STUDY + "/exports", None),
    "request-export": ("POST", STUDY + "/exports", None),
    "export-status": ("GET", STUDY + "/exports/{export}", None),
    "export-content": ("GET", STUDY + "/exports/{export}/content", None),
    "manage-studies": ("GET", "/api/manage/studies", None),
    "manage-researchers": ("GET", "/api/manage/studies/{study}/researchers", None),
    # the patient-data endpoints: a research role opens none of them
    "get-folder": ("GET", "/api/folders/{folder}", None),
    "get-image": ("GET", "/api/images/{image}", None),
    "image-content": ("GET", "/api/images/{image}/content?size=thumbnail", None),
    "clinic-image-content": ("GET", "/api/images/{image2}/content?size=thumbnail", None),
}


def row(owner: int, **others: int) -> dict[str, int]:
    statuses = dict.fromkeys(ACTORS, 404)
    statuses.update({"owner": owner, "anonymous": 401})
    statuses.update({k.replace("_", "-"): v for k, v in others.items()})
    return statuses


ADMIN_TOOL = {"owner": 403, "other-patient": 403, "researcher": 403, "other-researcher": 403, "clinician": 403, "admin": 200, "anonymous": 401}
STAFF_LIST = {"researcher": 200, "other_researcher": 200, "clinician": 200}
EXPECTED: dict[str, dict[str, int]] = {
    "find-study": row(200, other_patient=200),
    "list-enrolments": row(200, other_patient=200),
    "get-enrolment": row(200),
    "enrol": row(422, other_patient=422),  # owner: already taking part; other patient: not their folder
    "withdraw": row(200),
    "my-studies": row(404, **STAFF_LIST),
    "research-study": row(404, researcher=200),
    "participants": row(404, researcher=200),
    "participant-photo": row(404, researcher=200),
    "unenrolled-photo": row(404),
    "list-exports": row(404, researcher=200),
    "request-export": row(404, researcher=202),
    "export-status": row(404, researcher=200),
    "export-content": row(404, researcher=200),
    "manage-studies": ADMIN_TOOL,
    "manage-researchers": ADMIN_TOOL,
    "get-folder": row(200),
    "get-image": row(200),
    "image-content": row(200),
    "clinic-image-content": row(200, clinician=200),
}
assert set(EXPECTED) == set(ENDPOINTS)
MUST_SHOW = {("researcher", "research-study"): "study", ("researcher", "participants"): "participant", ("researcher", "my-studies"): "study"}
MAY_WRITE = {"owner", "researcher", "clinician"}  # the owner's own changes; audited looks by those allowed

CELLS = [pytest.param(endpoint, actor, id=f"{endpoint}-{actor}") for endpoint in ENDPOINTS for actor in ACTORS]


def _snapshot(services: Services, owner: str) -> tuple:
    docs = sorted((d["id"], d["_etag"]) for d in services.store.query(PATIENTS, owner, limit=200).items)
    return docs, services.store.count(AUDIT, owner)


@pytest.mark.parametrize(("endpoint", "actor"), CELLS)
def test_research_endpoint_answers_each_caller_as_the_rules_say(world, endpoint, actor):
    services = fork_services(world.services)
    client = FunctionsClient(services)
    method, template, body = ENDPOINTS[endpoint]
    url = template.format(**world.ids)
    if body == "enrol-body":
        consent = ok(client.get(f"/api/studies?code={world.ids['code']}", token=world.tokens["owner"]))["participantInformation"]
        body = {
            "studyId": world.ids["study"],
            "folderIds": [world.ids["folder"]],
            "consent": {"version": consent["version"], "textHash": consent["textHash"], "accepted": True},
        }
    try:
        before = _snapshot(services, world.ids["owner"])
        reply = client.request(method, url, json=body, token=world.tokens[actor])
        after = _snapshot(services, world.ids["owner"])
    finally:
        bootstrap.override(None)

    expected = EXPECTED[endpoint][actor]
    assert reply.status == expected, (endpoint, actor, reply.status, reply.body[:300])
    if reply.status >= 400:
        assert reply.content_type == "application/problem+json"
    text = reply.body.decode("utf-8", errors="replace")
    if actor != "owner" and not (actor == "clinician" and reply.status < 400):
        leaked = [m for m in world.identifiers if m in text]
        assert not leaked, f"{endpoint} leaked the owner's identifiers to {actor}: {leaked}"
    if reply.status >= 400 or actor not in MAY_WRITE:
        assert after == before, f"{endpoint} by {actor} changed the owner's data or audit trail"
    wanted = MUST_SHOW.get((actor, endpoint))
    if wanted:
        assert world.ids[wanted] in text
    if endpoint == "my-studies" and actor != "researcher" and reply.status == 200:
        assert world.ids["study"] not in text
    if endpoint.endswith("photo") and reply.status == 200:
        assert reply.body[:3] == b"\xff\xd8\xff"


# ----------------------------------------------------------------------------- the patient-data matrix, for researchers

RESEARCHERS = ("researcher", "other-researcher")
PATIENT_CELLS = [pytest.param(endpoint, actor, id=f"{endpoint}-{actor}") for endpoint in patient_matrix.ENDPOINTS for actor in RESEARCHERS]


@pytest.mark.parametrize(("endpoint", "actor"), PATIENT_CELLS)
def test_a_research_role_opens_none_of_the_patient_data_endpoints(world, endpoint, actor):
    """Even the researcher of the owner's study: patient data goes to researchers only through the study routes."""
    services = fork_services(world.services)
    client = FunctionsClient(services)
    method, template, body = patient_matrix.ENDPOINTS[endpoint]
    share_id = services.store.query(PATIENTS, world.ids["owner"], where={"type": "share"}, limit=5).items[0]["id"]
    clinic_id = services.store.query(PATIENTS, world.ids["owner"], where={"type": "share"}, limit=5).items[0]["clinicId"]
    url = template.format(
        folder=world.ids["folder"],
        image=world.ids["image"],
        share=share_id,
        case=case_id_for(clinic_id, world.ids["owner"]),
        comment=world.ids.get("comment", "c0000000000000000000000000000000"),  # the case is not theirs: refused before the comment is looked at
    )
    if body == "share-body":
        body = {"clinicId": clinic_id, "folderIds": [world.ids["folder"]], "purposes": ["direct-care"], "expiresAt": "2027-06-01T00:00:00Z"}
    try:
        before = _snapshot(services, world.ids["owner"])
        reply = client.request(method, url, json=body, token=world.tokens[actor])
        after = _snapshot(services, world.ids["owner"])
    finally:
        bootstrap.override(None)
    # a clinic worklist of no clinics is empty; the lesion-history questionnaire is reference data, not the patient's
    expected = 200 if endpoint in ("list-cases", "lesion-questionnaire") else 404
    assert reply.status == expected, (endpoint, actor, reply.status, reply.body[:300])
    text = reply.body.decode("utf-8", errors="replace")
    assert not [m for m in world.identifiers if m in text]
    assert after == before
