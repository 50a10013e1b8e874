"""What every key-encryption key of ours has in common: RSA-OAEP-256, and the public JWK the phone wraps with."""

from __future__ import annotations

import base64
from typing import Any

KEY_WRAP_ALGORITHM = "RSA-OAEP-256"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unsigned(value: int | bytes) -> bytes:
    if isinstance(value, bytes):
        return value
    return value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")


def public_wrapping_jwk(n: int | bytes, e: int | bytes, kid: str) -> dict[str, Any]:
    """The public half of a KEK version as the API hands it out: wrap-only, RSA-OAEP-256."""
    return {
        "kty": "RSA",
        "n": _b64url(_unsigned(n)),
        "e": _b64url(_unsigned(e)),
        "kid": kid,
        "alg": KEY_WRAP_ALGORITHM,
        "use": "enc",
        "key_ops": ["wrapKey"],
    }
