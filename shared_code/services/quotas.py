"""Per-patient quotas: how much one account can open at once or in a day (429 with Retry-After).

Generous for any real patient (a skin condition photographed every day for years), small enough
that one account cannot fill the store or the upload account.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared_code.domain.common import parse_instant
from shared_code.domain.errors import RateLimited
from shared_code.ports import PATIENTS
from shared_code.services import rate_limits

MAX_FOLDERS = 200
MAX_PENDING_UPLOADS = 20  # upload sessions open at once (a link not yet used, still valid)
MAX_UPLOADS_PER_DAY = 200
DAY_SECONDS = 24 * 3600
FOLDER_RETRY_SECONDS = 3600


def check_new_folder(services: Any, patient_id: str) -> None:
    page = services.store.query(PATIENTS, patient_id, where={"type": "folder"}, limit=MAX_FOLDERS + 1)
    if len(page.items) >= MAX_FOLDERS:
        raise RateLimited(f"An account can have up to {MAX_FOLDERS} folders. Delete or merge some first.", retry_after_seconds=FOLDER_RETRY_SECONDS)


def take_upload_session(services: Any, patient_id: str, now: datetime) -> None:
    """Before an upload session opens: at most MAX_PENDING_UPLOADS open, MAX_UPLOADS_PER_DAY a day."""
    window = timedelta(minutes=services.settings.upload_url_minutes)
    page = services.store.query(
        PATIENTS, patient_id, where={"type": "image", "status": "pending"}, order_by="uploadedAt", descending=True, limit=MAX_PENDING_UPLOADS + 1
    )
    open_since = [parse_instant(doc["uploadedAt"]) for doc in page.items if doc.get("uploadedAt") and parse_instant(doc["uploadedAt"]) + window > now]
    if len(open_since) >= MAX_PENDING_UPLOADS:
        retry = int((min(open_since) + window - now).total_seconds()) + 1
        raise RateLimited(f"Up to {MAX_PENDING_UPLOADS} uploads can be waiting at once. Let these finish first.", retry_after_seconds=max(retry, 1))
    rate_limits.take(
        services.store,
        rate_limits.for_patient(patient_id, "uploads-per-day"),
        limit=MAX_UPLOADS_PER_DAY,
        window_seconds=DAY_SECONDS,
        now=now,
        detail=f"Up to {MAX_UPLOADS_PER_DAY} photos can be uploaded a day. Try again tomorrow.",
    )
