"""The clinic-side clinical records of a case (triage decisions per folder, measurements on photos)
leave with the case when the patient erases their account: they name the patient's folders."""

from __future__ import annotations

from shared_code.domain.measurement import Measurement
from shared_code.domain.triage import TriageEntry
from shared_code.ports import CLINICS, MetadataStore, NotFound
from shared_code.services import paging


def forget_case(store: MetadataStore, clinic_id: str, case_id: str) -> int:
    """Delete the case's triage entries and measurements; returns how many went. Idempotent."""
    gone = 0
    for doc_type in (TriageEntry.TYPE, Measurement.TYPE):
        for doc in paging.fetch_all(store, CLINICS, clinic_id, where={"type": doc_type, "caseId": case_id}, order_by="id"):
            try:
                store.delete(CLINICS, clinic_id, doc["id"])
                gone += 1
            except NotFound:
                pass
    return gone
