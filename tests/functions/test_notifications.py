"""Notification emails, sent by the queue-triggered `send_notification` from messages that carry ids only."""

from __future__ import annotations

import json

import pytest
from azure.functions.queue import QueueMessage

from shared_code.adapters.outbox_email import OutboxEmailSender
from shared_code.ports import NOTIFICATIONS_QUEUE, DependencyUnavailable
from tests.support.functions_client import settings_for
from tests.support.library_helpers import (
    RacyStore,
    actor,
    add_ready_image,
    build_scene,
    deliver,
    deliver_all,
    grant_share,
    notification_function,
    ok,
    run_together,
)

NAME, NHS, DOB = "Philippa Quarrington", "9434765919", "1958-07-21"
SITE, CONDITION, FOLDER_NOTES, PHOTO_NOTES = "left-forearm", "Basal cell carcinoma", "Crusting edge noticed by my GP", "Bleeds when shaving"


@pytest.fixture
def scene(client):
    scene = build_scene(client, patient_name=NAME, patient_email="philippa@example.org")
    ok(client.put("/api/me", token=scene.patient.token, json={"nhsNumber": NHS, "dateOfBirth": DOB}))
    return scene


def sensitive_values(scene, *extra):
    return (NAME, "Philippa", "Quarrington", NHS, "943 476 5919", DOB, SITE, "Left forearm", "forearm", CONDITION, FOLDER_NOTES, PHOTO_NOTES, *extra)


def mail_content(mail) -> str:
    """What an email says (the patient's own address is, of course, where it goes)."""
    return "\n".join((mail.subject, mail.text, mail.html or ""))


def test_new_share_emails_the_clinics_notification_address(scene, client):
    scene.share()
    assert client.services.email.sent == []  # nothing is sent until the queue message is processed
    (message,) = deliver_all(client)
    assert message["kind"] == "share-granted"
    (mail,) = client.services.email.sent
    assert mail.to == "derm-leeds@nhs.example"
    assert "shared" in mail.subject.lower()
    assert "Leeds Dermatology" in mail.text
    assert "http://127.0.0.1:7071/" in mail.text and 'href="http://127.0.0.1:7071/"' in mail.html
    assert mail.message_id


def test_new_ready_photos_in_a_shared_folder_email_the_clinic(scene, client):
    folder = scene.folder("Mole")
    scene.share(folder_ids=[folder])
    deliver_all(client)
    scene.photo(folder)
    (message,) = client.services.queue.take(NOTIFICATIONS_QUEUE)
    assert message["kind"] == "new-images" and message["caseId"] == scene.case_id()
    deliver(message)
    mail = client.services.email.sent[-1]
    assert mail.to == "derm-leeds@nhs.example" and mail.subject == "New photos to review"
    assert len(client.services.email.sent) == 2


def test_photos_in_a_folder_that_is_not_shared_notify_nobody(scene, client):
    shared, private = scene.folder("Shared"), scene.folder("Private")
    scene.share(folder_ids=[shared])
    deliver_all(client)
    scene.photo(private)
    assert client.services.queue.take(NOTIFICATIONS_QUEUE) == []


def test_photos_after_the_share_ended_notify_nobody(scene, client):
    folder = scene.folder("Mole")
    share = scene.share(folder_ids=[folder])
    deliver_all(client)
    ok(client.delete(f"/api/shares/{share['id']}", token=scene.patient.token))
    assert [m["kind"] for m in client.services.queue.take(NOTIFICATIONS_QUEUE)] == ["sharing-ended"]
    scene.photo(folder)
    assert client.services.queue.take(NOTIFICATIONS_QUEUE) == []


def test_new_photo_emails_are_limited_to_one_per_case_per_window(scene, client):
    folder = scene.folder("Mole")
    scene.share(folder_ids=[folder])
    deliver_all(client)
    sent = client.services.email.sent

    scene.photo(folder, seed=1)
    deliver_all(client)
    assert len(sent) == 2
    client.services.clock.advance(minutes=5)
    scene.photo(folder, seed=2)
    client.services.clock.advance(minutes=5)
    scene.photo(folder, seed=3)
    deliver_all(client)
    assert len(sent) == 2  # both inside the 15 minute window
    client.services.clock.advance(minutes=6)  # 16 minutes after the first email
    scene.photo(folder, seed=4)
    deliver_all(client)
    assert len(sent) == 3
    assert [m.subject for m in sent[1:]] == ["New photos to review"] * 2


