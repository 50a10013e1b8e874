"""Runs the EPR export job (or a plain read of the same photos) in a fresh process and reports its peak memory.

    python -m tests.support.export_memory_probe --stage seed   --storage CONN --workdir DIR [--photos 100] [--mb 5]
    python -m tests.support.export_memory_probe --stage export --storage CONN --workdir DIR
    python -m tests.support.export_memory_probe --stage read   --storage CONN --workdir DIR

Every stage builds real services (shared_code.bootstrap.build) over the Azurite given by --storage
(a connection string; or the STORAGE environment variable) with SQLite, the local KEK and the email
outbox under --workdir, and prints one line of JSON on stdout.

seed    creates, through the services, a patient with a profile and a folder, a clinic with one
        clinician, an all-folders direct-care share (which opens the case), then N ready images whose
        originals are real noisy JPEGs of about M MB (a few distinct ones, each stored encrypted under
        its own image id with put_encrypted), and requests an export of the case. The ids go to
        DIR/scenario.json.
export  runs exports.build(services, message) on that export: the queue job, as the worker runs it.
read    reads and decrypts every original once (what the export does at the least).

Memory: `export` and `read` run in a process that has done nothing else; VmHWM (peak resident set)
is read from /proc/self/status once the modules are imported and the services built, and again
after the job. Where /proc/self/clear_refs is writable the peak is reset just before the job, so
the figure is the job's own. Seeding happens in its own process so its buffers never count.

`run_stage(...)` runs one stage as a subprocess and returns its JSON (used by the slow memory test
and by bench/bench_export.py). Output carries ids and figures only, never patient data.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import random
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: make the repo importable
    sys.path.insert(0, str(ROOT))

MB = 1_000_000
# Noisy RGB pixels at JPEG quality 95 cost about 1.17 bytes each (2400x1800 -> ~5.07 MB).
BYTES_PER_PIXEL_Q95 = 1.17
SCENARIO_FILE = "scenario.json"


# ----------------------------------------------------------------------------- memory
def _status_kb(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    return int(match.group(1)) if match else 0


def vm_hwm_kb() -> int:
    """Peak resident set size of this process so far (kB)."""
    return _status_kb("VmHWM")


def vm_rss_kb() -> int:
    return _status_kb("VmRSS")


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux: write 5 to /proc/self/clear_refs). False if not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class PeakMemory:
    """with PeakMemory() as peak: ...; peak.growth_mb is the rise of VmHWM over the RSS at the start."""

    def __enter__(self) -> PeakMemory:
        gc.collect()
        self.reset = reset_peak()
        self.rss_before_kb = vm_rss_kb()
        self.hwm_before_kb = vm_hwm_kb()
        return self

    def __exit__(self, *exc: object) -> None:
        self.hwm_after_kb = vm_hwm_kb()

    @property
    def growth_mb(self) -> float:
        # After a reset the peak restarts from the current RSS; without one, from the earlier peak.
        baseline = self.rss_before_kb if self.reset else self.hwm_before_kb
        return (self.hwm_after_kb - baseline) / 1024

    def as_dict(self) -> dict[str, Any]:
        return {
            "peakReset": self.reset,
            "rssBeforeMiB": round(self.rss_before_kb / 1024, 1),
            "hwmBeforeMiB": round(self.hwm_before_kb / 1024, 1),
            "hwmAfterMiB": round(self.hwm_after_kb / 1024, 1),
            "peakGrowthMiB": round(self.growth_mb, 1),
        }


# ----------------------------------------------------------------------------- services
def settings_env(storage: str, workdir: Path) -> dict[str, str]:
    """The example local settings, pointed at this Azurite and at files under workdir."""
    values = json.loads((ROOT / "local.settings.example.json").read_text())["Values"]
    values.update(
        {
            "STORAGE": storage,
            "UPLOADS_STORAGE": storage,
            "AzureWebJobsStorage": storage,
            "METADATA_STORE": "sqlite",
            "SQLITE_PATH": str(workdir / "skinvault.db"),
            "KEK_PROVIDER": "local",
            "KEK_PEM_PATH": str(workdir / "kek.pem"),
            "EMAIL_SENDER": "outbox",
            "EMAIL_OUTBOX_DIR": str(workdir / "outbox"),
            "DEV_ISSUER_KEY_PATH": str(workdir / "dev-issuer.pem"),
        }
    )
    return values


def build_services(storage: str, workdir: Path) -> Any:
    from shared_code.bootstrap import build
    from shared_code.config import Settings

    workdir.mkdir(parents=True, exist_ok=True)
    services = build(Settings.from_env(settings_env(storage, workdir)))
    services.store.ensure_containers()
    services.blobs.ensure_containers()
    getattr(services.queue, "ensure_queues", lambda: None)()
    return services


# ----------------------------------------------------------------------------- photos
def noisy_jpeg(seed: int, target_mb: float) -> bytes:
    """A real, incompressible (noise) baseline 4:2:0 JPEG of about target_mb MB, at quality 95."""
    from PIL import Image

    pixels = max(target_mb * MB / BYTES_PER_PIXEL_Q95, 64 * 64)
    width = max(16, int((pixels * 4 / 3) ** 0.5) // 16 * 16)
    height = max(16, int(width * 3 / 4) // 16 * 16)
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95, subsampling=2)
    return out.getvalue()


def ready_image_doc(patient_id: str, folder_id: str, image_id: str, captured_at: datetime, now: datetime, size: int, width: int, height: int) -> dict:
    """An image document as library.start_upload creates it and processing marks it ready."""
    from shared_code.domain.common import iso

    return {
        "id": image_id,
        "patientId": patient_id,
        "type": "image",
        "folderId": folder_id,
        "status": "ready",
        "rejectionReason": None,
        "rejectionCode": None,
        "declaredContentType": "image/jpeg",
        "declaredSizeBytes": size,
        "capturedAt": iso(captured_at),
        "capturedAtSource": "camera",
        "uploadedAt": iso(now),
        "notes": None,
        "treatment": None,
        "rating": None,
        "description": None,
        "width": width,
        "height": height,
        "sizeBytes": size,
        "sourceFormat": "JPEG",
        "quality": {"blurScore": 812.4, "brightness": 128.2, "flags": []},
        "processedAt": iso(now),
        "sourceEtag": '"0x8DC0000000000000"',
    }


# ----------------------------------------------------------------------------- stages
def seed(services: Any, photos: int, mb: float, distinct: int = 4) -> dict[str, Any]:
    from PIL import Image

    from shared_code.auth.principal import CLINICIAN, PATIENT, Principal
    from shared_code.domain.common import iso, new_id
    from shared_code.ports import IMAGES, PATIENTS
    from shared_code.services import access, clinics, consent, exports, library, profile, sharing

    settings, store = services.settings, services.store
    now = services.clock.now()
    patient = Principal(PATIENT, new_id("probe-patient"), settings.patient_issuer, name="Probe Patient")
    profile.update(store, patient, {"displayName": "Probe Patient", "dateOfBirth": "1970-01-31", "nhsNumber": "9434765919"}, now)
    folder = library.create_folder(services, patient, {"name": "Mole on back", "bodySite": "back", "condition": "Changing mole"})
    clinic = clinics.create_clinic(store, {"name": "Probe Dermatology", "odsCode": "RTD", "notificationEmail": "derm@nhs.example"}, now)
    clinician_sub = new_id("probe-doc")
    clinics.add_member(store, clinic["id"], {"sub": clinician_sub, "name": "Dr Probe"}, now)
    sharing.grant(
        services,
        patient,
        {
            "clinicId": clinic["id"],
            "purposes": ["direct-care"],
            "expiresAt": iso(now + timedelta(days=30)),
            "consent": {"textVersion": consent.current_version(), "accepted": True},
            "allFolders": True,
        },
    )

    jpegs = [noisy_jpeg(seed, mb) for seed in range(max(1, min(distinct, photos)))]
    dims = [Image.open(io.BytesIO(data)).size for data in jpegs]
    previews = []  # as processing stores them beside each original (the export's PDF uses them)
    for data in jpegs:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((1600, 1600))
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=85)
            previews.append(out.getvalue())
    pid, started = patient.patient_id, time.perf_counter()
    image_ids, total = [], 0
    for n in range(photos):
        data, (width, height) = jpegs[n % len(jpegs)], dims[n % len(jpegs)]
        image_id = new_id("img")
        services.blobs.put_encrypted(IMAGES, library.image_blob_name(pid, image_id, "original"), data)
        services.blobs.put_encrypted(IMAGES, library.image_blob_name(pid, image_id, "preview"), previews[n % len(previews)])
        access.register_owner(store, "img", image_id, pid, folder["id"])
        captured = datetime(2024, 5, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=n)
        store.create(PATIENTS, ready_image_doc(pid, folder["id"], image_id, captured, now, len(data), width, height))
        image_ids.append(image_id)
        total += len(data)
    upload_s = time.perf_counter() - started

    clinician = Principal(CLINICIAN, clinician_sub, settings.staff_issuer, name="Dr Probe", clinic_ids=(clinic["id"],))
    requested = exports.request_export(services, clinician, {"caseId": sharing.case_id_for(clinic["id"], pid)})
    return {
        "patientId": pid,
        "clinicId": clinic["id"],
        "clinicianSub": clinician_sub,
        "exportId": requested["exportId"],
        "imageIds": image_ids,
        "photos": photos,
        "distinctPhotos": len(jpegs),
        "photoBytes": total,
        "seedUploadSeconds": round(upload_s, 2),
    }


def run_export(services: Any, scenario: dict[str, Any], *, profile: bool = False) -> dict[str, Any]:
    from shared_code.ports import PATIENTS
    from shared_code.services import exports

    message = {"exportId": scenario["exportId"], "patientId": scenario["patientId"]}
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    with PeakMemory() as peak:
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        status = exports.build(services, message)
        if profiler is not None:
            profiler.disable()
        seconds = time.perf_counter() - started
    doc = services.store.read(PATIENTS, scenario["patientId"], scenario["exportId"])
    return {
        "stage": "export",
        "status": status,
        "docStatus": doc["status"],
        "seconds": round(seconds, 3),
        "photos": len(scenario["imageIds"]),
        "photoBytes": scenario["photoBytes"],
        "packageBytes": doc.get("sizeBytes"),
        "storedBytes": doc.get("storedBytes"),
        **peak.as_dict(),
        **({"hotspots": hotspots(profiler)} if profiler is not None else {}),
    }


def hotspots(profiler: Any, top: int = 8) -> list[list[Any]]:
    """The functions where the job spent the most time of its own (name, seconds, calls)."""
    import pstats

    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    ranked = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    return [
        [f"{Path(file).name}:{line}({name})" if line else name, round(tottime, 2), calls] for (file, line, name), (calls, _, tottime, _, _) in ranked
    ]


def run_read(services: Any, scenario: dict[str, Any]) -> dict[str, Any]:
    from shared_code.ports import IMAGES
    from shared_code.services.library import image_blob_name

    pid = scenario["patientId"]
    with PeakMemory() as peak:
        started = time.perf_counter()
        total = 0
        for image_id in scenario["imageIds"]:
            for chunk in services.blobs.read_decrypted(IMAGES, image_blob_name(pid, image_id, "original")):
                total += len(chunk)
        seconds = time.perf_counter() - started
    return {"stage": "read", "seconds": round(seconds, 3), "photos": len(scenario["imageIds"]), "bytesRead": total, **peak.as_dict()}


def run_stage(
    stage: str, storage: str, workdir: Path, *, photos: int = 100, mb: float = 5.0, profile: bool = False, timeout: float = 900
) -> dict[str, Any]:
    """Run one stage in a fresh Python process; returns the JSON it printed (raises with its stderr on failure)."""
    env = {k: v for k, v in os.environ.items() if k not in ("STORAGE", "UPLOADS_STORAGE", "SQLITE_PATH", "KEK_PEM_PATH")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), str(ROOT / "client"), env.get("PYTHONPATH", "")) if p)
    args = [sys.executable, "-m", "tests.support.export_memory_probe", "--stage", stage, "--storage", storage, "--workdir", str(workdir)]
    args += ["--photos", str(photos), "--mb", str(mb)] + (["--profile"] if profile else [])
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"probe stage {stage} exited with {done.returncode}:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=("seed", "export", "read"), required=True)
    parser.add_argument("--storage", default=os.environ.get("STORAGE", ""), help="Azurite connection string")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--photos", type=int, default=100)
    parser.add_argument("--mb", type=float, default=5.0)
    parser.add_argument("--profile", action="store_true", help="export: run under cProfile and report the hotspots")
    args = parser.parse_args(argv)
    if not args.storage:
        parser.error("--storage (or STORAGE) is required")

    services = build_services(args.storage, args.workdir)
    scenario_path = args.workdir / SCENARIO_FILE
    if args.stage == "seed":
        scenario = seed(services, args.photos, args.mb)
        scenario_path.write_text(json.dumps(scenario))
        result = {"stage": "seed", **{k: v for k, v in scenario.items() if k != "imageIds"}}
    else:
        scenario = json.loads(scenario_path.read_text())
        result = run_export(services, scenario, profile=args.profile) if args.stage == "export" else run_read(services, scenario)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
