"""Per-patient data keys (ports.PatientDataKeys), kept in the metadata store, wrapped by the KEK.

Every patient gets a random 256-bit data key on first use. It wraps (AES key wrap, RFC 3394,
"A256KW") the content keys of the blobs the server stores for that patient, and exists at rest only
wrapped by the key-encryption key (RSA-OAEP-256: Key Vault in Azure, a PEM file locally), in one
document of the patient's own partition:

    patients/<patientId>/datakey   {type: "datakey", version, kekKid, alg, wrappedKey (base64)}

and, for KEK rotation, an index entry that holds no key material:

    lookups/__datakeys__/datakey:<patientId>   {type: "datakey-index", patientId}

kid of a data key: ``patient-key:<patientId>/<version>``. The version is random per data key, so a
key made after an erasure (the same person signing up again) never opens the erased account's
blobs.

Key Vault budget (about 500 RSA-HSM operations per 10 s per vault): the data key is unwrapped at
most once per patient per worker per TTL (5 minutes) and kept in a bounded LRU; concurrent misses
for the same patient wait for one unwrap. Making a data key wraps with the KEK's public half
locally (no vault operation). Everything else (wrapping and unwrapping blobs' content keys) is
local AES key wrap.

Shredding deletes the wrapped data key and forgets it in this worker. Another worker may still
hold it in memory for up to the TTL; the account is already closed to every request by then.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from shared_code.adapters._rsa_kek import KEY_WRAP_ALGORITHM as KEK_WRAP_ALGORITHM
from shared_code.ports import (
    LOOKUPS,
    PATIENTS,
    Conflict,
    EncryptionRejected,
    KeyEncryptionKey,
    KeyEncryptionKeyProvider,
    MetadataStore,
    NotFound,
    PreconditionFailed,
    UnknownKey,
)

DATA_KEY_WRAP_ALGORITHM = "A256KW"
KID_PREFIX = "patient-key:"
DATA_KEY_DOC_ID = "datakey"
INDEX_PARTITION = "__datakeys__"
DATA_KEY_BYTES = 32
DEFAULT_TTL_SECONDS = 300.0
DEFAULT_MAX_ENTRIES = 4096
_LOCK_STRIPES = 64
_PATIENT_ID = re.compile(r"^pt-[0-9A-Za-z_-]{1,64}$")
_VERSION = re.compile(r"^[0-9a-f]{16,64}$")


def is_patient_id(value: str) -> bool:
    return bool(_PATIENT_ID.match(value))


def data_key_kid(patient_id: str, version: str) -> str:
    return f"{KID_PREFIX}{patient_id}/{version}"


def parse_kid(kid: object) -> tuple[str, str] | None:
    """(patientId, version) of a data key's kid, or None."""
    if not isinstance(kid, str) or not kid.startswith(KID_PREFIX):
        return None
    patient_id, _, version = kid[len(KID_PREFIX) :].partition("/")
    if not is_patient_id(patient_id) or not _VERSION.match(version):
        return None
    return patient_id, version


class DataKeyWrap:
    """One patient's data key as the key-encryption key azure-storage-blob expects (A256KW)."""

    def __init__(self, kid: str, key: bytes) -> None:
        if len(key) != DATA_KEY_BYTES:
            raise ValueError("a data key is 32 bytes")
        self._kid = kid
        self._key = key

    def wrap_key(self, key: bytes) -> bytes:
        return aes_key_wrap(self._key, key)

    def unwrap_key(self, key: bytes, algorithm: str) -> bytes:
        if algorithm != DATA_KEY_WRAP_ALGORITHM:
            raise EncryptionRejected("unsupported-encryption", f"key wrap algorithm {algorithm[:20]!r} is not {DATA_KEY_WRAP_ALGORITHM}")
        try:
            return aes_key_unwrap(self._key, key)
        except (InvalidUnwrap, ValueError):
            raise UnknownKey(self._kid) from None

    def get_kid(self) -> str:
        return self._kid

    def get_key_wrap_algorithm(self) -> str:
        return DATA_KEY_WRAP_ALGORITHM

    def __repr__(self) -> str:  # never the key
        return f"DataKeyWrap({self._kid!r})"


