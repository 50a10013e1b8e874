"""Serves a large original or EPR export package part by part in a fresh process and reports its peak memory (issue 15).

    python -m tests.support.download_memory_probe --stage seed     --storage CONN --workdir DIR [--original-mb 25] [--export-mb 500]
    python -m tests.support.download_memory_probe --stage original --storage CONN --workdir DIR
    python -m tests.support.download_memory_probe --stage export   --storage CONN --workdir DIR

seed      the export probe's scenario (patient, clinic, direct-care share, one photo, an export
          request), then an original of about --original-mb MB and, for the export, a ready
          package of --export-mb MB (stored encrypted from a stream: never held whole).
original  a clinician downloads the large original as the web app and the client SDK do: ranged
          GET /api/images/{id}/content?size=original parts (library.image_content_part), each part
          dropped once "sent".
export    the same for the package (exports.export_content_part).

The figure is the rise of VmHWM (peak resident set) over the idle worker, measured as in
tests/support/export_memory_probe.py (warmed up on a first small part). Prints one line of JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MB = 1_000_000
CHUNK = 4 * 1024 * 1024
SCENARIO_FILE = "downloads.json"


def _stream(total: int, seed: int) -> Any:
    """`total` pseudo-random bytes in 4 MiB chunks (incompressible, cheap to make, never whole)."""
    block = hashlib.sha512(str(seed).encode()).digest() * (CHUNK // 64)
    sent = 0
    n = 0
    while sent < total:
        piece = bytes([n % 251]) + block[1 : min(CHUNK, total - sent)]
        yield piece
        sent += len(piece)
        n += 1


def seed(storage: str, workdir: Path, original_mb: float, export_mb: float) -> dict[str, Any]:
    from shared_code.domain.common import iso, new_id
    from shared_code.ports import EXPORTS, IMAGES, PATIENTS
    from shared_code.services import access, library
    from shared_code.services.export_scope import export_blob_name
    from tests.support.export_memory_probe import build_services, ready_image_doc
    from tests.support.export_memory_probe import seed as seed_scenario

    services = build_services(storage, workdir)
    scenario = seed_scenario(services, 1, 0.2, distinct=1)
    pid, now = scenario["patientId"], services.clock.now()
    folder_id = services.store.read(PATIENTS, pid, scenario["imageIds"][0])["folderId"]
    image_id = new_id("img")
    original = int(original_mb * MB)
    services.blobs.put_encrypted(IMAGES, library.image_blob_name(pid, image_id, "original"), _stream(original, 1))
    access.register_owner(services.store, "img", image_id, pid, folder_id)
    services.store.create(PATIENTS, ready_image_doc(pid, folder_id, image_id, now, now, original, 6000, 4000))
    package = int(export_mb * MB)
    services.blobs.put_encrypted(EXPORTS, export_blob_name(pid, scenario["exportId"]), _stream(package, 2))
    doc = services.store.read(PATIENTS, pid, scenario["exportId"])
    doc.update(status="ready", readyAt=iso(now), expiresAt=iso(now + timedelta(hours=24)), sizeBytes=package)
    services.store.replace(PATIENTS, doc, if_match=doc["_etag"])
    scenario.update(largeImageId=image_id, originalBytes=original, packageBytes=package)
    (workdir / SCENARIO_FILE).write_text(json.dumps(scenario))
    return scenario


def serve(storage: str, workdir: Path, what: str) -> dict[str, Any]:
    from shared_code.auth.principal import CLINICIAN, Principal
    from shared_code.services import exports, library
    from tests.support.export_memory_probe import PeakMemory, build_services

    services = build_services(storage, workdir)
    scenario = json.loads((workdir / SCENARIO_FILE).read_text())
    clinician = Principal(CLINICIAN, scenario["clinicianSub"], services.settings.staff_issuer, name="Dr Probe", clinic_ids=(scenario["clinicId"],))

    def part(first: int) -> tuple[int, int, int]:
        asked = f"bytes={first}-{first + CHUNK - 1}"
        if what == "original":
            data, _, got = library.image_content_part(services, clinician, scenario["largeImageId"], "original", asked)
        else:
            data, got = exports.export_content_part(services, clinician, scenario["exportId"], asked)
        assert got is not None and len(data) == got.length
        return got.last + 1, got.total, len(data)

    part(0)  # modules, connections, keys: the idle worker
    with PeakMemory() as peak:
        started = time.perf_counter()
        first, total, sent, parts = 0, 1, 0, 0
        while first < total:
            first, total, size = part(first)
            sent += size
            parts += 1
        seconds = time.perf_counter() - started
    return {"stage": what, "seconds": round(seconds, 3), "bytesSent": sent, "parts": parts, **peak.as_dict()}


def run_stage(
    stage: str, storage: str, workdir: Path, *, original_mb: float = 25.0, export_mb: float = 500.0, timeout: float = 900
) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("STORAGE", "UPLOADS_STORAGE", "SQLITE_PATH", "KEK_PEM_PATH")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), str(ROOT / "client"), env.get("PYTHONPATH", "")) if p)
    args = [sys.executable, "-m", "tests.support.download_memory_probe", "--stage", stage, "--storage", storage, "--workdir", str(workdir)]
    args += ["--original-mb", str(original_mb), "--export-mb", str(export_mb)]
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"download probe stage {stage} exited with {done.returncode}:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=("seed", "original", "export"), required=True)
    parser.add_argument("--storage", default=os.environ.get("STORAGE", ""))
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--original-mb", type=float, default=25.0)
    parser.add_argument("--export-mb", type=float, default=500.0)
    args = parser.parse_args(argv)
    if args.stage == "seed":
        scenario = seed(args.storage, args.workdir, args.original_mb, args.export_mb)
        result = {"stage": "seed", "originalBytes": scenario["originalBytes"], "packageBytes": scenario["packageBytes"]}
    else:
        result = serve(args.storage, args.workdir, args.stage)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
