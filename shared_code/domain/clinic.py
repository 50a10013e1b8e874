"""The Clinic aggregate: a clinic as stored (its own partition of CLINICS), typed.

``from_doc``/``to_doc`` keep the stored documents as they are (no migration; unknown fields are
carried through). ``view`` lists the fields the admin API publishes; ``public_view`` what a
patient who typed the clinic's code sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DOC_TYPE = "clinic"

_KNOWN = frozenset({"id", "clinicId", "type", "name", "odsCode", "notificationEmail", "shareCode", "createdAt", "_etag"})


EXPORT_OPTIONS = ("exportFormats", "exportInlineBinary")


@dataclass(frozen=True)
class Clinic:
    id: str
    name: str
    ods_code: str
    notification_email: str
    share_code: str
    created_at: str | None = None
    etag: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Clinic:
        if doc.get("type") != DOC_TYPE:
            raise ValueError("not a clinic document")
        return cls(
            id=doc["id"],
            name=doc["name"],
            ods_code=doc["odsCode"],
            notification_email=doc["notificationEmail"],
            share_code=doc["shareCode"],
            created_at=doc.get("createdAt"),
            etag=doc.get("_etag"),
            extra={k: v for k, v in doc.items() if k not in _KNOWN},
        )

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            **self.extra,
            "id": self.id,
            "clinicId": self.id,
            "type": DOC_TYPE,
            "name": self.name,
            "odsCode": self.ods_code,
            "notificationEmail": self.notification_email,
            "shareCode": self.share_code,
        }
        if self.created_at is not None:
            doc["createdAt"] = self.created_at
        if self.etag is not None:
            doc["_etag"] = self.etag
        return doc

    def view(self) -> dict[str, Any]:
        """What admins see (shared_code/api/openapi.yaml#/components/schemas/Clinic), and only that."""
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "odsCode": self.ods_code,
            "notificationEmail": self.notification_email,
            "shareCode": self.share_code,
        }
        if self.created_at is not None:
            out["createdAt"] = self.created_at
        for name in EXPORT_OPTIONS:  # what the clinic's EPR exports hold (services/exports.py)
            if name in self.extra:
                out[name] = self.extra[name]
        return out

    def public_view(self) -> dict[str, Any]:
        """What a patient sees after typing the clinic's code: no email, no code."""
        return {"id": self.id, "name": self.name, "organisation": {"odsCode": self.ods_code}}
