"""A huge upload is rejected from its size alone: the worker never downloads it.

The upload blob trigger takes a BlobClient (SDK-type binding), so neither the host nor the worker
reads the ciphertext before the service has checked the blob's content length. A 1 GiB PUT through
the upload link (declared as a small photo) must be rejected with the worker's peak memory growing
by less than 64 MB. The blob is made cheaply in Azurite: one 4 MiB block committed 256 times.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from azure.storage.blob import BlobBlock, BlobClient

from shared_code.services.processing import TOO_LARGE_MESSAGE
from tests.e2e.helpers import Patient, ok, start_upload, wait_for
from tests.support.stack import LocalStack

GIB = 1024**3
BLOCK = 4 * 1024 * 1024
MAX_GROWTH_MB = 64


@pytest.fixture(scope="module")
def quiet_stack(tmp_path_factory):
    """A stack of its own, so no other test's work shows in the host's memory."""
    s = LocalStack(tmp_path_factory.mktemp("upload-size")).start()
    yield s
    s.close()


def _status_kb(pid: int, field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    assert match, field
    return int(match.group(1))


def _reset_peak(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM restarts from the current RSS
    except OSError:
        return False
    return True


def test_a_1_gib_upload_is_rejected_without_the_worker_reading_it(quiet_stack):
    patient = Patient(quiet_stack, name="Gus Gigabyte")
    session = start_upload(patient.api, patient.folder["id"], b"x" * 2_000_000)  # declared as a 2 MB photo
    pid = quiet_stack.host_pid
    reset = _reset_peak(pid)
    baseline_kb = _status_kb(pid, "VmRSS") if reset else _status_kb(pid, "VmHWM")

    upload = BlobClient.from_blob_url(session["uploadUrl"])
    upload.stage_block("YmxvY2s=", b"\0" * BLOCK)
    upload.commit_block_list([BlobBlock("YmxvY2s=")] * (GIB // BLOCK))  # a 1 GiB blob through the upload link
    started = time.monotonic()
    image = wait_for(patient.api, session["uploadId"], timeout=60)
    seconds = time.monotonic() - started

    growth_mb = (_status_kb(pid, "VmHWM") - baseline_kb) / 1024
    assert image["status"] == "rejected" and image["rejectionReason"] == TOO_LARGE_MESSAGE, image
    assert growth_mb < MAX_GROWTH_MB, f"the worker's peak memory grew by {growth_mb:.0f} MB for a blob it should never read"
    assert seconds < 15, f"rejecting from the size alone took {seconds:.1f} s"
    assert ok(patient.api.get(f"/api/images/{session['uploadId']}"))["status"] == "rejected"
