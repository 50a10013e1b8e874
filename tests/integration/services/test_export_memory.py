"""The EPR export job's memory stays bounded however many photos it packs (issue 7).

The job runs in a fresh process (tests/support/export_memory_probe.py) against a real Azurite,
SQLite and the local KEK, so its peak resident set (VmHWM) is its own: seeding happens in another
process and pytest's memory never counts. The limit applies to the rise of the peak over the idle
worker (modules imported, services built), which is what the job itself costs.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator

import pytest

from shared_code.ports import EXPORTS
from shared_code.services.exports import export_blob_name
from tests.support.azurite import Azurite
from tests.support.export_memory_probe import build_services, run_stage

pytestmark = pytest.mark.slow

PHOTOS = 100
PHOTO_MB = 5.0
PEAK_LIMIT_BYTES = 300 * 1_000_000
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def azurite() -> Iterator[Azurite]:
    with Azurite() as running:
        yield running


def test_export_of_100_photos_of_5_mb_raises_the_workers_peak_memory_by_less_than_300_mb(azurite, tmp_path):
    seeded = run_stage("seed", azurite.connection_string, tmp_path, photos=PHOTOS, mb=PHOTO_MB)
    assert seeded["photos"] == PHOTOS
    assert seeded["photoBytes"] / PHOTOS > 4.5 * 1_000_000  # really ~5 MB originals

    result = run_stage("export", azurite.connection_string, tmp_path)

    assert result["status"] == "ready" and result["docStatus"] == "ready", result
    assert result["hwmAfterMiB"] > result["rssBeforeMiB"] > 0, result  # the probe really read this process's memory
    assert result["peakGrowthMiB"] > PHOTO_MB, result  # it saw the job hold at least one photo
    assert result["peakGrowthMiB"] * MiB < PEAK_LIMIT_BYTES, result
    # The whole package (all photos, their DICOM copies and the base64 bundle) is far larger than the limit.
    assert result["packageBytes"] > 2 * PEAK_LIMIT_BYTES, result

    services = build_services(azurite.connection_string, tmp_path)
    with tempfile.TemporaryFile() as package:
        for chunk in services.blobs.read_decrypted(EXPORTS, export_blob_name(seeded["patientId"], seeded["exportId"])):
            package.write(chunk)
        assert package.tell() == result["packageBytes"]
        package.seek(0)
        with zipfile.ZipFile(package) as archive:
            names = archive.namelist()
    assert len([n for n in names if n.startswith("images/") and n.endswith(".jpg")]) == PHOTOS
    assert len([n for n in names if n.startswith("dicom/") and n.endswith(".dcm")]) == PHOTOS
    assert "fhir/bundle.json" in names and "summary.pdf" in names
