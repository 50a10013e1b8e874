"""The export carries "List for excision" as a coded FHIR R4 ServiceRequest and the patient's lesion
history as a QuestionnaireResponse, both validated with the fhir.resources R4B models."""

import dataclasses

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.servicerequest import ServiceRequest

from shared_code.export_package import ExcisionInfo, LesionHistoryInfo
from tests.support.export_fixtures import build_sample_package, sample_export

ANSWERS = (
    ("duration", "1-6-months"),
    ("changedSize", "yes"),
    ("changedShape", "no"),
    ("changedColour", "yes"),
    ("bleeding", "no"),
    ("itching", "not-sure"),
    ("personalHistory", "no"),
    ("familyHistory", "yes"),
    ("skinType", "II"),
)


def clinical_sample():
    sample = sample_export()
    mole, scalp = sample.folders
    mole = dataclasses.replace(
        mole,
        excision=ExcisionInfo(
            procedure="punch", priority="urgent", recorded_by="Dr Priya Raman", recorded_at="2024-06-02T16:40:00Z", entry_id="tri-1"
        ),
        lesion_history=LesionHistoryInfo(answers=ANSWERS, answered_at="2024-05-01T12:15:00Z"),
    )
    return dataclasses.replace(sample, folders=[mole, scalp])


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_list_for_excision_is_a_coded_service_request_with_site_procedure_and_priority():
    bundle = build_sample_package(clinical_sample()).bundle()
    Bundle.model_validate(bundle)
    (request,) = resources(bundle, "ServiceRequest")
    ServiceRequest.model_validate(request)
    assert request["intent"] == "order" and request["status"] == "active" and request["priority"] == "urgent"
    assert request["code"]["coding"][0] == {"system": "http://snomed.info/sct", "code": "240977001", "display": "Biopsy of skin"}
    assert request["code"]["text"] == "Punch biopsy"
    assert request["bodySite"][0]["coding"][0]["code"] == "66480008"  # Structure of left forearm, the folder's site
    patient_url = next(e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert request["subject"] == {"reference": patient_url}
    provenance = resources(bundle, "Provenance")[0]
    assert any(t["reference"] == e["fullUrl"] for t in provenance["target"] for e in bundle["entry"] if e["resource"] is request)


def test_lesion_history_is_a_completed_questionnaire_response_in_plain_words():
    bundle = build_sample_package(clinical_sample()).bundle()
    (response,) = resources(bundle, "QuestionnaireResponse")
    QuestionnaireResponse.model_validate(response)
    assert response["status"] == "completed" and response["authored"].startswith("2024-05-01T12:15:00")
    items = {i["linkId"]: i for i in response["item"]}
    assert items["lesion"]["answer"][0]["valueCoding"]["code"] == "66480008"
    assert items["skinType"]["answer"][0]["valueCoding"]["display"] == "Usually burns, tans a little (fair skin)"
    assert items["familyHistory"]["text"].startswith("Has a parent")


def test_folders_without_a_listing_or_answers_add_no_clinical_resources():
    bundle = build_sample_package(sample_export()).bundle()
    assert not resources(bundle, "ServiceRequest") and not resources(bundle, "QuestionnaireResponse")


def test_nhs_number_carries_the_uk_core_verification_status():
    ext = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
    typed = build_sample_package(sample_export()).bundle()
    (patient,) = resources(typed, "Patient")
    (status,) = [e for e in patient["identifier"][0]["extension"] if e["url"] == ext]
    assert status["valueCodeableConcept"]["coding"][0]["code"] == "02"  # present but not traced
    sample = sample_export()
    verified_patient = dataclasses.replace(
        sample.info.patient, nhs_number_verified=True, given_name="Zoë", family_name="Ćwikła-Smith", administrative_gender="female"
    )
    verified = dataclasses.replace(sample, info=dataclasses.replace(sample.info, patient=verified_patient))
    bundle = build_sample_package(verified).bundle()
    Bundle.model_validate(bundle)
    (patient,) = resources(bundle, "Patient")
    assert patient["identifier"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "01"
    assert patient["name"][0]["family"] == "Ćwikła-Smith" and patient["name"][0]["given"] == ["Zoë"]
    assert patient["gender"] == "female"
    (typed_patient,) = resources(typed, "Patient")
    assert "gender" not in typed_patient  # optional: absent unless the patient gave it


def test_what_the_patient_wrote_and_upload_times_reach_the_export_and_dicom_stays_valid(tmp_path):
    import io
    import shutil
    import subprocess

    import pydicom

    sample = sample_export()
    first = dataclasses.replace(sample.photos[0], captured_at=None, rating=7, description="Raised edge", treatment="Emollient twice a day")
    sample = dataclasses.replace(sample, photos=[first, *sample.photos[1:]])
    package = build_sample_package(sample)
    media = next(m for m in resources(package.bundle(), "Media") if any("Raised edge" in n["text"] for n in m.get("note", [])))
    notes = [n["text"] for n in media["note"]]
    assert "Patient's rating: 7 out of 10" in notes and "Treatment at the time: Emollient twice a day" in notes
    assert any(n.startswith("Uploaded ") for n in notes) and not any("Taken" in n for n in notes)
    archive = package.zip
    comments = []
    for name in (n for n in archive.namelist() if n.startswith("dicom/")):
        data = archive.read(name)
        ds = pydicom.dcmread(io.BytesIO(data))
        comments.append(str(ds.get("ImageComments", "")))
        path = tmp_path / name.replace("/", "_")
        path.write_bytes(data)
        result = subprocess.run([shutil.which("dciodvfy") or "dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
        report = result.stdout + result.stderr
        assert not [line for line in report.splitlines() if line.startswith("Error")], report
    assert sum(c.startswith("Uploaded ") for c in comments) == 1
