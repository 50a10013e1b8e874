"""The web apps' label maps (clinician and patient) are keyed by exactly the server's vocabularies.

The web app once labelled quality flags `dark`/`bright` while the server sent `too-dark`/`too-bright`,
so clinicians saw raw codes. This imports web/js/format.js and patient/js/format.js in Node (the
modules the views use) and compares their maps with shared_code/domain/vocabulary.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from shared_code.domain.conversation import REMINDER_SCHEDULES
from shared_code.domain.vocabulary import QualityFlagCode, SharePurpose, TriageOutcome, values

ROOT = Path(__file__).resolve().parents[3]
FORMAT_JS = ROOT / "web" / "js" / "format.js"
PATIENT_FORMAT_JS = ROOT / "patient" / "js" / "format.js"

_DUMP = """
const f = await import(process.argv[1]);
console.log(JSON.stringify({
  quality: f.QUALITY_LABELS,
  purposes: f.PURPOSE_LABELS,
  outcomes: f.TRIAGE_OUTCOMES.map((o) => o.value),
  reminders: f.REMINDER_LABELS,
}));
"""


def _exports(module: Path, dump: str) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: make setup installs it")
    result = subprocess.run(
        [node, "--input-type=module", "-e", dump, module.as_uri()], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


@cache
def web_labels() -> dict[str, Any]:
    return _exports(FORMAT_JS, _DUMP)


@cache
def patient_labels() -> dict[str, Any]:
    return _exports(PATIENT_FORMAT_JS, "const f = await import(process.argv[1]); console.log(JSON.stringify({purposes: f.PURPOSE_LABELS}));")


def test_quality_labels_cover_exactly_the_server_quality_flags():
    assert set(web_labels()["quality"]) == set(values(QualityFlagCode))
    assert all(label.strip() for label in web_labels()["quality"].values())


def test_purpose_labels_cover_exactly_the_share_purposes():
    assert set(web_labels()["purposes"]) == set(values(SharePurpose))


def test_triage_outcomes_offered_are_exactly_the_server_outcomes_once_each():
    outcomes = web_labels()["outcomes"]
    assert sorted(outcomes) == sorted(values(TriageOutcome))


def test_reminder_labels_cover_exactly_the_reminder_schedules():
    assert set(web_labels()["reminders"]) == set(REMINDER_SCHEDULES)


def test_patient_app_purpose_labels_cover_exactly_the_share_purposes():
    assert set(patient_labels()["purposes"]) == set(values(SharePurpose))
