"""Calls every research-study operation once, through test_openapi's ResponseChecker (kept apart so the
study routes add one line to that test)."""

from __future__ import annotations

import json
from typing import Any

from azure.functions.queue import QueueMessage

from shared_code.domain.studies import ENROLMENT_SCHEMA, INFORMATION_SCHEMA, RESEARCHER_SCHEMA, STUDY_SCHEMA
from shared_code.ports import EXPORT_JOBS_QUEUE
from tests.support.functions_client import FunctionsClient, registry
from tests.support.library_helpers import add_ready_image, create_clinic, create_folder

REQUEST_SCHEMAS = {
    "create_study": STUDY_SCHEMA,
    "add_study_information": INFORMATION_SCHEMA,
    "add_study_researcher": RESEARCHER_SCHEMA,
    "enrol": ENROLMENT_SCHEMA,
}


def exercise_study_operations(client: FunctionsClient, check: Any) -> None:
    admin = client.token("admin-s", "admin", "Ada Admin")
    patient = client.token("patient-s", "patient", "Sam Study")
    researcher = client.token("res-s", "clinician", "Dr Rae Search")
    clinic = create_clinic(client, admin, "Study Clinic")
    body = {
        "clinicId": clinic["id"],
        "title": "Acne photo study",
        "sponsor": "A sponsor",
        "recReference": "24/NE/0001",
        "irasId": None,
        "startDate": "2026-01-01",
        "endDate": "2027-12-31",
        "scheduleWeeks": [0, 4],
        "bodySites": ["face"],
        "participantInformation": {"title": "Taking part", "paragraphs": ["Please read this."]},
    }
    study = check(client.post("/api/manage/studies", token=admin, json=body), "create_study", 201)
    sid = study["id"]
    check(client.get("/api/manage/studies", token=admin), "list_studies", 200)
    check(client.get(f"/api/manage/studies/{sid}", token=admin), "get_managed_study", 200)
    info = {"title": "Taking part (v2)", "paragraphs": ["Please read this again."]}
    check(client.post(f"/api/manage/studies/{sid}/information", token=admin, json=info), "add_study_information", 201)
    check(
        client.post(f"/api/manage/studies/{sid}/researchers", token=admin, json={"sub": "res-s", "name": "Dr Rae Search"}),
        "add_study_researcher",
        201,
    )
    check(client.get(f"/api/manage/studies/{sid}/researchers", token=admin), "list_study_researchers", 200)

    found = check(client.get(f"/api/studies?code={study['enrolmentCode']}", token=patient), "find_study", 200)
    check(client.get("/api/studies?code=AAAA-AAAA", token=patient), "find_study", 404)
    folder = create_folder(client, patient, "Face", bodySite="face")["id"]
    photo = add_ready_image(client, patient, folder)
    consent = {"version": found["participantInformation"]["version"], "textHash": found["participantInformation"]["textHash"], "accepted": True}
    enrolment = check(
        client.post("/api/enrolments", token=patient, json={"studyId": sid, "folderIds": [folder], "sex": None, "consent": consent}), "enrol", 201
    )
    check(client.get("/api/enrolments", token=patient), "list_enrolments", 200)
    check(client.get(f"/api/enrolments/{enrolment['id']}", token=patient), "get_enrolment", 200)

    check(client.get("/api/research/studies", token=researcher), "list_my_studies", 200)
    check(client.get(f"/api/research/studies/{sid}", token=researcher), "get_research_study", 200)
    check(client.get(f"/api/research/studies/{sid}/participants", token=researcher), "list_participants", 200)
    base = f"/api/research/studies/{sid}/participants/{enrolment['participantCode']}/photos/{photo}/content"
    check(client.get(base + "?size=thumbnail", token=researcher), "get_participant_photo", 200)
    check(client.get(base + "?size=huge", token=researcher), "get_participant_photo", 400)
    accepted = check(client.post(f"/api/research/studies/{sid}/exports", token=researcher), "request_research_export", 202)
    check(client.get(f"/api/research/studies/{sid}/exports/{accepted['exportId']}/content", token=researcher), "get_research_export_content", 422)
    _, _, queues = registry()
    (build,) = [f for f in queues if f.get_function_name() == "build_export"]
    for job in client.services.queue.take(EXPORT_JOBS_QUEUE):
        build.get_user_function()(QueueMessage(id="job", body=json.dumps(job).encode()))
    check(client.get(f"/api/research/studies/{sid}/exports", token=researcher), "list_research_exports", 200)
    check(client.get(f"/api/research/studies/{sid}/exports/{accepted['exportId']}", token=researcher), "get_research_export", 200)
    check(client.get(f"/api/research/studies/{sid}/exports/{accepted['exportId']}/content", token=researcher), "get_research_export_content", 200)
    check(client.delete(f"/api/enrolments/{enrolment['id']}", token=patient), "withdraw_enrolment", 200)
    check(client.get(base, token=researcher), "get_participant_photo", 404)
    check(client.delete(f"/api/manage/studies/{sid}/researchers/res-s", token=admin), "remove_study_researcher", 204)
    check(client.get(f"/api/research/studies/{sid}", token=researcher), "get_research_study", 404)
