"""KeyVaultKekProvider: the real azure-keyvault-keys SDK against a local Key Vault REST server."""

from __future__ import annotations

import time

import pytest
from azure.keyvault.keys import KeyClient
from azure.storage.blob import BlobServiceClient
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from shared_code.adapters.blob_store import AzureBlobStore
from shared_code.adapters.keyvault_kek import KeyVaultKekProvider
from shared_code.ports import IMAGES, DependencyUnavailable, EncryptionRejected, UnknownKey
from tests.support.azurite import Azurite, free_port
from tests.support.fake_keyvault import FakeKeyVault, StaticTokenCredential

CONTENT_KEY = b"2.0\0\0\0\0\0" + bytes(range(32))
KEY_NAME = "skinvault-kek"


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def vault():
    with FakeKeyVault() as server:
        server.create_key(KEY_NAME)
        yield server


@pytest.fixture
def provider(vault):
    return KeyVaultKekProvider(vault.vault_url, KEY_NAME, StaticTokenCredential(), **vault.client_kwargs())


def test_current_is_the_latest_version_of_the_configured_key(vault, provider):
    latest = vault.versions(KEY_NAME)[-1]
    assert provider.current().get_kid() == vault.kid(KEY_NAME, latest)
    assert provider.current().get_key_wrap_algorithm() == "RSA-OAEP-256"


def test_wrap_runs_locally_and_unwrap_goes_to_key_vault(vault, provider):
    kek = provider.current()
    before = dict(vault.counts)

    wrapped = kek.wrap_key(CONTENT_KEY)
    assert vault.counts["wrapkey"] == before["wrapkey"]  # no HSM operation to wrap

    assert provider.resolve(kek.get_kid()).unwrap_key(wrapped, "RSA-OAEP-256") == CONTENT_KEY
    assert vault.counts["unwrapkey"] == before["unwrapkey"] + 1


def test_wrap_is_rsa_oaep_256_under_the_vault_key(vault, provider):
    kek = provider.current()
    wrapped = kek.wrap_key(CONTENT_KEY)
    version = kek.get_kid().rsplit("/", 1)[1]
    private = next(v for v in vault._keys[KEY_NAME] if v.version == version).private_key

    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    assert private.decrypt(wrapped, oaep) == CONTENT_KEY


def test_unwrapped_content_keys_are_cached_briefly(vault):
    clock = ManualClock()
    provider = KeyVaultKekProvider(vault.vault_url, KEY_NAME, StaticTokenCredential(), unwrapped_ttl_seconds=60, clock=clock, **vault.client_kwargs())
    kek = provider.current()
    wrapped = kek.wrap_key(CONTENT_KEY)
    resolved = provider.resolve(kek.get_kid())
    before = vault.counts["unwrapkey"]

    assert resolved.unwrap_key(wrapped, "RSA-OAEP-256") == CONTENT_KEY
    assert resolved.unwrap_key(wrapped, "RSA-OAEP-256") == CONTENT_KEY
    assert vault.counts["unwrapkey"] == before + 1

    clock.now += 61
    assert resolved.unwrap_key(wrapped, "RSA-OAEP-256") == CONTENT_KEY
    assert vault.counts["unwrapkey"] == before + 2


def test_unwrapped_key_cache_is_bounded(vault):
    provider = KeyVaultKekProvider(vault.vault_url, KEY_NAME, StaticTokenCredential(), unwrapped_max_entries=2, **vault.client_kwargs())
    kek = provider.current()
    wrapped = [kek.wrap_key(bytes([i]) * 40) for i in range(3)]
    resolved = provider.resolve(kek.get_kid())
    for w in wrapped:
        resolved.unwrap_key(w, "RSA-OAEP-256")
    before = vault.counts["unwrapkey"]

    resolved.unwrap_key(wrapped[0], "RSA-OAEP-256")  # evicted: back to the vault

    assert vault.counts["unwrapkey"] == before + 1


@pytest.mark.parametrize(
    "foreign",
    [
        "https://other-vault.vault.azure.net/keys/{name}/{version}",
        "{vault}/keys/another-key/{version}",
        "{vault}/keys/{name}",
        "{vault}/secrets/{name}/{version}",
        "{vault}/keys/{name}/{version}/extra",
        "{vault}/keys/{name}/{version}?x=1",
        "http://127.0.0.1:{port}/keys/{name}/{version}",
        "local:kek/0123456789abcdef",
        "",
    ],
)
def test_kid_outside_the_configured_vault_and_key_is_refused(vault, provider, foreign):
    version = vault.versions(KEY_NAME)[0]
    kid = foreign.format(vault=vault.vault_url, name=KEY_NAME, version=version, port=vault.port)
    before = dict(vault.counts)

    with pytest.raises(UnknownKey) as err:
        provider.resolve(kid)
    assert err.value.reason_code == "foreign-key"
    assert vault.counts == before  # refused without asking the vault


