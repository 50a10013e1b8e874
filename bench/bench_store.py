"""Benchmark: one page (50) of a folder's images, newest first, from a 10,000-image partition in SQLite.

    .venv/bin/python bench/bench_store.py [--images 10000] [--folders 20] [--rounds 200]

Prints p50/p95 milliseconds for the first page and for pages reached by continuation token, plus
SQLite's query plan. Prints figures only; never fails on a slow result.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared_code.adapters.sqlite_store import SqliteMetadataStore  # noqa: E402
from shared_code.ports import PATIENTS  # noqa: E402

PATIENT = "patient-bench"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--folders", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    rng = random.Random(1234)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteMetadataStore(str(Path(tmp) / "bench.sqlite"))
        store.ensure_containers()
        started = time.perf_counter()
        for n in range(args.images):
            day = rng.randrange(0, 3 * 365)
            store.create(
                PATIENTS,
                {
                    "id": f"img-{n:06d}",
                    "patientId": PATIENT,
                    "type": "image",
                    "folderId": f"folder-{n % args.folders:03d}",
                    "status": "ready",
                    "capturedAt": f"{2022 + day // 365}-{(day % 365) // 31 + 1:02d}-{(day % 31) + 1:02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
                    "uploadedAt": "2025-01-01T00:00:00Z",
                    "width": 4032,
                    "height": 3024,
                    "notes": "x" * rng.randrange(0, 300),
                    "quality": {"blur": rng.random(), "exposure": rng.random()},
                },
            )
        for n in range(args.folders):
            store.create(PATIENTS, {"id": f"folder-{n:03d}", "patientId": PATIENT, "type": "folder", "name": f"Folder {n}"})
        load_s = time.perf_counter() - started
        print(f"loaded {args.images} images in {args.folders} folders into one partition in {load_s:.1f} s")

        query = {"order_by": "capturedAt", "descending": True, "limit": 50}
        print(
            "plan:",
            " | ".join(
                store.explain_query(PATIENTS, PATIENT, where={"type": "image", "folderId": "folder-007"}, order_by="capturedAt", descending=True)
            ),
        )

        first: list[float] = []
        later: list[float] = []
        for r in range(args.rounds):
            where = {"type": "image", "folderId": f"folder-{r % args.folders:03d}"}
            t0 = time.perf_counter()
            page = store.query(PATIENTS, PATIENT, where=where, **query)
            first.append((time.perf_counter() - t0) * 1000)
            token = page.continuation
            while token:
                t0 = time.perf_counter()
                page = store.query(PATIENTS, PATIENT, where=where, continuation=token, **query)
                later.append((time.perf_counter() - t0) * 1000)
                token = page.continuation

        unfiltered: list[float] = []
        for _ in range(max(5, args.rounds // 20)):
            t0 = time.perf_counter()
            store.query(PATIENTS, PATIENT, where={"type": "image"}, order_by="notes", limit=50)
            unfiltered.append((time.perf_counter() - t0) * 1000)
        store.close()

    def line(name: str, values: list[float]) -> str:
        if not values:
            return f"{name}: no samples"
        return f"{name}: n={len(values)} p50={statistics.median(values):.2f} ms p95={percentile(values, 95):.2f} ms max={max(values):.2f} ms"

    print(line("first page (type+folderId, capturedAt desc, 50)", first))
    print(line("continuation pages", later))
    print(line("unindexed order (type, order by notes) for comparison", unfiltered))


if __name__ == "__main__":
    main()
