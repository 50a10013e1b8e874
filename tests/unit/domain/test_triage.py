"""Triage rules: coded outcomes, urgency, the most urgent open outcome, the FDS clock and worklist order."""

from datetime import UTC, datetime

import pytest

from shared_code.domain.errors import RuleViolation
from shared_code.domain.triage import (
    AWAITING,
    CLOSED,
    ROUTINE,
    URGENT,
    USC,
    Excision,
    FdsClock,
    TriageEntry,
    all_codings,
    case_urgency,
    check_excision,
    most_urgent,
    queue_key,
    urgency_of,
    worklist_order,
)
from tests.unit.domain.test_body_sites import verhoeff_ok


def entry(outcome: str, urgency: str, at: str, folder: str = "f1") -> TriageEntry:
    return TriageEntry("tri-" + at, "c", "case", folder, outcome, urgency, "internal", None, None, at, "Dr A", "doc-a")


def test_every_outcome_and_procedure_code_is_a_well_formed_sctid():
    for coding in all_codings():
        assert verhoeff_ok(coding.code), coding


def test_codes_chosen_from_memory_are_flagged_to_confirm():
    flagged = {c.code for c in all_codings() if c.to_confirm}
    assert "390906007" in flagged and "440258006" not in flagged


def test_excision_needs_procedure_and_priority_and_only_goes_with_list_for_excision():
    with pytest.raises(RuleViolation):
        check_excision("list-for-excision", None)
    with pytest.raises(RuleViolation):
        check_excision("discharge", {"procedure": "punch", "priority": "routine"})
    check_excision("list-for-excision", {"procedure": "punch", "priority": "routine"})


def test_excision_priority_sets_the_urgency():
    urgent = Excision("shave", "asap", "left-forearm", "Mole")
    assert urgency_of("list-for-excision", urgent) == URGENT
    assert urgency_of("list-for-excision", Excision("shave", "routine", None, "Mole")) == ROUTINE
    assert urgency_of("urgent-suspected-cancer-referral", None) == USC
    assert urgency_of("discharge", None) == CLOSED


def test_entry_round_trips_through_its_document():
    e = TriageEntry(
        "tri-1",
        "c",
        "case",
        "f1",
        "list-for-excision",
        URGENT,
        "n",
        "m",
        Excision("punch", "urgent", "scalp", "Scalp"),
        "2026-01-01T00:00:00Z",
        "Dr A",
        "doc",
    )
    assert TriageEntry.from_doc(e.to_doc()) == e
    view = e.clinic_view()
    assert view["excision"]["bodySite"]["code"] == "41695006" and view["coding"]["code"] == "440258006"


def test_the_case_shows_the_most_urgent_open_outcome_latest_first_among_equals():
    entries = [
        entry("routine-follow-up", ROUTINE, "2026-01-01T00:00:00Z"),
        entry("urgent-suspected-cancer-referral", USC, "2026-01-02T00:00:00Z", "f2"),
        entry("discharge", CLOSED, "2026-01-03T00:00:00Z", "f3"),
    ]
    assert most_urgent(entries).outcome == "urgent-suspected-cancer-referral"
    assert most_urgent([entry("discharge", CLOSED, "2026-01-03T00:00:00Z")]) is None
    later = entry("sun-damage-treatment-follow-up", ROUTINE, "2026-01-05T00:00:00Z")
    assert most_urgent([entries[0], later]) is later


def test_an_untriaged_folder_keeps_the_case_above_routine():
    assert case_urgency([entry("routine-follow-up", ROUTINE, "2026-01-01T00:00:00Z")], folders_untriaged=True) == AWAITING
    assert case_urgency([entry("routine-follow-up", ROUTINE, "2026-01-01T00:00:00Z")], folders_untriaged=False) == ROUTINE
    assert case_urgency([], folders_untriaged=False) == AWAITING


def test_fds_clock_runs_28_days_from_the_uk_date_the_photos_arrived():
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST): the clock starts on 1 July
    clock = FdsClock.starting(datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    assert clock.started_on.isoformat() == "2026-07-01" and clock.due_on.isoformat() == "2026-07-29"
    assert clock.days_remaining(datetime(2026, 7, 1, 9, tzinfo=UTC)) == 28
    view = clock.view(datetime(2026, 7, 30, 9, tzinfo=UTC))
    assert view["daysRemaining"] == -1 and view["breached"] is True


def test_worklist_order_is_urgency_then_longest_waiting_and_the_key_sorts_the_same_way():
    t = [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3, 4)]
    rows = [(ROUTINE, t[0]), (USC, t[3]), (AWAITING, t[1]), (USC, t[2]), (URGENT, t[3])]
    expected = [(USC, t[2]), (USC, t[3]), (URGENT, t[3]), (AWAITING, t[1]), (ROUTINE, t[0])]
    assert worklist_order(rows) == expected
    by_key = sorted(rows, key=lambda r: queue_key(*r), reverse=True)
    assert by_key == expected
