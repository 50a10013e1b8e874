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
