"""The patient answers the lesion-history questionnaire per folder; the patient and the clinic that
has the folder shared read it (the clinic's read is audited as looking at the folder)."""

from __future__ import annotations

from typing import Any

from shared_code.auth.principal import PATIENT, Principal
from shared_code.domain.common import iso
from shared_code.domain.errors import NotFoundError
from shared_code.domain.lesion_history import LesionHistory
from shared_code.ports import PATIENTS
from shared_code.services import access, concurrency


def answer(services: Any, user: Principal, folder_id: str, body: dict) -> dict:
    folder, _ = access.folder_for(services, user, folder_id)
    if user.kind != PATIENT:
        raise NotFoundError()
    history = LesionHistory.from_answers(body, iso(services.clock.now()))

    def change(doc: dict) -> None:
        doc["lesionHistory"] = history.to_doc()

    if concurrency.modify(services.store, PATIENTS, folder, change) is None:
        raise NotFoundError()
    return {"folderId": folder_id, **history.view()}


def read(services: Any, user: Principal, folder_id: str) -> dict:
    folder, _ = access.folder_for(services, user, folder_id)
    if not folder.get("lesionHistory"):
        raise NotFoundError("This folder's questions have not been answered yet.")
    return {"folderId": folder_id, **LesionHistory.from_doc(folder["lesionHistory"]).view()}
