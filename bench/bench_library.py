"""Benchmark: the photo library's targets (issue 3) on a real local stack (Azurite + local host + SQLite).

    .venv/bin/python bench/bench_library.py [--runs N] [--ready-runs N] [--images 10000] [--original-mb 25]

1. Encrypt+upload as the phone does it (skinvault_client upload_encrypted: client-side encryption v2
   under the API's public JWK, to a create/write SAS from the blob adapter) against a plain
   azure-storage-blob upload of the same bytes to the same SAS, 4 MB and 20 MB, alternating, median
   of N runs. Target: ratio <= 1.15.
2. Upload-to-ready for a 12 MP JPEG through the whole pipeline (start upload session -> encrypted
   upload -> the host's blob trigger processes it -> GET /api/images/{id} polled until ready): p50.
   (The processing step alone against a Pillow-only baseline is bench/bench_imaging.py.)
3. One page (50) of a folder holding 10,000 ready images, GET /api/folders/{id}/images over HTTP
   (SQLite store seeded directly): p50/p95 of the round trip, first page and continuation pages.
   Target: p95 <= 50 ms.
4. Peak memory of library.image_content on a 25 MB original, measured in a fresh process (not the
   host) as the rise of VmHWM over the idle RSS; the same for iterating read_decrypted alone, to
   show what dominates. Target: <= 64 MB above idle.

Prints figures with OK/MISS against each target; never fails: errors are printed, exit code 0.
Output carries ids and figures only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "client"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

UPLOAD_RATIO_TARGET = 1.15
PAGE_P95_TARGET_MS = 50.0
MEMORY_TARGET_MB = 64.0
MiB = 1024 * 1024
BENCH_CONTAINER = "bench-uploads"  # not watched by any trigger

rows: list[tuple[str, str, str, str]] = []


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISS"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def section(title: str, function: Any, *args: Any) -> None:
    print(f"-- {title}", flush=True)
    try:
        function(*args)
    except Exception:  # noqa: BLE001 - a benchmark reports, it never fails the build
        traceback.print_exc()
        rows.append((title, "error", "", "n/a"))
        print("   (could not complete, see above)")


# ----------------------------------------------------------------------------- 1. encryption overhead
def bench_upload_overhead(stack: Any, runs: int) -> None:
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import BlobClient, BlobServiceClient

    from shared_code.adapters.blob_store import AzureBlobStore
    from shared_code.adapters.local_kek import LocalKekProvider
    from skinvault_client.encryption import upload_encrypted

    kek = LocalKekProvider(str(stack.workdir / "kek.pem"))  # the host's KEK: its public JWK is what the API hands out
    jwk = kek.public_jwk()
    adapter = AzureBlobStore.from_connection_string(stack.azurite.connection_string, kek)
    service = BlobServiceClient.from_connection_string(stack.azurite.connection_string)
    with contextlib.suppress(ResourceExistsError):
        service.create_container(BENCH_CONTAINER)

    for size_mb in (4, 20):
        data = os.urandom(size_mb * 1_000_000)
        samples: dict[str, list[float]] = {"encrypted": [], "plain": []}
        for run in range(runs + 1):  # the first round warms connections up and is not counted
            order = ("encrypted", "plain") if run % 2 == 0 else ("plain", "encrypted")
            for kind in order:
                name = f"{kind}-{size_mb}mb-{run}"
                url = adapter.upload_url(BENCH_CONTAINER, name, datetime.now(UTC) + timedelta(minutes=15))
                started = time.perf_counter()
                if kind == "encrypted":
                    upload_encrypted(url, data, jwk)
                else:
                    with BlobClient.from_blob_url(url) as blob:
                        blob.upload_blob(data, overwrite=True, max_concurrency=2)
                elapsed = time.perf_counter() - started
                if run:
                    samples[kind].append(elapsed)
        enc, plain = statistics.median(samples["encrypted"]), statistics.median(samples["plain"])
        ratio = enc / plain
        print(
            f"   {size_mb:>2} MB: encrypted {enc * 1000:7.1f} ms ({size_mb / enc:6.1f} MB/s)  "
            f"plain {plain * 1000:7.1f} ms ({size_mb / plain:6.1f} MB/s)  ratio {ratio:.2f}  (median of {runs})"
        )
        rows.append(
            (f"encrypt+upload / plain upload, {size_mb} MB", f"{ratio:.2f}x", f"<= {UPLOAD_RATIO_TARGET}x", verdict(ratio <= UPLOAD_RATIO_TARGET))
        )


# ----------------------------------------------------------------------------- 2. upload to ready
def bench_upload_to_ready(stack: Any, runs: int) -> None:
    from shared_code.domain.imaging import prepare_for_upload
    from skinvault_client.encryption import upload_encrypted
    from tests.e2e.helpers import Patient, ok
    from tests.support.images import make_photo

    patient = Patient(stack, name="Bench Patient")
    photo = prepare_for_upload(make_photo(4000, 3000, captured_at="2024:05:01 14:30:00"))  # the phone strips before it encrypts
    samples: list[float] = []
    statuses: list[str] = []
    for _ in range(runs):
        started = time.perf_counter()
        session = ok(
            patient.api.post(f"/api/folders/{patient.folder['id']}/uploads", json={"contentType": "image/jpeg", "sizeBytes": len(photo)}), 201
        )
        upload_encrypted(session["uploadUrl"], photo, session["encryption"]["jwk"])
        deadline = time.monotonic() + 120
        status = "pending"
        while time.monotonic() < deadline:
            status = ok(patient.api.get(f"/api/images/{session['uploadId']}"))["status"]
            if status != "pending":
                break
            time.sleep(0.05)
        samples.append(time.perf_counter() - started)
        statuses.append(status)
    p50 = statistics.median(samples)
    print(
        f"   12 MP JPEG ({len(photo) / 1e6:.1f} MB after client stripping): p50 {p50:.2f} s  min {min(samples):.2f} s  max {max(samples):.2f} s  "
        f"(n={runs}; outcomes: {', '.join(sorted(set(statuses)))}; the host polls Azurite for new blobs every 0.3 s)"
    )
    print("   processing alone vs a Pillow-only baseline (target ratio <= 1.5): see bench/bench_imaging.py")
    rows.append(("upload-to-ready p50, 12 MP JPEG", f"{p50:.2f} s", "report (see bench_imaging)", "-" if set(statuses) == {"ready"} else "MISS"))


# ----------------------------------------------------------------------------- 3. one page of 10,000
def bench_folder_page(stack: Any, images: int, rounds: int) -> None:
    from shared_code.adapters.sqlite_store import SqliteMetadataStore
    from shared_code.domain.common import new_id
    from shared_code.ports import PATIENTS
    from shared_code.services import access
    from tests.e2e.helpers import Patient, ok
    from tests.support.export_memory_probe import ready_image_doc

    patient = Patient(stack, name="Bench Patient")
    pid, folder_id = patient.profile["id"], patient.folder["id"]
    store = SqliteMetadataStore(str(stack.workdir / "skinvault.db"))  # the host's own database file
    started = time.perf_counter()
    now = datetime.now(UTC)
    first_day = datetime(2022, 1, 1, 8, 0, tzinfo=UTC)
    for n in range(images):
        image_id = new_id("img")
        captured = first_day + timedelta(minutes=157 * n)  # ~3 years of photos
        doc = ready_image_doc(pid, folder_id, image_id, captured, now, 3_400_000 + n, 4032, 3024)
        doc["notes"] = "bench note" if n % 3 == 0 else None
        access.register_owner(store, "img", image_id, pid, folder_id)
        store.create(PATIENTS, doc)
    store.close()
    print(f"   seeded {images} ready images (+ owner lookups) into one folder in {time.perf_counter() - started:.1f} s")

    url = f"/api/folders/{folder_id}/images"
    ok(patient.api.get(url))  # warm-up
    first: list[float] = []
    later: list[float] = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        page = ok(patient.api.get(url))
        first.append((time.perf_counter() - t0) * 1000)
        assert len(page["items"]) == 50
    token, pages = ok(patient.api.get(url))["continuationToken"], 1
    while token:
        t0 = time.perf_counter()
        page = ok(patient.api.get(url, params={"continuationToken": token}))
        later.append((time.perf_counter() - t0) * 1000)
        token, pages = page["continuationToken"], pages + 1
    print(f"   walked {pages} pages of 50 (continuation tokens) over HTTP")
    for label, values in (("first page", first), ("continuation pages", later)):
        p50, p95 = statistics.median(values), percentile(values, 95)
        print(f"   {label:<19} n={len(values):<4} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  max {max(values):6.2f} ms")
        rows.append(
            (
                f"page of 50 from {images:,} images, {label} p95",
                f"{p95:.1f} ms",
                f"<= {PAGE_P95_TARGET_MS:.0f} ms",
                verdict(p95 <= PAGE_P95_TARGET_MS),
            )
        )


# ----------------------------------------------------------------------------- 4. memory of a 25 MB original
def bench_original_memory(stack: Any, original_mb: float) -> None:
    from shared_code.auth.principal import PATIENT, Principal
    from shared_code.domain.common import new_id
    from shared_code.ports import IMAGES, PATIENTS
    from shared_code.services import access, library
    from tests.support.export_memory_probe import build_services, noisy_jpeg, ready_image_doc

    workdir = stack.workdir / "memory"
    services = build_services(stack.azurite.connection_string, workdir)
    now = services.clock.now()
    patient = Principal(PATIENT, new_id("bench-patient"), services.settings.patient_issuer, name="Bench Patient")
    folder = library.create_folder(services, patient, {"name": "Leg ulcer"})
    ids = {}
    for label, mb, seed in (("small", 0.1, 1), ("large", original_mb, 2)):
        data = noisy_jpeg(seed, mb)
        image_id = new_id("img")
        services.blobs.put_encrypted(IMAGES, library.image_blob_name(patient.patient_id, image_id, "original"), data)
        access.register_owner(services.store, "img", image_id, patient.patient_id, folder["id"])
        services.store.create(PATIENTS, ready_image_doc(patient.patient_id, folder["id"], image_id, now, now, len(data), 0, 0))
        ids[label] = (image_id, len(data))
    del data
    size = ids["large"][1]
    job = {"storage": stack.azurite.connection_string, "workdir": str(workdir), "sub": patient.sub, "issuer": patient.issuer}
    job.update({"small": ids["small"][0], "large": ids["large"][0]})
    results = {mode: _memory_child(mode, job) for mode in ("stream", "content")}
    for mode, label in (("stream", "read_decrypted, chunks dropped"), ("content", "library.image_content")):
        r = results[mode]
        print(
            f"   {label:<31} {size / 1e6:.1f} MB original: peak +{r['peakGrowthMiB']:.1f} MiB over idle "
            f"(idle RSS {r['rssBeforeMiB']:.1f} MiB, peak {r['hwmAfterMiB']:.1f} MiB, {r['seconds'] * 1000:.0f} ms, "
            f"peak reset {'yes' if r['peakReset'] else 'no'})"
        )
    content, stream = results["content"]["peakGrowthMiB"], results["stream"]["peakGrowthMiB"]
    print(
        f"   what dominates: image_content holds the whole photo once ({size / MiB:.1f} MiB; the Functions HTTP response takes a "
        f"bytes body, handed over without a further copy) beside the reader's buffers. Streaming the chunks alone peaks at "
        f"+{stream:.1f} MiB (the SDK copies each 4 MiB region while decrypting it); buffering adds {content - stream:.1f} MiB."
    )
    rows.append(
        (
            f"peak memory, image_content of a {size / 1e6:.0f} MB original",
            f"+{content * MiB / 1e6:.1f} MB",
            f"<= {MEMORY_TARGET_MB:.0f} MB",
            verdict(content * MiB <= MEMORY_TARGET_MB * 1e6),
        )
    )
    rows.append(
        (
            f"peak memory, read_decrypted alone ({size / 1e6:.0f} MB)",
            f"+{stream * MiB / 1e6:.1f} MB",
            f"<= {MEMORY_TARGET_MB:.0f} MB",
            verdict(stream * MiB <= MEMORY_TARGET_MB * 1e6),
        )
    )


def _memory_child(mode: str, job: dict[str, Any]) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), str(ROOT / "client"), env.get("PYTHONPATH", "")) if p)
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--memory-child", mode, json.dumps(job)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"memory child ({mode}) exited with {done.returncode}:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def memory_child(mode: str, raw_job: str) -> int:
    """Runs in a fresh process: warm up on a small photo, reset the peak, then read the large one."""
    from shared_code.auth.principal import PATIENT, Principal
    from shared_code.ports import IMAGES
    from shared_code.services import library
    from tests.support.export_memory_probe import PeakMemory, build_services

    job = json.loads(raw_job)
    services = build_services(job["storage"], Path(job["workdir"]))
    patient = Principal(PATIENT, job["sub"], job["issuer"])

    def run(image_id: str) -> None:
        if mode == "content":
            data, _ = library.image_content(services, patient, image_id, "original")
            del data
        else:
            for _chunk in services.blobs.read_decrypted(IMAGES, library.image_blob_name(patient.patient_id, image_id, "original")):
                pass

    run(job["small"])  # imports, connection pool, KEK loaded: the idle worker
    with PeakMemory() as peak:
        started = time.perf_counter()
        run(job["large"])
        seconds = time.perf_counter() - started
    print(json.dumps({"mode": mode, "seconds": seconds, **peak.as_dict()}), flush=True)
    return 0


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="upload runs per size (encrypted and plain each)")
    parser.add_argument("--ready-runs", type=int, default=5, help="12 MP uploads timed to ready")
    parser.add_argument("--images", type=int, default=10_000, help="images in the folder for the paging target")
    parser.add_argument("--rounds", type=int, default=100, help="first-page requests timed")
    parser.add_argument("--original-mb", type=float, default=25.0, help="size of the original for the memory target")
    parser.add_argument("--memory-child", nargs=2, metavar=("MODE", "JOB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        return memory_child(*args.memory_child)

    stack = None
    try:
        from tests.support.stack import LocalStack

        with tempfile.TemporaryDirectory(prefix="bench-library-") as tmp:
            print("starting a local stack (Azurite + local host, SQLite, local KEK)...", flush=True)
            stack = LocalStack(Path(tmp)).start()
            try:
                section("encrypt+upload (phone) vs plain upload, same bytes, same Azurite", bench_upload_overhead, stack, args.runs)
                section("upload-to-ready, 12 MP JPEG, full pipeline over HTTP", bench_upload_to_ready, stack, args.ready_runs)
                section(
                    f"GET /api/folders/{{id}}/images, folder of {args.images:,} images (SQLite)", bench_folder_page, stack, args.images, args.rounds
                )
                section(f"peak memory of a {args.original_mb:g} MB original, fresh process", bench_original_memory, stack, args.original_mb)
            finally:
                stack.close()
    except Exception:  # noqa: BLE001 - a benchmark reports, it never fails the build
        traceback.print_exc()
        print("benchmark could not complete (see above)")

    if rows:
        width = max(len(r[0]) for r in rows)
        print()
        print(f"{'issue 3 target':<{width}}  {'measured':>12}  {'target':<27} verdict")
        for name, measured, target, result in rows:
            print(f"{name:<{width}}  {measured:>12}  {target:<27} {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
