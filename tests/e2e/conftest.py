from __future__ import annotations

import pytest

from tests.support.email_scan import SqliteSnapshot, assert_no_patient_data, eml_content
from tests.support.stack import LocalStack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """One running local stack (Azurite + local host) shared by the e2e tests."""
    s = LocalStack(tmp_path_factory.mktemp("stack")).start()
    yield s
    try:
        # every email the e2e suite sent (.eml files in the stack's outbox) is scanned for patient data
        emails = [eml_content(p) for p in sorted(s.outbox.glob("*.eml"))] if s.outbox.exists() else []
        assert_no_patient_data(emails, SqliteSnapshot(s.workdir / "skinvault.db"))
    finally:
        s.close()


@pytest.fixture(scope="session")
def playwright_driver():
    """The one Playwright driver of the run: its sync API keeps an event loop set on the main thread
    while it lives, so two drivers cannot overlap (each browser test folder uses this one)."""
    from pathlib import Path

    from tests.e2e.web.helpers import CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: make setup installs the Debian chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p
