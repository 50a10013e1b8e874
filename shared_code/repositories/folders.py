"""FolderRepository: creating and listing a patient's folders, and the index that listing needs.

Folders live in the patient's partition of PATIENTS (``type: "folder"``). Updates still go through
services/concurrency.py's If-Match handling in services/library.py.
"""

from __future__ import annotations

from shared_code.domain.folder import DOC_TYPE, Folder
from shared_code.ports import PATIENTS, IndexSpec, MetadataStore
from shared_code.services import paging

# (type, createdAt) also serves a patient's comments (services/comments.py) until they have a repository
INDEXES = (IndexSpec(("type", "createdAt"), "a patient's folders, newest first"),)


class FolderRepository:
    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def add(self, folder: Folder) -> Folder:
        return Folder.from_doc(self._store.create(PATIENTS, folder.to_doc()))

    def page(self, patient_id: str, limit: int, token: str | None) -> tuple[list[Folder], str | None]:
        """One page of the patient's folders, newest first (a malformed token is a 400)."""
        page = paging.fetch(self._store, PATIENTS, patient_id, where={"type": DOC_TYPE}, order_by="createdAt", limit=limit, token=token)
        return [Folder.from_doc(d) for d in page.items], page.continuation
