from __future__ import annotations

import pytest

from shared_code import bootstrap
from tests.support.functions_client import FunctionsClient, fake_services


@pytest.fixture
def services(tmp_path):
    svc = fake_services(tmp_path)
    yield svc
    bootstrap.override(None)


@pytest.fixture
def client(services):
    return FunctionsClient(services)


@pytest.fixture
def patient_token(client):
    return client.token("patient-a", "patient", "Alice Example", "alice@example.org")


@pytest.fixture
def admin_token(client):
    return client.token("admin-1", "admin", "Ada Admin")
