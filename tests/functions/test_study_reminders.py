"""Study timepoint reminders: the reminders timer also emails each due timepoint of a research study
once, however often it fires and however many runners race, to the patient's verified address only,
and the email names neither the study nor anything clinical."""

from __future__ import annotations

import pytest
from azure.functions.timer import TimerRequest

from shared_code.adapters.outbox_email import OutboxEmailSender
from shared_code.adapters.sqlite_store import SqliteMetadataStore
from shared_code.services import reminders
from tests.functions.test_studies import EMAIL, NAME, NHS, enrol, study_body
from tests.support.conversation import reminder_timer
from tests.support.email_scan import assert_no_patient_data, content_of, eml_content
from tests.support.library_helpers import RacyStore, build_scene, ok, run_together

DOB = "1961-03-14"


def fire_timer() -> None:
    reminder_timer()(TimerRequest(past_due=False))


def study_mails(client) -> list:
    return [m for m in client.services.email.sent if m.subject == "A reminder from SkinVault"]


def enrolled(client, patient_email: str | None = EMAIL):
    scene = build_scene(client, patient_name=NAME, patient_email=patient_email)
    ok(client.put("/api/me", token=scene.patient.token, json={"dateOfBirth": DOB, "nhsNumber": NHS}))
    study = ok(client.post("/api/manage/studies", token=scene.admin, json=study_body(scene.clinic["id"])), 201)
    arm = scene.folder("Plaque on my left arm", condition="Plaque psoriasis", bodySite="left-forearm")
    return scene, study, arm, enrol(client, scene, study, [arm])


def test_each_due_timepoint_is_emailed_once_with_no_study_or_clinical_content(client):
    scene, study, arm, _ = enrolled(client)
    fire_timer()
    fire_timer()  # fired twice: still one email for week 0
    (mail,) = study_mails(client)
    assert mail.to == EMAIL and "http://127.0.0.1:7071/app/" in mail.text
    content = content_of(mail)
    secrets = (study["title"], "Psoriasis", "psoriasis", study["sponsor"], study["recReference"], study["irasId"], "forearm", "Quennell", DOB)
    assert not [s for s in secrets if s in content]
    assert assert_no_patient_data([content], client.services.store) == 1
    scene.photo(arm)  # week 0 done
    client.services.clock.advance(days=27)
    fire_timer()
    fire_timer()
    assert len(study_mails(client)) == 2  # week 4 has its own email, once
    assert len({m.message_id for m in study_mails(client)}) == 2
    client.services.clock.advance(days=1)
    fire_timer()
    assert len(study_mails(client)) == 2  # still the same due timepoint: no second email


def test_a_withdrawn_participant_gets_no_more_reminders(client):
    scene, _, _, enrolment = enrolled(client)
    ok(client.delete(f"/api/enrolments/{enrolment['id']}", token=scene.patient.token))
    fire_timer()
    assert study_mails(client) == []


def test_only_a_verified_address_gets_a_study_reminder(client):
    scene, *_ = enrolled(client, patient_email=None)
    ok(client.put("/api/me", token=scene.patient.token, json={"email": "typed-not-verified@example.org"}))
    counts = reminders.send_due(client.services)
    assert counts["skipped"] == 1 and counts["sent"] == 0
    assert client.services.email.sent == []


def test_an_email_outage_leaves_the_timepoint_for_the_next_run(client):
    enrolled(client)
    client.services.email.fail_next = 1
    assert reminders.send_due(client.services)["failed"] == 1
    assert reminders.send_due(client.services)["sent"] == 1
    assert len(study_mails(client)) == 1


@pytest.mark.parametrize("kind", ["racy-fake", "sqlite"])
def test_concurrent_timer_runs_send_each_due_timepoint_once(kind, client, tmp_path):
    if kind == "racy-fake":
        client.services.store = RacyStore()
    else:
        store = SqliteMetadataStore(str(tmp_path / "timer.db"))
        store.ensure_containers()
        client.services.store = store
    try:
        enrolled(client)
        outbox = OutboxEmailSender(tmp_path / "outbox", "donotreply@skinvault.local")  # the real local adapter
        client.services.email = outbox
        if isinstance(client.services.store, RacyStore):
            client.services.store.pause = 0.002
        results = run_together(*[lambda: reminders.send_due(client.services) for _ in range(4)])
        if isinstance(client.services.store, RacyStore):
            client.services.store.pause = 0
            assert client.services.store.stale_writes > 0  # the runners really raced
        assert not [r for r in results if isinstance(r, Exception)], results
        assert sum(r["sent"] for r in results) == 1
        fire_timer()
        mails = list(outbox.folder.glob("*.eml"))
        assert len(mails) == 1
        assert assert_no_patient_data([eml_content(p) for p in mails], client.services.store) == 1
    finally:
        if kind == "sqlite":
            client.services.store.close()
