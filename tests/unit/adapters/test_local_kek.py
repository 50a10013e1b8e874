"""LocalKekProvider: the RSA KEK in a PEM file used locally."""

from __future__ import annotations

import base64
import os
import stat

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from shared_code.adapters.local_kek import LocalKekProvider
from shared_code.ports import EncryptionRejected, UnknownKey
from skinvault_client.encryption import PublicJwkKek

CONTENT_KEY = b"2.0\0\0\0\0\0" + bytes(range(32))


def _b64url_int(text: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")


@pytest.fixture
def pem_path(tmp_path):
    return tmp_path / "keys" / "nested" / "kek.pem"


def test_pem_is_created_on_first_use_with_owner_only_permissions(pem_path):
    provider = LocalKekProvider(pem_path)
    assert not pem_path.exists()

    provider.current()

    assert pem_path.is_file()
    assert stat.S_IMODE(os.stat(pem_path).st_mode) == 0o600
    assert pem_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert len(provider.current().wrap_key(b"x" * 40)) == 3072 // 8


def test_existing_pem_is_reused_with_the_same_kid(pem_path):
    first = LocalKekProvider(pem_path)
    kid = first.current().get_kid()
    content = pem_path.read_bytes()

    second = LocalKekProvider(pem_path)

    assert second.current().get_kid() == kid
    assert pem_path.read_bytes() == content
    wrapped = first.current().wrap_key(CONTENT_KEY)
    assert second.resolve(kid).unwrap_key(wrapped, "RSA-OAEP-256") == CONTENT_KEY


def test_kid_names_a_short_hash_of_the_public_key(pem_path):
    kid = LocalKekProvider(pem_path).current().get_kid()
    prefix, version = kid.split("/")
    assert prefix == "local:kek"
    assert len(version) == 16 and int(version, 16) >= 0


def test_wrap_is_rsa_oaep_sha256_and_unwraps_back(pem_path):
    provider = LocalKekProvider(pem_path)
    kek = provider.current()
    wrapped = kek.wrap_key(CONTENT_KEY)

    assert kek.get_key_wrap_algorithm() == "RSA-OAEP-256"
    assert wrapped != kek.wrap_key(CONTENT_KEY)  # OAEP is randomised
    assert kek.unwrap_key(wrapped, "RSA-OAEP-256") == CONTENT_KEY
    # And it is plain RSA-OAEP with SHA-256/MGF1-SHA-256 under the public JWK: encrypt independently.
    jwk = provider.public_jwk()
    public = rsa.RSAPublicNumbers(_b64url_int(jwk["e"]), _b64url_int(jwk["n"])).public_key()
    independent = public.encrypt(CONTENT_KEY, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
    assert kek.unwrap_key(independent, "RSA-OAEP-256") == CONTENT_KEY


@pytest.mark.parametrize("algorithm", ["RSA-OAEP", "RSA1_5", "A256KW", "rsa-oaep-256", ""])
def test_unwrap_refuses_any_algorithm_but_rsa_oaep_256(pem_path, algorithm):
    kek = LocalKekProvider(pem_path).current()
    wrapped = kek.wrap_key(CONTENT_KEY)

    with pytest.raises(EncryptionRejected) as err:
        kek.unwrap_key(wrapped, algorithm)
    assert err.value.reason_code == "unsupported-encryption"


def test_key_wrapped_under_another_rsa_key_is_refused_as_foreign(tmp_path):
    ours = LocalKekProvider(tmp_path / "ours.pem").current()
    theirs = LocalKekProvider(tmp_path / "theirs.pem").current()

    with pytest.raises(UnknownKey) as err:
        ours.unwrap_key(theirs.wrap_key(CONTENT_KEY), "RSA-OAEP-256")
    assert err.value.reason_code == "foreign-key"


@pytest.mark.parametrize("kid", ["local:kek/0000000000000000", "local:kek/", "https://vault.example/keys/kek/1", "", "local:kek/../kek"])
def test_resolve_refuses_kids_that_are_not_a_version_of_our_key(pem_path, kid):
    provider = LocalKekProvider(pem_path)
    provider.current()

    with pytest.raises(UnknownKey):
        provider.resolve(kid)


def test_rotation_keeps_old_versions_for_unwrapping(pem_path):
    provider = LocalKekProvider(pem_path)
    old = provider.current()
    wrapped_by_old = old.wrap_key(CONTENT_KEY)

    new = provider.rotate()

    assert new.get_kid() != old.get_kid()
    assert provider.current().get_kid() == new.get_kid()
    assert provider.public_jwk()["kid"] == new.get_kid()
    archived = pem_path.with_name(f"kek.pem.{old.get_kid().split('/')[1]}")
    assert archived.is_file()
    assert stat.S_IMODE(os.stat(pem_path).st_mode) == 0o600
    assert provider.resolve(old.get_kid()).unwrap_key(wrapped_by_old, "RSA-OAEP-256") == CONTENT_KEY
    # A fresh process (another worker) finds both versions on disk.
    other_worker = LocalKekProvider(pem_path)
    assert other_worker.current().get_kid() == new.get_kid()
    assert other_worker.resolve(old.get_kid()).unwrap_key(wrapped_by_old, "RSA-OAEP-256") == CONTENT_KEY
    assert other_worker.versions() == [new.get_kid().split("/")[1], old.get_kid().split("/")[1]]


def test_a_worker_started_before_another_worker_rotated_follows_the_rotation(pem_path):
    early = LocalKekProvider(pem_path)
    old = early.current()
    wrapped_by_old = old.wrap_key(CONTENT_KEY)

    new = LocalKekProvider(pem_path).rotate()
    wrapped_by_new = new.wrap_key(CONTENT_KEY)

    assert early.current().get_kid() == new.get_kid()
    assert early.resolve(new.get_kid()).unwrap_key(wrapped_by_new, "RSA-OAEP-256") == CONTENT_KEY
    assert early.resolve(old.get_kid()).unwrap_key(wrapped_by_old, "RSA-OAEP-256") == CONTENT_KEY


def test_public_jwk_has_the_shape_the_phone_needs(pem_path):
    provider = LocalKekProvider(pem_path)
    jwk = provider.public_jwk()

    assert set(jwk) == {"kty", "n", "e", "kid", "alg", "use", "key_ops"}
    assert jwk["kty"] == "RSA"
    assert jwk["alg"] == "RSA-OAEP-256"
    assert jwk["use"] == "enc"
    assert jwk["key_ops"] == ["wrapKey"]
    assert jwk["kid"] == provider.current().get_kid()
    assert "=" not in jwk["n"] and "+" not in jwk["n"] and "/" not in jwk["n"]
    assert _b64url_int(jwk["e"]) == 65537
    assert _b64url_int(jwk["n"]).bit_length() == 3072
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk)


def test_phone_side_kek_built_from_the_jwk_wraps_keys_the_server_unwraps(pem_path):
    provider = LocalKekProvider(pem_path)
    phone = PublicJwkKek(provider.public_jwk())

    wrapped = phone.wrap_key(CONTENT_KEY)

    assert phone.get_kid() == provider.current().get_kid()
    assert phone.get_key_wrap_algorithm() == "RSA-OAEP-256"
    assert provider.resolve(phone.get_kid()).unwrap_key(wrapped, "RSA-OAEP-256") == CONTENT_KEY
    with pytest.raises(PermissionError):
        phone.unwrap_key(wrapped, "RSA-OAEP-256")


def test_phone_side_kek_refuses_a_jwk_carrying_private_fields(pem_path):
    jwk = {**LocalKekProvider(pem_path).public_jwk(), "d": "AQAB"}
    with pytest.raises(ValueError):
        PublicJwkKek(jwk)
