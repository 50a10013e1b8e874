"""The Share aggregate: a patient's permission for one clinic, typed, over the stored document.

``Share.from_doc``/``to_doc`` read and write the very documents already stored (no migration):
field names, nulls and optional fields are kept as they are, and fields this code does not know
(written by a newer version) are carried through untouched. ``view`` lists the fields the API
publishes: anything else in the document (``expiryAudited``, the partition key, the ETag) is not
shown, because a new internal field is not in the list, rather than because someone remembered to
hide it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from shared_code.domain.common import parse_instant
from shared_code.domain.sharing import ACTIVE, EXPIRED, REVOKED

DOC_TYPE = "share"

# the fields of a share document this module knows; any other is kept in Share.extra
_KNOWN = frozenset(
    {
        "id",
        "type",
        "patientId",
        "clinicId",
        "allFolders",
        "folderIds",
        "purposes",
        "expiresAt",
        "grantedAt",
        "revokedAt",
        "endReason",
        "consent",
        "expiryAudited",
        "_etag",
    }
)


@dataclass(frozen=True)
class ShareConsent:
    """Which consent text the patient accepted, and when (the hash proves the words)."""

    text_version: str
    text_hash: str
    accepted_at: str
    accepted_by: str | None = None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> ShareConsent:
        return cls(text_version=doc["textVersion"], text_hash=doc["textHash"], accepted_at=doc["acceptedAt"], accepted_by=doc.get("acceptedBy"))

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"textVersion": self.text_version, "textHash": self.text_hash, "acceptedAt": self.accepted_at}
        if self.accepted_by is not None:
            doc["acceptedBy"] = self.accepted_by
        return doc

    def view(self) -> dict[str, Any]:
        return self.to_doc()


@dataclass(frozen=True)
class Share:
    id: str
    patient_id: str
    clinic_id: str
    all_folders: bool
    folder_ids: tuple[str, ...] | None
    purposes: tuple[str, ...]
    expires_at: str
    granted_at: str
    consent: ShareConsent
    revoked_at: str | None = None
    end_reason: str | None = None
    expiry_audited: bool = False  # internal: the expiry has been written to the audit trail
    etag: str | None = None  # the store's, for optimistic concurrency
    extra: dict[str, Any] = field(default_factory=dict)  # stored fields this version does not know

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Share:
        if doc.get("type") != DOC_TYPE:
            raise ValueError("not a share document")
        folder_ids = doc.get("folderIds")
        return cls(
            id=doc["id"],
            patient_id=doc["patientId"],
            clinic_id=doc["clinicId"],
            all_folders=bool(doc.get("allFolders")),
            folder_ids=None if folder_ids is None else tuple(folder_ids),
            purposes=tuple(doc.get("purposes") or ()),
            expires_at=doc["expiresAt"],
            granted_at=doc["grantedAt"],
            consent=ShareConsent.from_doc(doc["consent"]),
            revoked_at=doc.get("revokedAt"),
            end_reason=doc.get("endReason"),
            expiry_audited=bool(doc.get("expiryAudited")),
            etag=doc.get("_etag"),
            extra={k: v for k, v in doc.items() if k not in _KNOWN},
        )

    def to_doc(self) -> dict[str, Any]:
        """The stored document (with ``_etag`` when this share was read, for a conditional write)."""
        doc: dict[str, Any] = {
            **self.extra,
            "id": self.id,
            "patientId": self.patient_id,
            "type": DOC_TYPE,
            "clinicId": self.clinic_id,
            "allFolders": self.all_folders,
            "folderIds": None if self.folder_ids is None else list(self.folder_ids),
            "purposes": list(self.purposes),
            "expiresAt": self.expires_at,
            "grantedAt": self.granted_at,
            "revokedAt": self.revoked_at,
            "endReason": self.end_reason,
            "consent": self.consent.to_doc(),
        }
        if self.expiry_audited:
            doc["expiryAudited"] = True
        if self.etag is not None:
            doc["_etag"] = self.etag
        return doc

    # --- rules ------------------------------------------------------------------------------------

    def state(self, now: datetime) -> str:
        if self.revoked_at:
            return REVOKED
        if parse_instant(self.expires_at) <= now:
            return EXPIRED
        return ACTIVE

    def is_active(self, now: datetime) -> bool:
        return self.state(now) == ACTIVE

    def covers_folder(self, folder_id: str) -> bool:
        return self.all_folders or folder_id in (self.folder_ids or ())

    def ended(self, at: str, reason: str) -> Share:
        return replace(self, revoked_at=at, end_reason=reason)

    def order_key(self) -> tuple[datetime, str]:
        """Which of two shares is newer: (grantedAt, id)."""
        return (parse_instant(self.granted_at), self.id)

    # --- what the API shows -----------------------------------------------------------------------

    def view(self, now: datetime, clinic_name: str | None = None) -> dict[str, Any]:
        """The published fields, and only those (shared_code/api/openapi.yaml#/components/schemas/Share)."""
        out: dict[str, Any] = {
            "id": self.id,
            "clinicId": self.clinic_id,
            "state": self.state(now),
            "endReason": self.end_reason,
            "allFolders": self.all_folders,
            "folderIds": None if self.folder_ids is None else list(self.folder_ids),
            "purposes": list(self.purposes),
            "expiresAt": self.expires_at,
            "grantedAt": self.granted_at,
            "revokedAt": self.revoked_at,
            "consent": self.consent.view(),
        }
        if clinic_name is not None:
            out["clinicName"] = clinic_name
        return out
