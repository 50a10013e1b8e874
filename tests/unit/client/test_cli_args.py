"""The CLI's pure parts: argument parsing, validation, exit codes and what it prints (no network)."""

from __future__ import annotations

import io
import time

import pytest

from skinvault_client.cli import describe_image, describe_upload, main, parse_args, redact
from skinvault_client.profiles import Profile, ProfileStore
from skinvault_client.uploader import UploadResult


def test_global_options_work_before_and_after_the_command():
    before = parse_args(["--profile", "mum", "--api", "http://h:1/api/", "whoami"])
    after = parse_args(["whoami", "--profile", "mum", "--api", "http://h:1"])
    for args in (before, after):
        assert args.profile == "mum"
        assert args.api == "http://h:1"


def test_defaults_are_the_default_profile_and_no_explicit_api():
    args = parse_args(["whoami"])
    assert args.profile == "default"
    assert args.api is None
    assert args.json is False


def test_upload_takes_several_paths_and_options():
    args = parse_args(["upload", "a.jpg", "b.png", "--folder", "fld-1", "--notes", "itchy", "--captured-at", "2026-05-01T09:30:00Z"])
    assert args.paths == ["a.jpg", "b.png"]
    assert args.folder == "fld-1"
    assert args.notes == "itchy"
    assert args.captured_at == "2026-05-01T09:30:00Z"
    assert args.retries == 3


def test_captured_at_keeps_its_offset_and_normalises_utc():
    assert parse_args(["upload", "a.jpg", "--folder", "f", "--captured-at", "2026-05-01T10:30:00+01:00"]).captured_at == "2026-05-01T10:30:00+01:00"
    assert parse_args(["upload", "a.jpg", "--folder", "f", "--captured-at", "2026-05-01T09:30:00+00:00"]).captured_at == "2026-05-01T09:30:00Z"


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["upload", "a.jpg"],  # --folder is required
        ["upload", "--folder", "f"],  # at least one path
        ["upload", "a.jpg", "--folder", "f", "--captured-at", "2026-05-01 09:30"],  # no time zone
        ["upload", "a.jpg", "--folder", "f", "--captured-at", "yesterday"],
        ["annotate", "img-1", "--rating", "11"],
        ["annotate", "img-1", "--rating", "-1"],
        ["annotate", "img-1", "--rating", "seven"],
        ["annotate", "img-1"],  # nothing to change
        ["download", "img-1", "--size", "huge", "-o", "x.jpg"],
        ["download", "img-1"],  # -o is required
        ["erase-account"],  # needs --yes
        ["--profile", "../other", "whoami"],
        ["--api", "ftp://host", "whoami"],
        ["login", "--sub", "s"],  # --name is required
        ["folders"],
        ["nonsense"],
    ],
)
def test_usage_errors_exit_with_code_2(argv, capsys):
    assert main(argv) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "upload" in capsys.readouterr().out


def test_download_size_defaults_to_original_and_accepts_the_three_sizes():
    assert parse_args(["download", "img-1", "-o", "x.jpg"]).size == "original"
    for size in ("thumbnail", "preview", "original"):
        assert parse_args(["download", "img-1", "--size", size, "-o", "x.jpg"]).size == size


def test_erase_account_with_yes_is_accepted():
    assert parse_args(["erase-account", "--yes"]).yes is True


def test_commands_without_a_sign_in_fail_with_one_line_and_exit_1(tmp_path, capsys):
    assert main(["--home", str(tmp_path), "--profile", "mum", "whoami"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: profile 'mum' is not signed in")
    assert "Traceback" not in err


def test_token_is_never_sent_to_a_different_api_than_it_was_issued_by(tmp_path, capsys):
    ProfileStore(tmp_path).save(Profile("default", "http://127.0.0.1:7071", "secret-token", time.time() + 3600))
    assert main(["--home", str(tmp_path), "--api", "http://evil.example", "folders", "list"]) == 1
    err = capsys.readouterr().err
    assert "signed in to http://127.0.0.1:7071" in err
    assert "secret-token" not in err


def test_expired_sign_in_asks_to_log_in_again(tmp_path, capsys):
    ProfileStore(tmp_path).save(Profile("default", "http://127.0.0.1:7071", "old-token", time.time() - 5))
    assert main(["--home", str(tmp_path), "whoami"]) == 1
    assert "has expired" in capsys.readouterr().err


def test_logout_when_not_signed_in_is_fine(tmp_path):
    out = io.StringIO()
    assert main(["--home", str(tmp_path), "--profile", "mum", "logout"], stdout=out) == 0
    assert "was not signed in" in out.getvalue()


def test_logout_removes_only_that_profile(tmp_path):
    store = ProfileStore(tmp_path)
    store.save(Profile("me", "http://127.0.0.1:7071", "t1", time.time() + 3600))
    store.save(Profile("mum", "http://127.0.0.1:7071", "t2", time.time() + 3600))
    assert main(["--home", str(tmp_path), "--profile", "mum", "logout"], stdout=io.StringIO()) == 0
    assert store.load("mum") is None
    assert store.load("me").access_token == "t1"


def test_upload_of_a_missing_file_fails_before_anything_is_sent(tmp_path, capsys):
    store = ProfileStore(tmp_path)
    store.save(Profile("default", "http://127.0.0.1:9", "t", time.time() + 3600))  # port 9: nothing listens
    assert main(["--home", str(tmp_path), "upload", str(tmp_path / "nope.jpg"), "--folder", "fld-1"]) == 1
    assert "no such file" in capsys.readouterr().err


def test_redact_removes_sas_signatures_and_bearer_tokens():
    text = "PUT http://127.0.0.1:10000/acct/uploads/pt-1/img-1?sv=2026&sp=cw&sig=AbC%2Bdef%3D&se=x failed; Authorization: Bearer eyJ.abc.def"
    cleaned = redact(text)
    assert "AbC%2Bdef%3D" not in cleaned and "eyJ.abc.def" not in cleaned
    assert "sig=[redacted]" in cleaned and "sp=cw" in cleaned


def test_upload_lines_say_ready_or_rejected_and_why():
    ready = UploadResult("a.jpg", "ready", image_id="img-1", advice=["The photo looks blurred. Hold the phone still."])
    assert describe_upload(ready) == ["a.jpg: ready (img-1)", "  advice: The photo looks blurred. Hold the phone still."]
    rejected = UploadResult("b.jpg", "rejected", image_id="img-2", reason="This photo seems to be damaged.")
    assert describe_upload(rejected) == ["b.jpg: rejected: This photo seems to be damaged."]
    local = UploadResult("c.jpg", "rejected", reason="This file isn't a photo we can open.", refused_on_device=True)
    assert describe_upload(local) == ["c.jpg: rejected (not sent): This file isn't a photo we can open."]


def test_image_line_shows_status_reason_and_size():
    line = describe_image({"id": "img-1", "capturedAt": "2026-05-01T09:30:00Z", "status": "ready", "width": 640, "height": 480})
    assert line == "img-1  2026-05-01T09:30:00Z  ready  640x480"
    line = describe_image({"id": "img-2", "capturedAt": "2026-05-01T09:30:00Z", "status": "rejected", "rejectionReason": "Not a photo."})
    assert line.endswith("rejected: Not a photo.")
