"""Photo reminders per folder, and the timer-triggered function that emails those due: one email
per due date, however often the timer fires and however many instances run it at once."""

from __future__ import annotations

import pytest
from azure.functions.timer import TimerRequest

from shared_code.adapters.outbox_email import OutboxEmailSender
from shared_code.adapters.sqlite_store import SqliteMetadataStore
from shared_code.domain.common import iso, stable_id
from shared_code.ports import LOOKUPS
from shared_code.services import reminders
from tests.support.conversation import reminder_timer
from tests.support.email_scan import content_of
from tests.support.library_helpers import RacyStore, build_scene, ok, run_together

FOLDER = "Psoriasis on right knee"


@pytest.fixture
def scene(client):
    scene = build_scene(client, patient_name="Hal Pennington", patient_email="hal@example.org")
    scene.knee = scene.folder(FOLDER, condition="Plaque psoriasis", bodySite="right-knee")
    return scene


def fire_timer() -> None:
    reminder_timer()(TimerRequest(past_due=False))


def reminder_mails(client) -> list:
    return [m for m in client.services.email.sent if m.subject == "A reminder from SkinVault"]


def test_a_patient_sets_a_reminder_and_sees_when_photos_are_due(scene, client):
    set_ = ok(client.put(f"/api/folders/{scene.knee}/reminder", token=scene.patient.token, json={"every": "2w"}))
    assert (set_["every"], set_["label"], set_["nextDueAt"], set_["due"]) == ("2w", "every 2 weeks", "2026-12-11T10:00:00Z", False)
    assert set_["setBy"] == {"kind": "patient", "clinicName": None}
    client.services.clock.advance(days=14)
    (listed,) = ok(client.get("/api/reminders", token=scene.patient.token))["items"]
    assert listed["due"] is True
    fire_timer()
    (listed,) = ok(client.get("/api/reminders", token=scene.patient.token))["items"]
    assert (listed["lastDueAt"], listed["nextDueAt"], listed["due"]) == ("2026-12-11T10:00:00Z", "2026-12-25T10:00:00Z", True)
    scene.photo(scene.knee)  # photos taken: nothing is due until the next date
    assert ok(client.get("/api/reminders", token=scene.patient.token))["items"][0]["due"] is False
    ok(client.delete(f"/api/folders/{scene.knee}/reminder", token=scene.patient.token), 204)
    assert ok(client.get("/api/reminders", token=scene.patient.token))["items"] == []
    assert client.put(f"/api/folders/{scene.knee}/reminder", token=scene.patient.token, json={"every": "3d"}).status == 400


def test_monthly_reminders_fall_on_the_same_day_or_the_months_last(scene, client):
    client.services.clock.moment = client.services.clock.moment.replace(year=2027, month=1, day=31)
    assert (
        ok(client.put(f"/api/folders/{scene.knee}/reminder", token=scene.patient.token, json={"every": "1m"}))["nextDueAt"] == "2027-02-28T10:00:00Z"
    )


def test_the_timer_emails_a_due_reminder_once_with_no_clinical_content(scene, client):
    ok(client.put(f"/api/folders/{scene.knee}/reminder", token=scene.patient.token, json={"every": "1w"}))
    fire_timer()
    assert reminder_mails(client) == []  # not due yet
    client.services.clock.advance(days=7)
    fire_timer()
    fire_timer()  # fired twice (a retry, or a second schedule): still one email
    (mail,) = reminder_mails(client)
    assert mail.to == "hal@example.org" and "http://127.0.0.1:7071/app/" in mail.text
    content = content_of(mail)
    assert not [v for v in (FOLDER, "psoriasis", "Psoriasis", "knee", "Hal", "Pennington", "Leeds") if v in content]
    client.services.clock.advance(days=7)
    fire_timer()
    assert len(reminder_mails(client)) == 2  # the next due date has its own email
    assert len({m.message_id for m in reminder_mails(client)}) == 2


def test_a_missed_run_sends_one_email_not_one_per_missed_date(scene, client):
    ok(client.put(f"/api/folders/{scene.knee}/reminder", token=scene.patient.token, json={"every": "1w"}))
    client.services.clock.advance(days=30)
    fire_timer()
    fire_timer()
    assert len(reminder_mails(client)) == 1
    (listed,) = ok(client.get("/api/reminders", token=scene.patient.token))["items"]
    assert listed["nextDueAt"] == "2027-01-01T10:00:00Z"


