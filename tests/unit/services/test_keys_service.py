"""services.keys: migration pacing and error handling, and rotation, over Fake ports."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

from shared_code.adapters.local_kek import LocalKekProvider
from shared_code.adapters.patient_keys import PatientKeyRing
from shared_code.ports import IMAGES, BlobInfo, EncryptionRejected, NotFound, PreconditionFailed
from shared_code.services import keys
from tests.fakes.store import FakeMetadataStore


class ScriptedBlobs:
    """A blob store whose rewrap_content_key answers from a script, per blob name."""

    def __init__(self, script: dict[str, list[object]]) -> None:
        self.script = script
        self.calls: list[str] = []

    def list(self, container: str, prefix: str = "") -> Iterator[BlobInfo]:
        for name in self.script if container == IMAGES else ():
            yield BlobInfo(name=name, etag="e", size=1)

    def rewrap_content_key(self, container: str, name: str) -> bool:
        self.calls.append(name)
        outcome = self.script[name].pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return bool(outcome)


def test_migration_counts_retries_once_and_paces_only_real_rewraps():
    blobs = ScriptedBlobs(
        {
            "pt-a/img-1/original.jpg": [True],
            "pt-a/img-1/thumbnail.jpg": [False],
            "pt-a/img-2/original.jpg": [PreconditionFailed("changed"), True],
            "pt-a/img-3/original.jpg": [PreconditionFailed("changed"), PreconditionFailed("changed")],
            "pt-a/img-4/original.jpg": [EncryptionRejected("integrity")],
            "pt-a/img-5/original.jpg": [NotFound("gone")],
        }
    )
    sleeps: list[float] = []
    report = keys.migrate_blobs(SimpleNamespace(blobs=blobs), ops_per_second=4, sleep=sleeps.append)
    assert report == keys.MigrationReport(rewrapped=2, unchanged=2, failed=2)
    assert sleeps == [0.25, 0.25]
    assert blobs.calls.count("pt-a/img-2/original.jpg") == 2 and blobs.calls.count("pt-a/img-3/original.jpg") == 2


def test_rotation_reports_what_it_rewrapped(tmp_path):
    kek = LocalKekProvider(tmp_path / "kek.pem", key_size=2048)
    ring = PatientKeyRing(FakeMetadataStore(), kek)
    for n in range(3):
        ring.wrapping_key(f"pt-{n:024d}")
    services = SimpleNamespace(data_keys=ring)
    assert keys.rotate_patient_keys(services) == keys.RotationReport(rewrapped=0, unchanged=3)
    kek.rotate()
    assert keys.rotate_patient_keys(services) == keys.RotationReport(rewrapped=3, unchanged=0)
