"""Services with Fake* ports, and principals, for unit tests of the use cases (no HTTP layer)."""

from __future__ import annotations

import pytest

from shared_code.auth.principal import CLINICIAN, PATIENT, Principal
from shared_code.services import clinics
from tests.support.email_scan import assert_no_patient_data, content_of
from tests.support.functions_client import fake_services

ISSUER = "https://login.example"


def patient(sub: str = "patient-a", email: str | None = "alice@example.org") -> Principal:
    return Principal(kind=PATIENT, sub=sub, issuer=ISSUER, name="Alice", email=email)


def clinician(sub: str, *clinic_ids: str) -> Principal:
    return Principal(kind=CLINICIAN, sub=sub, issuer=ISSUER, name=sub, clinic_ids=tuple(clinic_ids))


@pytest.fixture
def services(tmp_path):
    svc = fake_services(tmp_path)
    yield svc
    assert_no_patient_data([content_of(m) for m in svc.email.sent], svc.store)  # every email, scanned


@pytest.fixture
def clinic(services):
    return clinics.create_clinic(
        services.store, {"name": "Leeds Dermatology", "odsCode": "RR8", "notificationEmail": "derm@nhs.example"}, services.clock.now()
    )
