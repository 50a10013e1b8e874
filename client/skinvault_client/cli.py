"""SkinVault command line: the mobile app's protocol, scriptable. ``python -m skinvault_client --help``.

Exit codes: 0 done; 1 the API or the user's input said no (one line on stderr, no traceback);
2 the command line itself is wrong (usage). Tokens are never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from skinvault_client.api import IMAGE_SIZES, UNSET, ApiError, SkinVaultClient, normalise_base_url
from skinvault_client.profiles import DEFAULT_PROFILE, Profile, ProfileError, ProfileJournal, ProfileStore, check_profile_name
from skinvault_client.uploader import PENDING, READY, PhotoUploader, UploadFailed, UploadResult

DEFAULT_API = "http://127.0.0.1:7071"
API_ENV = "SKINVAULT_API"
PROG = "python -m skinvault_client"

OK, FAILED, USAGE = 0, 1, 2
PHOTO_REFUSED_STATUS = frozenset({400, 409, 413, 415, 422})  # the API refused this one photo's upload request


class UserError(Exception):
    """Something the person can fix; printed as one line, exit code 1."""


# ----------------------------------------------------------------------------- argument types (pure)
def profile_name(value: str) -> str:
    try:
        return check_profile_name(value)
    except ProfileError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def api_url(value: str) -> str:
    try:
        return normalise_base_url(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def instant(value: str) -> str:
    """An ISO 8601 date and time with a time zone, as the API wants it."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise argparse.ArgumentTypeError("use a date and time with a time zone, like 2026-05-01T09:30:00Z or 2026-05-01T10:30:00+01:00")
    return moment.isoformat().replace("+00:00", "Z")


