"""The Folder aggregate keeps stored folder documents as they are and publishes listed fields only."""

from __future__ import annotations

import pytest

from shared_code.domain.body_sites import BODY_SITES
from shared_code.domain.folder import Folder

STORED = {
    "id": "fld_1",
    "patientId": "p_alice",
    "type": "folder",
    "name": "Mole on back",
    "bodySite": None,
    "condition": None,
    "treatment": None,
    "notes": None,
    "startDate": None,
    "archived": False,
    "createdAt": "2026-05-01T09:00:00Z",
    "updatedAt": "2026-05-01T09:00:00Z",
    "_etag": '"1"',
}
PUBLISHED = {
    *("id", "name", "bodySite", "bodySiteCode", "condition", "treatment", "notes", "startDate", "archived", "createdAt", "updatedAt", "etag"),
    "lesionHistory",
}


@pytest.mark.parametrize(
    "doc",
    [STORED, {**STORED, "archived": True, "startDate": "2026-01-01", "notes": "itchy"}, {**STORED, "someInternalMark": "x"}],
    ids=["new", "filled-in", "unknown-field"],
)
def test_a_stored_folder_round_trips_unchanged(doc):
    assert Folder.from_doc(doc).to_doc() == doc


def test_view_lists_the_published_fields_never_internal_ones():
    view = Folder.from_doc({**STORED, "someInternalMark": "x"}).view()
    assert set(view) == PUBLISHED
    assert "patientId" not in view and "someInternalMark" not in view and view["etag"] == '"1"'
    assert view["bodySiteCode"] is None


def test_a_body_site_is_published_with_its_snomed_coding():
    folder = Folder.from_doc(STORED)
    site = next(iter(BODY_SITES))
    coded = Folder.from_doc({**STORED, "bodySite": site}).view()["bodySiteCode"]
    assert coded == {"system": "http://snomed.info/sct", "code": BODY_SITES[site][0], "display": BODY_SITES[site][1]}
    assert folder.body_site_code() is None