def test_the_window_is_per_case(scene, client):
    folder = scene.folder("Mole")
    scene.share(folder_ids=[folder])
    bea = actor(client, "patient-b", "patient", "Bea")
    bea_folder = ok(client.post("/api/folders", token=bea.token, json={"name": "Rash"}), 201)["id"]
    grant_share(client, bea.token, scene.clinic["id"])
    deliver_all(client)
    scene.photo(folder)
    add_ready_image(client, bea.token, bea_folder)
    deliver_all(client)
    assert [m.subject for m in client.services.email.sent].count("New photos to review") == 2


def test_the_window_length_is_a_setting(client, tmp_path):
    client.services.settings = settings_for(tmp_path, NOTIFICATION_WINDOW_MINUTES="60")
    assert client.services.settings.notification_window_minutes == 60
    scene = build_scene(client)
    folder = scene.folder("Mole")
    scene.share(folder_ids=[folder])
    scene.photo(folder)
    deliver_all(client)
    client.services.clock.advance(minutes=30)
    scene.photo(folder, seed=1)
    deliver_all(client)
    assert len(client.services.email.sent) == 2  # share + first photo; the second is inside the hour
    client.services.clock.advance(minutes=31)
    scene.photo(folder, seed=2)
    deliver_all(client)
    assert len(client.services.email.sent) == 3


def test_a_batch_of_photos_processed_at_once_sends_one_email(client):
    client.services.store = store = RacyStore()
    scene = build_scene(client)
    folder = scene.folder("Mole")
    scene.share(folder_ids=[folder])
    deliver_all(client)
    for seed in range(3):
        scene.photo(folder, seed=seed)
    messages = client.services.queue.take(NOTIFICATIONS_QUEUE)
    assert len(messages) == 3
    store.pause = 0.005  # the host hands a batch of queue messages to concurrent invocations
    results = run_together(*[lambda m=m, n=n: deliver(m, message_id=f"batch-{n}") for n, m in enumerate(messages)])
    store.pause = 0
    assert results == [None, None, None]
    assert [m.subject for m in client.services.email.sent].count("New photos to review") == 1


def test_request_for_more_photos_emails_the_patient(scene, client):
    scene.share()
    deliver_all(client)
    ok(
        client.put(
            f"/api/clinic/cases/{scene.case_id()}/triage", token=scene.doctor.token, json={"outcome": "request-more-photos", "note": PHOTO_NOTES}
        )
    )
    (message,) = client.services.queue.take(NOTIFICATIONS_QUEUE)
    assert message["kind"] == "more-photos-requested"
    deliver(message)
    mail = client.services.email.sent[-1]
    assert mail.to == "philippa@example.org"
    assert "more photos" in mail.subject.lower() and "Leeds Dermatology" in mail.text
    assert PHOTO_NOTES not in mail_content(mail)  # the clinician's note stays in the app


def test_request_for_more_photos_sends_nothing_when_no_email_is_known(client):
    scene = build_scene(client, patient_email=None)
    scene.share()
    deliver_all(client)
    ok(client.put(f"/api/clinic/cases/{scene.case_id()}/triage", token=scene.doctor.token, json={"outcome": "request-more-photos"}))
    deliver_all(client)
    assert [m.to for m in client.services.email.sent] == ["derm-leeds@nhs.example"]


def test_other_triage_outcomes_tell_the_patient_there_is_a_message_and_nothing_more(scene, client):
    scene.share()
    deliver_all(client)
    body = {"outcome": "discharge", "note": "Internal: seborrhoeic keratosis", "patientMessage": "Nothing to worry about"}
    ok(client.put(f"/api/clinic/cases/{scene.case_id()}/triage", token=scene.doctor.token, json=body))
    (message,) = client.services.queue.take(NOTIFICATIONS_QUEUE)
    assert message["kind"] == "clinic-message" and set(message) == {"kind", "patientId", "clinicId", "messageId"}
    deliver(message)
    mail = client.services.email.sent[-1]
    assert mail.to == "philippa@example.org" and mail.subject == "Your clinic has sent you a message in SkinVault"
    assert "http://127.0.0.1:7071/app/" in mail.text and 'href="http://127.0.0.1:7071/app/"' in (mail.html or "")
    content = mail_content(mail)
    assert not [v for v in (*sensitive_values(scene), *body.values(), "Leeds Dermatology") if v in content]


