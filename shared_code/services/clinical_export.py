"""What the EPR export takes from the clinical records: a folder's excision listing (its current
triage decision, when that is list-for-excision) and the patient's lesion-history answers."""

from __future__ import annotations

from shared_code import export_package as pkg
from shared_code.domain.lesion_history import LesionHistory
from shared_code.domain.triage import TriageEntry


def excision_info(case: dict, folder_id: str) -> pkg.ExcisionInfo | None:
    doc = (case.get("folderTriage") or {}).get(folder_id)
    if not doc:
        return None
    entry = TriageEntry.from_doc(doc)
    if entry.outcome != "list-for-excision" or entry.excision is None:
        return None
    return pkg.ExcisionInfo(
        procedure=entry.excision.procedure,
        priority=entry.excision.priority,
        recorded_by=entry.recorded_by,
        recorded_at=entry.recorded_at,
        entry_id=entry.id,
    )


def lesion_history_info(folder: dict) -> pkg.LesionHistoryInfo | None:
    if not folder.get("lesionHistory"):
        return None
    history = LesionHistory.from_doc(folder["lesionHistory"])
    return pkg.LesionHistoryInfo(answers=history.answers, answered_at=history.answered_at)
