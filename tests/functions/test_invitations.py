"""Photo requests: the clinic invites a patient by email, the patient accepts and shares, the
worklist shows the request as waiting for photos until they arrive. One code, one patient, 14 days."""

from __future__ import annotations

import pytest

from shared_code.ports import CLINICS, NOTIFICATIONS_QUEUE
from tests.support.conversation import invitation_code
from tests.support.email_scan import content_of
from tests.support.library_helpers import actor, build_scene, clinician_of, create_clinic, deliver_all, ok

INSTRUCTION = "Please photograph both elbows in daylight"


@pytest.fixture
def scene(client):
    return build_scene(client, patient_name="Gwen Tredinnick", patient_email="gwen@example.org")


def request_photos(client, scene, **body) -> dict:
    return ok(client.post("/api/clinic/invitations", token=scene.doctor.token, json={"email": "gwen@example.org", **body}), 201)


def rows(client, scene) -> list[dict]:
    return ok(client.get("/api/clinic/cases", token=scene.doctor.token))["items"]


def test_requesting_photos_emails_a_one_time_link_to_the_patient_app(scene, client):
    invitation = request_photos(client, scene, instruction=INSTRUCTION)
    assert invitation["state"] == "pending" and invitation["expiresAt"] == "2026-12-11T10:00:00Z"
    assert "code" not in invitation
    (message,) = client.services.queue.take(NOTIFICATIONS_QUEUE)
    assert set(message) == {"kind", "clinicId", "invitationId"}  # ids only: the code stays in the store
    client.services.queue.send(NOTIFICATIONS_QUEUE, message)
    code = invitation_code(client)
    (mail,) = client.services.email.sent
    assert mail.to == "gwen@example.org" and mail.subject == "Your clinic has asked you to share photos"
    assert f"http://127.0.0.1:7071/app/?invite={code}" in mail.text and f'href="http://127.0.0.1:7071/app/?invite={code}"' in (mail.html or "")
    assert INSTRUCTION not in content_of(mail) and "Leeds" not in content_of(mail)
    assert len(code) >= 20


def test_the_worklist_shows_the_request_as_waiting_for_photos_until_photos_arrive(scene, client):
    invitation = request_photos(client, scene, instruction=INSTRUCTION)
    (row,) = rows(client, scene)
    assert row["status"] == "waiting-for-photos" and row["patient"] is None
    assert row["invitation"] == {
        "id": invitation["id"],
        "email": "gwen@example.org",
        "instruction": INSTRUCTION,
        "expiresAt": invitation["expiresAt"],
        "state": "pending",
    }
    assert client.get(f"/api/clinic/cases/{row['caseId']}", token=scene.doctor.token).status == 404  # nothing to open yet

    code = invitation_code(client)
    seen = ok(client.get(f"/api/invitations/{code}", token=scene.patient.token))
    assert seen == {
        "clinic": {"id": scene.clinic["id"], "name": "Leeds Dermatology"},
        "instruction": INSTRUCTION,
        "reminder": None,
        "expiresAt": invitation["expiresAt"],
        "state": "pending",
    }
    assert ok(client.post(f"/api/invitations/{code}/accept", token=scene.patient.token))["state"] == "accepted"
    assert [r["invitation"]["state"] for r in rows(client, scene)] == ["accepted"]

    folder = scene.folder("Elbows")
    scene.share(folder_ids=[folder])
    (row,) = rows(client, scene)
    assert (row["caseId"], row["status"], row["patient"]["displayName"]) == (scene.case_id(), "waiting-for-photos", "Gwen Tredinnick")
    assert ok(client.get(f"/api/clinic/invitations/{invitation['id']}", token=scene.doctor.token))["state"] == "completed"
    assert ok(client.get(f"/api/invitations/{code}", token=scene.patient.token))["state"] == "completed"
    scene.photo(folder)
    (row,) = rows(client, scene)
    assert row["status"] == "open" and row["newImageCount"] == 1
    assert ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token))["waitingForPhotos"] is False
    actions = [e["action"] for e in ok(client.get("/api/audit?limit=200", token=scene.patient.token))["items"]]
    assert "invitation-accepted" in actions


def test_an_invitation_cannot_be_used_by_a_second_patient(scene, client):
    request_photos(client, scene)
    code = invitation_code(client)
    ok(client.post(f"/api/invitations/{code}/accept", token=scene.patient.token))
    assert ok(client.post(f"/api/invitations/{code}/accept", token=scene.patient.token))["state"] == "accepted"  # again: no change
    intruder = actor(client, "patient-b", "patient", "Ivor Intruder")
    for method in ("GET", "POST"):
        path = f"/api/invitations/{code}" if method == "GET" else f"/api/invitations/{code}/accept"
        r = client.request(method, path, token=intruder.token)
        assert r.status == 409 and r.json()["detail"] == "This link has already been used. Ask your clinic to send you a new one."
        assert "Leeds" not in r.body.decode()
    # and once used for a share, not even by a patient who never saw it
    scene.share(folder_ids=[scene.folder("Elbows")])
    assert client.post(f"/api/invitations/{code}/accept", token=intruder.token).status == 409


