"""Ports: the small interfaces services depend on. Adapters implement them; tests use Fake*.

Nothing here does I/O. Errors raised by adapters are the exceptions defined below, so services
never see an SDK exception.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from shared_code.config import Settings

Document = dict[str, Any]


# ---------------------------------------------------------------- errors shared by adapters
class StoreError(Exception):
    """Base class for metadata store failures."""


class NotFound(StoreError):
    """The document does not exist (or the blob does not)."""


class Conflict(StoreError):
    """A document with this id already exists in this partition."""


class PreconditionFailed(StoreError):
    """The ETag given with a replace/delete no longer matches (someone else wrote first)."""


class DependencyUnavailable(Exception):
    """A dependency (store, blob storage, key vault, email) could not be reached."""

    def __init__(self, dependency: str, detail: str = "") -> None:
        super().__init__(f"{dependency} unavailable: {detail}")
        self.dependency = dependency


class EncryptionRejected(Exception):
    """A blob is not acceptable ciphertext: plaintext, v1, tampered, foreign key..."""

    def __init__(self, reason_code: str, detail: str = "") -> None:
        super().__init__(f"{reason_code}: {detail}")
        self.reason_code = reason_code


class UnknownKey(EncryptionRejected):
    def __init__(self, kid: str = "") -> None:
        super().__init__("foreign-key", "the content key was not wrapped by our key")


# ---------------------------------------------------------------- metadata store
@dataclass(frozen=True)
class ContainerSpec:
    """A Cosmos container / SQLite table: its name and partition key field (without the '/')."""

    name: str
    partition_key: str


# The containers the code uses (Bicep declares the same names and keys; a test checks it).
PATIENTS = ContainerSpec("patients", "patientId")  # profile, folders, images, shares, comments
CLINICS = ContainerSpec("clinics", "clinicId")  # clinic, members, cases (worklist)
AUDIT = ContainerSpec("audit", "patientId")  # append-only access log; outlives erasure
LOOKUPS = ContainerSpec("lookups", "key")  # share codes, memberships by sub, idempotency marks
CONTAINERS = (PATIENTS, CLINICS, AUDIT, LOOKUPS)


@dataclass(frozen=True)
class IndexSpec:
    """A query shape a repository issues: equality fields first, then the field it orders by.

    Repositories declare these next to their queries (shared_code/repositories); the SQLite store
    builds one expression index per declaration, (partition, fields..., id)."""

    fields: tuple[str, ...]
    why: str = ""


@dataclass(frozen=True)
class Page:
    items: list[Document]
    continuation: str | None = None


class MetadataStore(Protocol):
    """Document store, one partition key per container. Documents are JSON-able dicts.

    Every stored document carries `id`, its partition key field and `_etag` (set by the store).
    """

    def ensure_containers(self) -> None: ...

    def create(self, container: ContainerSpec, doc: Document) -> Document:
        """Insert; raises Conflict when (partition, id) exists. Returns the doc with `_etag`."""

    def create_under(self, container: ContainerSpec, doc: Document, *, parent_id: str) -> Document:
        """Create `doc` only while the document `parent_id` exists in the same partition, in one
        atomic step (a transaction / a transactional batch): a photo is never created in a folder
        deleted a moment earlier. Raises NotFound (nothing written) when the parent is absent,
        Conflict as create does."""

    def read(self, container: ContainerSpec, partition: str, id: str) -> Document:
        """Point read; raises NotFound."""

    def replace(self, container: ContainerSpec, doc: Document, *, if_match: str | None) -> Document:
        """Replace by (partition, id); with if_match, raises PreconditionFailed on a stale ETag."""

    def upsert(self, container: ContainerSpec, doc: Document) -> Document: ...

    def delete(self, container: ContainerSpec, partition: str, id: str, *, if_match: str | None = None) -> None:
        """Raises NotFound when absent, PreconditionFailed on a stale ETag."""

    def query(
        self,
        container: ContainerSpec,
        partition: str,
        *,
        where: Mapping[str, Any] | None = None,
        order_by: str | None = None,
        descending: bool = False,
        limit: int = 50,
        continuation: str | None = None,
    ) -> Page:
        """Single-partition query. `where` is field == value (top-level fields; None matches a
        missing/null field). Paged with an opaque continuation token (None when no more)."""

    def ping(self) -> None:
        """Raises DependencyUnavailable when the store cannot be reached."""

    def delete_partition(self, container: ContainerSpec, partition: str) -> int:
        """Delete every document of one partition (account erasure); returns how many were deleted."""


# ---------------------------------------------------------------- keys
class KeyEncryptionKey(Protocol):
    """The interface azure-storage-blob's client-side encryption expects of a KEK."""

    def wrap_key(self, key: bytes) -> bytes: ...

    def unwrap_key(self, key: bytes, algorithm: str) -> bytes: ...

    def get_kid(self) -> str: ...

    def get_key_wrap_algorithm(self) -> str: ...