@pytest.fixture(params=["racy-fake", "sqlite"])
def racy_scene(request, client, tmp_path):
    """The scene on a store where concurrent runners interleave (fake) or on a real SQLite file."""
    if request.param == "racy-fake":
        client.services.store = RacyStore()
    else:
        store = SqliteMetadataStore(str(tmp_path / "timer.db"))
        store.ensure_containers()
        client.services.store = store
        request.addfinalizer(store.close)
    scene = build_scene(client, patient_email="hal@example.org")
    folders = [scene.folder(f"Folder {n}") for n in range(3)]
    for folder in folders:
        ok(client.put(f"/api/folders/{folder}/reminder", token=scene.patient.token, json={"every": "2w"}))
    client.services.clock.advance(days=15)
    return scene


def test_concurrent_timer_runs_send_each_due_reminder_once(racy_scene, client, tmp_path):
    store = client.services.store
    outbox = OutboxEmailSender(tmp_path / "outbox", "donotreply@skinvault.local")  # the real local adapter
    client.services.email = outbox
    if isinstance(store, RacyStore):
        store.pause = 0.002
    results = run_together(*[lambda: reminders.send_due(client.services) for _ in range(4)])
    if isinstance(store, RacyStore):
        store.pause = 0
        assert store.stale_writes > 0  # the runners really raced
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r["sent"] for r in results) == 3
    assert len(list(outbox.folder.glob("*.eml"))) == 3
    fire_timer()
    assert len(list(outbox.folder.glob("*.eml"))) == 3


def test_a_runner_that_claimed_a_due_date_and_died_is_taken_over(scene, client):
    ok(client.put(f"/api/folders/{scene.knee}/reminder", token=scene.patient.token, json={"every": "1w"}))
    client.services.clock.advance(days=7)
    (entry,) = client.services.store.query(LOOKUPS, reminders.INDEX).items
    claim_id = stable_id("remsent", entry["id"], entry["nextDueAt"])
    client.services.store.create(LOOKUPS, {"id": claim_id, "key": claim_id, "claimedAt": iso(client.services.clock.now()), "sentAt": None})
    fire_timer()
    assert reminder_mails(client) == []  # another runner may still be sending it
    client.services.clock.advance(minutes=16)
    fire_timer()
    assert len(reminder_mails(client)) == 1


def test_an_email_outage_leaves_the_reminder_due_for_the_next_run(scene, client):
    ok(client.put(f"/api/folders/{scene.knee}/reminder", token=scene.patient.token, json={"every": "1w"}))
    client.services.clock.advance(days=7)
    client.services.email.fail_next = 1
    assert reminders.send_due(client.services)["failed"] == 1
    assert reminders.send_due(client.services)["sent"] == 1
    assert len(reminder_mails(client)) == 1


def test_reminders_of_deleted_folders_and_erased_accounts_are_dropped(scene, client):
    other = scene.folder("Other")
    for folder in (scene.knee, other):
        ok(client.put(f"/api/folders/{folder}/reminder", token=scene.patient.token, json={"every": "1w"}))
    ok(client.delete(f"/api/folders/{other}", token=scene.patient.token), 204)
    client.services.clock.advance(days=7)
    assert reminders.send_due(client.services) == {"sent": 1, "skipped": 1, "claimed": 0, "failed": 0}
    ok(client.delete("/api/me", token=scene.patient.token), 204)
    assert client.services.store.query(LOOKUPS, reminders.INDEX).items == []  # erasure removes the index too


def test_a_patient_without_an_email_address_gets_no_email_but_the_date_moves_on(client):
    scene = build_scene(client, patient_email=None)
    folder = scene.folder("Scar")
    ok(client.put(f"/api/folders/{folder}/reminder", token=scene.patient.token, json={"every": "1w"}))
    client.services.clock.advance(days=7)
    assert reminders.send_due(client.services)["skipped"] == 1
    assert client.services.email.sent == []
    assert ok(client.get("/api/reminders", token=scene.patient.token))["items"][0]["nextDueAt"] == "2026-12-11T10:00:00Z"


def test_only_the_patient_sets_reminders_on_their_folders(scene, client):
    intruder = client.token("patient-b", "patient", "Bo Other")
    for token in (intruder, scene.doctor.token, scene.admin):
        assert client.put(f"/api/folders/{scene.knee}/reminder", token=token, json={"every": "1w"}).status == 404
        assert client.delete(f"/api/folders/{scene.knee}/reminder", token=token).status == 404
    assert ok(client.get("/api/reminders", token=intruder))["items"] == []
