"""The phone's side of photo encryption: Azure Storage client-side encryption v2.

The API hands out the public half of the key-encryption key (kid + JWK, RSA-OAEP-256) with each
upload URL. The SDK makes a random AES-256 content key per blob, encrypts the photo in 4 MiB
AES-GCM regions and wraps the content key with RSA-OAEP-256 under that public key. The phone
holds no private key: it can never decrypt anything, including its own uploads.
"""

from __future__ import annotations

import base64
from typing import IO, Any

from azure.storage.blob import BlobClient
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

KEY_WRAP_ALGORITHM = "RSA-OAEP-256"
MIN_RSA_BITS = 2048

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


def upload_encrypted(
    upload_url: str,
    data: bytes | IO[bytes],
    jwk: dict[str, Any],
    *,
    max_concurrency: int = 2,
    **client_kwargs: Any,
) -> dict[str, Any]:
    """Encrypt `data` on the device (v2) and PUT it to the upload SAS URL the API gave out.

    overwrite=True: retrying the same upload after a dropped connection replaces the partial
    attempt (the SAS allows create+write, nothing else). Returns the SDK's response headers
    (etag, last_modified).
    """
    blob = BlobClient.from_blob_url(
        upload_url,
        require_encryption=True,
        encryption_version="2.0",
        key_encryption_key=PublicJwkKek(jwk),
        **client_kwargs,
    )
    with blob:
        return blob.upload_blob(data, overwrite=True, max_concurrency=max_concurrency)
