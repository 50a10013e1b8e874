"""The lesion-history questionnaire: every question answered in plain words, stored and read back."""

import jsonschema
import pytest

from shared_code.domain.lesion_history import LESION_HISTORY_SCHEMA, QUESTIONS, LesionHistory, questionnaire_view


def all_first_answers() -> dict[str, str]:
    return {q.link_id: q.options[0][0] for q in QUESTIONS}


def test_the_questions_cover_duration_change_bleeding_itching_history_and_skin_type():
    ids = {q.link_id for q in QUESTIONS}
    assert ids == {"duration", "changedSize", "changedShape", "changedColour", "bleeding", "itching", "personalHistory", "familyHistory", "skinType"}
    skin = next(q for q in QUESTIONS if q.link_id == "skinType")
    assert [c for c, _ in skin.options] == ["I", "II", "III", "IV", "V", "VI"]
    assert all("Fitzpatrick" not in d for _, d in skin.options)  # plain words, not jargon


def test_schema_needs_every_answer_from_the_options():
    jsonschema.validate(all_first_answers(), LESION_HISTORY_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**all_first_answers(), "skinType": "VII"}, LESION_HISTORY_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"duration": "always"}, LESION_HISTORY_SCHEMA)


def test_answers_round_trip_and_read_in_plain_words():
    history = LesionHistory.from_answers(all_first_answers(), "2026-12-02T08:00:00Z")
    assert LesionHistory.from_doc(history.to_doc()) == history
    assert history.lines()[0] == ("How long have you had it?", "Less than a month")
    assert len(questionnaire_view()["items"]) == len(QUESTIONS)
