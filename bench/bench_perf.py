"""Benchmark: issue 15's figures (performance at scale), each measured in this run, min/median/max.

    .venv/bin/python bench/bench_perf.py            # BENCH_REPEATS=5 (default); BENCH_REPEATS=2 for a quick run

Writes .local/bench.json as {"<name>": {"min": .., "median": .., "max": .., "target": ..}} with
exactly the issue's names, so runs can be compared; a figure this run could not measure is null.

case_view_50k_vs_1k_time / _docs   GET /api/clinic/cases/{id} (the functions, real HTTP handler
        objects, SQLite store) for a patient with 50,000 ready photos against one with 1,000 (ten
        folders each): the time ratio (median of 11 interleaved calls each per repeat) and the ratio of documents
        read at the store port (tests/support/counting_store.py).
original_25mb_peak_mib / export_download_peak_mib   a clinician downloads a 25 MB original and a
        500 MB EPR package (100 x 5 MB) part by part, in a fresh process each, against Azurite:
        the rise of peak RSS over the idle worker (tests/support/download_memory_probe.py).
export_ratio_both / export_ratio_single   the export job's time over reading and decrypting the same
        photos (tests/support/export_memory_probe.py), BENCH_EXPORT_PHOTOS (20) x 5 MB, for a clinic
        that chose both formats (FHIR + JPEG and DICOM: each photo twice) and one (FHIR + JPEG).
upload_ratio_4mb / upload_ratio_20mb   the client SDK's encrypted upload (region by region into one
        PUT) over a plain SDK upload of the same bytes to the same Azurite, alternating.
processing_25mb_exif6_peak_mib   imaging.process_photo on a ~25 MB JPEG with EXIF orientation 6, in
        a fresh process: the rise of peak RSS over the idle process holding the photo.

Never fails the build: errors are printed and that figure is null.
"""

from __future__ import annotations

import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "client"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

REPEATS = max(1, int(os.environ.get("BENCH_REPEATS") or "5"))
EXPORT_PHOTOS = max(1, int(os.environ.get("BENCH_EXPORT_PHOTOS") or "20"))
TARGETS = {
    "case_view_50k_vs_1k_time": 1.5,
    "case_view_50k_vs_1k_docs": 1.5,
    "original_25mb_peak_mib": 16.0,
    "export_download_peak_mib": 32.0,
    "export_ratio_both": 2.5,
    "export_ratio_single": 1.3,
    "upload_ratio_4mb": 1.05,
    "upload_ratio_20mb": 1.05,
    "processing_25mb_exif6_peak_mib": 160.0,
}
MB = 1_000_000
results: dict[str, dict[str, float | None]] = {name: {"min": None, "median": None, "max": None, "target": t} for name, t in TARGETS.items()}


def record(name: str, samples: list[float]) -> None:
    results[name].update(min=round(min(samples), 3), median=round(statistics.median(samples), 3), max=round(max(samples), 3))


def section(title: str, function: Callable[..., None], *args: Any) -> None:
    print(f"-- {title}", flush=True)
    started = time.perf_counter()
    try:
        function(*args)
    except Exception:  # noqa: BLE001 - a benchmark reports, it never fails the build
        traceback.print_exc()
        print("   (could not complete, see above)")
    print(f"   ({time.perf_counter() - started:.0f} s)", flush=True)


# ----------------------------------------------------------------------------- case view
def bench_case_view(workdir: Path) -> None:
    from shared_code import bootstrap
    from shared_code.adapters.sqlite_store import SqliteMetadataStore
    from shared_code.domain.common import new_id
    from shared_code.ports import PATIENTS
    from tests.support.counting_store import CountingStore
    from tests.support.export_memory_probe import ready_image_doc
    from tests.support.functions_client import FunctionsClient, fake_services
    from tests.support.library_helpers import build_scene, ok

    workdir.mkdir(parents=True, exist_ok=True)
    services = fake_services(workdir)
    sqlite = SqliteMetadataStore(str(workdir / "case-view.db"))
    sqlite.ensure_containers()
    counting = CountingStore(sqlite)
    services.store = counting
    client = FunctionsClient(services)
    scenes = {}
    try:
        for label, photos in (("1k", 1_000), ("50k", 50_000)):
            scene = build_scene(client, patient_sub=f"bench-{label}", clinic_email=f"derm-{label}@nhs.example")
            folders = []
            for n in range(10):
                services.clock.advance(minutes=1)
                folders.append(scene.folder(f"Folder {n}"))
            started, now = time.perf_counter(), services.clock.now()
            first = datetime(2020, 1, 1, 8, 0, tzinfo=UTC)
            per_folder = photos // len(folders)
            for i, folder_id in enumerate(folders):
                for n in range(per_folder):
                    captured = first + timedelta(minutes=37 * (i * per_folder + n))
                    sqlite.create(PATIENTS, ready_image_doc(scene.patient_id, folder_id, new_id("img"), captured, now, 3_000_000, 4032, 3024))
                folder = sqlite.read(PATIENTS, scene.patient_id, folder_id)
                folder["readyImageCount"] = per_folder  # as processing keeps it
                sqlite.replace(PATIENTS, folder, if_match=folder["_etag"])
            scene.share()
            scenes[label] = scene
            print(f"   seeded {photos:,} ready photos in 10 folders for the {label} patient in {time.perf_counter() - started:.1f} s", flush=True)

        def call(label: str) -> tuple[float, int]:
            scene = scenes[label]
            counting.reset()
            t0 = time.perf_counter()
            body = ok(client.get(f"/api/clinic/cases/{scene.case_id()}", token=scene.doctor.token))
            elapsed = time.perf_counter() - t0
            assert len(body["folders"]) == 10
            return elapsed, counting.documents_read

        for label in ("1k", "50k", "1k", "50k"):  # warm-up
            call(label)
        time_ratios, doc_ratios = [], []
        for repeat in range(REPEATS):
            samples: dict[str, list[tuple[float, int]]] = {"1k": [], "50k": []}
            for n in range(11):  # interleaved, so a busy moment on the shared machine hits both
                for label in ("1k", "50k") if n % 2 == 0 else ("50k", "1k"):
                    samples[label].append(call(label))
            t1, d1 = statistics.median(t for t, _ in samples["1k"]), samples["1k"][-1][1]
            t50, d50 = statistics.median(t for t, _ in samples["50k"]), samples["50k"][-1][1]
            time_ratios.append(t50 / t1)
            doc_ratios.append(d50 / d1)
            print(f"   repeat {repeat + 1}: 1k {t1 * 1000:6.1f} ms, {d1} docs   50k {t50 * 1000:6.1f} ms, {d50} docs", flush=True)
        record("case_view_50k_vs_1k_time", time_ratios)
        record("case_view_50k_vs_1k_docs", doc_ratios)
    finally:
        bootstrap.override(None)
        sqlite.close()


