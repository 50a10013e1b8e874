"""The AuditEntry aggregate: one append-only record of who did what concerning a patient.

``from_doc``/``to_doc`` read and write the stored documents as they are (no migration); a field
this code does not know is carried through. Entries hold ids, never names, notes or image data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DOC_TYPE = "audit"
SUCCESS = "success"

_KNOWN = frozenset({"id", "patientId", "type", "at", "actorKind", "actorId", "clinicId", "action", "targetType", "targetId", "outcome", "_etag"})


@dataclass(frozen=True)
class AuditEntry:
    id: str
    patient_id: str
    at: str
    actor_kind: str  # patient | clinician | researcher | system
    actor_id: str
    action: str
    clinic_id: str | None
    target_type: str | None
    target_id: str | None
    outcome: str = SUCCESS
    etag: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> AuditEntry:
        if doc.get("type") != DOC_TYPE:
            raise ValueError("not an audit document")
        return cls(
            id=doc["id"],
            patient_id=doc["patientId"],
            at=doc["at"],
            actor_kind=doc["actorKind"],
            actor_id=doc["actorId"],
            action=doc["action"],
            clinic_id=doc.get("clinicId"),
            target_type=doc.get("targetType"),
            target_id=doc.get("targetId"),
            outcome=doc.get("outcome", SUCCESS),
            etag=doc.get("_etag"),
            extra={k: v for k, v in doc.items() if k not in _KNOWN},
        )

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            **self.extra,
            "id": self.id,
            "patientId": self.patient_id,
            "type": DOC_TYPE,
            "at": self.at,
            "actorKind": self.actor_kind,
            "actorId": self.actor_id,
            "clinicId": self.clinic_id,
            "action": self.action,
            "targetType": self.target_type,
            "targetId": self.target_id,
            "outcome": self.outcome,
        }
        if self.etag is not None:
            doc["_etag"] = self.etag
        return doc
