"""Quality flags, triage outcomes and share purposes are declared once (shared_code/domain/vocabulary.py);
the OpenAPI document, the patient-facing texts and the rules all use those same values."""

from __future__ import annotations

from pathlib import Path

import yaml

from shared_code.domain.conversation import OUTCOME_TEXT
from shared_code.domain.imaging import ADVICE
from shared_code.domain.sharing import PURPOSES
from shared_code.domain.triage import OUTCOMES as CODED_OUTCOMES
from shared_code.domain.vocabulary import QualityFlagCode, SharePurpose, TriageOutcome, values
from shared_code.export_package.pdf import _PURPOSES as PDF_PURPOSE_LABELS
from shared_code.services.cases import TRIAGE_OUTCOMES, TRIAGE_SCHEMA

DOCUMENT = Path(__file__).resolve().parents[3] / "shared_code" / "api" / "openapi.yaml"


def _schemas() -> dict:
    return yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))["components"]["schemas"]


def test_openapi_document_lists_the_same_values_in_the_same_order():
    schemas = _schemas()
    assert schemas["QualityFlagCode"]["enum"] == list(values(QualityFlagCode))
    assert schemas["TriageOutcome"]["enum"] == list(values(TriageOutcome))
    assert schemas["SharePurpose"]["enum"] == list(values(SharePurpose))
    assert schemas["TriageRequest"]["properties"]["outcome"]["enum"] == list(values(TriageOutcome))


def test_every_quality_flag_has_advice_and_nothing_else_does():
    assert set(ADVICE) == set(values(QualityFlagCode))


def test_every_triage_outcome_has_patient_text_and_is_accepted():
    assert set(OUTCOME_TEXT) == set(values(TriageOutcome))
    assert TRIAGE_OUTCOMES == values(TriageOutcome)
    assert TRIAGE_SCHEMA["properties"]["outcome"]["enum"] == list(values(TriageOutcome))


def test_per_folder_coded_triage_has_exactly_the_outcomes():
    assert set(CODED_OUTCOMES) == set(values(TriageOutcome))
    assert set(_schemas()["FolderTriageRequest"]["properties"]["outcome"]["enum"]) == set(values(TriageOutcome))


def test_share_rules_and_the_pdf_summary_know_exactly_the_purposes():
    assert PURPOSES == values(SharePurpose)
    assert set(PDF_PURPOSE_LABELS) == set(values(SharePurpose))


def test_members_are_the_plain_strings_stored_in_documents():
    assert TriageOutcome.DISCHARGE == "discharge"
    assert f"{QualityFlagCode.TOO_DARK}" == "too-dark"
    assert all(type(v) is str for v in values(SharePurpose))
