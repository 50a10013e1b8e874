"""The case's triage summary kept on the case document: most urgent open outcome, urgency, the FDS clock, scope changes."""

from datetime import UTC, datetime

from shared_code.domain.triage import TriageEntry
from shared_code.services.triage_summary import after_case_triage, stamp_opened_case, summarise, widen_scope, worklist_fields

NOW = datetime(2026, 12, 2, 9, tzinfo=UTC)


def entry(folder: str, outcome: str, urgency: str, at: str) -> dict:
    return TriageEntry(f"tri-{folder}-{at}", "c", "case", folder, outcome, urgency, "internal", None, None, at, "Dr A", "doc").to_doc()


def test_a_new_case_awaits_triage_and_is_received_now():
    case: dict = {}
    stamp_opened_case(case, NOW)
    assert case["urgency"] == "awaiting-triage" and case["receivedAt"] == "2026-12-02T09:00:00Z" and not case["urgent"]
    assert case["queueKey"]


def test_usc_on_one_folder_makes_the_case_urgent_and_starts_the_clock_once():
    case: dict = {"receivedAt": "2026-11-20T10:00:00Z"}
    case["folderTriage"] = {
        "f1": entry("f1", "routine-follow-up", "routine", "2026-11-21T10:00:00Z"),
        "f2": entry("f2", "urgent-suspected-cancer-referral", "usc", "2026-11-22T10:00:00Z"),
    }
    summarise(case, ["f1", "f2"], NOW)
    assert case["triage"]["outcome"] == "urgent-suspected-cancer-referral" and case["triage"]["folderId"] == "f2"
    assert case["urgent"] and case["fdsStartedAt"] == "2026-11-20T10:00:00Z" and not case["awaitingTriage"]
    fields = worklist_fields(case, NOW)
    assert fields["urgency"] == "usc" and fields["fds"]["daysRemaining"] == 16
    case["folderTriage"]["f2"] = entry("f2", "discharge", "closed", "2026-11-25T10:00:00Z")
    summarise(case, ["f1", "f2"], NOW)
    assert not case["urgent"] and case["triage"]["outcome"] == "routine-follow-up"
    assert worklist_fields(case, NOW)["fds"] is None


def test_an_untriaged_folder_in_scope_keeps_the_case_awaiting_triage():
    case: dict = {"receivedAt": "2026-11-20T10:00:00Z", "folderTriage": {"f1": entry("f1", "routine-follow-up", "routine", "2026-11-21T10:00:00Z")}}
    summarise(case, ["f1", "f2"], NOW)
    assert case["awaitingTriage"] and case["urgency"] == "awaiting-triage"


def test_case_level_triage_moves_the_urgency_too():
    case: dict = {"receivedAt": "2026-11-20T10:00:00Z"}
    after_case_triage(case, "urgent-suspected-cancer-referral", NOW)
    assert case["urgent"] and case["fdsStartedAt"]


def test_widening_the_scope_returns_the_added_folders_and_reopens_triage():
    case: dict = {"receivedAt": "2026-11-20T10:00:00Z"}
    assert widen_scope(case, ["f1"], NOW) == []  # the first share: nothing "added"
    case["awaitingTriage"] = False
    assert widen_scope(case, ["f1"], NOW) == []
    assert widen_scope(case, ["f1", "f2"], NOW) == ["f2"]
    assert case["awaitingTriage"] and case["hasNew"]
