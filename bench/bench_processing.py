"""Benchmark: peak memory of the blob trigger's processing of a 25 MB photo with EXIF Orientation 6.

    .venv/bin/python bench/bench_processing.py [--runs 5] [--mb 25] [--orientation 6]

Starts an Azurite; for each run (tests/support/processing_memory_probe.py, each step in a fresh
process, real services over Azurite + SQLite + the local KEK) opens an upload session, stores a
noisy JPEG of about MB megabytes as the phone would, and runs processing.handle_upload on it,
reporting the rise of the peak resident set over the idle worker. Prints min/median/max against
the target (issue 15: <= +160 MiB) and records them in .local/bench.json under
"processing_25mb_exif6_peak_mib" (other figures in that file are kept).
Never fails: errors are printed and the exit code is 0.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "client"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

TARGET_MIB = 160.0
NAME = "processing_25mb_exif6_peak_mib"


def record(figures: dict[str, float], path: Path = ROOT / ".local" / "bench.json") -> None:
    try:
        existing = json.loads(path.read_text()) if path.exists() else {}
    except ValueError:
        existing = {}
    existing[NAME] = figures
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(existing, indent=2, sort_keys=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mb", type=float, default=25.0)
    parser.add_argument("--orientation", type=int, default=6)
    args = parser.parse_args(argv)
    try:
        from tests.support.azurite import Azurite
        from tests.support.processing_memory_probe import run_stage

        peaks, seconds = [], []
        with Azurite() as azurite:
            for _ in range(args.runs):
                with tempfile.TemporaryDirectory(prefix="bench-processing-") as tmp:
                    run_stage("seed", azurite.connection_string, Path(tmp), mb=args.mb, orientation=args.orientation)
                    result = run_stage("process", azurite.connection_string, Path(tmp))
                if result["status"] != "ready":
                    print(f"processing finished with status {result['status']!r} (expected 'ready')")
                peaks.append(result["peakGrowthMiB"])
                seconds.append(result["seconds"])
        figures = {"min": min(peaks), "median": round(statistics.median(peaks), 1), "max": max(peaks), "target": TARGET_MIB}
        print(f"processing a {args.mb:g} MB photo, EXIF orientation {args.orientation}, {args.runs} runs")
        print(
            f"  peak memory growth  min {figures['min']:.1f}  median {figures['median']:.1f}  max {figures['max']:.1f} MiB   target <= {TARGET_MIB:g}"
        )
        print(f"  time                median {statistics.median(seconds):.2f} s")
        print(f"  {'OK' if figures['max'] <= TARGET_MIB else 'MISS'}")
        record(figures)
    except Exception:  # noqa: BLE001 - a benchmark never fails the build
        traceback.print_exc()
    return 0


if __name__ == "__main__":
    sys.exit(main())
