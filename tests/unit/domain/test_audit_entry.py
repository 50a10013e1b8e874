"""AuditEntry reads and writes the stored audit documents exactly as they are."""

from __future__ import annotations

import pytest

from shared_code.domain.audit_entry import AuditEntry

STORED = {
    "id": "aud_1",
    "patientId": "p_alice",
    "type": "audit",
    "at": "2026-05-01T09:30:00Z",
    "actorKind": "clinician",
    "actorId": "dr-who",
    "clinicId": "cln_leeds",
    "action": "viewed-image",
    "targetType": "image",
    "targetId": "img_1",
    "outcome": "success",
}


@pytest.mark.parametrize(
    "doc",
    [STORED, {**STORED, "clinicId": None, "actorKind": "system", "actorId": "skinvault"}, {**STORED, "_etag": '"1"', "futureField": [1]}],
    ids=["clinician", "system-without-clinic", "etag-and-unknown-field"],
)
def test_a_stored_audit_document_round_trips_unchanged(doc):
    assert AuditEntry.from_doc(doc).to_doc() == doc


def test_a_document_of_another_type_is_not_an_audit_entry():
    with pytest.raises(ValueError):
        AuditEntry.from_doc({**STORED, "type": "share"})
