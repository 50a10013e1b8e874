"""Who may call which patient-data endpoint: every endpoint x every kind of caller.

One patient (the owner) has two folders: F1 (a mole, with a photo, notes and clinic comments) and F2
(a scalp patch, with a photo). Clinics and their clinicians:

- clinician:     Clinic A, active share covering F1
- other-clinic:  Clinic B, never shared with
- revoked:       Clinic C, share covering F1, revoked by the patient
- expired:       Clinic D, share covering F1 that has expired
- uncovered:     Clinic E, active share covering F2 only
plus another patient, an admin, and a caller with no token.

Each cell asserts the status and that nothing of the owner's leaked: a denied response (and any
response to someone with no right to F1) contains none of the owner's ids, names or notes. A
denied call changes nothing of the owner's and writes nothing to the owner's audit trail. The
clinic's internal note and its triage note never reach a patient, whatever they call.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from shared_code import bootstrap
from shared_code.bootstrap import Services
from shared_code.ports import AUDIT, CLINICS, PATIENTS
from shared_code.services import consent
from shared_code.services.sharing import case_id_for
from tests.support.functions_client import FunctionsClient, fake_services
from tests.support.library_helpers import (
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
F1_NAME = "Zebra mole on forearm"
F1_NOTES = "Bled after gardening in June"
F1_CONDITION = "Changing naevus"
I1_NOTES = "Taken the morning after the sunburn"
IMAGE_COMMENT = "Pigment network looks regular"
FOLDER_COMMENT = "Please add a close-up with a ruler"
F2_NAME = "Scalp patch"
INTERNAL_NOTE = "Discussed at MDT: likely dysplastic"
TRIAGE_NOTE = "Internal: consider punch biopsy"
PATIENT_MESSAGE = "Nothing worrying; we will see you in spring"
FOLDER_TRIAGE_NOTE = "Internal: excise, margins 2 mm"
LESION_ANSWERS = {
    "duration": "over-1-year",
    "changedSize": "yes",
    "changedShape": "no",
    "changedColour": "yes",
    "bleeding": "no",
    "itching": "no",
    "personalHistory": "no",
    "familyHistory": "not-sure",
    "skinType": "III",
}

ACTORS = ("owner", "other-patient", "clinician", "other-clinic", "revoked", "expired", "uncovered", "admin", "anonymous")


@dataclass
class World:
    services: Services
    tokens: dict[str, str | None]
    ids: dict[str, str]
    case_of: dict[str, str]  # actor -> the case id that actor would naturally ask for
    all_markers: tuple[str, ...]  # anything that identifies the owner or their F1 data
    f1_markers: tuple[str, ...]  # F1's ids, names, notes and comments


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    services = fake_services(tmp_path_factory.mktemp("matrix"))
    client = FunctionsClient(services)
    try:
        admin = client.token("admin-1", "admin", "Ada Admin")
        owner = client.token("patient-owner", "patient", OWNER_NAME, "orla@example.org")
        other = client.token("patient-other", "patient", "Pat Other", "pat@example.org")
        ok(client.put("/api/me", token=owner, json={"dateOfBirth": OWNER_DOB, "nhsNumber": OWNER_NHS}))
        ok(client.get("/api/me", token=other))
        owner_pid = patient_id(client, owner)

        clinic = {k: create_clinic(client, admin, f"Clinic {k}", email=f"clinic-{k.lower()}@nhs.example")["id"] for k in "ABCDE"}
        doc = {
            "clinician": clinician_of(client, admin, clinic["A"], "doc-a", "Dr Active"),
            "other-clinic": clinician_of(client, admin, clinic["B"], "doc-b", "Dr Bystander"),
            "revoked": clinician_of(client, admin, clinic["C"], "doc-c", "Dr Revoked"),
            "expired": clinician_of(client, admin, clinic["D"], "doc-d", "Dr Expired"),
            "uncovered": clinician_of(client, admin, clinic["E"], "doc-e", "Dr Elsewhere"),
        }

        f1 = create_folder(client, owner, F1_NAME, notes=F1_NOTES, condition=F1_CONDITION, bodySite="left-forearm")["id"]
        f2 = create_folder(client, owner, F2_NAME, condition="Psoriasis", bodySite="scalp")["id"]
        i1 = add_ready_image(client, owner, f1, notes=I1_NOTES)
        i2 = add_ready_image(client, owner, f2, seed=2)

        share_a = grant_share(client, owner, clinic["A"], folder_ids=[f1])["id"]
        share_c = grant_share(client, owner, clinic["C"], folder_ids=[f1])["id"]
        grant_share(client, owner, clinic["D"], folder_ids=[f1], days=2)
        grant_share(client, owner, clinic["E"], folder_ids=[f2])
        ok(client.post(f"/api/images/{i1}/comments", token=doc["clinician"].token, json={"text": IMAGE_COMMENT}), 201)
        folder_comment = ok(client.post(f"/api/folders/{f1}/comments", token=doc["clinician"].token, json={"text": FOLDER_COMMENT}), 201)["id"]
        case_a = case_id_for(clinic["A"], owner_pid)
        ok(client.post(f"/api/clinic/cases/{case_a}/notes", token=doc["clinician"].token, json={"text": INTERNAL_NOTE}), 201)
        triage = {"outcome": "routine-follow-up", "note": TRIAGE_NOTE, "patientMessage": PATIENT_MESSAGE}
        ok(client.put(f"/api/clinic/cases/{case_a}/triage", token=doc["clinician"].token, json=triage))
        ok(client.put(f"/api/folders/{f1}/lesion-history", token=owner, json=LESION_ANSWERS))
        listing = {"outcome": "list-for-excision", "note": FOLDER_TRIAGE_NOTE, "excision": {"procedure": "punch", "priority": "routine"}}
        ok(client.post(f"/api/clinic/cases/{case_a}/folders/{f1}/triage", token=doc["clinician"].token, json=listing), 201)
        ok(client.delete(f"/api/shares/{share_c}", token=owner))
        services.clock.advance(days=3)  # D's share has now expired; the others run for a year
        services.queue.take("notifications")

        case = {k: case_id_for(clinic[k], owner_pid) for k in "ACDE"}
        case_of = dict.fromkeys(ACTORS, case["A"])
        case_of.update({"revoked": case["C"], "expired": case["D"], "uncovered": case["E"]})
        tokens: dict[str, str | None] = {"owner": owner, "other-patient": other, "admin": admin, "anonymous": None}
        tokens.update({k: v.token for k, v in doc.items()})
        f1_markers = (f1, F1_NAME, F1_NOTES, F1_CONDITION, i1, I1_NOTES, IMAGE_COMMENT, FOLDER_COMMENT)
        all_markers = (*f1_markers, owner_pid, OWNER_NAME, OWNER_NHS, OWNER_DOB, f2, F2_NAME, i2, share_a, *case.values())
        ids = {
            "folder": f1,
            "folder2": f2,
            "image": i1,
            "image2": i2,
            "share": share_a,
            "owner": owner_pid,
            "clinicB": clinic["B"],
            "comment": folder_comment,
        }
        return World(services, tokens, ids, case_of, all_markers, f1_markers)
    finally:
        bootstrap.override(None)


# ----------------------------------------------------------------------------- the endpoints
UPLOAD = {"contentType": "image/jpeg", "sizeBytes": 1000}
MEASURE = {"calibration": {"line": {"x1": 0, "y1": 0, "x2": 100, "y2": 0}, "millimetres": 10}, "line": {"x1": 5, "y1": 5, "x2": 5, "y2": 65}}
ENDPOINTS: dict[str, tuple[str, str, object]] = {
    "list-folders": ("GET", "/api/folders", None),
    "get-folder": ("GET", "/api/folders/{folder}", None),
    "patch-folder": ("PATCH", "/api/folders/{folder}", {"notes": "overwritten"}),
    "delete-folder": ("DELETE", "/api/folders/{folder}", None),
    "list-folder-images": ("GET", "/api/folders/{folder}/images", None),
    "start-upload": ("POST", "/api/folders/{folder}/uploads", UPLOAD),
    "get-image": ("GET", "/api/images/{image}", None),
    "patch-image": ("PATCH", "/api/images/{image}", {"notes": "overwritten"}),
    "delete-image": ("DELETE", "/api/images/{image}", None),
    "image-content": ("GET", "/api/images/{image}/content?size=thumbnail", None),
    "list-image-comments": ("GET", "/api/images/{image}/comments", None),
    "add-image-comment": ("POST", "/api/images/{image}/comments", {"text": "A new comment"}),
    "list-folder-comments": ("GET", "/api/folders/{folder}/comments", None),
    "add-folder-comment": ("POST", "/api/folders/{folder}/comments", {"text": "A new comment"}),
    "list-shares": ("GET", "/api/shares", None),
    "grant-share": ("POST", "/api/shares", "share-body"),
    "revoke-share": ("DELETE", "/api/shares/{share}", None),
    "audit": ("GET", "/api/audit", None),
    "get-me": ("GET", "/api/me", None),
    "put-me": ("PUT", "/api/me", {"displayName": "Somebody"}),
    "delete-me": ("DELETE", "/api/me", None),
    "export-me": ("GET", "/api/me/export", None),
    "list-cases": ("GET", "/api/clinic/cases", None),
    "get-case": ("GET", "/api/clinic/cases/{case}", None),
    "mark-reviewed": ("POST", "/api/clinic/cases/{case}/reviewed", None),
    "set-triage": ("PUT", "/api/clinic/cases/{case}/triage", {"outcome": "routine-follow-up", "note": "Seen"}),
    "list-folder-messages": ("GET", "/api/folders/{folder}/messages", None),
    "list-my-messages": ("GET", "/api/messages", None),
    "withdraw-comment": ("POST", "/api/clinic/cases/{case}/comments/{comment}/withdraw", None),
    "list-case-notes": ("GET", "/api/clinic/cases/{case}/notes", None),
    "add-case-note": ("POST", "/api/clinic/cases/{case}/notes", {"text": "Another internal note"}),
    "list-reminders": ("GET", "/api/reminders", None),
    "set-reminder": ("PUT", "/api/folders/{folder}/reminder", {"every": "2w"}),
    "remove-reminder": ("DELETE", "/api/folders/{folder}/reminder", None),
    "add-folder-triage": ("POST", "/api/clinic/cases/{case}/folders/{folder}/triage", {"outcome": "routine-follow-up", "note": "Seen"}),
    "list-folder-triage": ("GET", "/api/clinic/cases/{case}/folders/{folder}/triage", None),
    "reveal-photo": ("POST", "/api/clinic/cases/{case}/images/{image}/reveal", None),
    "put-lesion-history": ("PUT", "/api/folders/{folder}/lesion-history", LESION_ANSWERS),
    "get-lesion-history": ("GET", "/api/folders/{folder}/lesion-history", None),
    "lesion-questionnaire": ("GET", "/api/lesion-history/questionnaire", None),
    "add-measurement": ("POST", "/api/clinic/cases/{case}/images/{image}/measurements", MEASURE),
    "list-measurements": ("GET", "/api/clinic/cases/{case}/images/{image}/measurements", None),
}


def row(owner: int, **others: int) -> dict[str, int]:
    """Expected status per actor: 404 for anyone not named, 401 without a token."""
    statuses = dict.fromkeys(ACTORS, 404)
    statuses.update({"owner": owner, "anonymous": 401})
    statuses.update({k.replace("_", "-"): v for k, v in others.items()})
    return statuses


CLINIC_LIST = {"clinician": 200, "other_clinic": 200, "revoked": 200, "expired": 200, "uncovered": 200}
EXPECTED: dict[str, dict[str, int]] = {
    "list-folders": row(200, other_patient=200),  # the other patient sees their own (empty) list
    "get-folder": row(200, clinician=200),
    "patch-folder": row(200),
    "delete-folder": row(204),
    "list-folder-images": row(200, clinician=200),
    "start-upload": row(201),
    "get-image": row(200, clinician=200),
    "patch-image": row(200),
    "delete-image": row(204),
    "image-content": row(200, clinician=200),
    "list-image-comments": row(200, clinician=200),
    "add-image-comment": row(404, clinician=201),  # comments are the clinic's; patients read them
    "list-folder-comments": row(200, clinician=200),
    "add-folder-comment": row(201, clinician=201),  # the owner's reply to the clinic that sees F1
    "list-shares": row(200, other_patient=200),
    "grant-share": row(201, other_patient=422),  # "you can only share your own folders"
    "revoke-share": row(200),
    "audit": row(200, other_patient=200),
    "get-me": row(200, other_patient=200),
    "put-me": row(200, other_patient=200),
    "delete-me": row(204, other_patient=204),
    "export-me": row(200, other_patient=200),
    "list-cases": row(404, **CLINIC_LIST),  # a clinic's list, filtered to what its shares allow
    "get-case": row(404, clinician=200, uncovered=200),
    "mark-reviewed": row(404, clinician=200, uncovered=200),
    "set-triage": row(404, clinician=200, uncovered=200),
    "list-folder-messages": row(200, clinician=200),
    "list-my-messages": row(200, other_patient=200),
    "withdraw-comment": row(404, clinician=200),  # the comment is Clinic A's: E's clinician cannot touch it
    "list-case-notes": row(404, clinician=200, uncovered=200),
    "add-case-note": row(404, clinician=201, uncovered=201),
    "list-reminders": row(200, other_patient=200),
    "set-reminder": row(200),
    "remove-reminder": row(204),
    "add-folder-triage": row(404, clinician=201),  # E's share does not cover F1
    "list-folder-triage": row(404, clinician=200),
    "reveal-photo": row(404, clinician=422),  # F1 is not an intimate site: nothing to reveal, nothing audited
    "put-lesion-history": row(200),
    "get-lesion-history": row(200, clinician=200),
    "add-measurement": row(404, clinician=201),  # E's share does not cover F1's photo
    "list-measurements": row(404, clinician=200),
    "lesion-questionnaire": row(200, **{a.replace("-", "_"): 200 for a in ACTORS if a not in ("owner", "anonymous")}),  # not patient data
}
assert set(EXPECTED) == set(ENDPOINTS)

# What an allowed response must show (proves the cell reached the data, not an empty shell).
MUST_SHOW = {
    ("clinician", "get-folder"): "folder",
    ("clinician", "list-folder-images"): "image",
    ("clinician", "get-image"): "image",
    ("clinician", "list-cases"): "case",
    ("clinician", "get-case"): "image",
    ("uncovered", "get-case"): "image2",
    ("uncovered", "list-cases"): "case",
    ("owner", "get-folder"): "folder",
    ("owner", "get-image"): "image",
    ("owner", "list-shares"): "share",
    ("owner", "list-folder-messages"): "comment",
    ("owner", "list-my-messages"): "comment",
    ("clinician", "list-folder-messages"): "comment",
    ("clinician", "get-lesion-history"): "folder",
    ("owner", "get-lesion-history"): "folder",
}
# For 30 days after the patient stopped sharing, that clinic's worklist keeps what it showed before
# (the patient summary and the case id), marked as ended: nothing else of the owner's.
ENDED_ROW = {("list-cases", "revoked"): (OWNER_NAME, OWNER_NHS, OWNER_DOB)}
# The clinic's own words, which no patient response may contain (the patient's export included).
CLINIC_ONLY = (INTERNAL_NOTE, TRIAGE_NOTE, FOLDER_TRIAGE_NOTE)
# Actors whose successful calls may legitimately change the owner's data or audit trail.
MAY_WRITE = {"owner", "clinician", "uncovered"}

CELLS = [pytest.param(endpoint, actor, id=f"{endpoint}-{actor}") for endpoint in ENDPOINTS for actor in ACTORS]


def _snapshot(services: Services, world: World) -> tuple:
    """(id, etag) of every document of the owner's, their cases, and the size of their audit trail."""
    store, owner = services.store, world.ids["owner"]
    docs = sorted((d["id"], d["_etag"]) for d in store.query(PATIENTS, owner, limit=200).items)
    cases = []
    for clinic_id in {c["clinicId"] for c in store.query(PATIENTS, owner, where={"type": "share"}, limit=200).items}:
        cases += [(c["id"], c["_etag"]) for c in store.query(CLINICS, clinic_id, where={"type": "case"}, limit=200).items]
    return docs, sorted(cases), store.count(AUDIT, owner)


