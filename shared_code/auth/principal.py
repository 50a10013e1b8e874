"""Who is calling: derived from a validated token (and, for clinicians, clinic membership data)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

PATIENT = "patient"
CLINICIAN = "clinician"
ADMIN = "admin"


def patient_id_for(issuer: str, sub: str) -> str:
    """Stable, opaque patient id: never the NHS login subject itself."""
    return "pt-" + hashlib.sha256(f"{issuer}|{sub}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Principal:
    kind: str
    sub: str
    issuer: str
    name: str = ""
    email: str | None = None
    clinic_ids: tuple[str, ...] = field(default_factory=tuple)
    nhs_number: str | None = None  # NHS login's verified nhs_number claim (patients), when the token has one

    @property
    def patient_id(self) -> str:
        if self.kind != PATIENT:
            raise ValueError("only patients have a patient id")
        return patient_id_for(self.issuer, self.sub)
