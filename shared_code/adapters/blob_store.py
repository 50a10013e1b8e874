"""Blob Storage adapter: Azure Storage client-side encryption v2 (ARCHITECTURE section 3).

Format: exactly what azure-storage-blob writes with ``encryption_version="2.0"``: AES-256-GCM in
4 MiB authenticated regions (12-byte nonce = region index, 16-byte tag), a random content key per
blob wrapped with RSA-OAEP-256 under our key-encryption key (KEK), and the envelope in the blob's
``encryptiondata`` metadata. Any Azure SDK that speaks v2 decrypts our blobs given the KEK.

Reading is strict. The SDK still decrypts v1 (AES-CBC) blobs, so before any download we read
the metadata ourselves and insist on Protocol "2.0", AES_GCM_256, 4 MiB/12-byte regions, an
RSA-OAEP-256 wrapped key whose KeyId our KEK provider resolves, and a content key that unwraps to
a v2 key. Failures raise EncryptionRejected with a reason code:

    not-encrypted           no encryptiondata metadata (plaintext)
    unsupported-encryption  v1 / another protocol, cipher or key-wrap algorithm
    metadata-invalid        encryptiondata unparseable, incomplete or altered (region sizes,
                            a wrapped key that does not hold a v2 content key)
    foreign-key             the KeyId is not ours or the content key was not wrapped by our KEK
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
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
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

from shared_code.adapters._rsa_kek import KEY_WRAP_ALGORITHM
from shared_code.ports import (
    BLOB_CONTAINERS,
    BlobInfo,
    DependencyUnavailable,
    EncryptionRejected,
    KeyEncryptionKey,
    KeyEncryptionKeyProvider,
    NotFound,
    PreconditionFailed,
)

DEPENDENCY = "blob storage"
ENCRYPTION_METADATA = "encryptiondata"
PROTOCOL = "2.0"
CIPHER = "AES_GCM_256"
REGION_DATA_LENGTH = 4 * 1024 * 1024
NONCE_LENGTH = 12
_CEK_PREFIX = PROTOCOL.encode().ljust(8, b"\0")  # v2 wraps b"2.0\0\0\0\0\0" + 32-byte content key
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
    return LinearRetry(backoff=1, random_jitter_range=0.5, retry_total=2)


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


def _decryption_error(exc: BaseException) -> Exception:
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
        if algorithm != KEY_WRAP_ALGORITHM:
            raise EncryptionRejected("unsupported-encryption", f"key wrap algorithm {algorithm!r} is not allowed")
        if key == self._wrapped:
            return self._unwrapped
        return self._kek.unwrap_key(key, algorithm)

    def get_kid(self) -> str:
        return self._kek.get_kid()

    def get_key_wrap_algorithm(self) -> str:
        return KEY_WRAP_ALGORITHM


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

    def __init__(self, kid: str, wrapped: bytes) -> None:
        self.kid = kid
        self.wrapped = wrapped


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
    if algorithm != KEY_WRAP_ALGORITHM:
        raise EncryptionRejected("unsupported-encryption", f"key wrap algorithm {algorithm[:20]!r} is not {KEY_WRAP_ALGORITHM}")
    try:
        wrapped_bytes = base64.b64decode(encrypted_key, validate=True)
    except (binascii.Error, ValueError):
        raise EncryptionRejected("metadata-invalid", "EncryptedKey is not base64") from None
    if not wrapped_bytes:
        raise EncryptionRejected("metadata-invalid", "EncryptedKey is empty")
    return _Envelope(kid, wrapped_bytes)


class AzureBlobStore:
    """ports.BlobStore on Azure Blob Storage / Azurite."""

    def __init__(
        self,
        service_client: BlobServiceClient,
        kek_provider: KeyEncryptionKeyProvider,
        *,
        account_key_credential: Any | None = None,
        containers: tuple[str, ...] = BLOB_CONTAINERS,
    ) -> None:
        self._service = service_client
        self._containers = containers
        self._kek = kek_provider
        credential = account_key_credential if account_key_credential is not None else service_client.credential
        # A StorageSharedKeyCredential (connection string) signs SAS itself; otherwise user delegation.
        self._account_key: str | None = getattr(credential, "account_key", None)
        self._delegation_key: UserDelegationKey | None = None
        self._delegation_key_expiry: datetime | None = None
        self._delegation_lock = threading.Lock()
        self._bound_memory(service_client)

    @classmethod
    def from_connection_string(
        cls, conn: str, kek_provider: KeyEncryptionKeyProvider, *, containers: tuple[str, ...] = BLOB_CONTAINERS, **client_kwargs: Any
    ) -> AzureBlobStore:
        """Connection string (Azurite locally). SAS URLs are signed with the account key."""
        return cls(BlobServiceClient.from_connection_string(conn, **_client_kwargs(client_kwargs)), kek_provider, containers=containers)

    @classmethod
    def from_identity(
        cls,
        blob_uri: str,
        credential: TokenCredential,
        kek_provider: KeyEncryptionKeyProvider,
        *,
        containers: tuple[str, ...] = BLOB_CONTAINERS,
        **client_kwargs: Any,
    ) -> AzureBlobStore:
        """Managed identity (Azure). SAS URLs are user delegation SAS (no shared key on the account)."""
        return cls(BlobServiceClient(blob_uri, credential=credential, **_client_kwargs(client_kwargs)), kek_provider, containers=containers)

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
        """Encrypt (v2) under the current KEK and store, overwriting. `data` may be bytes or an
        iterable of chunks (uploaded in 4 MiB blocks, never held whole)."""
        if metadata and any(k.lower() == ENCRYPTION_METADATA for k in metadata):
            raise ValueError("metadata may not carry encryptiondata")
        kek = self._kek.current()
        blob = self._blob(container, name)
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
    def read_decrypted(self, container: str, name: str) -> Iterator[bytes]:
        """Check the envelope, then return an iterator of plaintext chunks (<= 4 MiB each).

        Raises NotFound, EncryptionRejected (before any plaintext for envelope problems and for a
        failure in the first region; possibly mid-iteration for later regions: discard partial
        plaintext), PreconditionFailed (blob replaced while read), DependencyUnavailable.
        """
        blob = self._blob(container, name)
        props = _call(blob.get_blob_properties, what="blob not found")
        envelope = parse_envelope(_metadata_value(props.metadata or {}, ENCRYPTION_METADATA))
        kek = self._kek.resolve(envelope.kid)  # UnknownKey (foreign-key) for any kid not ours
        if kek.get_kid() != envelope.kid:
            raise EncryptionRejected("foreign-key", "the resolved key does not carry the blob's key id")
        cek = kek.unwrap_key(envelope.wrapped, KEY_WRAP_ALGORITHM)
        if len(cek) != len(_CEK_PREFIX) + 32 or not cek.startswith(_CEK_PREFIX):
            raise EncryptionRejected("metadata-invalid", "the wrapped key does not hold a v2 content key")
        resolver_kek = _PreUnwrapped(kek, envelope.wrapped, cek)

        def resolve(kid: str) -> KeyEncryptionKey:
            if kid != envelope.kid:
                raise EncryptionRejected("metadata-invalid", "the key id changed during the read")
            return resolver_kek

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
    def _iterate(downloader: StorageStreamDownloader[bytes]) -> Iterator[bytes]:
        try:
            for chunk in downloader.chunks():
                if chunk:
                    yield chunk
        except Exception as exc:  # noqa: BLE001 - see module docstring: mid-stream decryption failures
            raise _decryption_error(exc) from None

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

    def list_page(self, container: str, prefix: str = "", *, continuation: str | None = None, limit: int = 500) -> tuple[list[BlobInfo], str | None]:
        client = self._service.get_container_client(container)
        try:
            pages = client.list_blobs(name_starts_with=prefix or None, include=["metadata"], results_per_page=limit).by_page(
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
