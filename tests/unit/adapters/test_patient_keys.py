"""PatientKeyRing: per-patient data keys, stored only wrapped by the KEK, unwrapped once per TTL."""

from __future__ import annotations

import base64
import json
import threading

import pytest
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap

from shared_code.adapters.local_kek import LocalKekProvider
from shared_code.adapters.patient_keys import DATA_KEY_DOC_ID, PatientKeyRing, parse_kid
from shared_code.ports import LOOKUPS, PATIENTS, EncryptionRejected, NotFound, UnknownKey
from tests.fakes.store import FakeMetadataStore

CONTENT_KEY = b"2.0\0\0\0\0\0" + bytes(range(32))
ALICE, BOB = "pt-" + "a" * 24, "pt-" + "b" * 24


class CountingKek:
    """The local KEK, counting unwraps as Key Vault would bill them."""

    def __init__(self, inner: LocalKekProvider) -> None:
        self.inner = inner
        self.unwraps = 0
        self._lock = threading.Lock()

    def current(self):
        return self.inner.current()

    def public_jwk(self):
        return self.inner.public_jwk()

    def resolve(self, kid: str):
        kek = self.inner.resolve(kid)
        outer = self

        class Counted:
            def unwrap_key(self, key: bytes, algorithm: str) -> bytes:
                with outer._lock:
                    outer.unwraps += 1
                return kek.unwrap_key(key, algorithm)

            def get_kid(self) -> str:
                return kek.get_kid()

        return Counted()


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def local_kek(tmp_path_factory):
    return LocalKekProvider(tmp_path_factory.mktemp("kek") / "kek.pem", key_size=2048)


@pytest.fixture
def kek(local_kek):
    return CountingKek(local_kek)


@pytest.fixture
def store():
    return FakeMetadataStore()


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def ring(store, kek, clock):
    return PatientKeyRing(store, kek, clock=clock)


def _fresh_worker(store, kek, clock=None) -> PatientKeyRing:
    return PatientKeyRing(store, kek, clock=clock or ManualClock())


def test_each_patient_gets_their_own_data_key_with_a_kid_naming_patient_and_version(ring):
    alice, bob = ring.wrapping_key(ALICE), ring.wrapping_key(BOB)
    assert parse_kid(alice.get_kid())[0] == ALICE and parse_kid(bob.get_kid())[0] == BOB
    assert alice.get_key_wrap_algorithm() == "A256KW"
    wrapped = alice.wrap_key(CONTENT_KEY)
    assert alice.unwrap_key(wrapped, "A256KW") == CONTENT_KEY
    with pytest.raises(UnknownKey):
        bob.unwrap_key(wrapped, "A256KW")
    assert ring.wrapping_key(ALICE).get_kid() == alice.get_kid()


def test_the_data_key_is_stored_only_wrapped_by_the_kek_in_the_patients_partition(ring, store, local_kek):
    data_key = ring.wrapping_key(ALICE)
    wrapped_content_key = data_key.wrap_key(CONTENT_KEY)
    doc = store.read(PATIENTS, ALICE, DATA_KEY_DOC_ID)
    assert doc["kekKid"] == local_kek.current().get_kid() and doc["alg"] == "RSA-OAEP-256"
    raw = local_kek.resolve(doc["kekKid"]).unwrap_key(base64.b64decode(doc["wrappedKey"]), "RSA-OAEP-256")
    assert aes_key_unwrap(raw, wrapped_content_key) == CONTENT_KEY  # the KEK-wrapped key is the data key
    stored = json.dumps(doc)
    assert base64.b64encode(raw).decode() not in stored and raw.hex() not in stored


def test_a_worker_unwraps_a_patients_data_key_once_per_five_minutes(store, kek, clock):
    _fresh_worker(store, kek).wrapping_key(ALICE)  # made elsewhere
    worker = _fresh_worker(store, kek, clock)
    kid = _fresh_worker(store, kek).wrapping_key(ALICE).get_kid()
    kek.unwraps = 0
    for _ in range(50):
        worker.resolve(kid)
        worker.wrapping_key(ALICE)
    assert kek.unwraps == 1
    clock.now += 299
    worker.resolve(kid)
    assert kek.unwraps == 1
    clock.now += 2
    worker.resolve(kid)
    assert kek.unwraps == 2


