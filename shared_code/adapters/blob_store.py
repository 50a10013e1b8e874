"""Blob Storage adapter: Azure Storage client-side encryption v2 (ARCHITECTURE section 3).

Format: exactly what azure-storage-blob writes with ``encryption_version="2.0"``: AES-256-GCM in
4 MiB authenticated regions (12-byte nonce = region index, 16-byte tag), a random content key per
blob, wrapped, and the envelope in the blob's ``encryptiondata`` metadata. Any Azure SDK that
speaks v2 decrypts our blobs given the key that wrapped the content key.

Which key wraps (key hierarchy, ARCHITECTURE section 3): with a ports.PatientDataKeys given, a
blob whose name starts with a patient id (``pt-.../...``), in any container but uploads, has its
content key wrapped by that patient's data key (AES key wrap, A256KW; kid
``patient-key:<patientId>/<version>``). Everything else, and every blob when no data keys are
given, is wrapped with RSA-OAEP-256 under our key-encryption key (KEK), as the phone does for
uploads. Reading resolves by the blob's kid, so blobs written before data keys existed (KEK kids)
still read; rewrap_content_key() migrates them (metadata only).

Reading is strict. The SDK still decrypts v1 (AES-CBC) blobs, so before any download we read
the metadata ourselves and insist on Protocol "2.0", AES_GCM_256, 4 MiB/12-byte regions, a
wrapped key whose KeyId our KEK provider (RSA-OAEP-256) or, for a blob of that same patient's
outside uploads, the patient's data key (A256KW) resolves, and a content key that unwraps to a v2
key. Failures raise EncryptionRejected with a reason code:

    not-encrypted           no encryptiondata metadata (plaintext)
    unsupported-encryption  v1 / another protocol, cipher or key-wrap algorithm
    metadata-invalid        encryptiondata unparseable, incomplete or altered (region sizes,
                            a wrapped key that does not hold a v2 content key)
    foreign-key             the KeyId is not ours or the content key was not wrapped by our KEK,
                            another patient's data key, or a shredded (erased) data key
                            (UnknownKey, a subclass)
    integrity               a GCM tag failed: flipped bytes, regions swapped or moved, truncated

How the SDK reports those (azure-storage-blob 12.31.1), pinned by tests: every failure while
decrypting a downloaded range is raised as ``HttpResponseError("Decryption failed.")`` chained
(``__cause__``) to the real error: ``cryptography.exceptions.InvalidTag`` for a failed tag (also a
truncated last region), ``ValueError("The encryption metadata is not valid and may have been
modified.")`` from the region-nonce check when regions were reordered, and whatever our key
resolver / KEK raised (UnknownKey...). It surfaces from ``download_blob()`` for the first 4 MiB
region and from the chunk iterator for later ones.

Because a later region can fail after earlier ones were yielded, read_decrypted() may raise in
the middle of the iteration: callers must treat plaintext as untrusted until the iterator is
exhausted and discard (never store, serve or cache) any partial plaintext when it raises.
Truncation exactly at a 4 MiB region boundary is not detectable by the v2 format itself.

Reads are pinned to the ETag seen during the metadata check; if the blob is replaced while it is
read, ports.PreconditionFailed is raised (read it again).

Memory: clients fetch one 4 MiB region per request (max_single_get_size = max_chunk_get_size =
4 MiB, also forced on a service client passed in), so memory does not grow with the blob's size.
The SDK copies a region several times while decrypting it: expect a peak of about 45 MiB per
concurrent read (measured with tracemalloc; 12 MiB and 40 MiB blobs peak the same). Iterables
are uploaded in 4 MiB blocks (about 20 MiB peak).

Latency: when a region fails to decrypt, the SDK retries that range twice with 1 s sleeps, so a
tampered blob is rejected after about 2 s. BlobInfo.size is the stored (ciphertext) size:
plaintext + 28 bytes per 4 MiB region.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import IO, Any, TypeVar, cast
from urllib.parse import urlparse

from azure.core import MatchConditions
from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.storage.blob import (
    BlobClient,
    BlobLeaseClient,
    BlobProperties,
    BlobSasPermissions,
    BlobServiceClient,
    LinearRetry,
    StorageStreamDownloader,
    UserDelegationKey,
    generate_blob_sas,
)
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared_code.adapters._rsa_kek import KEY_WRAP_ALGORITHM
from shared_code.adapters.patient_keys import DATA_KEY_WRAP_ALGORITHM, is_patient_id
from shared_code.ports import (
    BLOB_CONTAINERS,
    UPLOADS,
    BlobInfo,
    DependencyUnavailable,
    EncryptionRejected,
    KeyEncryptionKey,
    KeyEncryptionKeyProvider,
    NotFound,
    PatientDataKeys,
    PreconditionFailed,
    UnknownKey,
)

DEPENDENCY = "blob storage"
ENCRYPTION_METADATA = "encryptiondata"
PROTOCOL = "2.0"
CIPHER = "AES_GCM_256"
REGION_DATA_LENGTH = 4 * 1024 * 1024
NONCE_LENGTH = 12
TAG_LENGTH = 16  # AES-GCM tag after each region
_READ_PIECE = 1024 * 1024  # ranged reads fetch a region in pieces of this size
_CEK_PREFIX = PROTOCOL.encode().ljust(8, b"\0")  # v2 wraps b"2.0\0\0\0\0\0" + 32-byte content key
_WRAP_ALGORITHMS = (KEY_WRAP_ALGORITHM, DATA_KEY_WRAP_ALGORITHM)
_SAS_CLOCK_SKEW = timedelta(minutes=5)
_DELEGATION_KEY_LIFETIME = timedelta(hours=6)

# The SDK's messages we tell apart (azure-storage-blob 12.31.1, _encryption.py).
_SDK_MSG_REGION_INVALID = "The encryption metadata is not valid and may have been modified."
_SDK_MSG_METADATA_CHANGED = "The encryption metadata in the download response does not match"
_SDK_MSG_NOT_ENCRYPTED = "Encryption required, but received data does not contain appropriate metadata."

CLIENT_DEFAULTS: dict[str, Any] = {
    "max_single_get_size": REGION_DATA_LENGTH,
    "max_chunk_get_size": REGION_DATA_LENGTH,
    "max_single_put_size": 2 * REGION_DATA_LENGTH,
    "max_block_size": REGION_DATA_LENGTH,
    "connection_timeout": 5,
    "read_timeout": 60,
}

T = TypeVar("T")


def default_retry_policy() -> LinearRetry:
    """Two retries about a second apart (the SDK's default waits 15 s, 18 s, 24 s): an outage
    becomes a 503 within a few seconds instead of a minute."""
    return LinearRetry(backoff=1, random_jitter_range=0.5, retry_total=2)  # type: ignore[arg-type]  # a float works; the hint says int


def _client_kwargs(overrides: Mapping[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {**CLIENT_DEFAULTS, "retry_policy": default_retry_policy()}
    kwargs.update(overrides)
    return kwargs


def from_connection_string(conn: str, kek_provider: KeyEncryptionKeyProvider, **client_kwargs: Any) -> AzureBlobStore:
    """Connection string (Azurite locally). SAS URLs are signed with the account key."""
    return AzureBlobStore.from_connection_string(conn, kek_provider, **client_kwargs)


def from_identity(blob_uri: str, credential: TokenCredential, kek_provider: KeyEncryptionKeyProvider, **client_kwargs: Any) -> AzureBlobStore:
    """Managed identity (Azure). SAS URLs are user delegation SAS (no shared key on the account)."""
    return AzureBlobStore.from_identity(blob_uri, credential, kek_provider, **client_kwargs)


def _map_error(exc: Exception, *, what: str = "") -> Exception:
    if isinstance(exc, ResourceNotFoundError):
        return NotFound(what or "blob not found")
    if isinstance(exc, ResourceModifiedError):
        return PreconditionFailed(what or "the blob changed")
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return DependencyUnavailable(DEPENDENCY, type(exc).__name__)
    if isinstance(exc, ClientAuthenticationError):
        return DependencyUnavailable(DEPENDENCY, f"not authorised ({exc.status_code})")
    if isinstance(exc, HttpResponseError):
        return DependencyUnavailable(DEPENDENCY, f"status {exc.status_code}")
    if isinstance(exc, AzureError):
        return DependencyUnavailable(DEPENDENCY, type(exc).__name__)
    return exc


def _call(fn: Callable[[], T], *, what: str = "") -> T:
    try:
        return fn()
    except AzureError as exc:
        raise _map_error(exc, what=what) from None


def _decryption_error(exc: Exception) -> Exception:
    """Turn what the SDK raised while downloading/decrypting into our exception."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    for err in chain:
        if isinstance(err, EncryptionRejected | DependencyUnavailable | NotFound | PreconditionFailed):
            return err
    for err in chain:
        if isinstance(err, InvalidTag):
            return EncryptionRejected("integrity", "an authenticated region failed its GCM tag check")
    for err in chain:
        if isinstance(err, ValueError):
            message = str(err)
            if message.startswith(_SDK_MSG_REGION_INVALID):
                return EncryptionRejected("integrity", "a region is out of place (nonce does not match its position)")
            if message.startswith(_SDK_MSG_METADATA_CHANGED):
                return PreconditionFailed("the blob's encryption metadata changed while it was read")
            if message.startswith(_SDK_MSG_NOT_ENCRYPTED):
                return EncryptionRejected("not-encrypted", "the blob has no encryption metadata")
            return EncryptionRejected("integrity", "the ciphertext could not be decrypted")
    if isinstance(exc, HttpResponseError) and str(exc.message or "").startswith("Decryption failed"):
        return EncryptionRejected("integrity", "the ciphertext could not be decrypted")
    if isinstance(exc, AzureError):
        return _map_error(exc)
    return exc


class _Filler:
    """A write-only stream that fills a preallocated buffer (so a region is read without a copy)."""

    def __init__(self, buffer: bytearray) -> None:
        self._view = memoryview(buffer)
        self._at = 0

    def write(self, data: bytes) -> int:
        end = self._at + len(data)
        if end > len(self._view):
            raise EncryptionRejected("integrity", "a region is longer than its length")
        self._view[self._at : end] = data
        self._at = end
        return len(data)

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


def _region_nonces(index: int) -> tuple[bytes, ...]:
    """The nonce of region `index` as each SDK writes v2 (azure-storage-blob's own list): Python
    (counter, big-endian), Java (counter in the leading 8 bytes) and .NET (counter + 1, little-endian
    in the trailing 8 bytes). Our blobs and the phone's are Python-style; the others still decrypt."""
    pad = NONCE_LENGTH - 8
    return (index.to_bytes(NONCE_LENGTH, "big"), index.to_bytes(8, "big") + b"\0" * pad, b"\0" * pad + (index + 1).to_bytes(8, "little"))


class _PreUnwrapped:
    """A KEK for the SDK's key resolver that returns the content key we already unwrapped while
    checking the metadata (one RSA/HSM operation per read, not two)."""

    def __init__(self, kek: KeyEncryptionKey, wrapped: bytes, unwrapped: bytes) -> None:
        self._kek = kek
        self._wrapped = wrapped
        self._unwrapped = unwrapped

    def wrap_key(self, key: bytes) -> bytes:
        raise EncryptionRejected("unsupported-encryption", "read-only key")

    def unwrap_key(self, key: bytes, algorithm: str) -> bytes:
        if algorithm != self._kek.get_key_wrap_algorithm():
            raise EncryptionRejected("unsupported-encryption", f"key wrap algorithm {algorithm!r} is not allowed")
        if key == self._wrapped:
            return self._unwrapped
        return self._kek.unwrap_key(key, algorithm)

    def get_kid(self) -> str:
        return self._kek.get_kid()

    def get_key_wrap_algorithm(self) -> str:
        return self._kek.get_key_wrap_algorithm()


def _metadata_value(metadata: Mapping[str, str], key: str) -> str | None:
    for k, v in metadata.items():
        if k.lower() == key:
            return v
    return None


def _user_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    return {k: v for k, v in (metadata or {}).items() if k.lower() != ENCRYPTION_METADATA}


def _info(props: BlobProperties, name: str | None = None) -> BlobInfo:
    return BlobInfo(
        name=name or props.name,
        etag=props.etag,
        size=props.size,
        metadata=_user_metadata(props.metadata),
        created_at=getattr(props, "creation_time", None) or props.last_modified,
        leased=_is_leased(props),
    )


def _is_leased(props: BlobProperties) -> bool:
    lease = getattr(props, "lease", None)
    return getattr(lease, "state", None) in ("leased", "breaking")


def _is_lease_error(exc: AzureError) -> bool:
    """LeaseIdMissing (412) on a delete; LeaseNotPresentWithLeaseOperation (409) on a break."""
    code = str(getattr(exc, "error_code", "") or "")
    return isinstance(exc, HttpResponseError) and exc.status_code in (409, 412) and "lease" in code.lower()


class _Envelope:
    """The checked encryptiondata of one blob."""

    def __init__(self, kid: str, wrapped: bytes, algorithm: str = KEY_WRAP_ALGORITHM) -> None:
        self.kid = kid
        self.wrapped = wrapped
        self.algorithm = algorithm


def parse_envelope(raw: str | None) -> _Envelope:
    """Check a blob's encryptiondata metadata is our v2 AES-GCM envelope (no key operations)."""
    if raw is None:
        raise EncryptionRejected("not-encrypted", "the blob has no encryption metadata")
    try:
        data = json.loads(raw)
    except ValueError:
        raise EncryptionRejected("metadata-invalid", "encryption metadata is not JSON") from None
    if not isinstance(data, dict):
        raise EncryptionRejected("metadata-invalid", "encryption metadata is not an object")
    agent = data.get("EncryptionAgent")
    if not isinstance(agent, dict) or "Protocol" not in agent or "EncryptionAlgorithm" not in agent:
        raise EncryptionRejected("metadata-invalid", "EncryptionAgent is missing")
    if agent["Protocol"] != PROTOCOL:
        raise EncryptionRejected("unsupported-encryption", f"protocol {str(agent['Protocol'])[:20]!r} is not {PROTOCOL}")
    if agent["EncryptionAlgorithm"] != CIPHER:
        raise EncryptionRejected("unsupported-encryption", f"cipher {str(agent['EncryptionAlgorithm'])[:20]!r} is not {CIPHER}")
    if "ContentEncryptionIV" in data:
        raise EncryptionRejected("metadata-invalid", "a v1 IV is present in v2 metadata")
    mode = data.get("EncryptionMode", "FullBlob")
    if mode != "FullBlob":
        raise EncryptionRejected("metadata-invalid", "EncryptionMode is not FullBlob")
    region = data.get("EncryptedRegionInfo")
    if not isinstance(region, dict):
        raise EncryptionRejected("metadata-invalid", "EncryptedRegionInfo is missing")
    data_length, nonce_length = region.get("DataLength"), region.get("NonceLength")
    if type(data_length) is not int or type(nonce_length) is not int or (data_length, nonce_length) != (REGION_DATA_LENGTH, NONCE_LENGTH):
        raise EncryptionRejected("metadata-invalid", "EncryptedRegionInfo is not 4 MiB regions with 12-byte nonces")
    wrapped = data.get("WrappedContentKey")
    if not isinstance(wrapped, dict):
        raise EncryptionRejected("metadata-invalid", "WrappedContentKey is missing")
    kid, algorithm, encrypted_key = wrapped.get("KeyId"), wrapped.get("Algorithm"), wrapped.get("EncryptedKey")
    if not isinstance(kid, str) or not isinstance(algorithm, str) or not isinstance(encrypted_key, str) or not kid:
        raise EncryptionRejected("metadata-invalid", "WrappedContentKey is incomplete")
    if algorithm not in _WRAP_ALGORITHMS:
        raise EncryptionRejected("unsupported-encryption", f"key wrap algorithm {algorithm[:20]!r} is not {' or '.join(_WRAP_ALGORITHMS)}")
    try:
        wrapped_bytes = base64.b64decode(encrypted_key, validate=True)
    except (binascii.Error, ValueError):
        raise EncryptionRejected("metadata-invalid", "EncryptedKey is not base64") from None
    if not wrapped_bytes:
        raise EncryptionRejected("metadata-invalid", "EncryptedKey is empty")
    return _Envelope(kid, wrapped_bytes, algorithm)


def _unwrap_content_key(kek: KeyEncryptionKey, envelope: _Envelope) -> bytes:
    """The v2 content key (with its 8-byte version prefix) the envelope holds."""
    cek = kek.unwrap_key(envelope.wrapped, envelope.algorithm)
    if len(cek) != len(_CEK_PREFIX) + 32 or not cek.startswith(_CEK_PREFIX):
        raise EncryptionRejected("metadata-invalid", "the wrapped key does not hold a v2 content key")
    return cek


class AzureBlobStore:
    """ports.BlobStore on Azure Blob Storage / Azurite."""

    def __init__(
        self,
        service_client: BlobServiceClient,
        kek_provider: KeyEncryptionKeyProvider,
        *,
        account_key_credential: Any | None = None,
        containers: tuple[str, ...] = BLOB_CONTAINERS,
        data_keys: PatientDataKeys | None = None,
    ) -> None:
        self._service = service_client
        self._containers = containers
        self._kek = kek_provider
        self._data_keys = data_keys
        credential = account_key_credential if account_key_credential is not None else service_client.credential
        # A StorageSharedKeyCredential (connection string) signs SAS itself; otherwise user delegation.
        self._account_key: str | None = getattr(credential, "account_key", None)
        self._delegation_key: UserDelegationKey | None = None
        self._delegation_key_expiry: datetime | None = None
        self._delegation_lock = threading.Lock()
        self._bound_memory(service_client)

    @classmethod
    def from_connection_string(
        cls,
        conn: str,
        kek_provider: KeyEncryptionKeyProvider,
        *,
        containers: tuple[str, ...] = BLOB_CONTAINERS,
        data_keys: PatientDataKeys | None = None,
        **client_kwargs: Any,
    ) -> AzureBlobStore:
        """Connection string (Azurite locally). SAS URLs are signed with the account key."""
        service = BlobServiceClient.from_connection_string(conn, **_client_kwargs(client_kwargs))
        return cls(service, kek_provider, containers=containers, data_keys=data_keys)

    @classmethod
    def from_identity(
        cls,
        blob_uri: str,
        credential: TokenCredential,
        kek_provider: KeyEncryptionKeyProvider,
        *,
        containers: tuple[str, ...] = BLOB_CONTAINERS,
        data_keys: PatientDataKeys | None = None,
        **client_kwargs: Any,
    ) -> AzureBlobStore:
        """Managed identity (Azure). SAS URLs are user delegation SAS (no shared key on the account)."""
        service = BlobServiceClient(blob_uri, credential=credential, **_client_kwargs(client_kwargs))
        return cls(service, kek_provider, containers=containers, data_keys=data_keys)

    @staticmethod
    def _bound_memory(service_client: BlobServiceClient) -> None:
        # Reads must hold a few MiB whatever the blob's size; the SDK's defaults fetch 32 MiB at once.
        config = service_client._config  # noqa: SLF001 - the SDK exposes these only as constructor kwargs
        config.max_single_get_size = min(config.max_single_get_size, REGION_DATA_LENGTH)
        config.max_chunk_get_size = min(config.max_chunk_get_size, REGION_DATA_LENGTH)
        config.max_block_size = min(config.max_block_size, REGION_DATA_LENGTH)
        config.max_single_put_size = min(config.max_single_put_size, 2 * REGION_DATA_LENGTH)

    # ------------------------------------------------------------ containers, health
    def ensure_containers(self) -> None:
        for name in self._containers:
            try:
                self._service.create_container(name)  # private: no public_access
            except ResourceExistsError:
                pass
            except AzureError as exc:
                raise _map_error(exc) from None

    def ping(self) -> None:
        """Raises DependencyUnavailable within seconds when Blob Storage cannot be reached."""
        container = self._service.get_container_client(BLOB_CONTAINERS[0])
        try:
            container.get_container_properties(retry_total=0, timeout=5)
        except ResourceNotFoundError:
            return  # reachable; containers are made by ensure_containers
        except AzureError as exc:
            raise _map_error(exc) from None

    # ------------------------------------------------------------ writing
    def put_encrypted(self, container: str, name: str, data: bytes | Iterable[bytes], *, metadata: Mapping[str, str] | None = None) -> BlobInfo:
        """Encrypt (v2) and store, overwriting: a patient's blob under their data key, anything else
        under the current KEK. `data` may be bytes or an iterable of chunks (uploaded in 4 MiB
        blocks, never held whole)."""
        if metadata and any(k.lower() == ENCRYPTION_METADATA for k in metadata):
            raise ValueError("metadata may not carry encryptiondata")
        blob = self._blob(container, name)
        kek = self._wrapping_key(container, name)
        blob.require_encryption = True
        blob.encryption_version = PROTOCOL
        blob.key_encryption_key = kek
        body: Any
        if isinstance(data, bytes | bytearray | memoryview):
            body = bytes(data)
        elif hasattr(data, "read"):
            body = data
        else:
            body = iter(data)  # the SDK refuses lists/tuples; any iterator streams
        try:
            blob.upload_blob(body, overwrite=True, metadata=dict(metadata or {}), max_concurrency=1)
        except AzureError as exc:
            raise _decryption_error(exc) from None
        return self.info(container, name)

    def upload_url(self, container: str, name: str, expires_at: datetime) -> str:
        """SAS URL for exactly this blob, create+write only, https only (http also allowed for a
        loopback emulator endpoint), valid from a few minutes ago until expires_at."""
        if expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")
        now = datetime.now(UTC)
        if expires_at <= now:
            raise ValueError("expires_at must be in the future")
        blob = self._blob(container, name)
        common: dict[str, Any] = {
            "account_name": self._service.account_name,
            "container_name": container,
            "blob_name": name,
            "permission": BlobSasPermissions(create=True, write=True),
            "expiry": expires_at,
            "start": now - _SAS_CLOCK_SKEW,
            "protocol": "https,http" if self._is_loopback_http() else "https",
        }
        if self._account_key:
            sas = generate_blob_sas(account_key=self._account_key, **common)
        else:
            sas = generate_blob_sas(user_delegation_key=self._user_delegation_key(expires_at), **common)
        return f"{blob.url}?{sas}"

    def _is_loopback_http(self) -> bool:
        parsed = urlparse(self._service.url)
        return parsed.scheme == "http" and parsed.hostname in ("127.0.0.1", "localhost", "::1")

    def _user_delegation_key(self, expires_at: datetime) -> UserDelegationKey:
        with self._delegation_lock:
            now = datetime.now(UTC)
            if self._delegation_key is not None and self._delegation_key_expiry is not None:
                if self._delegation_key_expiry - _SAS_CLOCK_SKEW >= expires_at:
                    return self._delegation_key
            key_expiry = max(now + _DELEGATION_KEY_LIFETIME, expires_at + _SAS_CLOCK_SKEW)
            key = _call(lambda: self._service.get_user_delegation_key(now - _SAS_CLOCK_SKEW, key_expiry))
            self._delegation_key, self._delegation_key_expiry = key, key_expiry
            return key

    # ------------------------------------------------------------ reading
    def plaintext_size(self, container: str, name: str) -> int:
        """v2 ciphertext is each 4 MiB region plus a 12-byte nonce and a 16-byte tag: take them off."""
        size = self.info(container, name).size
        per_region = REGION_DATA_LENGTH + NONCE_LENGTH + TAG_LENGTH
        regions = -(-size // per_region)
        return max(0, size - regions * (NONCE_LENGTH + TAG_LENGTH))

    def read_decrypted(self, container: str, name: str, *, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        """Check the envelope, then return an iterator of plaintext chunks (<= 4 MiB each): the
        whole blob, or `length` bytes from `offset` (the SDK reads and verifies only the regions
        that cover them).

        Raises NotFound, EncryptionRejected (before any plaintext for envelope problems and for a
        failure in the first region; possibly mid-iteration for later regions: discard partial
        plaintext), PreconditionFailed (blob replaced while read), DependencyUnavailable.
        """
        blob = self._blob(container, name)
        props = _call(blob.get_blob_properties, what="blob not found")
        envelope = parse_envelope(_metadata_value(props.metadata or {}, ENCRYPTION_METADATA))
        kek = self._resolve(container, name, envelope)  # UnknownKey (foreign-key) for any kid not ours
        cek = _unwrap_content_key(kek, envelope)
        resolver_kek = _PreUnwrapped(kek, envelope.wrapped, cek)

        def resolve(kid: str) -> KeyEncryptionKey:
            if kid != envelope.kid:
                raise EncryptionRejected("metadata-invalid", "the key id changed during the read")
            return resolver_kek

        if offset or length is not None:
            return self._read_regions(blob, props, cek, offset, length)
        blob.require_encryption = True
        blob.encryption_version = PROTOCOL
        blob.key_encryption_key = None
        blob.key_resolver_function = resolve
        try:
            downloader = blob.download_blob(etag=props.etag, match_condition=MatchConditions.IfNotModified, max_concurrency=1)
        except Exception as exc:  # noqa: BLE001 - the SDK wraps decryption errors in HttpResponseError
            raise _decryption_error(exc) from None
        return self._iterate(downloader)

    @staticmethod
    def _read_regions(blob: BlobClient, props: BlobProperties, cek: bytes, offset: int, length: int | None) -> Iterator[bytes]:
        """A plaintext range, region by region: each whole 4 MiB AES-GCM region that covers it is read
        into one buffer, its nonce checked against its position (as the SDK checks it: Python, Java
        or .NET counter) and its tag verified before any of its bytes are yielded. The SDK's own
        ranged decryption copies each region several times; this holds one region's ciphertext and
        its plaintext (for a part of a ranged HTTP download, issue 15)."""
        per_region = REGION_DATA_LENGTH + NONCE_LENGTH + TAG_LENGTH
        cipher_size = props.size
        regions = -(-cipher_size // per_region)
        plain_size = cipher_size - regions * (NONCE_LENGTH + TAG_LENGTH)
        end = plain_size if length is None else min(plain_size, offset + length)
        if offset < 0 or offset > plain_size:
            raise ValueError("offset outside the blob")
        aes = AESGCM(cek[len(_CEK_PREFIX) :])  # the v2 content key after its checked version prefix
        index = offset // REGION_DATA_LENGTH
        while offset < end:
            start = index * per_region
            size = min(per_region, cipher_size - start)
            raw = bytearray(size)
            filler, got = _Filler(raw), 0
            try:
                while got < size:  # in 1 MiB reads, so the HTTP layer's buffer is small beside the region
                    piece = min(_READ_PIECE, size - got)
                    downloader = blob.download_blob(
                        offset=start + got, length=piece, etag=props.etag, match_condition=MatchConditions.IfNotModified, max_concurrency=1
                    )
                    read = downloader.readinto(cast(IO[bytes], filler))  # readinto only calls write()
                    if read != piece:
                        break
                    got += read
            except AzureError as exc:
                raise _map_error(exc, what="blob not found") from None
            if got != size:
                raise EncryptionRejected("integrity", "a region is shorter than its length")
            view = memoryview(raw)
            nonce = bytes(view[:NONCE_LENGTH])
            if nonce not in _region_nonces(index):
                raise EncryptionRejected("integrity", "a region is out of place (nonce does not match its position)")
            try:
                plain = aes.decrypt(nonce, view[NONCE_LENGTH:], None)
            except InvalidTag:
                raise EncryptionRejected("integrity", "an authenticated region failed its GCM tag check") from None
            view.release()
            del raw
            lo = offset - index * REGION_DATA_LENGTH
            hi = min(len(plain), end - index * REGION_DATA_LENGTH)
            yield plain if (lo, hi) == (0, len(plain)) else plain[lo:hi]
            offset = index * REGION_DATA_LENGTH + hi
            index += 1

    @staticmethod
    def _iterate(downloader: StorageStreamDownloader[bytes]) -> Iterator[bytes]:
        try:
            for chunk in downloader.chunks():
                if chunk:
                    yield chunk
        except Exception as exc:  # noqa: BLE001 - see module docstring: mid-stream decryption failures
            raise _decryption_error(exc) from None

    # ------------------------------------------------------------ keys
    def _patient_of(self, container: str, name: str) -> str | None:
        """The patient a blob belongs to when it is wrapped by a data key: '<patientId>/...' outside uploads."""
        if self._data_keys is None or container == UPLOADS:
            return None
        first = name.split("/", 1)[0]
        return first if is_patient_id(first) else None

    def _wrapping_key(self, container: str, name: str) -> KeyEncryptionKey:
        patient_id = self._patient_of(container, name)
        if patient_id is not None and self._data_keys is not None:
            return self._data_keys.wrapping_key(patient_id)
        return self._kek.current()

    def _resolve(self, container: str, name: str, envelope: _Envelope) -> KeyEncryptionKey:
        """The key that unwraps this blob's content key, by its kid: the KEK (any version) or, only
        for a blob of that same patient's, the patient's data key."""
        if self._data_keys is not None and self._data_keys.owns_kid(envelope.kid):
            if self._data_keys.patient_of(envelope.kid) != self._patient_of(container, name):
                raise UnknownKey(envelope.kid)  # another patient's key, or a data key in uploads
            kek = self._data_keys.resolve(envelope.kid)
        else:
            kek = self._kek.resolve(envelope.kid)
        if kek.get_kid() != envelope.kid:
            raise EncryptionRejected("foreign-key", "the resolved key does not carry the blob's key id")
        if kek.get_key_wrap_algorithm() != envelope.algorithm:
            raise EncryptionRejected("unsupported-encryption", "the key wrap algorithm does not match the key")
        return kek

    def rewrap_content_key(self, container: str, name: str) -> bool:
        """Migration: a patient's blob whose content key is wrapped directly by the KEK gets it wrapped
        by the patient's data key instead. Only the encryptiondata metadata changes (the content key
        and the ciphertext stay), pinned to the blob's ETag. One KEK unwrap per blob migrated.

        False when there is nothing to do (already a data key's, not a patient's blob, no data
        keys). Raises NotFound, EncryptionRejected, PreconditionFailed (changed meanwhile: run again).
        """
        patient_id = self._patient_of(container, name)
        if patient_id is None or self._data_keys is None:
            return False
        blob = self._blob(container, name)
        props = _call(blob.get_blob_properties, what="blob not found")
        raw = _metadata_value(props.metadata or {}, ENCRYPTION_METADATA)
        envelope = parse_envelope(raw)
        if self._data_keys.owns_kid(envelope.kid):
            return False
        cek = _unwrap_content_key(self._resolve(container, name, envelope), envelope)
        data_key = self._data_keys.wrapping_key(patient_id)
        data = json.loads(raw or "{}")
        data["WrappedContentKey"] = {
            "KeyId": data_key.get_kid(),
            "EncryptedKey": base64.b64encode(data_key.wrap_key(cek)).decode("ascii"),
            "Algorithm": data_key.get_key_wrap_algorithm(),
        }
        metadata = {**_user_metadata(props.metadata), ENCRYPTION_METADATA: json.dumps(data)}
        _call(lambda: blob.set_blob_metadata(metadata, etag=props.etag, match_condition=MatchConditions.IfNotModified), what="blob not found")
        return True

    # ------------------------------------------------------------ metadata-only operations
    def info(self, container: str, name: str) -> BlobInfo:
        props = _call(self._blob(container, name).get_blob_properties, what="blob not found")
        return _info(props, name)

    def delete(self, container: str, name: str) -> None:
        self._delete_blob(self._blob(container, name))

    def delete_prefix(self, container: str, prefix: str) -> int:
        if not prefix:
            raise ValueError("refusing to delete a whole container: give a prefix")
        deleted = 0
        for item in list(self.list(container, prefix)):
            if self._delete_blob(self._blob(container, item.name)):
                deleted += 1
        return deleted

    @staticmethod
    def _delete_blob(blob: BlobClient) -> bool:
        """Delete one blob (and its snapshots); False when it was not there.

        Anyone holding an upload SAS (write permission) can take an infinite lease on that blob,
        and a leased blob refuses deletion (412 LeaseIdMissing). We own the account, so a lease
        never stops a delete: the lease is broken at once and the delete repeated.
        """
        for attempt in range(3):
            try:
                blob.delete_blob(delete_snapshots="include")
                return True
            except ResourceNotFoundError:
                return False
            except AzureError as exc:
                if attempt == 2 or not _is_lease_error(exc):
                    raise _map_error(exc) from None
            try:
                BlobLeaseClient(blob).break_lease(lease_break_period=0)
            except ResourceNotFoundError:
                return False
            except AzureError as exc:
                if not _is_lease_error(exc):  # "no lease to break": someone released it meanwhile
                    raise _map_error(exc) from None
        return False  # not reached

    def list(self, container: str, prefix: str = "") -> Iterator[BlobInfo]:
        client = self._service.get_container_client(container)
        try:
            for props in client.list_blobs(name_starts_with=prefix or None, include=["metadata"]):
                yield _info(props)
        except AzureError as exc:
            raise _map_error(exc, what="container not found") from None

    def list_page(
        self, container: str, prefix: str = "", *, continuation: str | None = None, limit: int = 500
    ) -> tuple[builtins.list[BlobInfo], str | None]:
        client = self._service.get_container_client(container)
        try:
            pages: Any = client.list_blobs(name_starts_with=prefix or None, include=["metadata"], results_per_page=limit).by_page(
                continuation_token=continuation
            )
            items = [_info(props) for props in next(pages, [])]
            return items, pages.continuation_token or None
        except AzureError as exc:
            raise _map_error(exc, what="container not found") from None

    # ------------------------------------------------------------ internals
    def _blob(self, container: str, name: str) -> BlobClient:
        if not name or name.startswith("/") or "\\" in name or any(part in ("", ".", "..") for part in name.split("/")):
            raise ValueError("invalid blob name")
        return self._service.get_blob_client(container, name)
