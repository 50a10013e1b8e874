"""Processing a 25 MB photo that must be turned upright stays within +160 MiB (issue 15 item 5).

The blob trigger's work (processing.handle_upload: decrypt, verify, turn upright, strip, make the
renditions, encrypt and store them) runs in a fresh process (tests/support/processing_memory_probe.py)
against a real Azurite, SQLite and the local KEK, so its peak resident set (VmHWM) is its own.
The photo: about 25 MB of incompressible JPEG (21 MP, 81 MiB of pixels in Pillow) with EXIF
Orientation 6. Before the fix it peaked at +261 MiB (the plaintext, the stripped copy and the
unrotated pixels all alive while the rotated copy was made and encoded).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.azurite import Azurite
from tests.support.processing_memory_probe import run_stage

pytestmark = pytest.mark.slow

LIMIT_MIB = 160


@pytest.fixture(scope="module")
def azurite() -> Iterator[Azurite]:
    with Azurite() as running:
        yield running


def test_a_25_mb_photo_with_exif_orientation_6_processes_within_160_mib(azurite, tmp_path):
    seeded = run_stage("seed", azurite.connection_string, tmp_path, mb=25.0, orientation=6)
    assert seeded["photoBytes"] > 24_000_000

    result = run_stage("process", azurite.connection_string, tmp_path)

    assert result["status"] == "ready", result
    assert result["peakGrowthMiB"] > 81, result  # it really held the photo's pixels once
    assert result["peakGrowthMiB"] <= LIMIT_MIB, result