# ----------------------------------------------------------------------------- downloads
def bench_downloads(azurite: Any, workdir: Path) -> None:
    from tests.support.download_memory_probe import run_stage

    started = time.perf_counter()
    run_stage("seed", azurite.connection_string, workdir, original_mb=25.0, export_mb=500.0)
    print(f"   seeded a 25 MB original and a 500 MB export package in {time.perf_counter() - started:.1f} s", flush=True)
    original, package = [], []
    for repeat in range(REPEATS):
        o = run_stage("original", azurite.connection_string, workdir)
        e = run_stage("export", azurite.connection_string, workdir)
        original.append(o["peakGrowthMiB"])
        package.append(e["peakGrowthMiB"])
        print(
            f"   repeat {repeat + 1}: original +{o['peakGrowthMiB']:.1f} MiB ({o['parts']} parts, {o['seconds']:.2f} s)   "
            f"export +{e['peakGrowthMiB']:.1f} MiB ({e['parts']} parts, {e['seconds']:.2f} s)",
            flush=True,
        )
    record("original_25mb_peak_mib", original)
    record("export_download_peak_mib", package)


# ----------------------------------------------------------------------------- export time
def bench_export(azurite: Any, workdir: Path) -> None:
    from shared_code.adapters.sqlite_store import SqliteMetadataStore
    from shared_code.ports import CLINICS, PATIENTS
    from tests.support.export_memory_probe import SCENARIO_FILE, run_stage

    started = time.perf_counter()
    seeded = run_stage("seed", azurite.connection_string, workdir, photos=EXPORT_PHOTOS, mb=5.0)
    print(f"   seeded {seeded['photos']} ready photos of ~5 MB in {time.perf_counter() - started:.1f} s", flush=True)
    scenario = json.loads((workdir / SCENARIO_FILE).read_text())
    ratios: dict[str, list[float]] = {"both": [], "fhir-jpeg": []}

    def prepare(formats: str) -> None:
        store = SqliteMetadataStore(str(workdir / "skinvault.db"))
        clinic = store.read(CLINICS, scenario["clinicId"], scenario["clinicId"])
        clinic["exportFormats"] = formats  # the clinic's choice (one format: FHIR + JPEG)
        store.replace(CLINICS, clinic, if_match=clinic["_etag"])
        doc = store.read(PATIENTS, scenario["patientId"], scenario["exportId"])
        doc.update(status="queued", readyAt=None, expiresAt=None)  # the same export, built again
        store.replace(PATIENTS, doc, if_match=doc["_etag"])
        store.close()

    for repeat in range(REPEATS):
        read = run_stage("read", azurite.connection_string, workdir)
        line = f"   repeat {repeat + 1}: read+decrypt {read['seconds']:.2f} s"
        for formats in ("both", "fhir-jpeg"):
            prepare(formats)
            export = run_stage("export", azurite.connection_string, workdir)
            ratios[formats].append(export["seconds"] / read["seconds"])
            line += f", export ({formats}) {export['seconds']:.2f} s {export['packageBytes'] / MB:.0f} MB ({export['status']})"
        print(line, flush=True)
    record("export_ratio_both", ratios["both"])
    record("export_ratio_single", ratios["fhir-jpeg"])


