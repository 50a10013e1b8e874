"""Clinician measurements on a photo (calibrated on a ruler), kept in the clinic's partition."""

from __future__ import annotations

from typing import Any

from shared_code.auth.principal import Principal
from shared_code.domain.common import iso, new_id
from shared_code.domain.errors import NotFoundError
from shared_code.domain.measurement import Line, Measurement, measure_mm
from shared_code.ports import CLINICS
from shared_code.services import access, cases, clinics, paging


def _case_and_image(services: Any, user: Principal, case_id: str, image_id: str, action: str) -> dict:
    case = cases.find_case(services.store, user.clinic_ids, case_id)
    owner = access.owner_of(services.store, "img", image_id)
    if owner["patientId"] != case["patientId"]:
        raise NotFoundError()
    _, acc = access.image_for(services, user, image_id, action=action)
    if acc.clinic_id != case["clinicId"]:
        raise NotFoundError()
    return case


def add(services: Any, user: Principal, case_id: str, image_id: str, body: dict) -> dict:
    calibration = Line.from_doc(body["calibration"]["line"])
    millimetres = float(body["calibration"]["millimetres"])
    line = Line.from_doc(body["line"])
    length = measure_mm(calibration, millimetres, line)  # before the access is audited: a bad drawing changes nothing
    case = _case_and_image(services, user, case_id, image_id, "measured")
    measurement = Measurement(
        id=new_id("msr"),
        clinic_id=case["clinicId"],
        case_id=case["id"],
        image_id=image_id,
        calibration=calibration,
        calibration_mm=millimetres,
        line=line,
        length_mm=length,
        label=(body.get("label") or "").strip() or None,
        created_at=iso(services.clock.now()),
        author_name=clinics.member_name(services.store, case["clinicId"], user.sub),
        author_sub=user.sub,
    )
    services.store.create(CLINICS, measurement.to_doc())
    return measurement.view()


def for_image(services: Any, user: Principal, case_id: str, image_id: str) -> dict:
    case = _case_and_image(services, user, case_id, image_id, "viewed-image")
    return {"items": [m.view() for m in of_images(services, case, (image_id,))], "continuationToken": None}


def of_images(services: Any, case: dict, image_ids: tuple[str, ...] | list[str]) -> list[Measurement]:
    """The case's measurements on these photos, oldest first (the clinic's own records)."""
    wanted = set(image_ids)
    docs = paging.fetch_all(services.store, CLINICS, case["clinicId"], where={"type": Measurement.TYPE, "caseId": case["id"]}, order_by="createdAt")
    return [Measurement.from_doc(d) for d in docs if d["imageId"] in wanted]
