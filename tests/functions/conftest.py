from __future__ import annotations

import pytest

from shared_code import bootstrap
from tests.support.email_scan import assert_no_patient_data, content_of, eml_content
from tests.support.functions_client import FunctionsClient, fake_services


@pytest.fixture
def services(tmp_path):
    svc = fake_services(tmp_path)
    yield svc
    bootstrap.override(None)
    # Every email the test sent (to the fake sender, or as .eml files in an outbox under tmp_path)
    # is scanned for the patient data the store holds: names, NHS numbers, notes, messages.
    texts = [content_of(m) for m in getattr(svc.email, "sent", [])]
    texts += [eml_content(p) for p in tmp_path.rglob("*.eml")]
    assert_no_patient_data(texts, svc.store)


@pytest.fixture
def client(services):
    return FunctionsClient(services)


@pytest.fixture
def patient_token(client):
    return client.token("patient-a", "patient", "Alice Example", "alice@example.org")


@pytest.fixture
def admin_token(client):
    return client.token("admin-1", "admin", "Ada Admin")
