"""Local-only token issuer for demo users. Enabled by DEV_ISSUER_ENABLED; refused in Azure.

It runs only with SKINVAULT_ENVIRONMENT=local on a loopback PUBLIC_BASE_URL, and signs as its own
issuer (`<PUBLIC_BASE_URL>/api/dev`, whose keys are at /api/dev/jwks), never as the configured NHS
login or Entra issuer: a dev token can never pass for a real identity provider's.
Its RSA key lives in a git-ignored PEM file created on first use.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared_code.domain.errors import RuleViolation, Unauthenticated

ROLES = ("patient", "clinician", "admin")
TOKEN_LIFETIME_SECONDS = 3600


DEV_ISSUER_PATH = "/api/dev"


class DevIssuerRefused(RuntimeError):
    pass


def is_loopback_url(url: str) -> bool:
    """True for http(s) URLs whose host is this machine (localhost, 127.0.0.0/8, ::1)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    if parts.scheme not in ("http", "https"):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def dev_issuer_url(public_base_url: str) -> str:
    return public_base_url.rstrip("/") + DEV_ISSUER_PATH


class DevIssuer:
    def __init__(self, key_path: str, issuer: str, audience: str, *, clinician_role: str, admin_role: str) -> None:
        if os.environ.get("WEBSITE_INSTANCE_ID"):
            raise DevIssuerRefused("the dev token issuer refuses to run in Azure (WEBSITE_INSTANCE_ID is set)")
        if not is_loopback_url(issuer):
            raise DevIssuerRefused("the dev token issuer only runs on a loopback address (its issuer must be http://127.0.0.1...)")
        self.issuer = issuer
        self.audience = audience
        self._role_claims = {"patient": [], "clinician": [clinician_role], "admin": [admin_role]}
        self._key_path = Path(key_path)
        self._lock = threading.Lock()
        self._private_key: rsa.RSAPrivateKey | None = None

    def _key(self) -> rsa.RSAPrivateKey:
        with self._lock:
            if self._private_key is None:
                if self._key_path.exists():
                    loaded = serialization.load_pem_private_key(self._key_path.read_bytes(), password=None)
                    assert isinstance(loaded, rsa.RSAPrivateKey)
                    self._private_key = loaded
                else:
                    self._key_path.parent.mkdir(parents=True, exist_ok=True)
                    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
                    fd = os.open(self._key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "wb") as f:
                        f.write(pem)
                    self._private_key = key
            return self._private_key

    @classmethod
    def from_settings(cls, settings: Any) -> DevIssuer:
        """The local issuer, as its own issuer (`<PUBLIC_BASE_URL>/api/dev`) with the patient audience.

        Refused unless SKINVAULT_ENVIRONMENT is local and PUBLIC_BASE_URL is a loopback address
        (Settings refuses the same combination at start-up; this holds whoever builds one)."""
        if settings.environment != "local" or not is_loopback_url(settings.public_base_url):
            raise DevIssuerRefused("the dev token issuer runs only with SKINVAULT_ENVIRONMENT=local on a loopback PUBLIC_BASE_URL")
        return cls(
            settings.dev_issuer_key_path or ".local/dev-issuer.pem",
            dev_issuer_url(settings.public_base_url),
            settings.patient_audience,
            clinician_role=settings.clinician_role,
            admin_role=settings.admin_role,
        )

    @functools.cached_property
    def kid(self) -> str:
        # read on every token validated: worked out once per key (the key never changes under us)
        der = self._key().public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return "dev-" + hashlib.sha256(der).hexdigest()[:16]

    def jwks(self) -> dict[str, Any]:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self._key().public_key(), as_dict=True)
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}

    def key_for(self, kid: str | None) -> Any:
        if kid != self.kid:
            raise Unauthenticated("The token was signed with an unknown key.")
        return self._key().public_key()

    def mint(
        self, sub: str, name: str, role: str, email: str | None = None, *, lifetime: int = TOKEN_LIFETIME_SECONDS, nhs_number: str | None = None
    ) -> dict[str, Any]:
        if role not in ROLES:
            raise RuleViolation(f"role must be one of {', '.join(ROLES)}")
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": sub,
            "name": name,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": str(uuid.uuid4()),
        }
        if email:
            claims["email"] = email
        if nhs_number:  # as NHS login puts the number it verified in the token
            claims["nhs_number"] = nhs_number
        if self._role_claims[role]:
            claims["roles"] = self._role_claims[role]
        token = jwt.encode(claims, self._key(), algorithm="RS256", headers={"kid": self.kid})
        return {"access_token": token, "token_type": "Bearer", "expires_in": lifetime}
