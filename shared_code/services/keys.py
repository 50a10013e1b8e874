"""The key hierarchy's operations (ARCHITECTURE section 3): crypto-shredding, KEK rotation, migration.

- shred_patient_key: erasure's first step. Deleting the patient's wrapped data key makes every blob
  it wrapped unreadable, including soft-deleted versions and backups the erasure cannot reach.
- rotate_patient_keys: after a new KEK version, rewrap every patient's data key under it (one
  unwrap per patient at the vault). No blob is touched.
- migrate_blobs: blobs written before per-patient keys have content keys wrapped directly by the
  KEK; rewrap each under its patient's data key (one unwrap per blob at the vault, paced).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from shared_code.ports import EXPORTS, IMAGES, EncryptionRejected, NotFound, PreconditionFailed

log = logging.getLogger("skinvault.keys")

# Key Vault allows about 500 RSA-HSM operations per 10 s per vault: a migration takes a tenth of it.
DEFAULT_MIGRATION_OPS_PER_SECOND = 5.0


def shred_patient_key(services: Any, patient_id: str) -> None:
    """Crypto-shred a patient's data: delete their wrapped data key (erasure's first step)."""
    if services.data_keys is None:
        return  # fakes that never encrypt
    services.data_keys.shred(patient_id)
    log.info("data key shredded patient_id=%s", patient_id)


@dataclass(frozen=True)
class RotationReport:
    rewrapped: int
    unchanged: int


def rotate_patient_keys(services: Any) -> RotationReport:
    """Rewrap every patient's data key under the KEK's current version (run after a KEK rotation)."""
    rewrapped = unchanged = 0
    for patient_id in services.data_keys.patient_ids():
        if services.data_keys.rewrap(patient_id):
            rewrapped += 1
        else:
            unchanged += 1
    log.info("data keys rewrapped under the current KEK: rewrapped=%d unchanged=%d", rewrapped, unchanged)
    return RotationReport(rewrapped, unchanged)


@dataclass(frozen=True)
class MigrationReport:
    rewrapped: int
    unchanged: int
    failed: int


def migrate_blobs(
    services: Any,
    *,
    containers: Iterable[str] = (IMAGES, EXPORTS),
    ops_per_second: float = DEFAULT_MIGRATION_OPS_PER_SECOND,
    sleep: Callable[[float], None] = time.sleep,
) -> MigrationReport:
    """Rewrap the content key of every patient blob still wrapped by the KEK under the patient's data
    key. Safe to run again (and while the app runs): migrated blobs are skipped, a blob changed
    meanwhile is retried once, and one that cannot be read is counted and left as it is."""
    rewrapped = unchanged = failed = 0
    interval = 1.0 / ops_per_second if ops_per_second > 0 else 0.0
    for container in containers:
        for info in services.blobs.list(container):  # paged: never the whole listing in memory
            for attempt in range(2):
                try:
                    changed = services.blobs.rewrap_content_key(container, info.name)
                except PreconditionFailed:
                    if attempt == 0:
                        continue
                    failed += 1
                except NotFound:
                    unchanged += 1  # deleted meanwhile
                except EncryptionRejected as exc:
                    failed += 1
                    log.warning("blob not migrated container=%s blob=%s reason=%s", container, info.name, exc.reason_code)
                else:
                    if changed:
                        rewrapped += 1
                        if interval:
                            sleep(interval)
                    else:
                        unchanged += 1
                break
    log.info("blob migration to data keys: rewrapped=%d unchanged=%d failed=%d", rewrapped, unchanged, failed)
    return MigrationReport(rewrapped, unchanged, failed)