class KeyEncryptionKeyProvider(Protocol):
    """Our KEK: the current version wraps, any version of the same key unwraps."""

    def current(self) -> KeyEncryptionKey: ...

    def resolve(self, kid: str) -> KeyEncryptionKey:
        """Key resolver for decryption; raises UnknownKey for a kid outside our key."""

    def public_jwk(self) -> dict[str, Any]:
        """Public half of the current version as a JWK (kty, n, e, kid, alg=RSA-OAEP-256)."""


class PatientDataKeys(Protocol):
    """Per-patient data keys (ARCHITECTURE section 3, issue 14).

    Each patient has a random 256-bit data key. It wraps (AES key wrap, A256KW) the content key of
    every blob the server stores for that patient, and it is stored only wrapped by the KEK
    (RSA-OAEP-256), in the patient's own partition. Its kid names the patient and the key's version.
    Deleting the wrapped data key (shred) makes every blob it wrapped unreadable for good, including
    soft-deleted versions and backups: crypto-shredding.
    """

    def wrapping_key(self, patient_id: str) -> KeyEncryptionKey:
        """The patient's data key as a key-encryption key for new blobs (made on first use)."""

    def owns_kid(self, kid: str) -> bool:
        """True when kid has the form of a patient data key's kid (whether or not it still exists)."""

    def patient_of(self, kid: str) -> str | None:
        """The patient id a data key's kid names (None when kid is not a data key's)."""

    def resolve(self, kid: str) -> KeyEncryptionKey:
        """The data key a blob's kid names; UnknownKey when it was shredded or never existed."""

    def shred(self, patient_id: str) -> None:
        """Delete the patient's wrapped data key (absent is not an error)."""

    def rewrap(self, patient_id: str) -> bool:
        """Rewrap the data key under the KEK's current version; False when it already was (or is absent)."""

    def kek_kid_of(self, patient_id: str) -> str | None:
        """The kid of the KEK version the data key is wrapped under (None when there is none)."""

    def patient_ids(self) -> Iterator[str]:
        """Every patient that has (or had, until shredded) a data key."""


# ---------------------------------------------------------------- blobs
UPLOADS = "uploads"  # ciphertext exactly as the phone sent it
IMAGES = "images"  # accepted originals + thumbnail/preview, re-encrypted by the server
EXPORTS = "exports"  # encrypted EPR export packages
BLOB_CONTAINERS = (UPLOADS, IMAGES, EXPORTS)


@dataclass(frozen=True)
class BlobInfo:
    name: str
    etag: str
    size: int
    metadata: Mapping[str, str] = field(default_factory=dict)
    created_at: datetime | None = None
    leased: bool = False  # someone holds a lease on it (an upload SAS lets its holder take one)


