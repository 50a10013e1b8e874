"""Measuring a lesion on a photo: calibrate on a ruler in the photo, then measure in millimetres. Pure.

Points are in the stored photo's pixel coordinates (what the viewer shows, whatever the zoom). The
calibration line spans a known length on the ruler; the measured length is the measured line's
pixel length scaled by millimetres per pixel. A measurement is the clinic's annotation of the
photo: kept in the clinic's partition, exported with the photo, never shown to the patient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from shared_code.domain.errors import RuleViolation

_POINT = {"type": "number", "minimum": 0, "maximum": 100000}
_LINE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["x1", "y1", "x2", "y2"],
    "properties": {"x1": _POINT, "y1": _POINT, "x2": _POINT, "y2": _POINT},
}
MEASUREMENT_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["calibration", "line"],
    "properties": {
        "calibration": {
            "type": "object",
            "additionalProperties": False,
            "required": ["line", "millimetres"],
            "properties": {"line": _LINE, "millimetres": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000}},
        },
        "line": _LINE,
        "label": {"type": ["string", "null"], "maxLength": 200},
    },
}
MIN_CALIBRATION_PIXELS = 10.0  # shorter than this and the scale is mostly the clinician's hand


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Line:
        return cls(float(doc["x1"]), float(doc["y1"]), float(doc["x2"]), float(doc["y2"]))

    def to_doc(self) -> dict[str, float]:
        return {"x1": self.x1, "y1": self.y1, "x2": self.x2, "y2": self.y2}

    @property
    def pixels(self) -> float:
        return math.hypot(self.x2 - self.x1, self.y2 - self.y1)


def measure_mm(calibration: Line, calibration_mm: float, line: Line) -> float:
    if calibration.pixels < MIN_CALIBRATION_PIXELS:
        raise RuleViolation("Draw the calibration line along a longer stretch of the ruler.")
    if line.pixels <= 0:
        raise RuleViolation("Draw the measuring line across the lesion.")
    return round(line.pixels * calibration_mm / calibration.pixels, 1)


@dataclass(frozen=True)
class Measurement:
    id: str
    clinic_id: str
    case_id: str
    image_id: str
    calibration: Line
    calibration_mm: float
    line: Line
    length_mm: float
    label: str | None
    created_at: str
    author_name: str
    author_sub: str

    TYPE = "measurement"

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Measurement:
        return cls(
            id=doc["id"],
            clinic_id=doc["clinicId"],
            case_id=doc["caseId"],
            image_id=doc["imageId"],
            calibration=Line.from_doc(doc["calibration"]["line"]),
            calibration_mm=float(doc["calibration"]["millimetres"]),
            line=Line.from_doc(doc["line"]),
            length_mm=float(doc["lengthMm"]),
            label=doc.get("label"),
            created_at=doc["createdAt"],
            author_name=doc["authorName"],
            author_sub=doc["authorSub"],
        )

    def to_doc(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "clinicId": self.clinic_id,
            "type": self.TYPE,
            "caseId": self.case_id,
            "imageId": self.image_id,
            "calibration": {"line": self.calibration.to_doc(), "millimetres": self.calibration_mm},
            "line": self.line.to_doc(),
            "lengthMm": self.length_mm,
            "label": self.label,
            "createdAt": self.created_at,
            "authorName": self.author_name,
            "authorSub": self.author_sub,
        }

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "imageId": self.image_id,
            "calibration": {"line": self.calibration.to_doc(), "millimetres": self.calibration_mm},
            "line": self.line.to_doc(),
            "lengthMm": self.length_mm,
            "label": self.label,
            "createdAt": self.created_at,
            "author": {"name": self.author_name},
        }
