"""Study aggregate rules: stored document round trip, versioned hashed information, consent, schedules."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shared_code.domain.errors import RuleViolation
from shared_code.domain.studies import Study, information_hash, new_participant_code, schedule, timepoint_for

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
BODY = {
    "clinicId": "cln-1",
    "title": " Acne study ",
    "sponsor": "Sponsor",
    "recReference": "24/NE/0001",
    "irasId": "",
    "startDate": "2026-01-01",
    "endDate": "2027-01-01",
    "scheduleWeeks": [12, 0, 4, 4],
    "bodySites": ["face"],
    "participantInformation": {"title": "Taking part", "paragraphs": ["One.", "Two."]},
}


def test_a_new_study_normalises_and_round_trips_through_its_stored_document():
    study = Study.new("std-1", BODY, "ABCD-EFGH", NOW)
    assert (study.title, study.iras_id, study.schedule_weeks) == ("Acne study", None, [0, 4, 12])
    doc = study.to_doc()
    assert doc["type"] == "study" and doc["clinicId"] == "cln-1"
    assert Study.from_doc(doc) == study


def test_information_versions_are_hashed_like_consent_texts_and_the_newest_is_current():
    study = Study.new("std-1", BODY, "ABCD-EFGH", NOW)
    first = study.current_information
    assert first.text_hash == information_hash("Taking part", ["One.", "Two."])
    assert first.text_hash.startswith("sha256:") and len(first.text_hash) == 71
    second = study.add_information("Taking part", ["One.", "Two, changed."], NOW)
    assert (second.version, study.current_information) == ("2", second)
    assert second.text_hash != first.text_hash


@pytest.mark.parametrize(
    ("consent", "today", "message"),
    [
        ({"version": "1", "accepted": False}, date(2026, 6, 1), "consent"),
        ({"version": "1", "textHash": "sha256:00", "accepted": True}, date(2026, 6, 1), "not the text"),
        ({"version": "9", "accepted": True}, date(2026, 6, 1), "changed"),
        ({"version": "1", "accepted": True}, date(2027, 6, 1), "not taking part"),
    ],
)
def test_consent_must_be_to_the_current_text_while_the_study_is_open(consent, today, message):
    study = Study.new("std-1", BODY, "ABCD-EFGH", NOW)
    consent = {"textHash": study.current_information.text_hash, **consent}
    with pytest.raises(RuleViolation, match=message):
        study.check_consent(consent, today)
    good = {"version": "1", "textHash": study.current_information.text_hash, "accepted": True}
    assert study.check_consent(good, date(2026, 6, 1)).version == "1"


@pytest.mark.parametrize(
    "change",
    [
        {"bodySites": ["elbow-of-nowhere"]},
        {"endDate": "2025-01-01"},
        {"startDate": "1 May"},
        {"title": "  "},
        {"participantInformation": {"title": "Taking part", "paragraphs": ["One.", " "]}},
    ],
)
def test_a_study_with_bad_fields_is_refused(change):
    with pytest.raises(RuleViolation):
        Study.new("std-1", {**BODY, **change}, "ABCD-EFGH", NOW)


def test_photos_count_for_the_nearest_timepoint_within_its_window():
    weeks = [0, 4, 12]
    assert [timepoint_for(weeks, d) for d in (0, 3, 8, 25, 28, 35, 36, 81, 91, 92)] == [0, 0, None, 4, 4, 4, None, 12, 12, None]


def test_schedule_states_follow_the_days_since_enrolment():
    enrolled = date(2026, 11, 1)
    states = schedule([0, 4, 12], enrolled, date(2026, 12, 1), photo_days=[1])
    assert [(t["week"], t["dueDate"], t["state"]) for t in states] == [
        (0, "2026-11-01", "done"),
        (4, "2026-11-29", "due"),
        (12, "2027-01-24", "upcoming"),
    ]
    assert schedule([0], enrolled, date(2026, 11, 9), photo_days=[])[0]["state"] == "missed"


def test_participant_codes_are_random_pseudonyms():
    codes = {new_participant_code() for _ in range(200)}
    assert len(codes) == 200 and all(c.startswith("SVP-") and len(c) == 13 for c in codes)
