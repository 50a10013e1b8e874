"""Build a patient's library, clinics and shares through the API (FunctionsClient + fake ports).

Ready photos are made without the real upload pipeline: an upload session is opened through the
API, a real JPEG (tests/support/images.py) is put where the phone would have put it (the fake blob
store keeps plaintext), and the upload handler the blob trigger calls is run on it.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from azure.functions.queue import QueueMessage

from shared_code.bootstrap import Services
from shared_code.domain.common import iso
from shared_code.ports import NOTIFICATIONS_QUEUE, UPLOADS, Conflict, ContainerSpec, Document, Page, PreconditionFailed
from shared_code.services import processing
from tests.fakes.ports import FakeBlobStore, FakeEmailSender, FakeQueue, FixedClock
from tests.fakes.store import FakeMetadataStore
from tests.support.functions_client import FunctionsClient, registry
from tests.support.images import make_photo


def ok(reply: Any, status: int = 200) -> Any:
    """The JSON body of a reply that must have `status` (the body is shown when it has not)."""
    assert reply.status == status, (reply.status, reply.body[:500])
    return reply.json() if reply.body else None


def patient_id(client: FunctionsClient, token: str) -> str:
    return ok(client.get("/api/me", token=token))["id"]


def create_clinic(client: FunctionsClient, admin_token: str, name: str, ods: str = "RTD", email: str = "derm@nhs.example") -> dict:
    return ok(client.post("/api/manage/clinics", token=admin_token, json={"name": name, "odsCode": ods, "notificationEmail": email}), 201)


def add_member(client: FunctionsClient, admin_token: str, clinic_id: str, sub: str, name: str, email: str | None = None) -> dict:
    body = {"sub": sub, "name": name, "email": email}
    return ok(client.post(f"/api/manage/clinics/{clinic_id}/members", token=admin_token, json=body), 201)


def create_folder(client: FunctionsClient, token: str, name: str, **fields: Any) -> dict:
    return ok(client.post("/api/folders", token=token, json={"name": name, **fields}), 201)


def start_upload(client: FunctionsClient, token: str, folder_id: str, *, notes: str | None = None, captured_at: str | None = None) -> str:
    body: dict[str, Any] = {"contentType": "image/jpeg", "sizeBytes": 50_000}
    if notes is not None:
        body["notes"] = notes
    if captured_at is not None:
        body["capturedAt"] = captured_at
    return ok(client.post(f"/api/folders/{folder_id}/uploads", token=token, json=body), 201)["uploadId"]


def add_ready_image(
    client: FunctionsClient, token: str, folder_id: str, *, seed: int = 0, notes: str | None = None, captured_at: str | None = None
) -> str:
    """Open an upload session, 'upload' a real JPEG and process it: returns the ready image's id."""
    services = client.services
    pid = patient_id(client, token)
    image_id = start_upload(client, token, folder_id, notes=notes, captured_at=captured_at)
    photo = make_photo(480, 360, seed=seed, gps=False)
    services.blobs.put_encrypted(UPLOADS, f"{pid}/{image_id}", photo)
    assert processing.handle_upload(services, f"uploads/{pid}/{image_id}") == "ready"
    return image_id


def consent_version(client: FunctionsClient, token: str, clinic_id: str) -> str:
    return ok(client.get(f"/api/consent-text?clinicId={clinic_id}", token=token))["version"]


def share_body(
    client: FunctionsClient,
    token: str,
    clinic_id: str,
    *,
    folder_ids: list[str] | None = None,
    purposes: tuple[str, ...] = ("direct-care",),
    days: float = 365,
) -> dict:
    """A valid POST /api/shares body: some folders, or all folders when folder_ids is None."""
    body: dict[str, Any] = {
        "clinicId": clinic_id,
        "purposes": list(purposes),
        "expiresAt": iso(client.services.clock.now() + timedelta(days=days)),
        "consent": {"textVersion": consent_version(client, token, clinic_id), "accepted": True},
    }
    if folder_ids is None:
        body["allFolders"] = True
    else:
        body["folderIds"] = folder_ids
    return body


def grant_share(client: FunctionsClient, token: str, clinic_id: str, **kw: Any) -> dict:
    return ok(client.post("/api/shares", token=token, json=share_body(client, token, clinic_id, **kw)), 201)


# ----------------------------------------------------------------------------- notifications
def notification_function() -> Any:
    """The queue-triggered `send_notification` as registered on function_app.app."""
    _, _, queues = registry()
    (fn,) = [f for f in queues if f.get_function_name() == "send_notification"]
    return fn.get_user_function()


def deliver(message: dict, *, message_id: str = "msg-1", dequeue_count: int = 1) -> None:
    """Deliver one queue message to the registered notification function, as the host would."""
    body = json.dumps(message).encode()
    notification_function()(QueueMessage(id=message_id, body=body, dequeue_count=dequeue_count))


