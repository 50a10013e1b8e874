"""`python -m scripts.manage` (issue 18 item 5) against the local stack: Azurite blobs and queues,
SQLite, the local PEM KEK with per-patient data keys. Each command is run through `main()` on the
services the app would build (bootstrap is given them), and what it says is checked in storage.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from azure.storage.queue import QueueServiceClient

from scripts import manage
from shared_code import bootstrap
from shared_code.adapters.kek_operations import KekOperationCounter
from shared_code.adapters.local_kek import LocalKekProvider
from shared_code.adapters.storage_queue import StorageQueue
from shared_code.adapters.traced import TracedKekProvider
from shared_code.ports import EXPORT_JOBS_QUEUE, NOTIFICATIONS_QUEUE, PATIENTS, UPLOADS
from shared_code.services import exports, reconciliation
from tests.support.azurite import Azurite
from tests.support.encrypted_services import encrypted_services
from tests.support.functions_client import FunctionsClient
from tests.support.images import make_photo
from tests.support.library_helpers import build_scene, ok, start_upload
from tests.support.telemetry import in_memory_metrics, metric_points


@pytest.fixture(scope="module")
def azurite() -> Iterator[Azurite]:
    with Azurite() as server:
        yield server


@pytest.fixture
def client(tmp_path, azurite) -> Iterator[FunctionsClient]:
    base = encrypted_services(tmp_path, azurite.connection_string, TracedKekProvider(LocalKekProvider(tmp_path / "kek.pem")))
    queue = StorageQueue.from_connection_string(azurite.connection_string)
    queue.ensure_queues()
    _empty_queues(azurite)
    settings = dataclasses.replace(
        base.settings, storage_connection_string=azurite.connection_string, uploads_connection_string=azurite.connection_string
    )
    yield FunctionsClient(bootstrap.instrument(dataclasses.replace(base, queue=queue, settings=settings)))
    bootstrap.override(None)


@pytest.fixture
def scene(client, request):
    return build_scene(client, patient_sub=f"manage-{request.node.name}"[:60])


def _queues(azurite: Azurite) -> QueueServiceClient:
    return QueueServiceClient.from_connection_string(azurite.connection_string)


def _empty_queues(azurite: Azurite) -> None:
    for q in _queues(azurite).list_queues():
        _queues(azurite).get_queue_client(q.name).clear_messages()


def _count(azurite: Azurite, queue: str) -> int:
    return len(list(_queues(azurite).get_queue_client(queue).peek_messages(max_messages=32)))


def _bodies(azurite: Azurite, queue: str) -> list[dict[str, Any]]:
    return [json.loads(base64.b64decode(m.content)) for m in _queues(azurite).get_queue_client(queue).peek_messages(max_messages=32)]


def manage_cli(*argv: str) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    code = manage.main(["--settings", "/nonexistent/local.settings.json", "--json", *argv], out=out)
    return code, json.loads(out.getvalue()) if out.getvalue().startswith("{") else {"text": out.getvalue()}


def manage_text(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = manage.main(["--settings", "/nonexistent/local.settings.json", *argv], out=out)
    return code, out.getvalue()


def _stuck_upload(client: FunctionsClient, scene, *, with_blob: bool) -> str:
    folder = scene.folder("Mole on back")
    image_id = start_upload(client, scene.patient.token, folder)
    if with_blob:  # the phone's PUT arrived but the trigger never ran (e.g. the message went to poison)
        client.services.blobs.put_encrypted(UPLOADS, f"{scene.patient_id}/{image_id}", make_photo(480, 360, seed=3, gps=False))
    return image_id


def _status(client: FunctionsClient, scene, doc_id: str) -> str:
    return client.services.store.read(PATIENTS, scene.patient_id, doc_id)["status"]


# ----------------------------------------------------------------------------- stuck
def test_stuck_lists_old_pending_uploads_stuck_exports_and_poisoned_messages(client, scene, azurite):
    arrived = _stuck_upload(client, scene, with_blob=True)
    _stuck_upload(client, scene, with_blob=False)
    scene.photo(scene.folder("Rash on arm"))
    scene.share()
    export_id = ok(client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id()}), 202)["exportId"]
    _queues(azurite).get_queue_client(NOTIFICATIONS_QUEUE + "-poison").send_message(
        base64.b64encode(json.dumps({"kind": "share-granted", "clinicId": scene.clinic["id"], "shareId": "shr-x1y2z3"}).encode()).decode()
    )

    code, fresh = manage_cli("stuck", "--older-than", "10")
    assert code == 0 and fresh["uploads"] == [] and fresh["exports"] == []  # nothing is old yet
    assert [(m["queue"], m["kind"], m["decodable"]) for m in fresh["poisoned"]] == [(NOTIFICATIONS_QUEUE, "share-granted", True)]

    client.services.clock.advance(minutes=20)
    code, report = manage_cli("stuck", "--older-than", "10")
    assert code == 0
    assert sorted((u["id"] == arrived, u["detail"], u["ageMinutes"]) for u in report["uploads"]) == [
        (False, "no blob yet", 20),
        (True, "blob present", 20),
    ]
    assert [(e["id"], e["status"]) for e in report["exports"]] == [(export_id, "queued")]
    assert len(report["poisoned"]) == 1

    code, text = manage_text("stuck", "--older-than", "10")
    assert "pending uploads older than 10 min: 2" in text and "messages in poison queues: 1" in text
    assert "Mole on back" not in text and scene.patient.name not in text  # ids, never patient data


def test_the_reconciliation_run_reports_overdue_uploads_as_the_alerts_metric(client, scene):
    reader = in_memory_metrics()
    _stuck_upload(client, scene, with_blob=False)
    reconciliation.run(client.services)
    assert [p.value for p in metric_points(reader, "skinvault.uploads.pending_overdue")] == [0]
    client.services.clock.advance(minutes=16)
    reconciliation.run(client.services)
    assert [p.value for p in metric_points(reader, "skinvault.uploads.pending_overdue")] == [1]


# ----------------------------------------------------------------------------- re-drive
def test_redrive_uploads_processes_an_arrived_photo_and_dry_run_changes_nothing(client, scene):
    arrived = _stuck_upload(client, scene, with_blob=True)
    waiting = _stuck_upload(client, scene, with_blob=False)
    client.services.clock.advance(minutes=20)  # older than 15 min, but the link (15 min) + settle time (10) not yet over

    code, dry = manage_cli("redrive", "uploads", "--dry-run")
    assert code == 0 and dry["dryRun"] is True
    assert [(d["id"], d["outcome"]) for d in dry["done"]] == [(arrived, "would process again")]
    assert [s["id"] for s in dry["skipped"]] == [waiting]
    assert _status(client, scene, arrived) == "pending"

    code, done = manage_cli("redrive", "uploads")
    assert code == 0
    assert [(d["id"], d["outcome"], d["status"]) for d in done["done"]] == [(arrived, "upload-redriven", "ready")]
    assert done["kekOperations"]["unwrap"] >= 1  # the phone's content key was unwrapped by the KEK
    assert _status(client, scene, arrived) == "ready" and _status(client, scene, waiting) == "pending"

    client.services.clock.advance(minutes=10)  # now the link has expired and the settle time passed
    code, expired = manage_cli("redrive", "uploads")
    assert [(d["id"], d["status"]) for d in expired["done"]] == [(waiting, "rejected")]


def test_redrive_uploads_clears_the_blob_triggers_poison_message_of_a_settled_upload(client, scene, azurite):
    arrived = _stuck_upload(client, scene, with_blob=True)
    poison = _queues(azurite).get_queue_client("webjobs-blobtrigger-poison")  # as the host writes it, on the uploads account
    try:
        poison.create_queue()
    except Exception:  # noqa: BLE001,S110 - exists
        pass
    for blob_name in (f"{scene.patient_id}/{arrived}", "pt-someone/img-else"):
        host_message = {
            "Type": "BlobTrigger",
            "FunctionId": "Host.Functions.process_upload",
            "BlobType": "BlockBlob",
            "ContainerName": "uploads",
            "BlobName": blob_name,
            "ETag": '"0x1"',
        }
        poison.send_message(base64.b64encode(json.dumps(host_message).encode()).decode())
    client.services.clock.advance(minutes=20)

    code, report = manage_cli("stuck")
    assert sorted(m["BlobName"] for m in report["poisoned"] if m["queue"] == "webjobs-blobtrigger") == sorted(
        [f"{scene.patient_id}/{arrived}", "pt-someone/img-else"]
    )

    code, done = manage_cli("redrive", "uploads")
    assert code == 0 and [(d["id"], d["status"], d["poisonDropped"]) for d in done["done"]] == [(arrived, "ready", 1)]
    assert [m["BlobName"] for m in manage_cli("stuck")[1]["poisoned"]] == ["pt-someone/img-else"]  # not ours: left alone


def test_redrive_exports_queues_the_job_again_and_the_job_builds_it(client, scene, azurite):
    folder = scene.folder("Leg ulcer")
    scene.photo(folder)
    scene.share()
    export_id = ok(client.post("/api/exports", token=scene.doctor.token, json={"caseId": scene.case_id()}), 202)["exportId"]
    _queues(azurite).get_queue_client(EXPORT_JOBS_QUEUE).clear_messages()  # the job message was lost
    client.services.clock.advance(minutes=20)

    code, dry = manage_cli("redrive", "exports", "--dry-run")
    assert code == 0 and [d["id"] for d in dry["done"]] == [export_id] and _count(azurite, EXPORT_JOBS_QUEUE) == 0

    code, done = manage_cli("redrive", "exports")
    assert code == 0 and [d["outcome"] for d in done["done"]] == ["job queued again"]
    (job,) = _bodies(azurite, EXPORT_JOBS_QUEUE)
    assert (job["exportId"], job["patientId"]) == (export_id, scene.patient_id)
    assert exports.build(client.services, job) == "ready"


def test_redrive_poison_moves_messages_back_and_leaves_undecodable_ones(client, scene, azurite):
    poison = _queues(azurite).get_queue_client(NOTIFICATIONS_QUEUE + "-poison")
    message = {"kind": "share-granted", "clinicId": scene.clinic["id"], "shareId": "shr-a1b2c3"}
    poison.send_message(base64.b64encode(json.dumps(message).encode()).decode())
    poison.send_message("not base64 json {")

    code, dry = manage_cli("redrive", "poison", "--dry-run")
    assert code == 0 and [d["outcome"] for d in dry["done"]] == ["would move back"] and len(dry["skipped"]) == 1
    assert _count(azurite, NOTIFICATIONS_QUEUE + "-poison") == 2 and _count(azurite, NOTIFICATIONS_QUEUE) == 0

    code, done = manage_cli("redrive", "poison", "--queue", NOTIFICATIONS_QUEUE)
    assert code == 0 and [(d["messageId"] != "", d["kind"]) for d in done["done"]] == [(True, "share-granted")]
    assert _bodies(azurite, NOTIFICATIONS_QUEUE) == [message]  # exactly as it was sent
    assert manage_cli("redrive", "poison", "--queue", "no-such-queue")[0] == 2


# ----------------------------------------------------------------------------- keys
def test_rotate_kek_dry_run_counts_then_rotation_rewraps_every_data_key_and_photos_still_open(client, scene, tmp_path):
    folder = scene.folder("Psoriasis")
    photo = scene.photo(folder)
    kek = LocalKekProvider(tmp_path / "kek.pem")
    before = kek.versions()

    code, dry = manage_cli("rotate-kek", "--new-version", "--dry-run")
    assert code == 0 and dry["rewrapped"] == 1 and dry["rotated"] is False
    assert kek.versions() == before

    code, done = manage_cli("rotate-kek", "--new-version")
    assert code == 0 and done["rotated"] is True and done["rewrapped"] == 1 and done["previousKid"] != done["currentKid"]
    assert done["kekOperations"] == {"wrap": 1, "unwrap": 1}  # one patient: one unwrap, one wrap
    assert len(kek.versions()) == len(before) + 1
    assert client.services.data_keys.kek_kid_of(scene.patient_id) == done["currentKid"]

    code, again = manage_cli("rotate-kek", "--dry-run")
    assert (again["rewrapped"], again["unchanged"]) == (0, 1)
    r = client.get(f"/api/images/{photo}/content?size=thumbnail", token=scene.patient.token)
    assert r.status == 200 and r.body[:3] == b"\xff\xd8\xff"


# ----------------------------------------------------------------------------- Key Vault rate
def test_kek_rate_sums_the_lines_the_kek_counter_logs(tmp_path):
    log_file = tmp_path / "host.log"
    handler = logging.FileHandler(log_file)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))  # the local host's format
    logger = logging.getLogger("skinvault.kek")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    ticks = iter(float(t) for t in range(0, 1000, 10))
    counter = KekOperationCounter(window_seconds=60, clock=lambda: next(ticks))
    try:
        for op in ["unwrap"] * 7 + ["wrap"] * 2 + ["unwrap"] * 6:  # two windows of 60 s logged
            counter.record(op)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
        handler.close()
    with log_file.open("a") as f:
        f.write("2026-12-02 07:00:00,000 INFO skinvault.api something else\n")

    code, summary = manage_cli("kek-rate", "--log", str(log_file))
    assert code == 0
    assert (summary["windows"], summary["wrap"], summary["unwrap"]) == (2, 2, 10)
    assert summary["peakPer10s"] > 0 and summary["vaultLimitPer10s"] == 500
    code, text = manage_text("kek-rate", "--kql")
    assert code == 0 and 'startswith "kek operations"' in text