class _DataKeyCache:
    """Bounded LRU of unwrapped data keys, patient id -> (expires, version, key), with a TTL."""

    def __init__(self, max_entries: int, ttl_seconds: float, clock: Callable[[], float]) -> None:
        self._max = max_entries
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, str, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, patient_id: str) -> tuple[str, bytes] | None:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(patient_id)
            if entry is None:
                return None
            if entry[0] <= now:
                del self._entries[patient_id]
                return None
            self._entries.move_to_end(patient_id)
            return entry[1], entry[2]

    def put(self, patient_id: str, version: str, key: bytes) -> None:
        if self._max <= 0 or self._ttl <= 0:
            return
        with self._lock:
            self._entries[patient_id] = (self._clock() + self._ttl, version, key)
            self._entries.move_to_end(patient_id)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def forget(self, patient_id: str) -> None:
        with self._lock:
            self._entries.pop(patient_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class PatientKeyRing:
    """ports.PatientDataKeys over a MetadataStore (where the wrapped keys live) and the KEK provider."""

    def __init__(
        self,
        store: MetadataStore,
        kek: KeyEncryptionKeyProvider,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._kek = kek
        self._cache = _DataKeyCache(max_entries, ttl_seconds, clock)
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]

    # ------------------------------------------------------------ port
    def wrapping_key(self, patient_id: str) -> KeyEncryptionKey:
        if not is_patient_id(patient_id):
            raise ValueError("not a patient id")
        loaded = self._load(patient_id, create=True)
        if loaded is None:  # create=True always yields a key; this keeps the type honest
            raise RuntimeError("no data key was created")
        version, key = loaded
        return DataKeyWrap(data_key_kid(patient_id, version), key)

    def owns_kid(self, kid: str) -> bool:
        return parse_kid(kid) is not None

    def patient_of(self, kid: str) -> str | None:
        parsed = parse_kid(kid)
        return parsed[0] if parsed else None

    def resolve(self, kid: str) -> KeyEncryptionKey:
        parsed = parse_kid(kid)
        if parsed is None:
            raise UnknownKey(str(kid))
        patient_id, version = parsed
        found = self._load(patient_id, create=False)
        if found is not None and found[0] != version:
            self._cache.forget(patient_id)  # another worker may have made a new key since
            found = self._load(patient_id, create=False)
        if found is None or found[0] != version:
            raise UnknownKey(kid)
        return DataKeyWrap(kid, found[1])

    def shred(self, patient_id: str) -> None:
        with self._lock_for(patient_id):
            self._cache.forget(patient_id)
            try:
                self._store.delete(PATIENTS, patient_id, DATA_KEY_DOC_ID)
            except NotFound:
                pass
            try:
                self._store.delete(LOOKUPS, INDEX_PARTITION, _index_id(patient_id))
            except NotFound:
                pass

    def kek_kid_of(self, patient_id: str) -> str | None:
        """The kid of the KEK version the patient's data key is wrapped under (None when absent)."""
        try:
            return self._store.read(PATIENTS, patient_id, DATA_KEY_DOC_ID).get("kekKid")
        except NotFound:
            return None

    def rewrap(self, patient_id: str) -> bool:
        for _ in range(5):
            try:
                doc = self._store.read(PATIENTS, patient_id, DATA_KEY_DOC_ID)
            except NotFound:
                return False
            current = self._kek.current()
            if doc.get("kekKid") == current.get_kid():
                return False
            key = self._unwrap(doc)
            doc.update(kekKid=current.get_kid(), alg=KEK_WRAP_ALGORITHM, wrappedKey=_b64(current.wrap_key(key)), rewrappedAt=_now())
            try:
                self._store.replace(PATIENTS, doc, if_match=doc.get("_etag"))
            except PreconditionFailed:
                continue  # someone else rewrapped (or it was shredded): look again
            except NotFound:
                return False
            return True
        raise PreconditionFailed("the data key kept changing while it was rewrapped")

    def patient_ids(self) -> Iterator[str]:
        continuation: str | None = None
        while True:
            page = self._store.query(LOOKUPS, INDEX_PARTITION, where={"type": "datakey-index"}, limit=200, continuation=continuation)
            for item in page.items:
                yield item["patientId"]
            continuation = page.continuation
            if not continuation:
                return

    # ------------------------------------------------------------ internals
    def _lock_for(self, patient_id: str) -> threading.Lock:
        return self._locks[hash(patient_id) % _LOCK_STRIPES]

    def _load(self, patient_id: str, *, create: bool) -> tuple[str, bytes] | None:
        cached = self._cache.get(patient_id)
        if cached is not None:
            return cached
        with self._lock_for(patient_id):  # concurrent misses for one patient: one unwrap
            cached = self._cache.get(patient_id)
            if cached is not None:
                return cached
            for _ in range(3):
                try:
                    doc = self._store.read(PATIENTS, patient_id, DATA_KEY_DOC_ID)
                except NotFound:
                    if not create:
                        return None
                    made = self._create(patient_id)
                    if made is None:
                        continue  # another worker made it first: read theirs
                    version, key = made
                else:
                    version, key = _version(doc), self._unwrap(doc)
                self._cache.put(patient_id, version, key)
                return version, key
        raise PreconditionFailed("the data key could not be read or made")

    def _create(self, patient_id: str) -> tuple[str, bytes] | None:
        key, version = os.urandom(DATA_KEY_BYTES), secrets.token_hex(8)
        kek = self._kek.current()
        index_id = _index_id(patient_id)
        try:
            self._store.create(LOOKUPS, {"id": index_id, "key": INDEX_PARTITION, "type": "datakey-index", "patientId": patient_id})
        except Conflict:
            pass
        doc = {
            "id": DATA_KEY_DOC_ID,
            "patientId": patient_id,
            "type": "datakey",
            "version": version,
            "kekKid": kek.get_kid(),
            "alg": KEK_WRAP_ALGORITHM,
            "wrappedKey": _b64(kek.wrap_key(key)),
            "createdAt": _now(),
        }
        try:
            self._store.create(PATIENTS, doc)
        except Conflict:
            return None
        return version, key

    def _unwrap(self, doc: dict[str, Any]) -> bytes:
        if doc.get("alg") != KEK_WRAP_ALGORITHM:
            raise EncryptionRejected("unsupported-encryption", "the data key is not wrapped with RSA-OAEP-256")
        try:
            wrapped = base64.b64decode(str(doc.get("wrappedKey", "")), validate=True)
        except (binascii.Error, ValueError):
            raise EncryptionRejected("metadata-invalid", "the wrapped data key is not base64") from None
        key = self._kek.resolve(str(doc.get("kekKid", ""))).unwrap_key(wrapped, KEK_WRAP_ALGORITHM)
        if len(key) != DATA_KEY_BYTES:
            raise EncryptionRejected("metadata-invalid", "the wrapped data key is not a 256-bit key")
        return key


def _version(doc: dict[str, Any]) -> str:
    version = str(doc.get("version", ""))
    if not _VERSION.match(version):
        raise EncryptionRejected("metadata-invalid", "the data key has no valid version")
    return version


def _index_id(patient_id: str) -> str:
    return f"datakey:{patient_id}"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")