def test_concurrent_first_reads_of_one_patient_cost_one_unwrap(store, kek):
    kid = _fresh_worker(store, kek).wrapping_key(ALICE).get_kid()
    worker = _fresh_worker(store, kek)
    kek.unwraps = 0
    barrier = threading.Barrier(8)

    def read() -> None:
        barrier.wait()
        worker.resolve(kid)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert kek.unwraps == 1


def test_the_cache_is_bounded(store, kek):
    worker = PatientKeyRing(store, kek, max_entries=2)
    kids = [worker.wrapping_key(f"pt-{n:024d}").get_kid() for n in range(3)]
    kek.unwraps = 0
    worker.resolve(kids[2])
    worker.resolve(kids[1])
    assert kek.unwraps == 0
    worker.resolve(kids[0])  # pushed out by the later two
    assert kek.unwraps == 1


def test_two_workers_making_the_first_key_agree_on_one(store, kek):
    a, b = _fresh_worker(store, kek), _fresh_worker(store, kek)
    barrier = threading.Barrier(2)
    kids: list[str] = []

    def make(worker: PatientKeyRing) -> None:
        barrier.wait()
        kids.append(worker.wrapping_key(ALICE).get_kid())

    threads = [threading.Thread(target=make, args=(w,)) for w in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(kids)) == 1
    assert a.resolve(kids[0]).unwrap_key(b.resolve(kids[0]).wrap_key(CONTENT_KEY), "A256KW") == CONTENT_KEY


def test_a_shredded_key_never_resolves_again_even_when_the_patient_returns(ring, store, kek):
    old_kid = ring.wrapping_key(ALICE).get_kid()
    ring.shred(ALICE)
    with pytest.raises(NotFound):
        store.read(PATIENTS, ALICE, DATA_KEY_DOC_ID)
    with pytest.raises(UnknownKey):
        ring.resolve(old_kid)
    with pytest.raises(UnknownKey):
        _fresh_worker(store, kek).resolve(old_kid)
    new_kid = ring.wrapping_key(ALICE).get_kid()  # the same person signs up again
    assert new_kid != old_kid
    with pytest.raises(UnknownKey):
        ring.resolve(old_kid)
    ring.shred(ALICE)
    ring.shred(ALICE)  # absent is fine


def test_kids_that_are_not_data_keys_are_refused(ring):
    for kid in ("local:kek/abc", "patient-key:../x/0123456789abcdef", "patient-key:pt-a/short", "", "patient-key:pt-a"):
        assert not ring.owns_kid(kid)
        with pytest.raises(UnknownKey):
            ring.resolve(kid)


def test_a_data_key_refuses_other_wrap_algorithms(ring):
    key = ring.wrapping_key(ALICE)
    with pytest.raises(EncryptionRejected) as err:
        key.unwrap_key(key.wrap_key(CONTENT_KEY), "RSA-OAEP-256")
    assert err.value.reason_code == "unsupported-encryption"


def test_kek_rotation_rewraps_data_keys_without_changing_them(store, tmp_path):
    local = LocalKekProvider(tmp_path / "kek.pem", key_size=2048)
    ring = PatientKeyRing(store, local)
    alice_kid, bob_kid = ring.wrapping_key(ALICE).get_kid(), ring.wrapping_key(BOB).get_kid()
    wrapped = ring.wrapping_key(ALICE).wrap_key(CONTENT_KEY)
    old_version = local.current().get_kid()
    local.rotate()

    assert sorted(ring.patient_ids()) == [ALICE, BOB]
    assert [ring.rewrap(p) for p in (ALICE, BOB)] == [True, True]
    assert [ring.rewrap(p) for p in (ALICE, BOB)] == [False, False]
    for pid in (ALICE, BOB):
        assert store.read(PATIENTS, pid, DATA_KEY_DOC_ID)["kekKid"] == local.current().get_kid() != old_version

    (tmp_path / f"kek.pem.{old_version.rsplit('/', 1)[1]}").unlink()  # the old KEK version is gone
    fresh = PatientKeyRing(store, LocalKekProvider(tmp_path / "kek.pem"))
    assert fresh.resolve(alice_kid).unwrap_key(wrapped, "A256KW") == CONTENT_KEY
    assert fresh.resolve(bob_kid).get_kid() == bob_kid


def test_shredding_removes_the_patient_from_the_rotation_index(ring, store):
    ring.wrapping_key(ALICE)
    ring.wrapping_key(BOB)
    ring.shred(ALICE)
    assert list(ring.patient_ids()) == [BOB]
    assert store.query(LOOKUPS, "__datakeys__").items[0]["patientId"] == BOB