# ----------------------------------------------------------------------------- encrypted upload
def bench_upload(azurite: Any, workdir: Path) -> None:
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import BlobClient, BlobServiceClient

    from shared_code.adapters.blob_store import AzureBlobStore
    from shared_code.adapters.local_kek import LocalKekProvider
    from skinvault_client.encryption import upload_encrypted

    kek = LocalKekProvider(str(workdir / "kek.pem"))
    jwk = kek.public_jwk()
    adapter = AzureBlobStore.from_connection_string(azurite.connection_string, kek)
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    try:
        service.create_container("bench-uploads")
    except ResourceExistsError:
        pass
    for size_mb in (4, 20):
        data = os.urandom(size_mb * MB)
        ratios = []
        for run in range(REPEATS + 1):  # the first round warms connections up
            times = {}
            for kind in ("encrypted", "plain") if run % 2 == 0 else ("plain", "encrypted"):
                url = adapter.upload_url("bench-uploads", f"{kind}-{size_mb}-{run}", datetime.now(UTC) + timedelta(minutes=15))
                t0 = time.perf_counter()
                if kind == "encrypted":
                    upload_encrypted(url, data, jwk)
                else:
                    with BlobClient.from_blob_url(url) as blob:
                        blob.upload_blob(data, overwrite=True, max_concurrency=2)
                times[kind] = time.perf_counter() - t0
            if run:
                ratios.append(times["encrypted"] / times["plain"])
        record(f"upload_ratio_{size_mb}mb", ratios)
        print(f"   {size_mb} MB: encrypted / plain median {statistics.median(ratios):.2f}", flush=True)


# ----------------------------------------------------------------------------- processing memory
def exif6_jpeg(target_mb: float) -> bytes:
    from PIL import Image

    pixels = target_mb * MB / 1.17
    width = int((pixels * 4 / 3) ** 0.5) // 16 * 16
    height = int(width * 3 / 4) // 16 * 16
    image = Image.frombytes("RGB", (width, height), random.Random(6).randbytes(width * height * 3))
    exif = image.getexif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95, subsampling=2, exif=exif)
    return out.getvalue()


def processing_child(path: str) -> int:
    from shared_code.config import Settings
    from shared_code.domain import imaging
    from tests.support.export_memory_probe import PeakMemory, settings_env

    settings = Settings.from_env(settings_env("UseDevelopmentStorage=true", Path(tempfile.gettempdir())))
    data = Path(path).read_bytes()
    imaging.process_photo(exif6_jpeg(0.2), max_pixels=settings.max_image_pixels, max_bytes=settings.max_upload_bytes)  # warm-up
    with PeakMemory() as peak:
        t0 = time.perf_counter()
        imaging.process_photo(data, max_pixels=settings.max_image_pixels, max_bytes=settings.max_upload_bytes)
        seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "bytes": len(data), **peak.as_dict()}), flush=True)
    return 0


def bench_processing(workdir: Path) -> None:
    photo = workdir / "exif6.jpg"
    photo.write_bytes(exif6_jpeg(25.0))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), str(ROOT / "client"), env.get("PYTHONPATH", "")) if p)
    peaks = []
    for repeat in range(REPEATS):
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--processing-child", str(photo)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"processing child exited with {done.returncode}:\n{done.stderr[-2000:]}")
        result = json.loads(lines[-1])
        peaks.append(result["peakGrowthMiB"])
        print(
            f"   repeat {repeat + 1}: {result['bytes'] / MB:.1f} MB photo, +{result['peakGrowthMiB']:.1f} MiB, {result['seconds']:.2f} s", flush=True
        )
    record("processing_25mb_exif6_peak_mib", peaks)


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--processing-child"]:
        return processing_child(argv[1])
    started = time.perf_counter()
    print(f"issue 15 figures, {REPEATS} repeats each (BENCH_REPEATS)", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-perf-") as tmp:
        workdir = Path(tmp)
        section("case view at 50k vs 1k photos (time, documents read)", bench_case_view, workdir / "cases")
        try:
            from tests.support.azurite import Azurite

            with Azurite() as azurite:
                section("downloads part by part: 25 MB original, 500 MB export package", bench_downloads, azurite, workdir / "downloads")
                section(f"export time / read+decrypt, {EXPORT_PHOTOS} x 5 MB (BENCH_EXPORT_PHOTOS)", bench_export, azurite, workdir / "export")
                section("encrypted upload / plain upload, 4 and 20 MB", bench_upload, azurite, workdir)
        except Exception:  # noqa: BLE001
            traceback.print_exc()
        section("processing a 25 MB EXIF-6 photo, peak memory", bench_processing, workdir)

    print()
    print(f"{'figure':<32} {'min':>9} {'median':>9} {'max':>9} {'target':>8}  verdict")
    for name, figure in results.items():
        if figure["median"] is None:
            print(f"{name:<32} {'-':>9} {'-':>9} {'-':>9} {figure['target']:>8g}  not measured")
            continue
        verdict = "OK" if figure["median"] <= figure["target"] else "MISS"  # type: ignore[operator]
        print(f"{name:<32} {figure['min']:>9.2f} {figure['median']:>9.2f} {figure['max']:>9.2f} {figure['target']:>8g}  {verdict}")
    out = ROOT / ".local" / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)} ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
