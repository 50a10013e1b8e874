"""The phone's side of photo encryption: Azure Storage client-side encryption v2.

The API hands out the public half of the key-encryption key (kid + JWK, RSA-OAEP-256) with each
upload URL. A random AES-256 content key per blob encrypts the photo in 4 MiB AES-GCM regions and
is wrapped with RSA-OAEP-256 under that public key. The phone holds no private key: it can never
decrypt anything, including its own uploads.

The format is azure-storage-blob's ``encryption_version="2.0"`` byte for byte (the stock SDK
decrypts it): each region is nonce (the region index, 12 bytes big-endian) + ciphertext + 16-byte
tag, the wrapped key is RSA-OAEP-256(b"2.0" padded to 8 bytes + content key), and the blob carries
the SDK's ``encryptiondata`` metadata. The upload itself does not go through the SDK's
``upload_blob``, which copies the whole blob through buffers before the first byte is sent: it is
one Put Blob whose body encrypts each region as the HTTP layer reads it (one region in memory at a
time), so an encrypted upload costs what a plain one does.
"""

from __future__ import annotations

import base64
import io
import json
import os
from collections.abc import Iterator
from typing import IO, Any

from azure.core import PipelineClient
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.policies import HeadersPolicy, UserAgentPolicy
from azure.core.pipeline.transport import HttpTransport, RequestsTransport
from azure.core.rest import HttpRequest
from azure.storage.blob import BlobClient
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY_WRAP_ALGORITHM = "RSA-OAEP-256"
MIN_RSA_BITS = 2048
PROTOCOL = "2.0"
CIPHER = "AES_GCM_256"
REGION_DATA_LENGTH = 4 * 1024 * 1024
NONCE_LENGTH = 12
TAG_LENGTH = 16
ENCRYPTION_LIBRARY = "Python skinvault_client (streaming v2)"
_CEK_PREFIX = PROTOCOL.encode().ljust(8, b"\0")  # v2 wraps b"2.0\0\0\0\0\0" + the 32-byte content key

_OAEP_256 = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def _b64url_uint(text: Any, field: str) -> int:
    if not isinstance(text, str) or not text:
        raise ValueError(f"jwk.{field} is missing")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise ValueError(f"jwk.{field} is not base64url") from None
    return int.from_bytes(raw, "big")


class PublicJwkKek:
    """A key-encryption key that can only wrap (public RSA JWK, RSA-OAEP-256)."""

    def __init__(self, jwk: dict[str, Any]) -> None:
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA":
            raise ValueError("jwk must be an RSA public key")
        if jwk.get("alg", KEY_WRAP_ALGORITHM) != KEY_WRAP_ALGORITHM:
            raise ValueError(f"jwk.alg must be {KEY_WRAP_ALGORITHM}")
        if any(k in jwk for k in ("d", "p", "q", "dp", "dq", "qi")):
            raise ValueError("jwk must be a public key (it carries private fields)")
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid:
            raise ValueError("jwk.kid is missing")
        public_key = rsa.RSAPublicNumbers(_b64url_uint(jwk.get("e"), "e"), _b64url_uint(jwk.get("n"), "n")).public_key()
        if public_key.key_size < MIN_RSA_BITS:
            raise ValueError(f"jwk is a {public_key.key_size}-bit key; at least {MIN_RSA_BITS} bits are required")
        self._public_key = public_key
        self._kid = kid

    def wrap_key(self, key: bytes) -> bytes:
        return self._public_key.encrypt(key, _OAEP_256)

    def unwrap_key(self, key: bytes, algorithm: str) -> bytes:
        raise PermissionError("the phone holds only the public key and can never decrypt")

    def get_kid(self) -> str:
        return self._kid

    def get_key_wrap_algorithm(self) -> str:
        return KEY_WRAP_ALGORITHM


