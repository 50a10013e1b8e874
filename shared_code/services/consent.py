"""Consent texts are versioned data (shared_code/data/consent_texts.json), not code."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from shared_code.domain.errors import RuleViolation

_PATH = Path(__file__).resolve().parent.parent / "data" / "consent_texts.json"


@cache
def _texts() -> dict[str, Any]:
    texts: dict[str, Any] = json.loads(_PATH.read_text(encoding="utf-8"))
    return texts


def current_version() -> str:
    version: str = _texts()["current"]
    return version


def render(clinic: dict[str, Any], version: str | None = None) -> dict[str, Any]:
    version = version or current_version()
    template = _texts()["versions"].get(version)
    if template is None:
        raise RuleViolation("That consent text version does not exist.")
    fill = {"clinicName": clinic["name"], "odsCode": clinic["odsCode"]}
    paragraphs = [p.format(**fill) for p in template["paragraphs"]]
    title = template["title"].format(**fill)
    text = title + "\n\n" + "\n\n".join(paragraphs)
    return {
        "version": version,
        "clinicId": clinic["id"],
        "title": title,
        "paragraphs": paragraphs,
        "textHash": "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest(),
    }
