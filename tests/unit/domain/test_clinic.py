"""The Clinic aggregate keeps stored clinic documents as they are and publishes listed fields only."""

from __future__ import annotations

import pytest

from shared_code.domain.clinic import Clinic

STORED = {
    "id": "cln_1",
    "clinicId": "cln_1",
    "type": "clinic",
    "name": "Leeds Dermatology",
    "odsCode": "RR8",
    "notificationEmail": "derm@nhs.example",
    "shareCode": "ABCD-EFGH",
    "createdAt": "2026-05-01T09:00:00Z",
}


@pytest.mark.parametrize(
    "doc",
    [STORED, {**STORED, "_etag": '"2"', "laterField": True}, {k: v for k, v in STORED.items() if k != "createdAt"}],
    ids=["plain", "etag-and-unknown-field", "without-createdAt"],
)
def test_a_stored_clinic_round_trips_unchanged(doc):
    assert Clinic.from_doc(doc).to_doc() == doc


def test_admin_and_patient_views_list_their_fields_only():
    clinic = Clinic.from_doc({**STORED, "_etag": '"2"', "internalFlag": 1})
    assert set(clinic.view()) == {"id", "name", "odsCode", "notificationEmail", "shareCode", "createdAt"}
    assert clinic.public_view() == {"id": "cln_1", "name": "Leeds Dermatology", "organisation": {"odsCode": "RR8"}}


def test_a_document_of_another_type_is_not_a_clinic():
    with pytest.raises(ValueError):
        Clinic.from_doc({**STORED, "type": "member"})
