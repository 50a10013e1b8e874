"""The conversation between a clinic and a patient: replies, withdrawal, triage messages for the
patient, internal notes, and the patient's "your clinic has sent you a message" email."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from shared_code.domain.conversation import OUTCOME_TEXT
from shared_code.ports import CLINICS, NOTIFICATIONS_QUEUE
from tests.support.email_scan import content_of
from tests.support.library_helpers import build_scene, clinician_of, create_clinic, deliver, deliver_all, ok

INTERNAL_NOTE = "MDT: probable lentigo maligna, do not tell yet"
TRIAGE_NOTE = "Internal: query melanoma in situ"
PATIENT_MESSAGE = "Please book the appointment we will send you"


@pytest.fixture
def scene(client):
    scene = build_scene(client, patient_name="Ffion Aldridge-Parry", patient_email="ffion@example.org")
    scene.mole = scene.folder("Mole on left shoulder", notes="Itches at night", condition="Changing mole", bodySite="left-shoulder")
    scene.photo(scene.mole)
    scene.share(folder_ids=[scene.mole])
    deliver_all(client)
    return scene


def case(client, scene) -> dict:
    return client.services.store.read(CLINICS, scene.clinic["id"], scene.case_id())


def test_the_patient_replies_in_a_shared_folder_and_the_clinic_sees_it_as_new_activity(scene, client):
    ok(client.post(f"/api/clinic/cases/{scene.case_id()}/reviewed", token=scene.doctor.token))
    ok(client.post(f"/api/folders/{scene.mole}/comments", token=scene.doctor.token, json={"text": "Is it raised?"}), 201)
    client.services.clock.advance(hours=2)
    reply = ok(client.post(f"/api/folders/{scene.mole}/comments", token=scene.patient.token, json={"text": " Yes, slightly "}), 201)
    assert (reply["kind"], reply["text"], reply["author"]["kind"], reply["clinicId"]) == ("reply", "Yes, slightly", "patient", scene.clinic["id"])

    seen = ok(client.get(f"/api/folders/{scene.mole}/comments", token=scene.doctor.token))["items"]
    assert [(c["kind"], c["text"]) for c in seen] == [("comment", "Is it raised?"), ("reply", "Yes, slightly")]
    assert seen[1]["author"]["name"] == "Ffion Aldridge-Parry"
    (row,) = ok(client.get("/api/clinic/cases?filter=new", token=scene.doctor.token))["items"]
    assert row["newReplyCount"] == 1 and row["lastActivityAt"] == "2026-11-27T12:00:00Z"
    assert ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token))["newReplyCount"] == 1
    ok(client.post(f"/api/clinic/cases/{scene.case_id()}/reviewed", token=scene.doctor.token))
    assert ok(client.get("/api/clinic/cases?filter=new", token=scene.doctor.token))["items"] == []
    actions = [e["action"] for e in ok(client.get("/api/audit?limit=200", token=scene.patient.token))["items"]]
    assert "replied" in actions


def test_a_reply_emails_the_clinic_once_per_window_without_patient_data(scene, client):
    for text in ("First", "Second"):
        ok(client.post(f"/api/folders/{scene.mole}/comments", token=scene.patient.token, json={"text": text}), 201)
    messages = client.services.queue.take(NOTIFICATIONS_QUEUE)
    assert [m["kind"] for m in messages] == ["patient-reply", "patient-reply"]
    for n, message in enumerate(messages):
        deliver(message, message_id=f"r-{n}")
    (mail,) = [m for m in client.services.email.sent if m.subject == "A patient has replied"]
    assert mail.to == "derm-leeds@nhs.example" and "Ffion" not in content_of(mail) and "First" not in content_of(mail)


def test_a_patient_can_reply_only_where_a_clinic_sees_the_folder(scene, client):
    private = scene.folder("Private")
    r = client.post(f"/api/folders/{private}/comments", token=scene.patient.token, json={"text": "Hello"})
    assert r.status == 422 and "share" in r.json()["detail"]
    other = client.token("patient-z", "patient", "Zed Other")
    assert client.post(f"/api/folders/{scene.mole}/comments", token=other, json={"text": "Hello"}).status == 404
    assert client.post(f"/api/folders/{scene.mole}/comments", token=scene.patient.token, json={"text": "   "}).status == 422
    # photos are commented on by clinics; patients reply in the folder
    images = ok(client.get(f"/api/folders/{scene.mole}/images", token=scene.patient.token))["items"]
    assert client.post(f"/api/images/{images[0]['id']}/comments", token=scene.patient.token, json={"text": "Hi"}).status == 404


def test_a_folder_two_clinics_see_takes_a_reply_for_one_named_clinic_and_the_other_sees_nothing(scene, client):
    second = create_clinic(client, scene.admin, "York Skin Clinic", email="york@nhs.example")
    york = clinician_of(client, scene.admin, second["id"], "doc-y", "Dr York")
    scene.share(second["id"], folder_ids=[scene.mole])
    r = client.post(f"/api/folders/{scene.mole}/comments", token=scene.patient.token, json={"text": "To whom?"})
    assert r.status == 422 and "clinicId" in r.json()["detail"]
    body = {"text": "For York only", "clinicId": second["id"]}
    ok(client.post(f"/api/folders/{scene.mole}/comments", token=scene.patient.token, json=body), 201)
    assert [c["text"] for c in ok(client.get(f"/api/folders/{scene.mole}/messages", token=york.token))["items"]] == ["For York only"]
    assert ok(client.get(f"/api/folders/{scene.mole}/messages", token=scene.doctor.token))["items"] == []
    r = client.post(f"/api/folders/{scene.mole}/comments", token=scene.doctor.token, json={"text": "x", "clinicId": second["id"]})
    assert r.status == 422  # clinicId is for patients' replies


def test_a_withdrawn_comment_keeps_its_place_but_not_its_words_for_the_patient(scene, client):
    wrong = ok(client.post(f"/api/folders/{scene.mole}/comments", token=scene.doctor.token, json={"text": "Wrong patient, sorry"}), 201)
    url = f"/api/clinic/cases/{scene.case_id()}/comments/{wrong['id']}/withdraw"
    withdrawn = ok(client.post(url, token=scene.doctor.token))
    assert withdrawn["withdrawn"] is True and withdrawn["withdrawnAt"] == "2026-11-27T10:00:00Z"
    assert ok(client.post(url, token=scene.doctor.token))["withdrawnAt"] == withdrawn["withdrawnAt"]  # twice: no change

    for path in (f"/api/folders/{scene.mole}/messages", f"/api/folders/{scene.mole}/comments", "/api/messages"):
        reply = client.get(path, token=scene.patient.token)
        (item,) = [m for m in ok(reply)["items"] if m["id"] == wrong["id"]]
        assert item["withdrawn"] is True and item["text"] is None
        assert "Wrong patient" not in reply.body.decode()
    clinic_view = ok(client.get(f"/api/folders/{scene.mole}/comments", token=scene.doctor.token))["items"]
    assert [(c["text"], c["withdrawn"]) for c in clinic_view] == [("Wrong patient, sorry", True)]
    trail = ok(client.get("/api/audit?limit=200", token=scene.patient.token))["items"]
    (entry,) = [e for e in trail if e["action"] == "comment-withdrawn"]
    assert entry["target"] == {"type": "comment", "id": wrong["id"]} and "Wrong patient" not in json.dumps(trail)


def test_only_the_clinics_own_comments_can_be_withdrawn(scene, client):
    reply = ok(client.post(f"/api/folders/{scene.mole}/comments", token=scene.patient.token, json={"text": "Mine"}), 201)
    second = create_clinic(client, scene.admin, "York Skin Clinic", email="york@nhs.example")
    york = clinician_of(client, scene.admin, second["id"], "doc-y", "Dr York")
    scene.share(second["id"], folder_ids=[scene.mole])
    theirs = ok(client.post(f"/api/folders/{scene.mole}/comments", token=york.token, json={"text": "York's"}), 201)
    base = f"/api/clinic/cases/{scene.case_id()}/comments"
    assert client.post(f"{base}/{reply['id']}/withdraw", token=scene.doctor.token).status == 404  # the patient's words
    assert client.post(f"{base}/{theirs['id']}/withdraw", token=scene.doctor.token).status == 404  # another clinic's
    assert client.post(f"/api/clinic/cases/{scene.case_id(second['id'])}/comments/{theirs['id']}/withdraw", token=scene.doctor.token).status == 404
    assert client.post(f"{base}/{theirs['id']}/withdraw", token=scene.patient.token).status == 404


def test_the_triage_outcome_reaches_the_patient_in_plain_words_with_the_clinicians_message(scene, client):
    body = {"outcome": "list-for-excision", "note": TRIAGE_NOTE, "patientMessage": PATIENT_MESSAGE}
    triage = ok(client.put(f"/api/clinic/cases/{scene.case_id()}/triage", token=scene.doctor.token, json=body))
    assert triage["note"] == TRIAGE_NOTE and triage["patientMessage"] == PATIENT_MESSAGE
    (message,) = ok(client.get("/api/messages", token=scene.patient.token))["items"]
    assert message["kind"] == "outcome" and message["outcome"] == {"code": "list-for-excision", "text": OUTCOME_TEXT["list-for-excision"]}
    assert message["text"] == PATIENT_MESSAGE and message["author"]["clinicName"] == "Leeds Dermatology"
    folder_messages = ok(client.get(f"/api/folders/{scene.mole}/messages", token=scene.patient.token))["items"]
    assert [m["id"] for m in folder_messages] == [message["id"]]
    deliver_all(client)
    (mail,) = [m for m in client.services.email.sent if m.to == "ffion@example.org"]
    assert mail.subject == "Your clinic has sent you a message in SkinVault"
    assert "/app/" in mail.text and "Leeds" not in content_of(mail) and PATIENT_MESSAGE not in content_of(mail)


def test_clinic_messages_coalesce_into_one_patient_email_per_window(scene, client):
    for text in ("One", "Two", "Three"):
        ok(client.post(f"/api/folders/{scene.mole}/comments", token=scene.doctor.token, json={"text": text}), 201)
    deliver_all(client)
    assert len([m for m in client.services.email.sent if m.to == "ffion@example.org"]) == 1
    client.services.clock.advance(minutes=client.services.settings.notification_window_minutes + 1)
    ok(client.post(f"/api/folders/{scene.mole}/comments", token=scene.doctor.token, json={"text": "Four"}), 201)
    deliver_all(client)
    assert len([m for m in client.services.email.sent if m.to == "ffion@example.org"]) == 2


def test_no_patient_email_without_an_address_or_for_a_withdrawn_comment(client):
    scene = build_scene(client, patient_email=None)
    folder = scene.folder("Rash")
    scene.share(folder_ids=[folder])
    deliver_all(client)
    ok(client.post(f"/api/folders/{folder}/comments", token=scene.doctor.token, json={"text": "Seen"}), 201)
    deliver_all(client)
    assert [m.to for m in client.services.email.sent] == ["derm-leeds@nhs.example"]  # the share; nothing to the patient
    ok(client.put("/api/me", token=scene.patient.token, json={"email": "later@example.org"}))
    wrong = ok(client.post(f"/api/folders/{folder}/comments", token=scene.doctor.token, json={"text": "Oops"}), 201)
    ok(client.post(f"/api/clinic/cases/{scene.case_id()}/comments/{wrong['id']}/withdraw", token=scene.doctor.token))
    deliver_all(client)
    assert [m.to for m in client.services.email.sent] == ["derm-leeds@nhs.example"]


def test_internal_notes_stay_with_the_clinic(scene, client):
    doctor = scene.doctor.token
    note = ok(client.post(f"/api/clinic/cases/{scene.case_id()}/notes", token=doctor, json={"text": INTERNAL_NOTE}), 201)
    assert note["text"] == INTERNAL_NOTE and note["author"]["name"] == "Dr Dana Scully"
    assert [n["id"] for n in ok(client.get(f"/api/clinic/cases/{scene.case_id()}/notes", token=doctor))["items"]] == [note["id"]]
    assert client.post(f"/api/clinic/cases/{scene.case_id()}/notes", token=doctor, json={"text": "  "}).status == 422
    triage = {"outcome": "request-more-photos", "note": TRIAGE_NOTE, "patientMessage": PATIENT_MESSAGE, "reminder": "2w"}
    ok(client.put(f"/api/clinic/cases/{scene.case_id()}/triage", token=doctor, json=triage))
    ok(client.post(f"/api/folders/{scene.mole}/comments", token=doctor, json={"text": "Thanks"}), 201)
    deliver_all(client)

    # every patient response, the patient's export, the audit text and every email
    patient = scene.patient.token
    replies = [
        client.get(path, token=patient)
        for path in (
            "/api/me",
            "/api/folders",
            f"/api/folders/{scene.mole}",
            f"/api/folders/{scene.mole}/images",
            f"/api/folders/{scene.mole}/comments",
            f"/api/folders/{scene.mole}/messages",
            "/api/messages",
            "/api/shares",
            "/api/reminders",
            "/api/audit?limit=200",
        )
    ]
    assert all(r.status == 200 for r in replies)
    export = client.get("/api/me/export", token=patient)
    with zipfile.ZipFile(io.BytesIO(export.body)) as zf:
        exported = "\n".join(zf.read(n).decode("utf-8", errors="replace") for n in zf.namelist() if not n.endswith(".jpg"))
    texts = [r.body.decode() for r in replies] + [exported] + [content_of(m) for m in client.services.email.sent]
    for text in texts:
        assert INTERNAL_NOTE not in text and TRIAGE_NOTE not in text
    assert PATIENT_MESSAGE in exported and PATIENT_MESSAGE in replies[6].body.decode()
    assert "added an internal note" in replies[-1].body.decode()  # the patient learns a note was made, not what it says
    other = create_clinic(client, scene.admin, "York Skin Clinic", email="york@nhs.example")
    york = clinician_of(client, scene.admin, other["id"], "doc-y", "Dr York")
    assert client.get(f"/api/clinic/cases/{scene.case_id()}/notes", token=york.token).status == 404
    assert client.get(f"/api/clinic/cases/{scene.case_id()}/notes", token=patient).status == 404


def test_a_reminder_goes_only_with_a_request_for_more_photos(scene, client):
    url = f"/api/clinic/cases/{scene.case_id()}/triage"
    assert client.put(url, token=scene.doctor.token, json={"outcome": "discharge", "reminder": "1w"}).status == 422
    ok(client.put(url, token=scene.doctor.token, json={"outcome": "request-more-photos", "reminder": "1w"}))
    (reminder,) = ok(client.get("/api/reminders", token=scene.patient.token))["items"]
    assert reminder["folderId"] == scene.mole and reminder["every"] == "1w"
    assert reminder["setBy"] == {"kind": "clinic", "clinicName": "Leeds Dermatology"}
