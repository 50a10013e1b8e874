"""Key-encryption key in Azure Key Vault (an RSA-HSM key, 3072 bits or more).

- current(): the latest version of the configured key (cached for a few minutes). Wrapping runs
  locally with the public key that CryptographyClient fetched (no HSM operation per upload).
- resolve(kid): any version of the configured key, and nothing else: a kid must be exactly
  ``https://<vault host>/keys/<key name>/<version>``. Unwrapping always goes to Key Vault.
- Only RSA-OAEP-256 is accepted for wrapping and unwrapping.
- Unwrapped content keys are cached in memory briefly (bounded LRU, short TTL) because Key Vault
  allows about 500 RSA-HSM operations per 10 s per vault and a thumbnail, a preview and an original
  of the same photo are often read within seconds. They never leave the process.

SDK exceptions never escape: connection failures, throttling and 5xx become
DependencyUnavailable("key vault"); a content key Key Vault cannot unwrap (wrapped under
another key, or altered) or a version that does not exist becomes UnknownKey.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.keyvault.keys import KeyClient, KeyVaultKey
from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm

from shared_code.adapters._rsa_kek import KEY_WRAP_ALGORITHM, public_wrapping_jwk
from shared_code.adapters.kek_operations import KEK_OPERATIONS
from shared_code.ports import DependencyUnavailable, EncryptionRejected, KeyEncryptionKey, UnknownKey

DEPENDENCY = "key vault"
_VERSION_RE = re.compile(r"^[0-9A-Za-z]{1,64}$")

# Pipeline defaults: fail within seconds when the vault cannot be reached (health checks, 503s).
_CLIENT_DEFAULTS: dict[str, Any] = {
    "retry_total": 3,
    "retry_backoff_factor": 0.4,
    "retry_backoff_max": 4,
    "connection_timeout": 5,
    "read_timeout": 20,
}


class _UnwrappedKeyCache:
    """Bounded LRU of unwrapped content keys with a short time-to-live."""

    def __init__(self, max_entries: int, ttl_seconds: float, clock: Callable[[], float]) -> None:
        self._max = max_entries
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: OrderedDict[tuple[str, bytes], tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, kid: str, wrapped: bytes) -> bytes | None:
        if self._max <= 0 or self._ttl <= 0:
            return None
        now = self._clock()
        with self._lock:
            entry = self._entries.get((kid, wrapped))
            if entry is None:
                return None
            expires, key = entry
            if expires <= now:
                del self._entries[(kid, wrapped)]
                return None
            self._entries.move_to_end((kid, wrapped))
            return key

    def put(self, kid: str, wrapped: bytes, key: bytes) -> None:
        if self._max <= 0 or self._ttl <= 0:
            return
        with self._lock:
            self._entries[(kid, wrapped)] = (self._clock() + self._ttl, key)
            self._entries.move_to_end((kid, wrapped))
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)


def _map_errors(exc: Exception, kid: str) -> Exception:
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return DependencyUnavailable(DEPENDENCY, type(exc).__name__)
    if isinstance(exc, ResourceNotFoundError):
        return UnknownKey(kid)
    if isinstance(exc, ClientAuthenticationError):
        return DependencyUnavailable(DEPENDENCY, f"not authorised ({exc.status_code})")
    if isinstance(exc, HttpResponseError):
        status = exc.status_code or 0
        if status == 429 or status >= 500:
            return DependencyUnavailable(DEPENDENCY, f"status {status}")
        if status == 400:
            # Key Vault could not unwrap: not our key's ciphertext (or altered).
            return UnknownKey(kid)
        return DependencyUnavailable(DEPENDENCY, f"status {status}")
    return exc


class KeyVaultKek:
    """One version of the Key Vault key (implements ports.KeyEncryptionKey)."""

    def __init__(self, kid: str, crypto: CryptographyClient, cache: _UnwrappedKeyCache) -> None:
        self._kid = kid
        self._crypto = crypto
        self._cache = cache

    def wrap_key(self, key: bytes) -> bytes:
        KEK_OPERATIONS.record("wrap")
        try:
            return self._crypto.wrap_key(KeyWrapAlgorithm.rsa_oaep_256, key).encrypted_key
        except (HttpResponseError, ServiceRequestError, ServiceResponseError) as exc:
            raise _map_errors(exc, self._kid) from None

    def unwrap_key(self, key: bytes, algorithm: str) -> bytes:
        if algorithm != KEY_WRAP_ALGORITHM:
            raise EncryptionRejected("unsupported-encryption", f"key wrap algorithm {algorithm!r} is not allowed")
        cached = self._cache.get(self._kid, key)
        if cached is not None:
            return cached
        KEK_OPERATIONS.record("unwrap")
        try:
            result = self._crypto.unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, key)
        except (HttpResponseError, ServiceRequestError, ServiceResponseError) as exc:
            raise _map_errors(exc, self._kid) from None
        self._cache.put(self._kid, key, result.key)
        return result.key

    def get_kid(self) -> str:
        return self._kid

    def get_key_wrap_algorithm(self) -> str:
        return KEY_WRAP_ALGORITHM


class KeyVaultKekProvider:
    """ports.KeyEncryptionKeyProvider for one named key in one vault (all its versions)."""

    def __init__(
        self,
        vault_url: str,
        key_name: str,
        credential: TokenCredential,
        *,
        current_ttl_seconds: float = 300.0,
        unwrapped_ttl_seconds: float = 120.0,
        unwrapped_max_entries: int = 512,
        clock: Callable[[], float] = time.monotonic,
        **client_kwargs: Any,
    ) -> None:
        parsed = urlparse(vault_url)
        if parsed.scheme != "https" or not parsed.hostname:
            raise ValueError("vault_url must be an https URL")
        self._vault_netloc = parsed.netloc.lower()
        self._vault_url = f"https://{parsed.netloc}"
        self._key_name = key_name
        self._credential = credential
        self._client_kwargs = {**_CLIENT_DEFAULTS, **client_kwargs}
        self._client = KeyClient(self._vault_url, credential, **self._client_kwargs)
        self._current_ttl = current_ttl_seconds
        self._clock = clock
        self._cache = _UnwrappedKeyCache(unwrapped_max_entries, unwrapped_ttl_seconds, clock)
        self._lock = threading.Lock()
        self._current: tuple[float, KeyVaultKey, KeyVaultKek] | None = None
        self._by_kid: dict[str, KeyVaultKek] = {}

    # ------------------------------------------------------------ port
    def current(self) -> KeyEncryptionKey:
        return self._current_entry()[2]

    def resolve(self, kid: str) -> KeyEncryptionKey:
        if not self.owns_kid(kid):
            raise UnknownKey(str(kid))
        with self._lock:
            kek = self._by_kid.get(kid)
            if kek is None:
                kek = KeyVaultKek(kid, CryptographyClient(kid, self._credential, **self._client_kwargs), self._cache)
                self._by_kid[kid] = kek
            return kek

    def public_jwk(self) -> dict[str, Any]:
        _, key, _ = self._current_entry()
        jwk = key.key
        return public_wrapping_jwk(jwk.n, jwk.e, key.id)  # type: ignore[attr-defined]

    # ------------------------------------------------------------ helpers
    def owns_kid(self, kid: object) -> bool:
        """True when kid names a version of our key in our vault: https://<host>/keys/<name>/<version>."""
        if not isinstance(kid, str):
            return False
        try:
            parsed = urlparse(kid)
        except ValueError:
            return False
        if parsed.scheme != "https" or parsed.netloc.lower() != self._vault_netloc:
            return False
        if parsed.query or parsed.fragment or parsed.params or "@" in parsed.netloc:
            return False
        parts = parsed.path.split("/")
        return len(parts) == 4 and parts[0] == "" and parts[1] == "keys" and parts[2] == self._key_name and bool(_VERSION_RE.match(parts[3]))

    def ping(self) -> None:
        """Raises DependencyUnavailable when the key cannot be read from the vault."""
        try:
            self._client.get_key(self._key_name, retry_total=0)
        except (HttpResponseError, ServiceRequestError, ServiceResponseError) as exc:
            mapped = _map_errors(exc, self._key_name)
            if isinstance(mapped, DependencyUnavailable):
                raise mapped from None
            raise DependencyUnavailable(DEPENDENCY, type(exc).__name__) from None

    def _current_entry(self) -> tuple[float, KeyVaultKey, KeyVaultKek]:
        now = self._clock()
        with self._lock:
            cached = self._current
            if cached is not None and cached[0] > now:
                return cached
            try:
                key = self._client.get_key(self._key_name)
            except (HttpResponseError, ServiceRequestError, ServiceResponseError) as exc:
                mapped = _map_errors(exc, self._key_name)
                if cached is not None and isinstance(mapped, DependencyUnavailable):
                    return cached  # a slightly stale version still wraps keys we can unwrap
                if isinstance(mapped, UnknownKey):
                    mapped = DependencyUnavailable(DEPENDENCY, "the configured key does not exist")
                raise mapped from None
            if not self.owns_kid(key.id):
                raise DependencyUnavailable(DEPENDENCY, "the vault returned a key id outside the configured key")
            if key.key_type not in ("RSA", "RSA-HSM"):
                raise DependencyUnavailable(DEPENDENCY, "the configured key is not an RSA key")
            kek = KeyVaultKek(key.id, CryptographyClient(key, self._credential, **self._client_kwargs), self._cache)
            self._by_kid.setdefault(key.id, kek)
            entry = (now + self._current_ttl, key, kek)
            self._current = entry
            return entry
