"""Upload one photo end to end, the way the phone does it.

1. Read the file and strip it on the device (:mod:`photo_prep`): only orientation and capture time
   survive; GPS never leaves the device. A file that is not a readable JPEG/PNG/HEIC photo is
   refused here, with a plain-English reason, and nothing is sent.
2. Ask the API for an upload session (``POST /api/folders/{id}/uploads``): a write-only SAS URL
   for one blob, valid until ``expiresAt``, and the public key-encryption key (JWK).
3. Encrypt on the device with Azure Storage client-side encryption v2 and PUT the ciphertext to
   the SAS URL (:func:`skinvault_client.encryption.upload_encrypted`).
4. Wait for the server to check the photo: ``GET /api/images/{uploadId}`` turns ``ready`` (with
   quality advice) or ``rejected`` (with the reason), or the wait times out.

Retries never duplicate a photo. Each upload session is written to a journal (the profile file in
the CLI) before anything is sent, keyed by folder + the file's SHA-256. A failed PUT is retried,
with backoff, to the *same* URL (the blob is overwritten: still one image). Only when the URL has
expired is a new session started, and the stale pending image is deleted first. If every attempt
fails, the journal keeps the session and running the same upload again resumes it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from skinvault_client.api import ApiError, Image, SkinVaultClient, UploadSession
from skinvault_client.encryption import KEY_WRAP_ALGORITHM, upload_encrypted
from skinvault_client.photo_prep import PhotoRefused, prepare_photo

READY, REJECTED, PENDING = "ready", "rejected", "pending"
ENCRYPTION_PROTOCOL = "2.0"
EXPIRY_MARGIN_SECONDS = 15
TRANSIENT_BLOB_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# The SDK's own retries are off: this module retries (to the same URL) and knows about expiry.
DEFAULT_BLOB_OPTIONS: dict[str, Any] = {"retry_total": 0}

STILL_CHECKING = "The photo was sent and is still being checked. Run the same upload again later to see the result."


class UploadFailed(Exception):
    """The photo could not be sent (after retries). The message is plain English; nothing is duplicated."""

    def __init__(self, message: str, *, image_id: str | None = None) -> None:
        super().__init__(message)
        self.image_id = image_id


class UploadJournal(Protocol):
    def get(self, key: str) -> dict[str, Any] | None: ...
    def put(self, key: str, entry: dict[str, Any]) -> None: ...
    def remove(self, key: str) -> None: ...


class MemoryJournal:
    """A journal for callers that do not need to resume after the process ends."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        entry = self._entries.get(key)
        return dict(entry) if entry else None

    def put(self, key: str, entry: dict[str, Any]) -> None:
        self._entries[key] = dict(entry)

    def remove(self, key: str) -> None:
        self._entries.pop(key, None)


@dataclass
class UploadResult:
    source: str  # what the user called it (file name); never sent anywhere
    status: str  # ready | rejected | pending
    image_id: str | None = None
    reason: str | None = None  # why rejected (or why still pending), plain English
    advice: list[str] = field(default_factory=list)  # quality advice for a ready photo
    image: Image | None = None
    refused_on_device: bool = False  # rejected before anything was sent
    resumed: bool = False  # an earlier, unfinished upload of this file was picked up

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "status": self.status,
            "imageId": self.image_id,
            "reason": self.reason,
            "advice": self.advice,
            "refusedOnDevice": self.refused_on_device,
            "resumed": self.resumed,
        }


def journal_key(folder_id: str, data: bytes) -> str:
    return f"{folder_id}:{hashlib.sha256(data).hexdigest()}"


def quality_advice(image: Image | dict[str, Any]) -> list[str]:
    quality = image.get("quality") or {}
    return [flag["advice"] for flag in quality.get("flags") or [] if isinstance(flag, dict) and flag.get("advice")]