def rating(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if not 0 <= number <= 10:
        raise argparse.ArgumentTypeError("a rating is a whole number from 0 to 10")
    return number


def positive_seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if number <= 0:
        raise argparse.ArgumentTypeError("give a number of seconds above 0")
    return number


def retries(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if not 0 <= number <= 10:
        raise argparse.ArgumentTypeError("retries is a whole number from 0 to 10")
    return number


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # Accepted before or after the command; SUPPRESS so a sub-command's default never hides a global one.
    common.add_argument("--api", type=api_url, default=argparse.SUPPRESS, help=f"API address (default: the profile's, ${API_ENV}, or {DEFAULT_API})")
    common.add_argument(
        "--profile", type=profile_name, default=argparse.SUPPRESS, help=f"which signed-in account to use (default: {DEFAULT_PROFILE})"
    )
    common.add_argument("--home", default=argparse.SUPPRESS, help="where sign-ins are kept (default: $SKINVAULT_HOME or ~/.skinvault)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print machine-readable JSON")

    parser = argparse.ArgumentParser(
        prog=PROG, description="SkinVault: keep photos of your skin safe and share them with your clinic.", parents=[common]
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, description=help_text, parents=[common])

    p = command("login", "sign in through the local dev issuer (demo accounts)")
    p.add_argument("--sub", required=True, help="the account's subject id")
    p.add_argument("--name", required=True, help="display name")
    p.add_argument("--email")

    command("logout", "sign out of this profile (removes its token and unfinished uploads from this device)")
    command("whoami", "show who this profile is signed in as")

    p = command("folders", "list or create folders")
    folder_commands = p.add_subparsers(dest="folders_command", metavar="ACTION", required=True)
    fl = folder_commands.add_parser("list", help="list your folders", parents=[common])
    fl.add_argument("--include-archived", action="store_true")
    fc = folder_commands.add_parser("create", help="create a folder", parents=[common])
    fc.add_argument("name")
    fc.add_argument("--body-site", help="body site code, e.g. left-shoulder")
    fc.add_argument("--condition")
    fc.add_argument("--treatment")
    fc.add_argument("--notes")
    fc.add_argument("--start-date", help="YYYY-MM-DD")

    p = command("upload", "strip, encrypt and upload photos, then wait until each is ready or rejected")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--folder", required=True, metavar="FOLDER_ID")
    p.add_argument("--notes")
    p.add_argument("--captured-at", type=instant, help="when the photo was taken, e.g. 2026-05-01T09:30:00Z (default: from the photo)")
    p.add_argument("--timeout", type=positive_seconds, default=120.0, help="seconds to wait for each photo to be checked (default 120)")
    p.add_argument("--retries", type=retries, default=3, help="times to retry a failed send (default 3)")

    p = command("images", "list images in a folder, or show one")
    image_commands = p.add_subparsers(dest="images_command", metavar="ACTION", required=True)
    il = image_commands.add_parser("list", help="list the images in a folder", parents=[common])
    il.add_argument("--folder", required=True, metavar="FOLDER_ID")
    ish = image_commands.add_parser("show", help="show one image's details", parents=[common])
    ish.add_argument("image_id", metavar="IMAGE_ID")

    p = command("download", "download an image (decrypted by the API) as JPEG")
    p.add_argument("image_id", metavar="IMAGE_ID")
    p.add_argument("--size", choices=IMAGE_SIZES, default="original")
    p.add_argument("-o", "--output", required=True, metavar="FILE")

    p = command("annotate", "change an image's notes, rating, treatment, description or capture time")
    p.add_argument("image_id", metavar="IMAGE_ID")
    p.add_argument("--notes")
    p.add_argument("--rating", type=rating, help="0-10")
    p.add_argument("--treatment")
    p.add_argument("--description")
    p.add_argument("--captured-at", type=instant)

    p = command("delete", "delete an image")
    p.add_argument("image_id", metavar="IMAGE_ID")

    p = command("export", "download all your data as a ZIP file")
    p.add_argument("-o", "--output", required=True, metavar="FILE.zip")

    p = command("erase-account", "permanently erase your SkinVault account and every photo in it")
    p.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name, default in (("api", None), ("profile", DEFAULT_PROFILE), ("home", None), ("json", False)):
        if not hasattr(args, name):
            setattr(args, name, default)
    if args.command == "annotate" and all(getattr(args, k) is None for k in ("notes", "rating", "treatment", "description", "captured_at")):
        parser.error("annotate needs at least one of --notes, --rating, --treatment, --description, --captured-at")
    if args.command == "erase-account" and not args.yes:
        parser.error("erase-account deletes your account and every photo for good; add --yes to confirm")
    return args


# ----------------------------------------------------------------------------- output helpers
_SECRETS = (re.compile(r"(sig=)[^&\s\"']+", re.IGNORECASE), re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE))


def redact(text: str) -> str:
    """Remove SAS signatures and bearer tokens from any text we did not write ourselves."""
    for pattern in _SECRETS:
        text = pattern.sub(r"\1[redacted]", text)
    return text


class Output:
    def __init__(self, stdout: TextIO, as_json: bool) -> None:
        self.stdout = stdout
        self.as_json = as_json

    def line(self, text: str = "") -> None:
        print(text, file=self.stdout)

    def data(self, value: Any) -> None:
        print(json.dumps(value, indent=2, sort_keys=True), file=self.stdout)

    def show(self, value: Any, text: str) -> None:
        """JSON when --json was given, else one line for a person."""
        if self.as_json:
            self.data(value)
        else:
            self.line(text)


def describe_folder(folder: dict[str, Any]) -> str:
    extras = [
        f"{label}: {folder[key]}" for key, label in (("bodySite", "site"), ("condition", "condition"), ("startDate", "since")) if folder.get(key)
    ]
    if folder.get("archived"):
        extras.append("archived")
    return f"{folder['id']}  {folder.get('name', '')}" + (f"  ({', '.join(extras)})" if extras else "")


def describe_image(image: dict[str, Any]) -> str:
    status = image.get("status", "?")
    if status == "rejected" and image.get("rejectionReason"):
        status = f"rejected: {image['rejectionReason']}"
    size = f"  {image['width']}x{image['height']}" if image.get("width") and image.get("height") else ""
    return f"{image['id']}  {image.get('capturedAt', '')}  {status}{size}"


def describe_upload(result: Any) -> list[str]:
    """Lines for one upload: '<file>: ready (<id>)' or '<file>: rejected: <reason>', then advice."""
    if result.status == READY:
        lines = [f"{result.source}: ready ({result.image_id})"]
        lines += [f"  advice: {advice}" for advice in result.advice]
        return lines
    if result.status == PENDING:
        return [f"{result.source}: pending ({result.image_id}): {result.reason}"]
    where = " (not sent)" if result.refused_on_device else ""
    return [f"{result.source}: rejected{where}: {result.reason}"]


# ----------------------------------------------------------------------------- the commands
class Cli:
    def __init__(self, args: argparse.Namespace, stdout: TextIO, *, blob_options: dict[str, Any] | None = None) -> None:
        self.args = args
        self.out = Output(stdout, args.json)
        self.store = ProfileStore(args.home)
        self.blob_options = blob_options

    def api_for_login(self) -> str:
        return self.args.api or normalise_base_url(os.environ.get(API_ENV) or DEFAULT_API)

    def signed_in(self) -> tuple[Profile, SkinVaultClient]:
        name = self.args.profile
        profile = self.store.load(name)
        if profile is None:
            raise UserError(f"profile '{name}' is not signed in; run: {PROG} --profile {name} login --sub ... --name ...")
        if self.args.api and self.args.api != profile.api:
            # A token is only ever sent to the API that issued it.
            raise UserError(f"profile '{name}' is signed in to {profile.api}, not {self.args.api}; sign in again or use another --profile")
        if profile.expired():
            raise UserError(f"the sign-in for profile '{name}' has expired; run: {PROG} --profile {name} login ...")
        return profile, SkinVaultClient(profile.api, profile.access_token)

    # -------------------------------------------------------------- sign-in
    def login(self) -> int:
        api = self.api_for_login()
        with SkinVaultClient(api) as anonymous:
            token = anonymous.dev_token(self.args.sub, self.args.name, email=self.args.email)
        with SkinVaultClient(api, token["access_token"]) as client:
            me = client.get_me()
        profile = Profile(
            name=self.args.profile,
            api=api,
            access_token=token["access_token"],
            expires_at=time.time() + int(token.get("expires_in") or 0),
            sub=self.args.sub,
            display_name=me.get("displayName") or self.args.name,
            email=self.args.email,
        )
        try:
            old = self.store.load(profile.name)
        except ProfileError:
            old = None  # a damaged file is simply replaced by a fresh sign-in
        if old is not None and old.sub == profile.sub and old.api == profile.api:
            profile.pending_uploads = old.pending_uploads  # same account: unfinished uploads can still resume
        self.store.save(profile)
        self.out.show(
            {"profile": profile.name, "api": api, "patientId": me.get("id"), "displayName": profile.display_name},
            f"Signed in as {profile.display_name} (profile '{profile.name}', {api})",
        )
        return OK

    def logout(self) -> int:
        removed = self.store.delete(self.args.profile)
        name = self.args.profile
        self.out.show(
            {"profile": name, "signedOut": removed}, f"Signed out of profile '{name}'" if removed else f"Profile '{name}' was not signed in"
        )
        return OK

    def whoami(self) -> int:
        profile, client = self.signed_in()
        with client:
            me = client.get_me()
        info = {
            "profile": profile.name,
            "api": profile.api,
            "patientId": me.get("id"),
            "displayName": me.get("displayName"),
            "expiresAt": datetime.fromtimestamp(profile.expires_at).astimezone().isoformat(timespec="seconds"),
            "unfinishedUploads": len(profile.pending_uploads),
        }
        if self.out.as_json:
            self.out.data(info)
        else:
            self.out.line(
                f"{info['displayName']} ({info['patientId']}) - profile '{profile.name}' on {profile.api}, signed in until {info['expiresAt']}"
            )
            if profile.pending_uploads:
                self.out.line(f"{len(profile.pending_uploads)} unfinished upload(s): run the same upload again to resume")
        return OK

    # -------------------------------------------------------------- folders and images
    def folders(self) -> int:
        _, client = self.signed_in()
        with client:
            if self.args.folders_command == "create":
                a = self.args
                folder = client.create_folder(
                    a.name, body_site=a.body_site, condition=a.condition, treatment=a.treatment, notes=a.notes, start_date=a.start_date
                )
                self.out.show(folder, describe_folder(folder))
                return OK
            folders = [f for f in client.iter_folders() if self.args.include_archived or not f.get("archived")]
        if self.out.as_json:
            self.out.data(folders)
        elif not folders:
            self.out.line("No folders yet. Create one with: folders create NAME")
        else:
            for folder in folders:
                self.out.line(describe_folder(folder))
        return OK

    def images(self) -> int:
        _, client = self.signed_in()
        with client:
            if self.args.images_command == "show":
                image = client.get_image(self.args.image_id)
                self.out.show(image, describe_image(image))
                return OK
            images = list(client.iter_images(self.args.folder))
        if self.out.as_json:
            self.out.data(images)
        elif not images:
            self.out.line("No photos in this folder yet.")
        else:
            for image in images:
                self.out.line(describe_image(image))
        return OK

    def upload(self) -> int:
        a = self.args
        for path in a.paths:
            if not Path(path).is_file():
                raise UserError(f"{path}: no such file")
        _, client = self.signed_in()
        journal = ProfileJournal(self.store, a.profile)
        uploader = PhotoUploader(client, journal=journal, attempts=a.retries + 1, wait_timeout=a.timeout, blob_options=self.blob_options)
        results, failed = [], False
        with client:
            for path in a.paths:
                try:
                    result = uploader.upload_file(path, a.folder, notes=a.notes, captured_at=a.captured_at)
                except UploadFailed as exc:
                    failed = True
                    print(f"error: {Path(path).name}: {exc}", file=sys.stderr)
                    results.append({"source": Path(path).name, "status": "failed", "imageId": exc.image_id, "reason": str(exc)})
                    continue
                except ApiError as exc:
                    if exc.status not in PHOTO_REFUSED_STATUS:
                        raise  # signed out, no such folder, service down: the same for every file
                    result = UploadResult(Path(path).name, "rejected", reason=exc.message, refused_on_device=True)
                failed = failed or result.status != READY
                results.append(result.to_json())
                if not self.out.as_json:
                    for line in describe_upload(result):
                        self.out.line(line)
        if self.out.as_json:
            self.out.data(results)
        return FAILED if failed else OK

    def download(self) -> int:
        _, client = self.signed_in()
        with client:
            data = client.image_content(self.args.image_id, self.args.size)
        _write_private(Path(self.args.output), data)
        self.out.show({"path": self.args.output, "bytes": len(data)}, f"Saved {len(data)} bytes to {self.args.output}")
        return OK

    def annotate(self) -> int:
        a = self.args
        fields = {
            "notes": a.notes if a.notes is not None else UNSET,
            "rating": a.rating if a.rating is not None else UNSET,
            "treatment": a.treatment if a.treatment is not None else UNSET,
            "description": a.description if a.description is not None else UNSET,
            "captured_at": a.captured_at if a.captured_at is not None else UNSET,
        }
        _, client = self.signed_in()
        with client:
            image = client.update_image(a.image_id, **fields)
        self.out.show(image, f"Updated {image.get('id', a.image_id)}")
        return OK

    def delete(self) -> int:
        _, client = self.signed_in()
        with client:
            client.delete_image(self.args.image_id)
        self.out.show({"deleted": self.args.image_id}, f"Deleted {self.args.image_id}")
        return OK

    def export(self) -> int:
        _, client = self.signed_in()
        with client:
            data = client.export_account()
        _write_private(Path(self.args.output), data)
        self.out.show({"path": self.args.output, "bytes": len(data)}, f"Saved your data ({len(data)} bytes) to {self.args.output}")
        return OK

    def erase_account(self) -> int:
        profile, client = self.signed_in()
        with client:
            client.erase_account()
        self.store.delete(profile.name)
        self.out.show({"erased": True}, "Your SkinVault account and all its photos have been erased. Signed out.")
        return OK


def _write_private(path: Path, data: bytes) -> None:
    """Photos and exports are health data: written for this user only (0600), atomically."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or type(exc).__name__}") from None


COMMANDS = {
    "login": Cli.login,
    "logout": Cli.logout,
    "whoami": Cli.whoami,
    "folders": Cli.folders,
    "images": Cli.images,
    "upload": Cli.upload,
    "download": Cli.download,
    "annotate": Cli.annotate,
    "delete": Cli.delete,
    "export": Cli.export,
    "erase-account": Cli.erase_account,
}


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, blob_options: dict[str, Any] | None = None) -> int:
    """Run one command; returns the exit code. ``blob_options`` go to the Blob SDK (e.g. a transport)."""
    try:
        args = parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or usage error (2)
        return int(exc.code or 0)
    stdout = stdout or sys.stdout
    try:
        return COMMANDS[args.command](Cli(args, stdout, blob_options=blob_options))
    except ApiError as exc:
        hint = ""
        if exc.status == 401:
            hint = f" (sign in again: {PROG} --profile {args.profile} login ...)"
        elif exc.status == 404:
            hint = " (check the id, and that it belongs to this profile's account)"
        print(f"error: {redact(exc.message)}{hint}", file=sys.stderr)
    except (UserError, ProfileError, UploadFailed) as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
    except OSError as exc:
        name = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot use{name}: {exc.strerror or type(exc).__name__}", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume an unfinished upload", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback (it could carry a SAS URL)
        print(f"error: unexpected {type(exc).__name__}; nothing was lost, try again", file=sys.stderr)
    return FAILED
