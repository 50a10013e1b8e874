"""Benchmark: EPR export throughput and peak memory (issue 7) beside reading and decrypting the same photos.

    .venv/bin/python bench/bench_export.py [--photos 100] [--mb 5] [--profile]

Starts an Azurite, then (tests/support/export_memory_probe.py, each step in a fresh process, real
services over Azurite + SQLite + the local KEK) seeds a patient, a clinic, a direct-care share and
N ready photos whose originals are real noisy JPEGs of about M MB (a few distinct ones, each stored
encrypted under its own image id), requests an export of the case, and then times:

  read     reading and decrypting every original once (the least any export must do);
  export   the queue job exports.build(...): ZIP with the JPEGs, DICOM, FHIR bundle (base64 of every
           photo, deflated) and summary PDF, spooled to a temp file, encrypted and stored.

Prints photos/s, MB/s and the peak memory growth (VmHWM over the idle process) of each, and the
time ratio export / read against the target (<= 2). --profile runs the export under cProfile and
prints where its time went (the headline time then includes the profiler's overhead).
Never fails: errors are printed and the exit code is 0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "client"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

RATIO_TARGET = 2.0
MEMORY_LIMIT_MB = 300.0  # tests/integration/services/test_export_memory.py
MB = 1_000_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--mb", type=float, default=5.0, help="approximate size of each photo in MB")
    parser.add_argument("--profile", action="store_true", help="profile the export and print its hotspots")
    args = parser.parse_args(argv)
    try:
        from tests.support.azurite import Azurite
        from tests.support.export_memory_probe import run_stage

        with Azurite() as azurite, tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
            workdir = Path(tmp)
            started = time.perf_counter()
            seeded = run_stage("seed", azurite.connection_string, workdir, photos=args.photos, mb=args.mb)
            photo_mb = seeded["photoBytes"] / MB
            print(
                f"seeded {seeded['photos']} ready photos ({seeded['distinctPhotos']} distinct noisy JPEGs, {photo_mb:.0f} MB, "
                f"{photo_mb / seeded['photos']:.2f} MB each) in {time.perf_counter() - started:.1f} s"
            )
            read = run_stage("read", azurite.connection_string, workdir, photos=args.photos, mb=args.mb)
            export = run_stage("export", azurite.connection_string, workdir, photos=args.photos, mb=args.mb, profile=args.profile)

        if export["status"] != "ready":
            print(f"export finished with status {export['status']!r} (expected 'ready')")
        n = export["photos"]
        package_mb = (export.get("packageBytes") or 0) / MB
        print()
        print(f"{'step':<22} {'seconds':>8} {'photos/s':>9} {'photo MB/s':>11} {'peak +MiB':>10}  notes")
        print(
            f"{'read + decrypt once':<22} {read['seconds']:8.2f} {n / read['seconds']:9.1f} {photo_mb / read['seconds']:11.1f} "
            f"{read['peakGrowthMiB']:10.1f}  idle RSS {read['rssBeforeMiB']:.0f} MiB"
        )
        print(
            f"{'export (exports.build)':<22} {export['seconds']:8.2f} {n / export['seconds']:9.2f} {photo_mb / export['seconds']:11.1f} "
            f"{export['peakGrowthMiB']:10.1f}  idle RSS {export['rssBeforeMiB']:.0f} MiB; package {package_mb:.0f} MB written "
            f"({package_mb / export['seconds']:.1f} MB/s), reads each photo twice"
        )
        ratio = export["seconds"] / read["seconds"]
        print()
        print(f"export / read time ratio   {ratio:6.2f}   target <= {RATIO_TARGET:g}   {'OK' if ratio <= RATIO_TARGET else 'MISS'}")
        print(
            f"export peak memory growth  {export['peakGrowthMiB']:6.1f} MiB   limit < {MEMORY_LIMIT_MB:g} MB (slow test)   "
            f"{'OK' if export['peakGrowthMiB'] * 1024 * 1024 < MEMORY_LIMIT_MB * MB else 'MISS'}"
        )
        if export.get("hotspots"):
            print()
            print("where the export's time went (cProfile, own time):")
            for name, seconds, calls in export["hotspots"]:
                print(f"  {seconds:8.2f} s  {calls:>7} calls  {name}")
    except Exception:  # noqa: BLE001 - a benchmark reports, it never fails the build
        traceback.print_exc()
        print("benchmark could not complete (see above)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
