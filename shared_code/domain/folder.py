"""The Folder aggregate: one of a patient's photo folders, typed, over the stored document.

``from_doc``/``to_doc`` keep the stored documents as they are (no migration; unknown fields are
carried through untouched). ``view`` lists the fields the API publishes
(shared_code/api/openapi.yaml#/components/schemas/Folder): an internal field added to the document
later is not shown unless it is added there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared_code.domain.body_sites import BODY_SITES
from shared_code.domain.lesion_history import LesionHistory

DOC_TYPE = "folder"
SNOMED_CT = "http://snomed.info/sct"

_KNOWN = frozenset(
    {
        "id",
        "patientId",
        "type",
        "name",
        "bodySite",
        "condition",
        "treatment",
        "notes",
        "startDate",
        "archived",
        "createdAt",
        "updatedAt",
        "_etag",
    }
)


@dataclass(frozen=True)
class Folder:
    id: str
    patient_id: str
    name: str
    created_at: str
    updated_at: str
    body_site: str | None = None
    condition: str | None = None
    treatment: str | None = None
    notes: str | None = None
    start_date: str | None = None
    archived: bool = False
    etag: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Folder:
        if doc.get("type") != DOC_TYPE:
            raise ValueError("not a folder document")
        return cls(
            id=doc["id"],
            patient_id=doc["patientId"],
            name=doc["name"],
            created_at=doc["createdAt"],
            updated_at=doc.get("updatedAt", doc["createdAt"]),
            body_site=doc.get("bodySite"),
            condition=doc.get("condition"),
            treatment=doc.get("treatment"),
            notes=doc.get("notes"),
            start_date=doc.get("startDate"),
            archived=bool(doc.get("archived")),
            etag=doc.get("_etag"),
            extra={k: v for k, v in doc.items() if k not in _KNOWN},
        )

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            **self.extra,
            "id": self.id,
            "patientId": self.patient_id,
            "type": DOC_TYPE,
            "name": self.name,
            "bodySite": self.body_site,
            "condition": self.condition,
            "treatment": self.treatment,
            "notes": self.notes,
            "startDate": self.start_date,
            "archived": self.archived,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }
        if self.etag is not None:
            doc["_etag"] = self.etag
        return doc

    def body_site_code(self) -> dict[str, str] | None:
        """The body site as a SNOMED CT coding, or None."""
        if not self.body_site:
            return None
        code, display = BODY_SITES[self.body_site][0], BODY_SITES[self.body_site][1]
        return {"system": SNOMED_CT, "code": code, "display": display}

    @property
    def lesion_history(self) -> dict[str, Any] | None:
        """The lesion-history questionnaire as stored (kept as it is, like any field added later)."""
        stored: dict[str, Any] | None = self.extra.get("lesionHistory")
        return stored

    def view(self) -> dict[str, Any]:
        """The published fields, and only those."""
        return {
            "id": self.id,
            "name": self.name,
            "bodySite": self.body_site,
            "bodySiteCode": self.body_site_code(),
            "condition": self.condition,
            "treatment": self.treatment,
            "notes": self.notes,
            "startDate": self.start_date,
            "archived": self.archived,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "etag": self.etag,
            "lesionHistory": LesionHistory.view_of(self.lesion_history),  # the questionnaire's answers, in words
        }
