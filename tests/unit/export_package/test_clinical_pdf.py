"""The printable summary carries the excision listing, the patient's lesion history, what the
patient wrote per photo, the clinic's measurements, "Uploaded" for upload-time photos and whether
the NHS number was verified."""

import dataclasses

from shared_code.export_package import MeasurementInfo
from tests.unit.export_package.test_clinical_fhir import clinical_sample
from tests.unit.export_package.test_pdf import pdf_text, summary


def test_summary_lists_excision_lesion_history_patient_words_measurements_and_upload_times(tmp_path):
    sample = clinical_sample()
    measured = MeasurementInfo(length_mm=6.2, calibration_mm=10, author_name="Dr Priya Raman", created_at="2024-06-02T16:45:00Z")
    first = dataclasses.replace(sample.photos[0], captured_at=None, rating=4, description="Raised edge", measurements=(measured,))
    sample = dataclasses.replace(sample, photos=[first, *sample.photos[1:]])
    text = " ".join(pdf_text(tmp_path, summary(sample)).split())
    for expected in (
        "Listed for excision",
        "Punch biopsy",
        "priority Urgent",
        "Lesion history",
        "Usually burns, tans a little (fair skin)",
        "Patient's rating: 4 out of 10",
        "Patient's description: Raised edge",
        "Measured 6.2 mm",
        "uploaded 1 May 2024",
        "not verified (entered by the patient)",
    ):
        assert expected in text, expected
