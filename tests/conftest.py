"""Test-wide setup: the local example settings are the environment (every test may override)."""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SETTINGS: dict[str, str] = json.loads((ROOT / "local.settings.example.json").read_text())["Values"]

for _key, _value in EXAMPLE_SETTINGS.items():
    os.environ.setdefault(_key, _value)
os.environ.pop("WEBSITE_INSTANCE_ID", None)
