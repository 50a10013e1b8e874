"""Runs the blob trigger's processing of one large upload in a fresh process and reports its peak memory.

    python -m tests.support.processing_memory_probe --stage seed    --storage CONN --workdir DIR [--mb 25] [--orientation 6]
    python -m tests.support.processing_memory_probe --stage process --storage CONN --workdir DIR

seed     opens an upload session through the services (a patient, a folder) and stores, encrypted
         as the phone would, a real noisy JPEG of about MB megabytes carrying EXIF Orientation N
         (6: the camera was turned, so the full-size original must be rotated and re-encoded).
process  runs processing.handle_upload on it, as the worker does: decrypt, verify, orient, strip,
         make the renditions, encrypt and store them, mark the photo ready.

Memory as in tests/support/export_memory_probe.py: VmHWM (peak resident set) of a process that has
only imported the modules and built the services, reset just before the job where the kernel
allows, so the figure is the job's own. Output: one line of JSON with ids and figures only.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: make the repo importable
    sys.path.insert(0, str(ROOT))

from tests.support.export_memory_probe import BYTES_PER_PIXEL_Q95, MB, PeakMemory, build_services  # noqa: E402

SCENARIO_FILE = "processing-scenario.json"


def noisy_oriented_jpeg(seed: int, target_mb: float, orientation: int) -> bytes:
    """An incompressible (noise) JPEG of about target_mb MB at quality 95 with an EXIF Orientation."""
    from PIL import Image

    pixels = max(target_mb * MB / BYTES_PER_PIXEL_Q95, 64 * 64)
    width = max(16, int((pixels * 4 / 3) ** 0.5) // 16 * 16)
    height = max(16, int(width * 3 / 4) // 16 * 16)
    image = Image.frombytes("RGB", (width, height), random.Random(seed).randbytes(width * height * 3))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95, subsampling=2, exif=exif.tobytes())
    return out.getvalue()


def seed(services: Any, mb: float, orientation: int) -> dict[str, Any]:
    from shared_code.auth.principal import PATIENT, Principal
    from shared_code.ports import UPLOADS
    from shared_code.services import library

    user = Principal(kind=PATIENT, sub=f"memory-{uuid.uuid4().hex[:8]}", issuer="probe")
    folder = library.create_folder(services, user, {"name": "Large photo"})
    photo = noisy_oriented_jpeg(1, mb, orientation)
    session = library.start_upload(services, user, folder["id"], {"contentType": "image/jpeg", "sizeBytes": len(photo)})
    name = f"{user.patient_id}/{session['uploadId']}"
    services.blobs.put_encrypted(UPLOADS, name, photo)
    return {"blobName": f"{UPLOADS}/{name}", "photoBytes": len(photo), "orientation": orientation}


def run_process(services: Any, scenario: dict[str, Any]) -> dict[str, Any]:
    from shared_code.services import processing

    with PeakMemory() as peak:
        started = time.perf_counter()
        status = processing.handle_upload(services, scenario["blobName"])
        seconds = time.perf_counter() - started
    return {"stage": "process", "status": status, "seconds": round(seconds, 3), "photoBytes": scenario["photoBytes"], **peak.as_dict()}


def run_stage(stage: str, storage: str, workdir: Path, *, mb: float = 25.0, orientation: int = 6, timeout: float = 600) -> dict[str, Any]:
    """Run one stage in a fresh Python process; returns the JSON it printed (raises with its stderr on failure)."""
    env = {k: v for k, v in os.environ.items() if k not in ("STORAGE", "UPLOADS_STORAGE", "SQLITE_PATH", "KEK_PEM_PATH")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), str(ROOT / "client"), env.get("PYTHONPATH", "")) if p)
    args = [sys.executable, "-m", "tests.support.processing_memory_probe", "--stage", stage, "--storage", storage, "--workdir", str(workdir)]
    args += ["--mb", str(mb), "--orientation", str(orientation)]
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"probe stage {stage} exited with {done.returncode}:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=("seed", "process"), required=True)
    parser.add_argument("--storage", default=os.environ.get("STORAGE", ""), help="Azurite connection string")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--mb", type=float, default=25.0)
    parser.add_argument("--orientation", type=int, default=6)
    args = parser.parse_args(argv)
    if not args.storage:
        parser.error("--storage (or STORAGE) is required")

    services = build_services(args.storage, args.workdir)
    scenario_path = args.workdir / SCENARIO_FILE
    if args.stage == "seed":
        scenario = seed(services, args.mb, args.orientation)
        scenario_path.write_text(json.dumps(scenario))
        result = {"stage": "seed", **{k: v for k, v in scenario.items() if k != "blobName"}}
    else:
        result = run_process(services, json.loads(scenario_path.read_text()))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
