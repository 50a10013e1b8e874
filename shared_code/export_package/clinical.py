"""FHIR R4 resources for clinical decisions and the patient's lesion history (pure, plain dicts).

- ServiceRequest per folder listed for excision: code = the procedure (SNOMED CT), bodySite = the
  folder's body site (SNOMED CT), priority = routine | urgent | asap, intent "order", status
  "active", requester = the clinician who triaged, performer = the clinic; reasonCode = the outcome.
- QuestionnaireResponse per folder whose lesion history the patient answered: status "completed",
  authored = when they answered, source and subject = the patient; each answer a Coding in
  SkinVault's answer code system, with the question's and answer's plain words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared_code.domain.body_sites import SNOMED_CT_SYSTEM
from shared_code.domain.lesion_history import ANSWER_SYSTEM, BY_ID, QUESTIONNAIRE_URL, QUESTIONNAIRE_VERSION
from shared_code.domain.triage import OUTCOMES, PROCEDURES
from shared_code.export_package.times import fhir_datetime, parse_instant

if TYPE_CHECKING:
    from shared_code.export_package.plan import ExportPlan, PlannedFolder


def _coding(coding: Any) -> dict[str, str]:
    return {"system": coding.system, "code": coding.code, "display": coding.display}


def service_request(plan: ExportPlan, folder: PlannedFolder, urls: dict[str, str]) -> dict[str, Any] | None:
    excision = folder.info.excision
    if excision is None:
        return None
    procedure = PROCEDURES[excision.procedure]
    outcome = OUTCOMES["list-for-excision"]
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "identifier": [{"system": "https://skinvault.nhs.example/Id/triage-entry", "value": excision.entry_id}],
        "status": "active",
        "intent": "order",
        "category": [{"coding": [{"system": SNOMED_CT_SYSTEM, "code": "387713003", "display": "Surgical procedure"}]}],
        "priority": excision.priority,
        "code": {"coding": [_coding(procedure.coding)], "text": procedure.label},
        "subject": {"reference": urls["patient"]},
        "authoredOn": fhir_datetime(parse_instant(excision.recorded_at)),
        "requester": {"reference": urls["practitioner"], "display": excision.recorded_by},
        "performer": [{"reference": urls["organization"]}],
        "reasonCode": [{"coding": [_coding(outcome.coding)], "text": outcome.label}] if outcome.coding else [{"text": outcome.label}],
        "note": [{"text": f"Listed through SkinVault: {procedure.label}, {folder.info.name}"}],
    }
    site = folder.body_site
    if site:
        resource["bodySite"] = [{"coding": [{"system": SNOMED_CT_SYSTEM, "code": site.code, "display": site.display}], "text": site.label}]
    else:
        resource["bodySite"] = [{"text": folder.info.name}]
    return resource


def questionnaire_response(plan: ExportPlan, folder: PlannedFolder, urls: dict[str, str]) -> dict[str, Any] | None:
    history = folder.info.lesion_history
    if history is None:
        return None
    items = []
    for link_id, code in history.answers:
        question = BY_ID.get(link_id)
        if question is None:
            continue
        items.append(
            {
                "linkId": link_id,
                "text": question.text,
                "answer": [{"valueCoding": {"system": ANSWER_SYSTEM, "code": code, "display": question.display(code)}}],
            }
        )
    site = folder.body_site
    items.insert(
        0,
        {
            "linkId": "lesion",
            "text": "Which skin problem (the patient's folder)",
            "answer": [
                {"valueCoding": {"system": SNOMED_CT_SYSTEM, "code": site.code, "display": site.display}}
                if site
                else {"valueString": folder.info.name}
            ],
        },
    )
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{QUESTIONNAIRE_URL}|{QUESTIONNAIRE_VERSION}",
        "status": "completed",
        "subject": {"reference": urls["patient"]},
        "authored": fhir_datetime(parse_instant(history.answered_at)),
        "author": {"reference": urls["patient"]},
        "source": {"reference": urls["patient"]},
        "item": items,
    }


def clinical_entries(plan: ExportPlan, urls: dict[str, str]) -> list[dict[str, Any]]:
    entries = []
    for folder in plan.folders:
        for kind, build in (("ServiceRequest", service_request), ("QuestionnaireResponse", questionnaire_response)):
            resource = build(plan, folder, urls)
            if resource is not None:
                url = f"urn:uuid:{plan.uuid_for(kind, folder.info.id)}"
                entries.append({"fullUrl": url, "resource": resource, "request": {"method": "POST", "url": kind}})
    return entries


def measurement_text(measurement: Any) -> str:
    """ "Measured 6.2 mm (calibrated on 10 mm of a ruler in the photo) by Dr X, 1 May 2024, 14:32" (UK time)."""
    from shared_code.export_package.times import human_datetime

    what = f" ({measurement.label})" if measurement.label else ""
    return (
        f"Measured {measurement.length_mm:g} mm{what}, calibrated on {measurement.calibration_mm:g} mm of a ruler in the photo, "
        f"by {measurement.author_name}, {human_datetime(parse_instant(measurement.created_at))}"
    )
