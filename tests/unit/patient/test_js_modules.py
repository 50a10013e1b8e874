"""The patient app's pure JavaScript modules (encryption, metadata stripping, upload queue, passcode
lock) are tested on Node's built-in test runner; this runs them as part of the Python suite, so
`make test` fails when they do, or when none ran."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
NODE_TESTS = ROOT / "patient" / "tests"


def test_patient_js_unit_tests_pass_on_node():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: make setup installs it")
    files = sorted(str(p.relative_to(ROOT)) for p in NODE_TESTS.glob("*.test.mjs"))
    assert files, f"no *.test.mjs files in {NODE_TESTS}"
    result = subprocess.run([node, "--test", "--test-reporter=tap", *files], cwd=ROOT, capture_output=True, text=True, timeout=240)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    passed = re.search(r"^# pass (\d+)$", result.stdout, re.MULTILINE)
    failed = re.search(r"^# fail (\d+)$", result.stdout, re.MULTILINE)
    assert passed and int(passed.group(1)) > 0, output[-3000:]
    assert failed and int(failed.group(1)) == 0, output[-3000:]
