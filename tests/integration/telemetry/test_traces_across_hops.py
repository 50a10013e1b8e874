"""Traces across hops (issue 18 item 1), over Azurite, SQLite, the local KEK and the .eml outbox.

The e2e journey runs in-process: HTTP requests through the registered functions (FunctionsClient),
the blob and queue triggers driven from Azurite by the local host's own TriggerDriver, with every
port wrapped as bootstrap wraps it and an in-memory span/log exporter installed. Then:

- no span, span event, link or log record carries patient data (the seeded names, NHS number,
  date of birth, notes, folder name, emails, comment, tokens);
- one trace runs from each request to what it caused: the upload request to the upload trigger's
  processing (store, blob and KEK spans), the share request to the share-granted email, a second
  upload to the new-photos email, the clinician's comment to the patient's email, the export request
  to the export build, via W3C trace context
  in the image's metadata document and in the queue messages' bodies.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from azure.core.settings import settings as azure_core_settings
from azure.storage.queue import QueueServiceClient
from opentelemetry.sdk.trace import ReadableSpan

from localhost.host import QueueSettings, TriggerDriver
from shared_code import bootstrap
from shared_code.adapters.local_kek import LocalKekProvider
from shared_code.adapters.outbox_email import OutboxEmailSender
from shared_code.adapters.storage_queue import StorageQueue
from shared_code.adapters.traced import TracedKekProvider
from shared_code.ports import EXPORT_JOBS_QUEUE, NOTIFICATIONS_QUEUE, PATIENTS, UPLOADS
from tests.support.azurite import Azurite
from tests.support.encrypted_services import encrypted_services
from tests.support.functions_client import FunctionsClient, registry
from tests.support.images import make_photo
from tests.support.library_helpers import build_scene, ok, share_body
from tests.support.telemetry import in_memory_metrics, in_memory_telemetry, metric_points

PATIENT_NAME = "Philippa Quennell-Marchbanks"
PATIENT_EMAIL = "philippa.qm@example.org"
NHS_NUMBER = "9434765919"
DATE_OF_BIRTH = "1970-05-06"
FOLDER_NAME = "Mole under left shoulder blade"
FOLDER_NOTES = "Grandmother had melanoma at sixty"
IMAGE_NOTES = "Bleeds after shaving on Tuesdays"
CLINIC_EMAIL = "derm-leeds-triage@nhs.example"
DOCTOR_NAME = "Dr Dana Scully-Fairweather"
DOCTOR_EMAIL = "dana.sf@nhs.example"
COMMENT = "Asymmetric border, refer for excision"

PHONE_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def _traceparent(trace_id: str, span_id: str = "00f067aa0ba902b7") -> str:
    return f"00-{trace_id}-{span_id}-01"


@pytest.fixture(scope="module")
def azurite() -> Iterator[Azurite]:
    with Azurite() as server:
        yield server


@pytest.fixture
def telemetry_out() -> Iterator[tuple[Any, Any]]:
    spans, logs = in_memory_telemetry()
    spans.clear()
    logs.clear()
    # Azure SDK spans too (configure_azure_monitor turns them on in Azure): they are scanned as well
    previous = azure_core_settings.tracing_implementation()
    azure_core_settings.tracing_implementation = "opentelemetry"
    try:
        yield spans, logs
    finally:
        azure_core_settings.tracing_implementation = previous


@pytest.fixture
def journey(tmp_path, azurite, monkeypatch, telemetry_out) -> Iterator[dict[str, Any]]:
    for name in ("STORAGE", "UPLOADS_STORAGE", "AzureWebJobsStorage"):
        monkeypatch.setenv(name, azurite.connection_string)
    # as bootstrap.build does: the data keys and the blob store use the traced KEK
    base = encrypted_services(tmp_path, azurite.connection_string, TracedKekProvider(LocalKekProvider(tmp_path / "kek.pem")))
    queue = StorageQueue.from_connection_string(azurite.connection_string)
    queue.ensure_queues()
    outbox = OutboxEmailSender(tmp_path / "outbox", base.settings.email_from_address)
    services = bootstrap.instrument(dataclasses.replace(base, queue=queue, email=outbox))
    client = FunctionsClient(services)
    _, blob_functions, queue_functions = registry()
    driver = TriggerDriver(
        azurite.connection_string, blob_functions, queue_functions, poll_seconds=0.2, queue_settings=QueueSettings(visibility_timeout=1)
    )
    driver.start()
    try:
        yield {
            "client": client,
            "connection_string": azurite.connection_string,
            "outbox": tmp_path / "outbox",
            "spans": telemetry_out[0],
            "logs": telemetry_out[1],
        }
    finally:
        driver.stop()
        bootstrap.override(None)


def _wait(condition: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _upload(client: FunctionsClient, token: str, patient_id: str, folder_id: str, trace_id: str, seed: int) -> str:
    """The phone: open an upload session (carrying its trace), encrypt and put the photo; the
    blob trigger (driven from Azurite) processes it."""
    body = {"contentType": "image/jpeg", "sizeBytes": 60_000, "notes": IMAGE_NOTES}
    image_id = ok(client.post(f"/api/folders/{folder_id}/uploads", token=token, json=body, headers={"traceparent": _traceparent(trace_id)}), 201)[
        "uploadId"
    ]
    client.services.blobs.put_encrypted(UPLOADS, f"{patient_id}/{image_id}", make_photo(480, 360, seed=seed, gps=False))
    _wait(lambda: client.services.store.read(PATIENTS, patient_id, image_id)["status"] == "ready", "the upload trigger")
    return image_id


def _spans_named(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


def _trace_id(span: ReadableSpan) -> str:
    return format(span.context.trace_id, "032x")


def _texts(spans: list[ReadableSpan], logs: list[Any], records: list[logging.LogRecord]) -> Iterator[tuple[str, str]]:
    """Every string the telemetry would carry: (where, text)."""
    for span in spans:
        yield f"span {span.name}", span.name
        for key, value in {**dict(span.attributes or {}), **dict(span.resource.attributes)}.items():
            yield f"span {span.name} attribute {key}", f"{key}={value}"
        if span.status.description:
            yield f"span {span.name} status", span.status.description
        for event in span.events:
            yield f"span {span.name} event {event.name}", event.name + json.dumps(dict(event.attributes or {}), default=str)
        for link in span.links:
            yield f"span {span.name} link", json.dumps(dict(link.attributes or {}), default=str)
    for data in logs:
        record = data.log_record
        yield "log record", f"{record.body} {json.dumps(dict(record.attributes or {}), default=str)}"
    for record in records:
        yield f"log {record.name}", record.getMessage()


def test_the_journey_is_one_trace_per_request_and_carries_no_patient_data(journey, caplog):
    caplog.set_level(logging.INFO)
    reader = in_memory_metrics()
    ready_before = sum(p.count for p in metric_points(reader, "skinvault.uploads.time_to_ready_seconds"))
    client: FunctionsClient = journey["client"]
    scene = build_scene(client, patient_sub="telemetry-patient", patient_name=PATIENT_NAME, patient_email=PATIENT_EMAIL, clinic_email=CLINIC_EMAIL)
    doctor_token = client.token("doc-1", "clinician", DOCTOR_NAME, DOCTOR_EMAIL)
    ok(client.put("/api/me", token=scene.patient.token, json={"dateOfBirth": DATE_OF_BIRTH, "nhsNumber": NHS_NUMBER}))
    folder_id = scene.folder(FOLDER_NAME, notes=FOLDER_NOTES)

    # upload -> processed by the blob trigger
    first = _upload(client, scene.patient.token, scene.patient_id, folder_id, PHONE_TRACE, seed=1)

    # share -> share-granted notification -> email
    share_trace = "5bf92f3577b34da6a3ce929d0e0e4737"
    body = share_body(client, scene.patient.token, scene.clinic["id"])
    ok(client.post("/api/shares", token=scene.patient.token, json=body, headers={"traceparent": _traceparent(share_trace)}), 201)
    _wait(lambda: len(list(journey["outbox"].glob("*.eml"))) == 1, "the share-granted email")

    # a second photo into the shared folder -> new-photos email
    second_trace = "6bf92f3577b34da6a3ce929d0e0e4738"
    _upload(client, scene.patient.token, scene.patient_id, folder_id, second_trace, seed=2)
    _wait(lambda: len(list(journey["outbox"].glob("*.eml"))) == 2, "the new-photos email")

    # the clinician comments and exports -> export job -> package
    comment_trace = "8bf92f3577b34da6a3ce929d0e0e4740"  # the patient is told of the clinic's comment (by email)
    comment = {"text": COMMENT}
    ok(client.post(f"/api/images/{first}/comments", token=doctor_token, json=comment, headers={"traceparent": _traceparent(comment_trace)}), 201)
    _wait(lambda: len(list(journey["outbox"].glob("*.eml"))) == 3, "the patient's email about the comment")
    export_trace = "7bf92f3577b34da6a3ce929d0e0e4739"
    export_id = ok(
        client.post("/api/exports", token=doctor_token, json={"caseId": scene.case_id()}, headers={"traceparent": _traceparent(export_trace)}),
        202,
    )["exportId"]
    _wait(lambda: ok(client.get(f"/api/exports/{export_id}", token=doctor_token))["status"] == "ready", "the export job")

    spans: list[ReadableSpan] = list(journey["spans"].get_finished_spans())
    by_trace: dict[str, list[str]] = {}
    for span in spans:
        by_trace.setdefault(_trace_id(span), []).append(span.name)

    # --- continuity: each request's trace reaches what it caused
    upload_trace = by_trace[PHONE_TRACE]
    assert "POST start_upload" in upload_trace and "upload.process" in upload_trace
    assert {"kek.unwrap_key", "blob.read_decrypted", "blob.put_encrypted", "store.replace"} <= set(upload_trace)
    assert {"notification.send", "email.send", "queue.send"} <= set(by_trace[share_trace]), by_trace[share_trace]
    assert {"upload.process", "queue.send", "notification.send", "email.send"} <= set(by_trace[second_trace]), by_trace[second_trace]
    assert {"queue.send", "export.build", "blob.put_encrypted"} <= set(by_trace[export_trace]), by_trace[export_trace]
    # every email span shares the trace of the HTTP request that caused it
    emails = _spans_named(spans, "email.send")
    caused_by = {share_trace: "POST grant_share", second_trace: "POST start_upload", comment_trace: "POST add_image_comment"}
    assert sorted(_trace_id(s) for s in emails) == sorted(caused_by)
    for email in emails:
        server = [s.name for s in spans if _trace_id(s) == _trace_id(email) and s.kind.name == "SERVER"]
        assert server == [caused_by[_trace_id(email)]]
    # the consumer spans are linked to the trigger invocation they ran in
    assert all(s.links for s in _spans_named(spans, "upload.process"))
    # the trace travelled in the queue messages' bodies: nothing of it is left on the queues
    queues = QueueServiceClient.from_connection_string(journey["connection_string"])
    for name in (NOTIFICATIONS_QUEUE, EXPORT_JOBS_QUEUE):
        assert queues.get_queue_client(name).get_queue_properties().approximate_message_count == 0

    # the workbook's upload-to-ready time was recorded for both photos
    assert sum(p.count for p in metric_points(reader, "skinvault.uploads.time_to_ready_seconds")) - ready_before == 2

    # --- no patient data anywhere in the telemetry
    tokens = [scene.patient.token, doctor_token, scene.admin]
    needles = [
        PATIENT_NAME,
        *PATIENT_NAME.split(),
        PATIENT_EMAIL,
        NHS_NUMBER,
        "943 476 5919",
        DATE_OF_BIRTH,
        FOLDER_NAME,
        FOLDER_NOTES,
        IMAGE_NOTES,
        CLINIC_EMAIL,
        DOCTOR_NAME,
        DOCTOR_EMAIL,
        COMMENT,
        *(t.split(".")[1] for t in tokens),  # token payloads (signatures alone are not data, payloads are)
    ]
    texts = list(_texts(spans, list(journey["logs"].get_finished_logs()), caplog.records))
    assert len(spans) > 50 and texts  # the scan saw the whole journey, not an empty list
    leaks = [(where, needle) for where, text in texts for needle in needles if needle.lower() in text.lower()]
    assert leaks == []
