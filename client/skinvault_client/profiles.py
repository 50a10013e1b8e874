"""Signed-in accounts on one device: one JSON file per profile, readable by this user only.

Several people may use one phone or computer (a parent photographing a child's eczema, a family
member's phone): each profile holds one account's token, the API it belongs to, and the uploads
that have started but not finished (so a failed upload can be resumed without a duplicate).

    store = ProfileStore()                  # $SKINVAULT_HOME or ~/.skinvault
    store.save(Profile("mum", api=..., access_token=..., expires_at=...))
    store.load("mum")                       # None when not signed in
    store.delete("mum")                     # sign out: the token and pending uploads are gone

Files: <home>/profiles/<name>.json, mode 0600, in directories of mode 0700, written atomically.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PROFILE = "default"
HOME_ENV = "SKINVAULT_HOME"
PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
EXPIRY_MARGIN_SECONDS = 30


class ProfileError(ValueError):
    pass


def check_profile_name(name: str) -> str:
    if not PROFILE_NAME.fullmatch(name or "") or name.endswith("."):
        raise ProfileError("a profile name is 1-64 letters, digits, '.', '_' or '-' and starts with a letter or digit")
    return name


def default_home() -> Path:
    given = os.environ.get(HOME_ENV)
    return Path(given).expanduser() if given else Path.home() / ".skinvault"


@dataclass
class Profile:
    name: str
    api: str
    access_token: str = field(repr=False)
    expires_at: float  # epoch seconds
    sub: str | None = None
    display_name: str | None = None
    email: str | None = field(default=None, repr=False)
    pending_uploads: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires_at - EXPIRY_MARGIN_SECONDS

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "name": self.name,
            "api": self.api,
            "accessToken": self.access_token,
            "expiresAt": self.expires_at,
            "sub": self.sub,
            "displayName": self.display_name,
            "email": self.email,
            "pendingUploads": self.pending_uploads,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Profile:
        return cls(
            name=str(data["name"]),
            api=str(data["api"]),
            access_token=str(data["accessToken"]),
            expires_at=float(data["expiresAt"]),
            sub=data.get("sub"),
            display_name=data.get("displayName"),
            email=data.get("email"),
            pending_uploads=dict(data.get("pendingUploads") or {}),
        )


class ProfileStore:
    def __init__(self, home: str | os.PathLike[str] | None = None) -> None:
        self.home = Path(home).expanduser() if home is not None else default_home()
        self.directory = self.home / "profiles"

    def path_for(self, name: str) -> Path:
        return self.directory / f"{check_profile_name(name)}.json"

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("*.json") if PROFILE_NAME.fullmatch(p.stem))

    def load(self, name: str) -> Profile | None:
        path = self.path_for(name)
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            return None
        if mode & 0o077:  # someone loosened it: tighten before reading a token out of it
            path.chmod(0o600)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            profile = Profile.from_json(data)
        except (ValueError, KeyError, TypeError) as exc:
            raise ProfileError(f"the saved sign-in for profile '{name}' is damaged; sign out and sign in again") from exc
        if profile.name != name:
            raise ProfileError(f"the saved sign-in for profile '{name}' is damaged; sign out and sign in again")
        return profile

    def save(self, profile: Profile) -> Path:
        path = self.path_for(profile.name)
        self._private_dir(self.home)
        self._private_dir(self.directory)
        payload = json.dumps(profile.to_json(), indent=2, sort_keys=True).encode("utf-8")
        fd, tmp = tempfile.mkstemp(prefix=f".{profile.name}.", suffix=".tmp", dir=self.directory)  # mkstemp: mode 0600
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return path

    def delete(self, name: str) -> bool:
        """Sign out: remove this profile's token and pending uploads. False if it was not signed in."""
        try:
            self.path_for(name).unlink()
            return True
        except FileNotFoundError:
            return False

    @staticmethod
    def _private_dir(path: Path) -> None:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(0o700)


class ProfileJournal:
    """The uploader's journal of unfinished uploads, kept in the profile's file.

    Each call re-reads the file, so two commands in a row (or a crash between them) see the same
    state. Entries hold the upload SAS URL (short-lived, write-only for one blob): they live and die
    with the profile's token.
    """

    def __init__(self, store: ProfileStore, profile_name: str) -> None:
        self._store = store
        self._name = profile_name

    def _profile(self) -> Profile:
        profile = self._store.load(self._name)
        if profile is None:
            raise ProfileError(f"profile '{self._name}' is not signed in")
        return profile

    def get(self, key: str) -> dict[str, Any] | None:
        entry = self._profile().pending_uploads.get(key)
        return dict(entry) if entry else None

    def put(self, key: str, entry: dict[str, Any]) -> None:
        profile = self._profile()
        profile.pending_uploads[key] = dict(entry)
        self._store.save(profile)

    def remove(self, key: str) -> None:
        profile = self._profile()
        if profile.pending_uploads.pop(key, None) is not None:
            self._store.save(profile)

    def entries(self) -> dict[str, dict[str, Any]]:
        return dict(self._profile().pending_uploads)
