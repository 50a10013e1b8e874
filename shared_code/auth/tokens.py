"""OIDC bearer-token validation with PyJWT: signature (JWKS), iss, aud, exp, nbf.

Only asymmetric algorithms are accepted: `none` and every HS* are refused before any key lookup.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shared_code.auth.principal import ADMIN, CLINICIAN, PATIENT
from shared_code.domain.errors import Forbidden, Unauthenticated
from shared_code.domain.nhs_number import is_valid_nhs_number

log = logging.getLogger(__name__)

ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
EC_ALGORITHMS = {"ES256": "secp256r1", "ES384": "secp384r1"}  # alg -> the one curve it signs with


def algorithm_fits_key(alg: str, key: Any) -> bool:
    """A token's `alg` must be one the key can verify: RS*/PS* for RSA keys, ES256/ES384 for EC
    keys on that algorithm's curve. Anything else is refused before the signature is checked."""
    if isinstance(key, rsa.RSAPublicKey):
        return alg in RSA_ALGORITHMS
    if isinstance(key, ec.EllipticCurvePublicKey):
        return EC_ALGORITHMS.get(alg) == key.curve.name
    return False


LEEWAY_SECONDS = 30


class KeySource(Protocol):
    def key_for(self, kid: str | None) -> Any:
        """Public key object for this kid; raises Unauthenticated if unknown."""


class HttpJwks:
    """JWKS fetched over HTTPS, cached; refreshed at most every `min_refresh` seconds on an unknown kid."""

    def __init__(self, uri: str, *, ttl: float = 3600, min_refresh: float = 30, fetch: Callable[[str], bytes] | None = None):
        self._uri = uri
        self._ttl = ttl
        self._min_refresh = min_refresh
        self._fetch = fetch or self._http_get
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    @staticmethod
    def _http_get(uri: str) -> bytes:
        if not uri.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise Unauthenticated("The token issuer's keys are not served over HTTPS.")
        with urllib.request.urlopen(uri, timeout=5) as resp:  # noqa: S310 - scheme checked above
            body: bytes = resp.read()
            return body

    def _refresh(self) -> None:
        try:
            document = json.loads(self._fetch(self._uri))
        except Exception as exc:  # noqa: BLE001 - any failure means we cannot verify
            log.warning("jwks fetch failed uri=%s error=%s", self._uri, type(exc).__name__)
            raise Unauthenticated("The token could not be verified right now.") from None
        keys = {}
        listed = document.get("keys") if isinstance(document, dict) else None
        for jwk in listed if isinstance(listed, list) else []:
            try:
                keys[jwk.get("kid")] = jwt.PyJWK(jwk).key
            except (jwt.PyJWTError, AttributeError, ValueError, TypeError):
                continue
        self._keys = keys
        self._fetched_at = time.monotonic()

    def key_for(self, kid: str | None) -> Any:
        with self._lock:
            age = time.monotonic() - self._fetched_at
            if not self._keys or age > self._ttl or (kid not in self._keys and age > self._min_refresh):
                self._refresh()
            key = self._keys.get(kid) if kid is not None else None
        if key is None:
            raise Unauthenticated("The token was signed with an unknown key.")
        return key


@dataclass(frozen=True)
class TrustedIssuer:
    issuer: str
    audience: str
    keys: KeySource
    # "patient": tokens are patients'; "staff": roles decide clinician/admin; "any": roles decide, none => patient
    kind: str


@dataclass(frozen=True)
class Identity:
    kind: str
    sub: str
    issuer: str
    name: str
    email: str | None
    nhs_number: str | None = None  # NHS login's verified claim, patients only, when it passes Modulus 11


def verified_nhs_number(claims: dict[str, Any]) -> str | None:
    """NHS login's ``nhs_number`` claim (the number NHS login verified), when it is a valid NHS number."""
    value = claims.get("nhs_number")
    if not isinstance(value, str):
        return None
    digits = value.replace(" ", "")
    return digits if is_valid_nhs_number(digits) else None


class TokenValidator:
    def __init__(self, issuers: list[TrustedIssuer], *, clinician_role: str, admin_role: str) -> None:
        self._issuers = issuers
        self._clinician_role = clinician_role
        self._admin_role = admin_role

    def validate(self, authorization: str | None) -> Identity:
        if not authorization:
            raise Unauthenticated("Sign in: this request has no bearer token.")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Sign in: the Authorization header must be 'Bearer <token>'.")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except (jwt.PyJWTError, ValueError, TypeError, RecursionError):
            raise Unauthenticated("The token is malformed.") from None
        if not isinstance(unverified, dict):
            raise Unauthenticated("The token is malformed.")
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise Unauthenticated("The token's signing algorithm is not accepted.")
        candidates = [i for i in self._issuers if i.issuer == unverified.get("iss")]
        if not candidates:
            raise Unauthenticated("The token was not issued by a trusted issuer.")
        last_error = "invalid"
        for trusted in candidates:
            key = trusted.keys.key_for(header.get("kid"))
            if not algorithm_fits_key(alg, key):
                last_error = "alg-does-not-fit-key"
                continue
            try:
                claims = jwt.decode(
                    token,
                    key=key,
                    algorithms=[alg],
                    audience=trusted.audience,
                    issuer=trusted.issuer,
                    leeway=LEEWAY_SECONDS,
                    options={"require": ["exp", "iss", "aud", "sub"], "verify_nbf": True},
                )
            except jwt.ExpiredSignatureError:
                raise Unauthenticated("The token has expired: sign in again.") from None
            except jwt.ImmatureSignatureError:
                raise Unauthenticated("The token is not valid yet.") from None
            except (jwt.PyJWTError, ValueError, TypeError) as exc:  # a key PyJWT cannot use is a bad token, not a crash
                last_error = type(exc).__name__
                continue
            return self._identity(trusted, claims)
        log.info("token rejected reason=%s", last_error)
        raise Unauthenticated("The token is not valid.")

    def _identity(self, trusted: TrustedIssuer, claims: dict[str, Any]) -> Identity:
        roles = claims.get("roles") or []
        if isinstance(roles, str):
            roles = [roles]
        if trusted.kind == "patient":
            kind = PATIENT
        elif self._admin_role in roles:
            kind = ADMIN
        elif self._clinician_role in roles:
            kind = CLINICIAN
        elif trusted.kind == "any":
            kind = PATIENT
        else:
            raise Forbidden("Your account has no SkinVault role.")
        name = str(claims.get("name") or claims.get("given_name") or "")
        email = claims.get("email") or claims.get("preferred_username")
        nhs_number = verified_nhs_number(claims) if kind == PATIENT else None
        return Identity(kind=kind, sub=str(claims["sub"]), issuer=trusted.issuer, name=name, email=email, nhs_number=nhs_number)