def deliver_all(client: FunctionsClient) -> list[dict]:
    """Take every queued notification and deliver it once. Returns the messages delivered."""
    messages = client.services.queue.take(NOTIFICATIONS_QUEUE)
    for n, message in enumerate(messages):
        deliver(message, message_id=f"msg-{n}")
    return messages


# ----------------------------------------------------------------------------- a whole scene
@dataclass
class Actor:
    sub: str
    role: str
    name: str
    token: str


def actor(client: FunctionsClient, sub: str, role: str, name: str, email: str | None = None) -> Actor:
    return Actor(sub=sub, role=role, name=name, token=client.token(sub, role, name, email))


def clinician_of(client: FunctionsClient, admin_token: str, clinic_id: str, sub: str, name: str, email: str | None = None) -> Actor:
    add_member(client, admin_token, clinic_id, sub, name, email)
    return actor(client, sub, "clinician", name, email)


# ----------------------------------------------------------------------------- forking a built scene
def fork_services(services: Services) -> Services:
    """Independent copies of the fake store, blobs, queue, mail and clock, sharing settings and keys.

    Lets a module build an expensive scene once and give every test its own copy to change.
    FakeMetadataStore keeps each document as (etag, JSON text), so copying its tables copies the data.
    """
    store = FakeMetadataStore()
    store._tables = {name: dict(table) for name, table in services.store._tables.items()}  # noqa: SLF001 - our own fake
    blobs = FakeBlobStore()
    blobs.blobs = dict(services.blobs.blobs)
    return dataclasses.replace(
        services,
        store=store,
        blobs=blobs,
        queue=FakeQueue(messages=list(services.queue.messages)),
        email=FakeEmailSender(sent=list(services.email.sent)),
        clock=FixedClock(services.clock.now()),
    )


@dataclass
class Scene:
    """A patient with a profile, one clinic (Clinic A) with one clinician, and an admin."""

    client: FunctionsClient
    admin: str
    patient: Actor
    patient_id: str
    clinic: dict
    doctor: Actor

    def folder(self, name: str, **fields: Any) -> str:
        return create_folder(self.client, self.patient.token, name, **fields)["id"]

    def photo(self, folder_id: str, **kw: Any) -> str:
        return add_ready_image(self.client, self.patient.token, folder_id, **kw)

    def share(self, clinic_id: str | None = None, **kw: Any) -> dict:
        return grant_share(self.client, self.patient.token, clinic_id or self.clinic["id"], **kw)

    def case_id(self, clinic_id: str | None = None) -> str:
        from shared_code.services.sharing import case_id_for

        return case_id_for(clinic_id or self.clinic["id"], self.patient_id)


def build_scene(
    client: FunctionsClient,
    *,
    patient_sub: str = "patient-a",
    patient_name: str = "Alice Example",
    patient_email: str | None = "alice@example.org",
    clinic_name: str = "Leeds Dermatology",
    clinic_email: str = "derm-leeds@nhs.example",
) -> Scene:
    admin = client.token("admin-1", "admin", "Ada Admin")
    patient = actor(client, patient_sub, "patient", patient_name, patient_email)
    pid = patient_id(client, patient.token)
    clinic = create_clinic(client, admin, clinic_name, ods="RR8", email=clinic_email)
    doctor = clinician_of(client, admin, clinic["id"], "doc-1", "Dr Dana Scully", "dana@nhs.example")
    return Scene(client, admin, patient, pid, clinic, doctor)


# ----------------------------------------------------------------------------- races
class RacyStore(FakeMetadataStore):
    """The in-memory store, pausing `pause` seconds after every read and query.

    Concurrent callers then interleave between reading a document and writing it back, as they do
    against a real database, so lost-update races show up every time instead of now and then.
    `stale_writes` counts writes refused because someone else wrote first (PreconditionFailed or
    Conflict): a test can check that it really exercised the race.
    """

    def __init__(self) -> None:
        super().__init__()
        self.pause = 0.0
        self.stale_writes = 0
        self._count_lock = threading.Lock()

    def read(self, container: ContainerSpec, partition: str, id: str) -> Document:
        try:
            return super().read(container, partition, id)
        finally:
            time.sleep(self.pause)  # found or not, a read takes time

    def query(self, container: ContainerSpec, partition: str, **kw: Any) -> Page:
        page = super().query(container, partition, **kw)
        time.sleep(self.pause)
        return page

    def create(self, container: ContainerSpec, doc: Document) -> Document:
        try:
            return super().create(container, doc)
        except Conflict:
            self._stale()
            raise

    def replace(self, container: ContainerSpec, doc: Document, *, if_match: str | None) -> Document:
        try:
            return super().replace(container, doc, if_match=if_match)
        except PreconditionFailed:
            self._stale()
            raise

    def _stale(self) -> None:
        with self._count_lock:
            self.stale_writes += 1


def run_together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls on their own threads, released at the same moment; results (or exceptions) in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(n: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[n] = call()
        except Exception as exc:
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results
