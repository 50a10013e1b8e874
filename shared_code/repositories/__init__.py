"""One repository per aggregate: its queries, and the indexes those queries need.

``DECLARED_INDEXES`` is what the SQLite store builds (shared_code/adapters/sqlite_store.py). Query
shapes still issued from service modules directly are listed in ``_NOT_YET_IN_A_REPOSITORY`` with
the module that issues them; each moves into its aggregate's repository as that is written.
"""

from __future__ import annotations

from shared_code.ports import IndexSpec
from shared_code.repositories import audit_entries, clinics, folders, shares

_NOT_YET_IN_A_REPOSITORY = (
    IndexSpec(("type", "folderId", "capturedAt"), "a patient's images of a folder by capture time (services/library.py, access.py)"),
    IndexSpec(("type", "folderId", "status", "capturedAt"), "a clinician's view: ready images only (services/access.py)"),
    IndexSpec(("type", "status", "uploadedAt"), "a patient's upload sessions still pending, for the quota (services/quotas.py)"),
    IndexSpec(("type", "targetType", "targetId", "createdAt"), "comments on one image/folder (services/comments.py)"),
    IndexSpec(("type", "active", "lastActivityAt"), "clinic worklist: all (services/cases.py)"),
    IndexSpec(("type", "active", "hasNew", "lastActivityAt"), "clinic worklist: new photos (services/cases.py)"),
    IndexSpec(("type", "active", "awaitingTriage", "lastActivityAt"), "clinic worklist: awaiting triage (services/cases.py)"),
)

DECLARED_INDEXES: tuple[IndexSpec, ...] = (
    *shares.INDEXES,
    *audit_entries.INDEXES,
    *clinics.INDEXES,
    *folders.INDEXES,  # (type, createdAt) serves a patient's comments too (services/comments.py)
    *_NOT_YET_IN_A_REPOSITORY,
)
