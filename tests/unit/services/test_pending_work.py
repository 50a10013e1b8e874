"""The durable work list: recorded once per target, taken when due in order, retried with a growing
delay and never dropped (FakeMetadataStore, which passes the real stores' contract suite)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared_code.services import pending_work
from tests.fakes.store import FakeMetadataStore

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_recording_the_same_work_twice_keeps_one_item():
    store = FakeMetadataStore()
    pending_work.record(store, pending_work.DELETE_IMAGE, "pt-1", "img-1", NOW)
    pending_work.record(store, pending_work.DELETE_IMAGE, "pt-1", "img-1", NOW + timedelta(minutes=1))

    assert len(pending_work.due(store, NOW + timedelta(hours=1), 10)) == 1


def test_only_due_items_are_taken_earliest_first_and_at_most_the_limit():
    store = FakeMetadataStore()
    for minutes, target in ((30, "late"), (5, "second"), (1, "first"), (2, "between")):
        pending_work.record(store, pending_work.UPLOAD, "pt-1", target, NOW + timedelta(minutes=minutes))

    assert [i["targetId"] for i in pending_work.due(store, NOW + timedelta(minutes=10), 2)] == ["first", "between"]
    assert [i["targetId"] for i in pending_work.due(store, NOW + timedelta(minutes=10), 10)] == ["first", "between", "second"]


def test_a_postponed_item_waits_longer_each_time_up_to_an_hour_and_is_never_dropped():
    store = FakeMetadataStore()
    item = pending_work.record(store, pending_work.ERASE_ACCOUNT, "pt-1", "pt-1", NOW)
    delays = []
    for _ in range(8):
        item = pending_work.postpone(store, item, NOW, timedelta(minutes=5))
        delays.append(item["dueAt"] - int(NOW.timestamp()))

    assert delays == [300, 600, 1200, 2400, 3600, 3600, 3600, 3600]
    assert pending_work.erasure_pending(store, "pt-1")


def test_done_removes_the_item_and_twice_is_harmless():
    store = FakeMetadataStore()
    item = pending_work.record(store, pending_work.ERASE_ACCOUNT, "pt-1", "pt-1", NOW)

    pending_work.done(store, item)
    pending_work.done(store, item)

    assert not pending_work.erasure_pending(store, "pt-1")
