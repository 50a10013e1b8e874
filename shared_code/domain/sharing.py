"""Consent and sharing rules: a share's state and what it covers. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared_code.domain.common import parse_instant
from shared_code.domain.errors import RuleViolation
from shared_code.domain.vocabulary import SharePurpose, values

PURPOSES = values(SharePurpose)
ACTIVE, EXPIRED, REVOKED = "active", "expired", "revoked"
MIN_EXPIRY = timedelta(days=1)
MAX_EXPIRY = timedelta(days=3653)  # 10 years


def share_state(share: dict[str, Any], now: datetime) -> str:
    if share.get("revokedAt"):
        return REVOKED
    if parse_instant(share["expiresAt"]) <= now:
        return EXPIRED
    return ACTIVE


def covers_folder(share: dict[str, Any], folder_id: str) -> bool:
    return bool(share.get("allFolders")) or folder_id in (share.get("folderIds") or [])


def check_grant(purposes: list[str], expires_at: datetime, now: datetime) -> None:
    if "direct-care" not in purposes:
        raise RuleViolation("A share must include direct-care: the clinic needs it to look after you.")
    unknown = [p for p in purposes if p not in PURPOSES]
    if unknown:
        raise RuleViolation("purposes can only be direct-care, teaching and research.")
    if expires_at < now + MIN_EXPIRY - timedelta(minutes=5):
        raise RuleViolation("A share must last at least one day.")
    if expires_at > now + MAX_EXPIRY:
        raise RuleViolation("A share can last at most ten years.")