def _url_and_body(world: World, endpoint: str, actor: str) -> tuple[str, str, object]:
    method, template, body = ENDPOINTS[endpoint]
    url = template.format(
        folder=world.ids["folder"],
        image=world.ids["image"],
        share=world.ids["share"],
        comment=world.ids["comment"],
        case=world.case_of[actor] if "{case}" in template else "",
    )
    if body == "share-body":
        body = {
            "clinicId": world.ids["clinicB"],
            "folderIds": [world.ids["folder"]],
            "purposes": ["direct-care"],
            "expiresAt": "2027-06-01T00:00:00Z",
            "consent": {"textVersion": consent.current_version(), "accepted": True},
        }
    return method, url, body


@pytest.mark.parametrize(("endpoint", "actor"), CELLS)
def test_patient_data_endpoint_answers_each_caller_as_the_rules_say(world, endpoint, actor):
    services = fork_services(world.services)
    client = FunctionsClient(services)
    try:
        before = _snapshot(services, world)
        method, url, body = _url_and_body(world, endpoint, actor)
        reply = client.request(method, url, json=body, token=world.tokens[actor])
        after = _snapshot(services, world)
    finally:
        bootstrap.override(None)

    expected = EXPECTED[endpoint][actor]
    assert reply.status == expected, (endpoint, actor, reply.status, reply.body[:300])

    if reply.status >= 400:
        assert reply.content_type == "application/problem+json"
        assert reply.json()["status"] == expected
    text = reply.body.decode("utf-8", errors="replace")
    if reply.status >= 400 or actor not in MAY_WRITE:
        allowed = (*ENDED_ROW[(endpoint, actor)], world.case_of[actor]) if (endpoint, actor) in ENDED_ROW else ()
        leaked = [m for m in world.all_markers if m in text and m not in allowed]
        assert not leaked, f"{endpoint} leaked the owner's data to {actor}: {leaked}"
        assert after == before, f"{endpoint} by {actor} changed the owner's data or audit trail"
    elif actor == "uncovered":
        leaked = [m for m in world.f1_markers if m in text]
        assert not leaked, f"{endpoint} showed an unshared folder to a clinic: {leaked}"

    if actor in ("owner", "other-patient", "anonymous"):
        shown = [m for m in CLINIC_ONLY if m in text]
        assert not shown, f"{endpoint} showed the clinic's internal notes to a patient: {shown}"
    if endpoint == "list-my-messages" and actor == "owner":
        assert PATIENT_MESSAGE in text  # the message the clinician wrote for the patient reaches them

    if (endpoint, actor) in ENDED_ROW:
        (ended,) = reply.json()["items"]
        assert ended["caseId"] == world.case_of[actor] and ended["status"] == "sharing-ended" and ended["folders"] == []

    wanted = MUST_SHOW.get((actor, endpoint))
    if wanted:
        shown = world.case_of[actor] if wanted == "case" else world.ids[wanted]
        assert shown in text
    if endpoint == "image-content" and reply.status == 200:
        assert reply.body[:3] == b"\xff\xd8\xff" and reply.headers["Cache-Control"] == "no-store"