@pytest.mark.parametrize("algorithm", ["RSA-OAEP", "RSA1_5", "A256KW", "rsa-oaep-256"])
def test_algorithm_other_than_rsa_oaep_256_is_refused(vault, provider, algorithm):
    kek = provider.current()
    wrapped = kek.wrap_key(CONTENT_KEY)
    before = vault.counts["unwrapkey"]

    with pytest.raises(EncryptionRejected) as err:
        provider.resolve(kek.get_kid()).unwrap_key(wrapped, algorithm)
    assert err.value.reason_code == "unsupported-encryption"
    assert vault.counts["unwrapkey"] == before


def test_content_key_wrapped_under_another_key_is_refused_as_foreign(vault, provider):
    kek = provider.current()
    stranger_public = rsa.generate_private_key(public_exponent=65537, key_size=3072).public_key()
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    wrapped_by_stranger = stranger_public.encrypt(CONTENT_KEY, oaep)

    with pytest.raises(UnknownKey):
        provider.resolve(kek.get_kid()).unwrap_key(wrapped_by_stranger, "RSA-OAEP-256")


def test_version_of_our_key_that_does_not_exist_is_unknown(vault, provider):
    kek = provider.current()
    wrapped = kek.wrap_key(CONTENT_KEY)
    missing = vault.kid(KEY_NAME, "0" * 32)

    with pytest.raises(UnknownKey):
        provider.resolve(missing).unwrap_key(wrapped, "RSA-OAEP-256")


def test_after_rotation_old_wrapped_keys_unwrap_and_current_carries_the_new_kid(vault):
    clock = ManualClock()
    credential = StaticTokenCredential()
    provider = KeyVaultKekProvider(vault.vault_url, KEY_NAME, credential, current_ttl_seconds=300, clock=clock, **vault.client_kwargs())
    old = provider.current()
    wrapped_by_old = old.wrap_key(CONTENT_KEY)

    # Rotation as Key Vault's rotation policy does it: a new version of the same key.
    rotated = KeyClient(vault.vault_url, credential, **vault.client_kwargs()).create_rsa_key(KEY_NAME, size=3072, hardware_protected=True)

    assert provider.current().get_kid() == old.get_kid()  # cached for a few minutes
    clock.now += 301
    new = provider.current()
    assert new.get_kid() == rotated.id != old.get_kid()
    assert provider.public_jwk()["kid"] == rotated.id
    assert provider.resolve(old.get_kid()).unwrap_key(wrapped_by_old, "RSA-OAEP-256") == CONTENT_KEY
    assert provider.resolve(new.get_kid()).unwrap_key(new.wrap_key(CONTENT_KEY), "RSA-OAEP-256") == CONTENT_KEY


def test_public_jwk_describes_the_current_version_for_the_phone(vault, provider):
    jwk = provider.public_jwk()

    assert jwk["kid"] == provider.current().get_kid()
    assert (jwk["kty"], jwk["alg"], jwk["use"], jwk["key_ops"]) == ("RSA", "RSA-OAEP-256", "enc", ["wrapKey"])
    assert "=" not in jwk["n"] and not {"d", "p", "q"} & set(jwk)


def test_unreachable_vault_raises_dependency_unavailable_quickly():
    with FakeKeyVault() as server:  # for its certificate; the provider points at a closed port
        cert = str(server.cert_path)
        provider = KeyVaultKekProvider(
            f"https://127.0.0.1:{free_port()}",
            KEY_NAME,
            StaticTokenCredential(),
            verify_challenge_resource=False,
            connection_verify=cert,
            retry_total=0,
        )
        started = time.monotonic()
        with pytest.raises(DependencyUnavailable) as err:
            provider.current()
        assert err.value.dependency == "key vault"
        assert time.monotonic() - started < 5


def test_blob_encrypted_under_the_key_vault_kek_decrypts_through_the_blob_store(vault, provider):
    photo = b"\xff\xd8\xff" + bytes(range(256)) * 4000
    with Azurite() as azurite:
        store = AzureBlobStore.from_connection_string(azurite.connection_string, provider)
        store.ensure_containers()

        store.put_encrypted(IMAGES, "p1/kv-photo", photo)

        metadata = (
            BlobServiceClient.from_connection_string(azurite.connection_string).get_blob_client(IMAGES, "p1/kv-photo").get_blob_properties().metadata
        )
        assert provider.current().get_kid() in metadata["encryptiondata"]
        before = vault.counts["unwrapkey"]
        assert b"".join(store.read_decrypted(IMAGES, "p1/kv-photo")) == photo
        assert vault.counts["unwrapkey"] == before + 1  # one HSM operation per read
        assert b"".join(store.read_decrypted(IMAGES, "p1/kv-photo")) == photo
        assert vault.counts["unwrapkey"] == before + 1  # read again within the TTL: cached
