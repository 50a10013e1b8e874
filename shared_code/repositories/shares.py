"""ShareRepository: every read and write of share documents, and the query shapes they need.

Shares live in the patient's partition of PATIENTS (``type: "share"``). The indexes below are the
ones these queries need; the SQLite store builds them from this declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from shared_code.domain.share import DOC_TYPE, Share
from shared_code.ports import PATIENTS, IndexSpec, MetadataStore, NotFound
from shared_code.services import concurrency, paging

INDEXES = (
    IndexSpec(("type", "grantedAt"), "a patient's shares, newest first"),
    IndexSpec(("type", "clinicId", "grantedAt"), "a patient's shares with one clinic"),
)

_PAGE = 200


class ShareRepository:
    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def get(self, patient_id: str, share_id: str) -> Share | None:
        """The patient's share, or None (absent, or the id is another kind of document)."""
        try:
            doc = self._store.read(PATIENTS, patient_id, share_id)
        except NotFound:
            return None
        return Share.from_doc(doc) if doc.get("type") == DOC_TYPE else None

    def add(self, share: Share) -> Share:
        return Share.from_doc(self._store.create(PATIENTS, share.to_doc()))

    def with_clinic(self, patient_id: str, clinic_id: str) -> list[Share]:
        """The patient's shares with one clinic (a patient has a handful: one page is all of them)."""
        page = self._store.query(PATIENTS, patient_id, where={"type": DOC_TYPE, "clinicId": clinic_id}, order_by="grantedAt", limit=_PAGE)
        return [Share.from_doc(d) for d in page.items]

    def page(self, patient_id: str, limit: int, token: str | None) -> tuple[list[Share], str | None]:
        """One page of the patient's shares, newest first (a malformed token is a 400)."""
        page = paging.fetch(self._store, PATIENTS, patient_id, where={"type": DOC_TYPE}, order_by="grantedAt", limit=limit, token=token)
        return [Share.from_doc(d) for d in page.items], page.continuation

    def all(self, patient_id: str) -> Iterator[Share]:
        """Every share of the patient's, oldest first."""
        for doc in paging.fetch_all(self._store, PATIENTS, patient_id, where={"type": DOC_TYPE}, order_by="grantedAt"):
            yield Share.from_doc(doc)

    def modify(self, share: Share, change: Callable[[Share], Share | None]) -> Share | None:
        """Apply ``change`` (the changed share, or None to leave it as it is) with optimistic
        concurrency: on a lost race the share is re-read and the change re-applied. Returns the
        share as stored afterwards (changed or not; None if it is gone); raises PreconditionFailed
        after repeated lost races rather than report a change that was not stored."""

        def apply(doc: dict[str, Any]) -> bool | None:
            after = change(Share.from_doc(doc))
            if after is None:
                return False
            doc.clear()
            doc.update(after.to_doc())
            return None

        stored = concurrency.modify(self._store, PATIENTS, share.to_doc(), apply)
        return None if stored is None else Share.from_doc(stored)
