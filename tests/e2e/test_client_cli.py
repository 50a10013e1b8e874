"""The client CLI against the running local stack (Azurite, SQLite, local KEK): what the mobile app does.

Photos are made with Pillow (tests/support/images.py) and carry GPS, camera EXIF and XMP like a
phone's. Most commands run in-process through ``skinvault_client.cli.main`` (the real CLI code,
fast); one test runs ``python -m skinvault_client`` as a separate process. Network failures are
injected at the Azure SDK's HTTP transport (the layer below our code), never by mocking our code.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import subprocess
import sys
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.core.pipeline.transport import RequestsTransport
from PIL import Image

from skinvault_client.api import ApiError, SkinVaultClient
from skinvault_client.cli import main
from skinvault_client.uploader import MemoryJournal, PhotoUploader, UploadFailed
from tests.support.images import make_photo, register_heif

ROOT = Path(__file__).resolve().parents[2]
GPS_IFD = 0x8825

pytestmark = pytest.mark.slow


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


def cli(stack, home: Path, *args: str, blob_options: dict | None = None) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["--home", str(home), "--api", stack.base_url, *args], stdout=out, blob_options=blob_options)
    return Run(code, out.getvalue(), err.getvalue())


def sign_in(stack, home: Path, *, profile: str = "default", name: str = "Pat Example") -> str:
    sub = f"patient-{uuid.uuid4().hex[:12]}"
    run = cli(stack, home, "--profile", profile, "login", "--sub", sub, "--name", name)
    assert run.code == 0, run.err
    return sub


def new_folder(stack, home: Path, profile: str = "default") -> str:
    run = cli(stack, home, "--profile", profile, "--json", "folders", "create", "Mole on left forearm", "--condition", "changing mole")
    assert run.code == 0, run.err
    return run.json()["id"]


def api_as(stack, home: Path, profile: str = "default") -> SkinVaultClient:
    saved = json.loads((home / "profiles" / f"{profile}.json").read_text())
    return SkinVaultClient(stack.base_url, saved["accessToken"])


class DroppingTransport(RequestsTransport):
    """An HTTP transport whose first ``failures`` blob PUTs fail like a dropped connection.

    ``deliver_first``: the PUT reaches storage and only the response is lost (the nastiest case: the
    server has the photo, the phone thinks it failed). Otherwise the request never leaves.
    """

    def __init__(self, failures: int, *, deliver_first: bool = False) -> None:
        super().__init__(session=requests.Session(), session_owner=False)  # survives the SDK closing its client
        self.failures = failures
        self.deliver_first = deliver_first
        self.puts = 0

    def send(self, request, **kwargs):
        if request.method == "PUT":
            self.puts += 1
            if self.puts <= self.failures:
                if self.deliver_first:
                    super().send(request, **kwargs)
                    raise ServiceResponseError("connection reset before the response arrived (simulated)")
                raise ServiceRequestError("connection refused (simulated)")
        return super().send(request, **kwargs)


def test_cli_uploads_jpeg_png_and_heic_and_each_becomes_ready(stack, tmp_path):
    register_heif()
    home = tmp_path / "home"
    sign_in(stack, home)
    folder = new_folder(stack, home)
    paths = []
    for fmt, ext in (("JPEG", "jpg"), ("PNG", "png"), ("HEIC", "heic")):
        path = tmp_path / f"arm.{ext}"
        path.write_bytes(make_photo(800, 600, fmt=fmt, seed=len(paths), captured_at="2026:03:04 05:06:07", gps=True))
        paths.append(str(path))

    run = cli(stack, home, "upload", *paths, "--folder", folder, "--notes", "itchy since Monday", "--timeout", "60")

    assert run.code == 0, run.err
    lines = run.out.splitlines()
    for name in ("arm.jpg", "arm.png", "arm.heic"):
        assert any(line.startswith(f"{name}: ready (img-") for line in lines), run.out
    with api_as(stack, home) as api:
        images = list(api.iter_images(folder))
    assert len(images) == 3
    assert {i["status"] for i in images} == {"ready"}
    assert {i["notes"] for i in images} == {"itchy since Monday"}
    assert {i["capturedAt"] for i in images} == {"2026-03-04T05:06:07Z"}  # capture time survived stripping on the device
    assert {(i["width"], i["height"]) for i in images} == {(800, 600)}
    assert json.loads((home / "profiles" / "default.json").read_text())["pendingUploads"] == {}


def test_text_file_renamed_jpg_is_rejected_in_plain_english_and_never_sent(stack, tmp_path):
    home = tmp_path / "home"
    sign_in(stack, home)
    folder = new_folder(stack, home)
    fake = tmp_path / "holiday.jpg"
    fake.write_text("Dear doctor, my mole has got bigger since the summer.\n")

    run = cli(stack, home, "upload", str(fake), "--folder", folder)

    assert run.code == 1
    line = run.out.strip()
    assert line.startswith("holiday.jpg: rejected")
    reason = line.split(": ", 2)[-1]
    assert "photo" in reason and "not-an-image" not in reason and "Traceback" not in run.err
    assert reason.endswith(".") and len(reason.split()) >= 8  # a sentence a patient can act on
    with api_as(stack, home) as api:
        assert list(api.iter_images(folder)) == []  # nothing left the device


def test_retry_after_a_lost_response_does_not_duplicate_the_image(stack, tmp_path):
    home = tmp_path / "home"
    sign_in(stack, home)
    folder = new_folder(stack, home)
    transport = DroppingTransport(1, deliver_first=True)

    with api_as(stack, home) as api:
        uploader = PhotoUploader(api, attempts=3, backoff=0.2, wait_timeout=60, blob_options={"transport": transport})
        result = uploader.upload_bytes(make_photo(640, 480, seed=7), folder, source="arm.jpg")
        images = list(api.iter_images(folder))

    assert transport.puts == 2  # the photo reached storage twice, to the same URL
    assert result.status == "ready"
    assert [i["id"] for i in images] == [result.image_id]  # one image, not two


def test_failed_cli_upload_is_resumed_by_running_it_again_without_a_duplicate(stack, tmp_path):
    home = tmp_path / "home"
    sign_in(stack, home)
    folder = new_folder(stack, home)
    photo = tmp_path / "knee.jpg"
    photo.write_bytes(make_photo(640, 480, seed=11))

    offline = DroppingTransport(failures=100)
    first = cli(stack, home, "upload", str(photo), "--folder", folder, "--retries", "1", blob_options={"transport": offline})

    assert first.code == 1
    assert offline.puts == 2
    assert "run the same upload again" in first.err and first.err.count("\n") == 1
    with api_as(stack, home) as api:
        pending = list(api.iter_images(folder))
    assert [i["status"] for i in pending] == ["pending"]

    second = cli(stack, home, "upload", str(photo), "--folder", folder, "--timeout", "60")

    assert second.code == 0, second.err
    assert second.out.startswith(f"knee.jpg: ready ({pending[0]['id']})")  # the same image, resumed
    with api_as(stack, home) as api:
        images = list(api.iter_images(folder))
    assert [(i["id"], i["status"]) for i in images] == [(pending[0]["id"], "ready")]
    assert json.loads((home / "profiles" / "default.json").read_text())["pendingUploads"] == {}


def test_expired_upload_url_gets_a_new_session_and_the_stale_image_is_deleted(stack, tmp_path):
    home = tmp_path / "home"
    sign_in(stack, home)
    folder = new_folder(stack, home)
    journal = MemoryJournal()
    data = make_photo(640, 480, seed=5)

    with api_as(stack, home) as api:
        offline = PhotoUploader(api, journal=journal, attempts=1, blob_options={"transport": DroppingTransport(failures=100)})
        with pytest.raises(UploadFailed) as failed:
            offline.upload_bytes(data, folder)
        stale_id = failed.value.image_id
        assert api.get_image(stale_id)["status"] == "pending"

        an_hour_later = PhotoUploader(api, journal=journal, wait_timeout=60, clock=lambda: time.time() + 3600)
        result = an_hour_later.upload_bytes(data, folder)

        assert result.status == "ready" and result.image_id != stale_id
        with pytest.raises(ApiError) as gone:
            api.get_image(stale_id)
        assert gone.value.status == 404
        assert [i["id"] for i in api.iter_images(folder)] == [result.image_id]


def test_download_writes_a_private_jpeg_without_the_photos_gps(stack, tmp_path):
    home = tmp_path / "home"
    sign_in(stack, home)
    folder = new_folder(stack, home)
    source = make_photo(1200, 900, seed=3, gps=True, captured_at="2026:02:01 12:00:00")
    assert Image.open(io.BytesIO(source)).getexif().get_ifd(GPS_IFD)  # the phone's photo does carry a position
    photo = tmp_path / "back.jpg"
    photo.write_bytes(source)
    assert cli(stack, home, "upload", str(photo), "--folder", folder, "--timeout", "60").code == 0
    image_id = cli(stack, home, "--json", "images", "list", "--folder", folder).json()[0]["id"]

    sizes = {}
    for size in ("original", "preview", "thumbnail"):
        target = tmp_path / "out" / f"{size}.jpg"
        run = cli(stack, home, "download", image_id, "--size", size, "-o", str(target))
        assert run.code == 0, run.err
        data = target.read_bytes()
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        with Image.open(target) as image:
            image.load()
            assert image.format == "JPEG"
            sizes[size] = image.size
            assert not image.getexif().get_ifd(GPS_IFD)
        assert b"GPSLatitude" not in data and b"51,30.44N" not in data and b"SkinVaultTestCam" not in data
    assert sizes["original"] == (1200, 900)
    assert max(sizes["thumbnail"]) < max(sizes["preview"]) <= max(sizes["original"])


def test_two_profiles_keep_separate_tokens_and_logout_removes_only_that_one(stack, tmp_path):
    home = tmp_path / "home"
    sign_in(stack, home, profile="default", name="Sam Patient")
    sign_in(stack, home, profile="mum", name="Jo Parent")
    files = {p: json.loads((home / "profiles" / f"{p}.json").read_text()) for p in ("default", "mum")}
    assert files["default"]["accessToken"] != files["mum"]["accessToken"]
    for profile in ("default", "mum"):
        assert stat.S_IMODE((home / "profiles" / f"{profile}.json").stat().st_mode) == 0o600

    mums_folder = new_folder(stack, home, profile="mum")
    assert "Sam Patient" in cli(stack, home, "whoami").out
    assert "Jo Parent" in cli(stack, home, "--profile", "mum", "whoami").out
    mine = cli(stack, home, "--json", "folders", "list").json()
    assert mums_folder not in [f["id"] for f in mine]  # one account never sees the other's folders
    assert cli(stack, home, "images", "list", "--folder", mums_folder).code == 1
    with api_as(stack, home) as api, pytest.raises(ApiError) as not_mine:
        api.list_images(mums_folder)
    assert not_mine.value.status == 404

    assert cli(stack, home, "--profile", "mum", "logout").code == 0

    assert not (home / "profiles" / "mum.json").exists()
    assert (home / "profiles" / "default.json").exists()
    assert cli(stack, home, "--profile", "mum", "whoami").code == 1
    assert cli(stack, home, "whoami").code == 0


def test_annotate_delete_export_and_erase_account(stack, tmp_path):
    home = tmp_path / "home"
    sign_in(stack, home)
    folder = new_folder(stack, home)
    photo = tmp_path / "scalp.png"
    photo.write_bytes(make_photo(400, 300, fmt="PNG", seed=9))
    assert cli(stack, home, "upload", str(photo), "--folder", folder, "--timeout", "60").code == 0
    image_id = cli(stack, home, "--json", "images", "list", "--folder", folder).json()[0]["id"]

    run = cli(stack, home, "annotate", image_id, "--notes", "after steroid cream", "--rating", "6", "--treatment", "hydrocortisone 1%")
    assert run.code == 0, run.err
    shown = cli(stack, home, "--json", "images", "show", image_id).json()
    assert (shown["notes"], shown["rating"], shown["treatment"]) == ("after steroid cream", 6, "hydrocortisone 1%")

    export = tmp_path / "my-data.zip"
    assert cli(stack, home, "export", "-o", str(export)).code == 0
    with zipfile.ZipFile(export) as archive:
        assert archive.testzip() is None and archive.namelist()

    assert cli(stack, home, "delete", image_id).code == 0
    assert cli(stack, home, "--json", "images", "list", "--folder", folder).json() == []

    assert cli(stack, home, "erase-account").code == 2  # refuses without --yes
    erased = cli(stack, home, "erase-account", "--yes")
    assert erased.code == 0, erased.err
    assert not (home / "profiles" / "default.json").exists()


def test_python_dash_m_entry_point_signs_in_without_ever_printing_the_token(stack, tmp_path):
    home = tmp_path / "home"
    # Only client/ on the path and run from elsewhere, as a developer would: photo_prep still finds the shared stripping code.
    env = {**os.environ, "SKINVAULT_HOME": str(home), "PYTHONPATH": str(ROOT / "client")}
    photo = tmp_path / "wrist.jpg"
    photo.write_bytes(make_photo(320, 240, seed=2))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "skinvault_client", *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=90)

    outputs = [
        run("--api", stack.base_url, "--profile", "phone-2", "login", "--sub", f"p-{uuid.uuid4().hex[:8]}", "--name", "Alex"),
        run("--profile", "phone-2", "whoami"),
        run("--profile", "phone-2", "--json", "folders", "create", "Wrist rash"),
        run("--profile", "phone-2", "download", "img-does-not-exist", "-o", str(tmp_path / "x.jpg")),
    ]
    outputs.append(run("--profile", "phone-2", "upload", str(photo), "--folder", json.loads(outputs[2].stdout)["id"], "--timeout", "60"))
    assert [p.returncode for p in outputs] == [0, 0, 0, 1, 0], [p.stderr for p in outputs]
    assert "Alex" in outputs[1].stdout
    assert outputs[3].stderr.startswith("error: ") and outputs[3].stderr.count("\n") == 1 and "Traceback" not in outputs[3].stderr
    assert outputs[4].stdout.startswith("wrist.jpg: ready (img-")
    token = json.loads((home / "profiles" / "phone-2.json").read_text())["accessToken"]
    assert all(token not in p.stdout + p.stderr for p in outputs)
