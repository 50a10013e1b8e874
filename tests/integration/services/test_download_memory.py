"""Large downloads never hold the body (issue 15): a 25 MB original and a 500 MB EPR export package
(100 photos of 5 MB) are served part by part, each in a fresh process, and the worker's peak memory
rises by at most 16 MiB and 32 MiB. The probe is tests/support/download_memory_probe.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.azurite import Azurite
from tests.support.download_memory_probe import run_stage

pytestmark = pytest.mark.slow

ORIGINAL_MB, EXPORT_MB = 25.0, 500.0


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Iterator[tuple[Azurite, object]]:
    workdir = tmp_path_factory.mktemp("downloads")
    with Azurite() as azurite:
        result = run_stage("seed", azurite.connection_string, workdir, original_mb=ORIGINAL_MB, export_mb=EXPORT_MB)
        assert result["packageBytes"] == EXPORT_MB * 1_000_000
        yield azurite, workdir


def test_serving_a_25_mb_original_raises_peak_memory_by_at_most_16_mib(seeded):
    azurite, workdir = seeded
    result = run_stage("original", azurite.connection_string, workdir)
    assert result["bytesSent"] == ORIGINAL_MB * 1_000_000 and result["parts"] == 6, result
    assert result["hwmAfterMiB"] > result["rssBeforeMiB"] > 0, result  # the probe really read this process's memory
    assert result["peakGrowthMiB"] <= 16, result


def test_downloading_a_500_mb_export_package_raises_peak_memory_by_at_most_32_mib(seeded):
    azurite, workdir = seeded
    result = run_stage("export", azurite.connection_string, workdir)
    assert result["bytesSent"] == EXPORT_MB * 1_000_000, result
    assert result["peakGrowthMiB"] <= 32, result