def test_expired_cancelled_and_unknown_codes_get_a_plain_message(scene, client):
    first = request_photos(client, scene)
    code = invitation_code(client)
    ok(client.post(f"/api/clinic/invitations/{first['id']}/cancel", token=scene.doctor.token))
    r = client.post(f"/api/invitations/{code}/accept", token=scene.patient.token)
    assert r.status == 410 and "cancelled" in r.json()["detail"]
    assert rows(client, scene) == []  # a cancelled request leaves the worklist

    second = request_photos(client, scene)
    late = invitation_code(client)
    client.services.clock.advance(days=14)
    r = client.get(f"/api/invitations/{late}", token=scene.patient.token)
    assert r.status == 410 and r.json()["detail"] == "This link has expired. Ask your clinic to send you a new one."
    assert rows(client, scene) == []  # an expired request is no longer waiting
    assert client.services.store.read(CLINICS, scene.clinic["id"], second["id"])["active"] is False  # nor read by the list again

    r = client.get("/api/invitations/not-a-real-code", token=scene.patient.token)
    assert r.status == 404 and "not valid" in r.json()["detail"]
    assert client.get(f"/api/invitations/{'x' * 65}", token=scene.patient.token).status == 404


def test_a_completed_request_cannot_be_cancelled_and_cancelling_twice_is_no_change(scene, client):
    invitation = request_photos(client, scene)
    code = invitation_code(client)
    ok(client.post(f"/api/invitations/{code}/accept", token=scene.patient.token))
    scene.share(folder_ids=[scene.folder("Elbows")])
    r = client.post(f"/api/clinic/invitations/{invitation['id']}/cancel", token=scene.doctor.token)
    assert r.status == 409
    other = request_photos(client, scene)
    once = ok(client.post(f"/api/clinic/invitations/{other['id']}/cancel", token=scene.doctor.token))
    twice = ok(client.post(f"/api/clinic/invitations/{other['id']}/cancel", token=scene.doctor.token))
    assert once == twice and once["state"] == "cancelled"


def test_another_clinic_and_patients_see_nothing_of_a_clinics_requests(scene, client):
    invitation = request_photos(client, scene, instruction=INSTRUCTION)
    other = create_clinic(client, scene.admin, "York Skin Clinic", email="york@nhs.example")
    york = clinician_of(client, scene.admin, other["id"], "doc-y", "Dr York")
    for token in (york.token, scene.patient.token, scene.admin):
        assert client.get(f"/api/clinic/invitations/{invitation['id']}", token=token).status == 404
        assert client.post(f"/api/clinic/invitations/{invitation['id']}/cancel", token=token).status == 404
    assert ok(client.get("/api/clinic/cases", token=york.token))["items"] == []
    body = {"email": "x@example.org", "clinicId": scene.clinic["id"]}
    assert client.post("/api/clinic/invitations", token=york.token, json=body).status == 404
    assert client.post("/api/clinic/invitations", token=scene.patient.token, json=body).status == 404
    code = invitation_code(client)
    assert client.get(f"/api/invitations/{code}", token=york.token).status == 404  # patients only
    assert client.get(f"/api/invitations/{code}").status == 401


def test_a_clinician_of_two_clinics_says_which_is_asking(scene, client):
    other = create_clinic(client, scene.admin, "York Skin Clinic", email="york@nhs.example")
    clinician_of(client, scene.admin, other["id"], scene.doctor.sub, "Dr Dana Scully")
    r = client.post("/api/clinic/invitations", token=scene.doctor.token, json={"email": "gwen@example.org"})
    assert r.status == 422 and "clinicId" in r.json()["detail"]
    made = ok(client.post("/api/clinic/invitations", token=scene.doctor.token, json={"email": "gwen@example.org", "clinicId": other["id"]}), 201)
    assert made["clinicId"] == other["id"]
    assert client.post("/api/clinic/invitations", token=scene.doctor.token, json={"email": "nobody"}).status == 422


def test_a_reminder_asked_for_in_the_request_is_set_on_the_shared_folders(scene, client):
    request_photos(client, scene, reminder="4w")
    code = invitation_code(client)
    assert ok(client.post(f"/api/invitations/{code}/accept", token=scene.patient.token))["reminder"] == "4w"
    folder = scene.folder("Elbows")
    scene.share(folder_ids=[folder])
    (reminder,) = ok(client.get("/api/reminders", token=scene.patient.token))["items"]
    assert (reminder["folderId"], reminder["every"], reminder["setBy"]["kind"]) == (folder, "4w", "clinic")


def test_the_invitation_email_is_not_sent_for_a_request_cancelled_before_delivery(scene, client):
    invitation = request_photos(client, scene)
    ok(client.post(f"/api/clinic/invitations/{invitation['id']}/cancel", token=scene.doctor.token))
    deliver_all(client)
    assert client.services.email.sent == []