@pytest.mark.parametrize("kind", ["share-granted", "new-images", "more-photos-requested"])
def test_a_message_delivered_twice_sends_one_email(scene, client, kind, tmp_path):
    folder = scene.folder("Mole")
    scene.share(folder_ids=[folder])
    if kind == "new-images":
        client.services.queue.take(NOTIFICATIONS_QUEUE)
        scene.photo(folder)
    elif kind == "more-photos-requested":
        client.services.queue.take(NOTIFICATIONS_QUEUE)
        ok(client.put(f"/api/clinic/cases/{scene.case_id()}/triage", token=scene.doctor.token, json={"outcome": "request-more-photos"}))
    (message,) = client.services.queue.take(NOTIFICATIONS_QUEUE)
    assert message["kind"] == kind
    outbox = OutboxEmailSender(tmp_path / "outbox", "donotreply@skinvault.local")  # the real local adapter
    client.services.email = outbox
    deliver(message, message_id="m-1", dequeue_count=1)
    client.services.clock.advance(minutes=20)  # even a late redelivery, after the window
    deliver(message, message_id="m-1", dequeue_count=2)
    assert len(list(outbox.folder.glob("*.eml"))) == 1


def test_an_email_outage_is_retried_by_the_host_and_then_sent_once(scene, client):
    scene.share()
    (message,) = client.services.queue.take(NOTIFICATIONS_QUEUE)
    client.services.email.fail_next = 1
    with pytest.raises(DependencyUnavailable):
        deliver(message, dequeue_count=1)  # the function fails: the host will redeliver
    assert client.services.email.sent == []
    deliver(message, dequeue_count=2)
    assert len(client.services.email.sent) == 1


def test_a_new_photo_email_that_failed_is_sent_on_retry_not_throttled(scene, client):
    folder = scene.folder("Mole")
    scene.share(folder_ids=[folder])
    deliver_all(client)
    scene.photo(folder)
    (message,) = client.services.queue.take(NOTIFICATIONS_QUEUE)
    client.services.email.fail_next = 1
    with pytest.raises(DependencyUnavailable):
        deliver(message)
    client.services.clock.advance(minutes=1)
    deliver(message, dequeue_count=2)
    assert [m.subject for m in client.services.email.sent] == ["A patient has shared photos with your clinic", "New photos to review"]


@pytest.mark.parametrize(
    "message",
    [
        {"kind": "birthday-card", "clinicId": "x"},
        {"kind": "share-granted", "clinicId": "cln-closed", "shareId": "shr-1", "caseId": "case-1"},
        {"kind": "more-photos-requested", "clinicId": "cln-closed", "caseId": "case-1", "patientId": "pt-1"},
    ],
    ids=["unknown-kind", "unknown-clinic", "unknown-clinic-for-patient-email"],
)
def test_messages_that_cannot_be_acted_on_are_dropped_quietly(client, message):
    deliver(message)
    assert client.services.email.sent == []


def test_a_message_that_is_not_json_is_dropped(client):
    notification_function()(QueueMessage(id="bad", body=b"\x00not json", dequeue_count=1))
    assert client.services.email.sent == []


def test_no_email_or_queue_message_carries_patient_identifiable_data(scene, client):
    folder = scene.folder("Lesion", bodySite=SITE, condition=CONDITION, notes=FOLDER_NOTES)
    scene.share(folder_ids=[folder])
    scene.photo(folder, notes=PHOTO_NOTES)
    ok(
        client.put(
            f"/api/clinic/cases/{scene.case_id()}/triage", token=scene.doctor.token, json={"outcome": "request-more-photos", "note": CONDITION}
        )
    )
    messages = deliver_all(client)
    assert {m["kind"] for m in messages} == {"share-granted", "new-images", "more-photos-requested"}
    assert len(client.services.email.sent) == 3
    for message in messages:
        text = json.dumps(message)
        assert not [v for v in sensitive_values(scene, "Lesion") if v in text], message
    for mail in client.services.email.sent:
        found = [v for v in sensitive_values(scene, "Lesion", folder) if v.lower() in mail_content(mail).lower()]
        assert not found, (mail.subject, found)


def test_the_email_scan_every_test_runs_catches_patient_data(scene, client):
    """The scan the `services` fixture runs on every email: it finds names, notes and NHS numbers."""
    from shared_code.ports import EmailMessage
    from tests.support.email_scan import assert_no_patient_data, content_of

    scene.folder("Mole", notes=FOLDER_NOTES, condition=CONDITION)
    for leak in (NAME, FOLDER_NOTES, CONDITION, "NHS 943 476 5919"):
        mail = EmailMessage(to="x@example.org", subject="Hello", text=f"About {leak}", message_id="m")
        with pytest.raises(AssertionError, match="patient data"):
            assert_no_patient_data([content_of(mail)], client.services.store)
    clean = EmailMessage(to="x@example.org", subject="New photos to review", text="A patient has added new photos.", message_id="m")
    assert assert_no_patient_data([content_of(clean)], client.services.store) == 1