def encrypted_length(length: int) -> int:
    """Size of the v2 body for `length` plaintext bytes (an empty plaintext is an empty body)."""
    return length + -(-length // REGION_DATA_LENGTH) * (NONCE_LENGTH + TAG_LENGTH)


def encryption_data(kek: PublicJwkKek, content_key: bytes) -> str:
    """The blob's ``encryptiondata`` metadata, laid out as azure-storage-blob writes it."""
    return json.dumps(
        {
            "WrappedContentKey": {
                "KeyId": kek.get_kid(),
                "EncryptedKey": base64.b64encode(kek.wrap_key(_CEK_PREFIX + content_key)).decode("ascii"),
                "Algorithm": kek.get_key_wrap_algorithm(),
            },
            "EncryptionAgent": {"Protocol": PROTOCOL, "EncryptionAlgorithm": CIPHER},
            "EncryptedRegionInfo": {"DataLength": REGION_DATA_LENGTH, "NonceLength": NONCE_LENGTH},
            "KeyWrappingMetadata": {"EncryptionLibrary": ENCRYPTION_LIBRARY},
            "EncryptionMode": "FullBlob",
        }
    )


class EncryptedBody:
    """A request body that encrypts one 4 MiB region at a time as the HTTP layer iterates it.

    ``len()`` is the exact encrypted size (the transport sends it as Content-Length, so Put Blob
    gets one plain body, not chunked encoding). Plaintext regions are memoryview slices of the
    caller's bytes (no copy); each region is encrypted straight into a fresh buffer laid out as it
    is sent (nonce, ciphertext, tag) and handed over whole: one write per region (a separate
    12-byte write per nonce costs a network round trip each).
    """

    def __init__(self, plaintext: bytes | bytearray | memoryview, content_key: bytes) -> None:
        self._plain = memoryview(plaintext).cast("B")
        self._key = content_key

    def __len__(self) -> int:
        return encrypted_length(len(self._plain))

    def __iter__(self) -> Iterator[bytearray]:
        for index, start in enumerate(range(0, len(self._plain), REGION_DATA_LENGTH)):
            region = self._plain[start : start + REGION_DATA_LENGTH]
            nonce = index.to_bytes(NONCE_LENGTH, "big")
            out = bytearray(NONCE_LENGTH + len(region) + TAG_LENGTH)
            out[:NONCE_LENGTH] = nonce
            encryptor = Cipher(algorithms.AES(self._key), modes.GCM(nonce)).encryptor()
            written = encryptor.update_into(region, memoryview(out)[NONCE_LENGTH:])  # needs len + 15 bytes: len + 16 are there
            encryptor.finalize()
            out[NONCE_LENGTH + written :] = encryptor.tag
            yield out


def _plaintext_of(data: bytes | bytearray | memoryview | IO[bytes]) -> bytes | bytearray | memoryview:
    if isinstance(data, bytes | bytearray | memoryview):
        return data
    if isinstance(data, io.BytesIO):
        return data.getbuffer()[data.tell() :]
    return data.read()


def upload_encrypted(
    upload_url: str,
    data: bytes | IO[bytes],
    jwk: dict[str, Any],
    *,
    transport: HttpTransport | None = None,
    connection_timeout: float = 20,
    read_timeout: float = 120,
    **_sdk_options: Any,
) -> dict[str, Any]:
    """Encrypt `data` on the device (v2) and PUT it to the upload SAS URL the API gave out.

    One Put Blob with ``x-ms-meta-encryptiondata``; the body is encrypted region by region while it
    is sent (:class:`EncryptedBody`). Retrying the same upload after a dropped connection replaces
    the partial attempt (the SAS allows create+write, nothing else); every attempt has its own
    content key. No retries here: the caller (:mod:`skinvault_client.uploader`) retries to the
    same URL and knows when it expires. ``transport`` is an azure-core transport (tests pass one
    that drops connections); other Blob SDK options (block sizes, concurrency) no longer apply and
    are ignored. Failures are azure-core's exceptions: ServiceRequestError/ServiceResponseError for
    the connection, HttpResponseError (with ``status_code``) for an answer other than 201.
    Returns the response headers (ETag, Last-Modified, ...).
    """
    kek = PublicJwkKek(jwk)
    plaintext = _plaintext_of(data)
    content_key = os.urandom(32)
    headers = {
        "x-ms-version": BlobClient.from_blob_url(upload_url).api_version,
        "x-ms-blob-type": "BlockBlob",
        "x-ms-meta-encryptiondata": encryption_data(kek, content_key),
        "Content-Type": "application/octet-stream",
    }
    body: Any = EncryptedBody(plaintext, content_key) if len(plaintext) else b""
    policies = [HeadersPolicy(), UserAgentPolicy(sdk_moniker="skinvault-client")]
    with PipelineClient(upload_url, transport=transport or RequestsTransport(), policies=policies) as client:
        request = HttpRequest("PUT", upload_url, headers=headers, content=body)
        response = client.send_request(request, connection_timeout=connection_timeout, read_timeout=read_timeout)
        if response.status_code != 201:
            raise HttpResponseError(response=response)
        return dict(response.headers)