class BlobStore(Protocol):
    def ensure_containers(self) -> None: ...

    def put_encrypted(self, container: str, name: str, data: bytes | Iterable[bytes], *, metadata: Mapping[str, str] | None = None) -> BlobInfo:
        """Encrypt with client-side encryption v2 under the current KEK and store."""

    def read_decrypted(self, container: str, name: str, *, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        """Verify the blob is our v2 AES-GCM ciphertext, then yield plaintext chunks (bounded memory):
        the whole blob, or `length` bytes from `offset` (only the regions covering them are read,
        each verified). Raises EncryptionRejected (v1, plaintext, tampered, foreign key), NotFound."""

    def plaintext_size(self, container: str, name: str) -> int:
        """The size of the blob's plaintext (from its ciphertext size; nothing is decrypted). Raises NotFound."""

    def info(self, container: str, name: str) -> BlobInfo: ...

    def delete(self, container: str, name: str) -> None:
        """Deleting an absent blob is not an error."""

    def delete_prefix(self, container: str, prefix: str) -> int: ...

    def list(self, container: str, prefix: str = "") -> Iterator[BlobInfo]: ...

    def list_page(
        self, container: str, prefix: str = "", *, continuation: str | None = None, limit: int = 500
    ) -> tuple[builtins.list[BlobInfo], str | None]:
        """One page of a listing in name order, and the token for the next (None at the end):
        sweeps walk a container a bounded page per run."""

    def upload_url(self, container: str, name: str, expires_at: datetime) -> str:
        """A SAS URL for exactly this blob: create+write only, valid until expires_at."""

    def rewrap_content_key(self, container: str, name: str) -> bool:
        """Migration to per-patient keys: rewrap the content key of a blob of a patient's that is still
        wrapped directly by the KEK, under that patient's data key (metadata only, the ciphertext
        stays). False when there was nothing to do. Raises NotFound, EncryptionRejected, PreconditionFailed."""

    def ping(self) -> None: ...


# ---------------------------------------------------------------- queues, email, clock
NOTIFICATIONS_QUEUE = "notifications"
EXPORT_JOBS_QUEUE = "export-jobs"
QUEUES = (NOTIFICATIONS_QUEUE, EXPORT_JOBS_QUEUE)


class MessageQueue(Protocol):
    def send(self, queue: str, message: Mapping[str, Any]) -> None:
        """Enqueue a JSON message (ids only: never patient data)."""

    def ping(self) -> None:
        """Raises DependencyUnavailable when the queues do not answer."""


@dataclass(frozen=True)
class PoisonedMessage:
    """A message the host gave up on (moved to `<queue>-poison`); body None when it is not JSON."""

    queue: str
    message_id: str
    inserted_on: datetime | None
    dequeue_count: int
    body: Mapping[str, Any] | None


class PoisonQueues(Protocol):
    """Ops (the manage CLI): see and re-drive what the poison queues hold."""

    def poisoned(self, queue: str, limit: int = 32) -> list[PoisonedMessage]: ...

    def redrive(self, queue: str, limit: int = 32) -> list[PoisonedMessage]: ...

    def drop_poisoned(self, queue: str, match: Callable[[Mapping[str, Any]], bool], limit: int = 32) -> int: ...


# The blob trigger's poison queue (the Functions host's, `webjobs-blobtrigger-poison` on the trigger's
# own account: the uploads account); as a PoisonQueues queue name, without the "-poison" suffix.
BLOB_TRIGGER = "webjobs-blobtrigger"


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str | None = None
    # Deterministic id: the same notification is never sent twice.
    message_id: str = ""


class EmailSender(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Raises DependencyUnavailable when the service cannot take the message."""


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime: ...


class Dependencies(Protocol):
    """What a service module needs from the container built by shared_code.bootstrap (Services
    provides it; unit tests pass Services over Fake* ports). Services typed against this instead of
    ``Any`` get checked by mypy; a module that needs more adds a narrower Protocol of its own."""

    @property
    def store(self) -> MetadataStore: ...

    @property
    def blobs(self) -> BlobStore: ...

    @property
    def queue(self) -> MessageQueue: ...

    @property
    def email(self) -> EmailSender: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def kek(self) -> KeyEncryptionKeyProvider: ...

    @property
    def data_keys(self) -> PatientDataKeys | None: ...
