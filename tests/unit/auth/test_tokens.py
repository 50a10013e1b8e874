"""Bearer-token validation: only properly signed, unexpired tokens from a trusted issuer for our audience pass."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

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


# ----------------------------------------------------------------------------- alg bound to the key type
def _ec_jwks(kid: str, curve: ec.EllipticCurve = None) -> tuple[ec.EllipticCurvePrivateKey, HttpJwks]:
    key = ec.generate_private_key(curve or ec.SECP256R1())
    jwk = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk["kid"] = kid
    return key, HttpJwks("https://idp.example/jwks", fetch=lambda _uri: json.dumps({"keys": [jwk]}).encode())


def test_an_es256_token_carrying_an_rsa_keys_kid_is_refused(issuer, validator):
    ec_key = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(_claims(), ec_key, algorithm="ES256", headers={"kid": issuer.kid})
    with pytest.raises(Unauthenticated):
        validator.validate(f"Bearer {token}")


def test_an_rs256_token_carrying_an_ec_keys_kid_is_refused(issuer):
    _ec, jwks = _ec_jwks("ec-1")
    v = TokenValidator([TrustedIssuer(ISS, AUD, jwks, "any")], clinician_role="c", admin_role="a")
    token = jwt.encode(_claims(), issuer._key(), algorithm="RS256", headers={"kid": "ec-1"})
    with pytest.raises(Unauthenticated):
        v.validate(f"Bearer {token}")


def test_es_tokens_must_use_their_algorithms_curve(issuer):
    key, jwks = _ec_jwks("ec-1")
    v = TokenValidator([TrustedIssuer(ISS, AUD, jwks, "any")], clinician_role="c", admin_role="a")
    assert v.validate("Bearer " + jwt.encode(_claims(), key, algorithm="ES256", headers={"kid": "ec-1"})).sub == "s1"
    p384, jwks384 = _ec_jwks("ec-384", ec.SECP384R1())
    v384 = TokenValidator([TrustedIssuer(ISS, AUD, jwks384, "any")], clinician_role="c", admin_role="a")
    assert v384.validate("Bearer " + jwt.encode(_claims(), p384, algorithm="ES384", headers={"kid": "ec-384"})).sub == "s1"
    header = base64.urlsafe_b64encode(json.dumps({"alg": "ES384", "kid": "ec-1", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    signed = jwt.encode(_claims(), key, algorithm="ES256", headers={"kid": "ec-1"}).split(".")
    with pytest.raises(Unauthenticated):
        v.validate("Bearer " + ".".join([header, signed[1], signed[2]]))


def test_a_jwks_document_of_the_wrong_shape_gives_no_keys():
    for document in (b"[1,2]", b'{"keys": 5}', b'{"keys": [5, "x", {"kty": "nope"}]}'):
        jwks = HttpJwks("https://idp.example/jwks", fetch=lambda _uri, d=document: d)
        with pytest.raises(Unauthenticated):
            jwks.key_for("k")


# ----------------------------------------------------------------------------- the dev issuer stays local
def _settings(tmp_path, **over):
    from tests.support.functions_client import settings_for

    return settings_for(tmp_path, **over)


@pytest.mark.parametrize(
    ("environment", "base_url"),
    [
        ("prod", "http://127.0.0.1:7071"),
        ("dev", "http://127.0.0.1:7071"),
        ("local", "https://skinvault.nhs.example"),
        ("local", "http://10.0.0.5:7071"),
    ],
)
def test_the_dev_issuer_refuses_outside_a_local_loopback_setup(tmp_path, environment, base_url):
    from shared_code.config import Settings, SettingsError
    from tests.conftest import EXAMPLE_SETTINGS

    env = dict(EXAMPLE_SETTINGS, SKINVAULT_ENVIRONMENT=environment, PUBLIC_BASE_URL=base_url)
    with pytest.raises(SettingsError, match="DEV_ISSUER_ENABLED"):
        Settings.from_env(env)  # no WEBSITE_INSTANCE_ID: prod outside App Service is refused too
    ok = _settings(tmp_path)
    import dataclasses

    with pytest.raises(DevIssuerRefused):
        DevIssuer.from_settings(dataclasses.replace(ok, environment=environment, public_base_url=base_url))


def test_the_dev_issuer_refuses_a_non_loopback_issuer(tmp_path):
    with pytest.raises(DevIssuerRefused):
        DevIssuer(str(tmp_path / "k.pem"), "https://auth.login.nhs.uk", AUD, clinician_role="c", admin_role="a")


def test_the_dev_issuer_signs_as_itself_never_as_the_configured_nhs_login_issuer(tmp_path):
    from shared_code.bootstrap import build_validator

    nhs = "https://auth.sandpit.signin.nhs.uk"
    settings = _settings(tmp_path, AUTH_PATIENT_ISSUER=nhs, AUTH_PATIENT_JWKS_URI="https://127.0.0.1:1/jwks")
    dev = DevIssuer.from_settings(settings)
    assert dev.issuer == "http://127.0.0.1:7071/api/dev" != nhs
    validator = build_validator(settings, dev)
    minted = dev.mint("someone", "Some One", "patient")["access_token"]
    identity = validator.validate(f"Bearer {minted}")
    assert identity.issuer == dev.issuer  # so its patient ids never collide with NHS login's
    # a token signed with the dev key but claiming to be NHS login's is checked against NHS login's keys only
    forged = jwt.encode(_claims(iss=nhs, aud=settings.patient_audience, sub="real-patient"), dev._key(), algorithm="RS256", headers={"kid": dev.kid})
    with pytest.raises(Unauthenticated):
        validator.validate(f"Bearer {forged}")
    assert all(t.keys is not dev for t in validator._issuers if t.issuer == nhs)  # noqa: SLF001
