"""Small helpers for e2e tests that drive the local host over HTTP like the phone would."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx

from shared_code.domain.imaging import prepare_for_upload
from skinvault_client.encryption import upload_encrypted
from tests.support.stack import LocalStack


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def ok(r: httpx.Response, status: int | tuple[int, ...] = (200, 201, 202, 204)) -> Any:
    expected = (status,) if isinstance(status, int) else status
    assert r.status_code in expected, f"{r.request.method} {r.request.url.path} -> {r.status_code}: {r.text[:400]}"
    return r.json() if r.content and r.headers.get("content-type", "").startswith(("application/json", "application/problem+json")) else r.content


def start_upload(
    api: httpx.Client, folder_id: str, data: bytes, *, content_type: str = "image/jpeg", notes: str | None = None, captured_at: datetime | None = None
) -> dict:
    body: dict[str, Any] = {"contentType": content_type, "sizeBytes": len(data)}
    if notes:
        body["notes"] = notes
    if captured_at:
        body["capturedAt"] = captured_at.isoformat().replace("+00:00", "Z")
    return ok(api.post(f"/api/folders/{folder_id}/uploads", json=body), 201)


def upload_photo(
    api: httpx.Client,
    folder_id: str,
    photo: bytes,
    *,
    content_type: str = "image/jpeg",
    notes: str | None = None,
    captured_at: datetime | None = None,
    prepare: bool = True,
) -> str:
    """Upload a photo the way the phone does (stripped, then client-side encryption v2)."""
    data = prepare_for_upload(photo) if prepare else photo
    session = start_upload(api, folder_id, data, content_type=content_type, notes=notes, captured_at=captured_at)
    upload_encrypted(session["uploadUrl"], data, session["encryption"]["jwk"])
    return session["uploadId"]


def wait_for(api: httpx.Client, image_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        image = ok(api.get(f"/api/images/{image_id}"))
        if image["status"] != "pending":
            return image
        time.sleep(0.2)
    raise AssertionError(f"image {image_id} still pending after {timeout} s")


def share(
    api: httpx.Client, clinic_id: str, *, days: int = 30, folder_ids: list[str] | None = None, purposes: tuple[str, ...] = ("direct-care",)
) -> dict:
    """Read the consent text and share (all folders unless folder_ids) as the signed-in patient."""
    text = ok(api.get("/api/consent-text", params={"clinicId": clinic_id}))
    expires = (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    body: dict[str, Any] = {
        "clinicId": clinic_id,
        "purposes": list(purposes),
        "expiresAt": expires,
        "consent": {"textVersion": text["version"], "accepted": True},
    }
    if folder_ids is None:
        body["allFolders"] = True
    else:
        body["folderIds"] = folder_ids
    return ok(api.post("/api/shares", json=body), 201)


def invitation_code(outbox: Path, email: str, timeout: float = 60) -> str:
    """The one-time code in the invitation emailed to this address (the local host's .eml outbox,
    shared by every test of the run: match the recipient, not the first invitation found)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(outbox.glob("*.eml")) if outbox.exists() else []:
            message = BytesParser(policy=policy.default).parse(path.open("rb"))
            if email not in str(message["To"] or ""):
                continue
            body = "\n".join(part.get_content() for part in message.walk() if part.get_content_maintype() == "text")
            found = re.search(r"/app/\?invite=([A-Za-z0-9_-]+)", body)
            if found and "asked you to share photos" in body:
                return found.group(1)
        time.sleep(0.3)
    raise AssertionError(f"no invitation email to {email} reached the outbox")


class Patient:
    """A signed-in patient with a profile and a folder."""

    def __init__(self, stack: LocalStack, *, name: str = "Pat Example", nhs: str | None = "9434765919", email: str | None = None) -> None:
        self.sub = unique("patient")
        self.name = name
        self.api = stack.client(stack.token(self.sub, "patient", name, email))
        profile: dict[str, Any] = {"displayName": name, "dateOfBirth": "1970-01-31"}
        if nhs:
            profile["nhsNumber"] = nhs
        self.profile = ok(self.api.put("/api/me", json=profile))
        self.folder = ok(
            self.api.post(
                "/api/folders", json={"name": "Mole on back", "bodySite": "back", "condition": "Changing mole", "notes": "secret-note-xyz"}
            ),
            201,
        )

    def share_with(
        self, clinic_id: str, *, days: int = 30, folder_ids: list[str] | None = None, purposes: tuple[str, ...] = ("direct-care",)
    ) -> dict:
        return share(self.api, clinic_id, days=days, folder_ids=folder_ids, purposes=purposes)


class Clinic:
    """A clinic created by an admin, with one clinician member."""

    def __init__(self, stack: LocalStack, *, name: str | None = None) -> None:
        self.admin = stack.client(stack.token(unique("admin"), "admin", "Admin"))
        self.clinic = ok(
            self.admin.post(
                "/api/manage/clinics", json={"name": name or unique("Clinic"), "odsCode": "RTD", "notificationEmail": f"{unique('derm')}@nhs.example"}
            ),
            201,
        )
        self.id = self.clinic["id"]
        self.clinician_sub = unique("doc")
        ok(self.admin.post(f"/api/manage/clinics/{self.id}/members", json={"sub": self.clinician_sub, "name": "Dr Test Clinician"}), 201)
        self.api = stack.client(stack.token(self.clinician_sub, "clinician", "Dr Test Clinician"))
