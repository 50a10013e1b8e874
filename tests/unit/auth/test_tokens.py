"""Bearer-token validation: only properly signed, unexpired tokens from a trusted issuer for our audience pass."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared_code.auth.dev_issuer import DevIssuer, DevIssuerRefused
from shared_code.auth.principal import ADMIN, CLINICIAN, PATIENT
from shared_code.auth.tokens import HttpJwks, TokenValidator, TrustedIssuer
from shared_code.domain.errors import Unauthenticated

ISS = "http://127.0.0.1:7071/api/dev"
AUD = "skinvault-api"


@pytest.fixture
def issuer(tmp_path):
    return DevIssuer(str(tmp_path / "k.pem"), ISS, AUD, clinician_role="SkinVault.Clinician", admin_role="SkinVault.Admin")


@pytest.fixture
def validator(issuer):
    return TokenValidator([TrustedIssuer(ISS, AUD, issuer, "any")], clinician_role="SkinVault.Clinician", admin_role="SkinVault.Admin")


def _claims(**over):
    now = int(time.time())
    claims = {"iss": ISS, "aud": AUD, "sub": "s1", "name": "N", "iat": now, "nbf": now, "exp": now + 600}
    claims.update(over)
    return claims


def _sign(issuer, claims, key=None, alg="RS256", kid=None):
    return jwt.encode(claims, key or issuer._key(), algorithm=alg, headers={"kid": kid or issuer.kid})


def test_a_dev_token_for_each_role_validates_to_that_kind(issuer, validator):
    for role, kind in (("patient", PATIENT), ("clinician", CLINICIAN), ("admin", ADMIN)):
        token = issuer.mint("s1", "Name", role)["access_token"]
        assert validator.validate(f"Bearer {token}").kind == kind


def test_missing_header_is_refused(validator):
    with pytest.raises(Unauthenticated):
        validator.validate(None)
    with pytest.raises(Unauthenticated):
        validator.validate("Basic abc")


def test_wrong_signature_is_refused(issuer, validator):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthenticated):
        validator.validate("Bearer " + _sign(issuer, _claims(), key=other))


def test_tampered_payload_is_refused(issuer, validator):
    token = _sign(issuer, _claims())
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(Unauthenticated):
        validator.validate(f"Bearer {head}.{forged}.{sig}")


def test_wrong_issuer_is_refused(issuer, validator):
    with pytest.raises(Unauthenticated):
        validator.validate("Bearer " + _sign(issuer, _claims(iss="https://evil.example")))


def test_wrong_audience_is_refused(issuer, validator):
    with pytest.raises(Unauthenticated):
        validator.validate("Bearer " + _sign(issuer, _claims(aud="another-api")))


def test_expired_token_is_refused(issuer, validator):
    past = int(time.time()) - 3600
    with pytest.raises(Unauthenticated, match="expired"):
        validator.validate("Bearer " + _sign(issuer, _claims(iat=past - 600, nbf=past - 600, exp=past)))


def test_token_not_yet_valid_is_refused(issuer, validator):
    future = int(time.time()) + 3600
    with pytest.raises(Unauthenticated, match="not valid yet"):
        validator.validate("Bearer " + _sign(issuer, _claims(nbf=future, exp=future + 600)))


def test_alg_none_is_refused(issuer, validator):
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT", "kid": issuer.kid}).encode()).decode().rstrip("=")
    body = base64.urlsafe_b64encode(json.dumps(_claims()).encode()).decode().rstrip("=")
    with pytest.raises(Unauthenticated, match="algorithm"):
        validator.validate(f"Bearer {header}.{body}.")


def test_hs256_signed_with_the_public_key_is_refused(issuer, validator):
    # the classic key-confusion attack: HMAC keyed with the issuer's public key
    from cryptography.hazmat.primitives import serialization

    public_pem = issuer._key().public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": issuer.kid}).encode()).decode().rstrip("=")
    body = base64.urlsafe_b64encode(json.dumps(_claims()).encode()).decode().rstrip("=")
    import hashlib
    import hmac

    sig = base64.urlsafe_b64encode(hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()).decode().rstrip("=")
    with pytest.raises(Unauthenticated, match="algorithm"):
        validator.validate(f"Bearer {header}.{body}.{sig}")


def test_unknown_kid_is_refused(issuer, validator):
    with pytest.raises(Unauthenticated):
        validator.validate("Bearer " + _sign(issuer, _claims(), kid="some-other-key"))


def test_http_jwks_caches_keys_and_refetches_for_a_new_kid(issuer):
    calls = []

    def fetch(uri):
        calls.append(uri)
        return json.dumps(issuer.jwks()).encode()

    jwks = HttpJwks("https://login.example/jwks", fetch=fetch, min_refresh=0)
    validator = TokenValidator([TrustedIssuer(ISS, AUD, jwks, "patient")], clinician_role="c", admin_role="a")
    token = issuer.mint("s1", "N", "patient")["access_token"]
    validator.validate(f"Bearer {token}")
    validator.validate(f"Bearer {token}")
    assert len(calls) == 1
    with pytest.raises(Unauthenticated):
        validator.validate("Bearer " + _sign(issuer, _claims(), kid="rotated"))
    assert len(calls) == 2


def test_http_jwks_refuses_plain_http_to_a_remote_host():
    with pytest.raises(Unauthenticated):
        HttpJwks._http_get("http://login.example/jwks")


def test_staff_issuer_without_a_role_is_forbidden(issuer):
    from shared_code.domain.errors import Forbidden

    validator = TokenValidator([TrustedIssuer(ISS, AUD, issuer, "staff")], clinician_role="SkinVault.Clinician", admin_role="SkinVault.Admin")
    token = issuer.mint("s1", "N", "patient")["access_token"]
    with pytest.raises(Forbidden):
        validator.validate(f"Bearer {token}")


def test_dev_issuer_refuses_to_run_in_azure(tmp_path, monkeypatch):
    monkeypatch.setenv("WEBSITE_INSTANCE_ID", "abc123")
    with pytest.raises(DevIssuerRefused):
        DevIssuer(str(tmp_path / "k.pem"), ISS, AUD, clinician_role="c", admin_role="a")


def test_dev_issuer_key_file_is_private(issuer, tmp_path):
    issuer.jwks()
    assert (tmp_path / "k.pem").stat().st_mode & 0o077 == 0