def _epoch(iso_text: str) -> float:
    moment = datetime.fromisoformat(iso_text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("expiresAt without a time zone")
    return moment.timestamp()


def _blob_failure_is_transient(exc: Exception) -> bool:
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return True
    return isinstance(exc, HttpResponseError) and (exc.status_code or 0) in TRANSIENT_BLOB_STATUS


class PhotoUploader:
    def __init__(
        self,
        client: SkinVaultClient,
        *,
        journal: UploadJournal | None = None,
        attempts: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        wait_timeout: float = 120.0,
        poll_interval: float = 0.5,
        blob_options: dict[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.client = client
        self.journal: UploadJournal = journal if journal is not None else MemoryJournal()
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.wait_timeout = wait_timeout
        self.poll_interval = poll_interval
        self.blob_options = {**DEFAULT_BLOB_OPTIONS, **(blob_options or {})}
        self._clock = clock
        self._sleep = sleep

    # ------------------------------------------------------------------ entry points
    def upload_file(self, path: str | Path, folder_id: str, *, notes: str | None = None, captured_at: str | None = None) -> UploadResult:
        path = Path(path)
        return self.upload_bytes(path.read_bytes(), folder_id, source=path.name, notes=notes, captured_at=captured_at)

    def upload_bytes(
        self, data: bytes, folder_id: str, *, source: str = "photo", notes: str | None = None, captured_at: str | None = None
    ) -> UploadResult:
        try:
            prepared, content_type = prepare_photo(data)
        except PhotoRefused as refused:
            return UploadResult(source, REJECTED, reason=refused.reason, refused_on_device=True)

        key = journal_key(folder_id, data)
        wanted = {"notes": notes or None, "capturedAt": captured_at or None}
        entry = self.journal.get(key)
        resumed = entry is not None
        if entry is not None:
            outcome = self._resume(key, entry, wanted, source)
            if isinstance(outcome, UploadResult):
                return outcome
            entry = outcome  # None: start afresh; a dict: carry on with it
        if entry is None:
            entry = self._new_session(key, folder_id, content_type, len(prepared), wanted)
        if not entry.get("sent"):
            entry = self._send(key, entry, prepared, content_type, wanted)
        return self._await_result(key, entry["imageId"], source, resumed=resumed)

    # ------------------------------------------------------------------ steps
    def _resume(self, key: str, entry: dict[str, Any], wanted: dict[str, Any], source: str) -> UploadResult | dict[str, Any] | None:
        try:
            image = self.client.get_image(entry["imageId"])
        except ApiError as exc:
            if exc.status == 404:  # deleted meanwhile (or the account was erased): start again
                self.journal.remove(key)
                return None
            raise
        if image.get("status") in (READY, REJECTED):
            self.journal.remove(key)
            return self._result(source, image, resumed=True)
        same_details = all(entry.get(k) == v for k, v in wanted.items())
        if same_details and (entry.get("sent") or not self._expired(entry)):
            return entry
        self._discard(key, entry)  # different notes/time, or the URL expired before it was used
        return None

    def _new_session(self, key: str, folder_id: str, content_type: str, size: int, wanted: dict[str, Any]) -> dict[str, Any]:
        session = self._call_with_retries(
            lambda: self.client.start_upload(folder_id, content_type, size, captured_at=wanted["capturedAt"], notes=wanted["notes"])
        )
        entry = self._entry_from(session, folder_id, wanted)
        self.journal.put(key, entry)
        return entry

    def _send(self, key: str, entry: dict[str, Any], prepared: bytes, content_type: str, wanted: dict[str, Any]) -> dict[str, Any]:
        for attempt in range(self.attempts):
            if self._expired(entry):
                self._discard(key, entry)
                entry = self._new_session(key, entry["folderId"], content_type, len(prepared), wanted)
            try:
                upload_encrypted(entry["uploadUrl"], prepared, entry["jwk"], **self.blob_options)
            except HttpResponseError as exc:
                if exc.status_code == 403:  # the SAS was refused: treat as expired, new session next time
                    entry["expiresAt"] = "1970-01-01T00:00:00Z"
                    self.journal.put(key, entry)
                elif not _blob_failure_is_transient(exc):
                    raise UploadFailed(
                        f"The photo storage refused the upload (HTTP {exc.status_code}). Nothing was duplicated; try again later.",
                        image_id=entry["imageId"],
                    ) from None
            except (ServiceRequestError, ServiceResponseError):
                pass  # connection dropped: retry to the same URL (overwrite, still one image)
            else:
                entry["sent"] = True
                self.journal.put(key, entry)
                return entry
            if attempt + 1 < self.attempts:
                self._sleep(min(self.backoff * (2**attempt), self.max_backoff))
        raise UploadFailed(
            f"Could not send the photo after {self.attempts} attempts (no connection to the photo storage). "
            "Nothing was duplicated: run the same upload again to resume it.",
            image_id=entry["imageId"],
        )

    def _await_result(self, key: str, image_id: str, source: str, *, resumed: bool) -> UploadResult:
        deadline = self._clock() + self.wait_timeout
        while True:
            try:
                image = self.client.get_image(image_id)
            except ApiError as exc:
                if exc.status == 404:
                    self.journal.remove(key)
                    raise UploadFailed("The photo was deleted before it finished processing.", image_id=image_id) from None
                if not exc.transient:
                    raise
                image = None
            if image is not None and image.get("status") in (READY, REJECTED):
                self.journal.remove(key)
                return self._result(source, image, resumed=resumed)
            if self._clock() >= deadline:
                return UploadResult(source, PENDING, image_id=image_id, reason=STILL_CHECKING, image=image, resumed=resumed)
            self._sleep(self.poll_interval)

    # ------------------------------------------------------------------ helpers
    def _entry_from(self, session: UploadSession, folder_id: str, wanted: dict[str, Any]) -> dict[str, Any]:
        encryption = session.get("encryption") or {}
        if encryption.get("protocol") != ENCRYPTION_PROTOCOL or encryption.get("alg") != KEY_WRAP_ALGORITHM or not encryption.get("jwk"):
            raise UploadFailed("The server asked for an encryption method this app does not use. Please update the app.")
        _epoch(session["expiresAt"])  # must be parseable before it is trusted
        return {
            "folderId": folder_id,
            "imageId": session["uploadId"],
            "uploadUrl": session["uploadUrl"],
            "expiresAt": session["expiresAt"],
            "jwk": encryption["jwk"],
            "sent": False,
            **wanted,
        }

    def _expired(self, entry: dict[str, Any]) -> bool:
        try:
            return self._clock() >= _epoch(entry["expiresAt"]) - EXPIRY_MARGIN_SECONDS
        except (KeyError, ValueError):
            return True

    def _discard(self, key: str, entry: dict[str, Any]) -> None:
        """Delete the stale pending image of an unusable session, then forget the session."""
        try:
            self.client.delete_image(entry["imageId"])
        except ApiError as exc:
            if exc.status != 404:
                raise
        self.journal.remove(key)

    def _call_with_retries(self, call: Callable[[], Any]) -> Any:
        for attempt in range(self.attempts):
            try:
                return call()
            except ApiError as exc:
                if not exc.transient or attempt + 1 >= self.attempts:
                    raise
            self._sleep(min(self.backoff * (2**attempt), self.max_backoff))
        raise AssertionError("unreachable")

    @staticmethod
    def _result(source: str, image: Image, *, resumed: bool) -> UploadResult:
        status = image.get("status", PENDING)
        reason = image.get("rejectionReason") if status == REJECTED else None
        if status == REJECTED and not reason:
            reason = "The photo was not accepted."
        advice = quality_advice(image) if status == READY else []
        return UploadResult(source, status, image_id=image.get("id"), reason=reason, advice=advice, image=image, resumed=resumed)
