"""The Share aggregate reads and writes the stored documents as they are, and its view publishes a
fixed list of fields (an internal field such as expiryAudited is never shown)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared_code.domain.share import Share

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

STORED = {
    "id": "shr_1",
    "patientId": "p_alice",
    "type": "share",
    "clinicId": "cln_leeds",
    "allFolders": False,
    "folderIds": ["fld_1", "fld_2"],
    "purposes": ["direct-care", "teaching"],
    "expiresAt": "2026-07-01T00:00:00Z",
    "grantedAt": "2026-05-01T09:30:00Z",
    "revokedAt": None,
    "endReason": None,
    "consent": {"textVersion": "2025-01", "textHash": "abc", "acceptedAt": "2026-05-01T09:30:00Z", "acceptedBy": "p_alice"},
    "_etag": '"0x1"',
}
PUBLISHED = {"id", "clinicId", "state", "endReason", "allFolders", "folderIds", "purposes", "expiresAt", "grantedAt", "revokedAt", "consent"}


@pytest.mark.parametrize(
    "doc",
    [
        STORED,
        {**STORED, "allFolders": True, "folderIds": None},
        {**STORED, "revokedAt": "2026-05-02T00:00:00Z", "endReason": "replaced", "expiryAudited": True},
        {**STORED, "someFutureField": {"kept": 1}},
    ],
    ids=["selected-folders", "all-folders", "ended-and-audited", "unknown-field"],
)
def test_a_stored_document_round_trips_unchanged(doc):
    assert Share.from_doc(doc).to_doc() == doc


def test_a_document_of_another_type_is_not_a_share():
    with pytest.raises(ValueError):
        Share.from_doc({**STORED, "type": "folder"})


def test_view_publishes_the_listed_fields_only_never_internal_ones():
    share = Share.from_doc({**STORED, "expiryAudited": True, "someFutureField": 1, "expiresAt": "2026-05-15T00:00:00Z"})
    view = share.view(NOW, "Leeds Dermatology")
    assert set(view) == PUBLISHED | {"clinicName"}
    assert "expiryAudited" not in view and "patientId" not in view and "_etag" not in view
    assert view["state"] == "expired" and view["clinicName"] == "Leeds Dermatology"
    assert set(view["consent"]) == {"textVersion", "textHash", "acceptedAt", "acceptedBy"}


def test_state_and_scope_follow_the_rules():
    share = Share.from_doc(STORED)
    assert share.state(NOW) == "active" and share.is_active(NOW)
    assert share.covers_folder("fld_2") and not share.covers_folder("fld_3")
    ended = share.ended("2026-06-01T12:00:00Z", "revoked")
    assert ended.state(NOW) == "revoked" and ended.to_doc()["endReason"] == "revoked"
    assert Share.from_doc({**STORED, "allFolders": True, "folderIds": None}).covers_folder("anything")
