"""One contract for every MetadataStore: SQLite (file in tmp_path), the in-memory fake, and Cosmos DB
(through @vercel/cosmosdb-server, started once per session). Then what only one of them can show:
SQLite's concurrency, failure and index behaviour; Cosmos' behaviour when the account is gone.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from shared_code.adapters.cosmos_store import CosmosMetadataStore, build_query
from shared_code.adapters.sqlite_store import SqliteMetadataStore
from shared_code.ports import (
    AUDIT,
    CLINICS,
    PATIENTS,
    Conflict,
    ContainerSpec,
    DependencyUnavailable,
    Document,
    MetadataStore,
    NotFound,
    PreconditionFailed,
)
from tests.fakes.store import FakeMetadataStore
from tests.support.cosmos_server import EMULATOR_KEY, CosmosServer, running_cosmos_server, start_cosmos_server

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

A, B = "patient-a", "patient-b"
SYSTEM_FIELDS = {"_rid", "_self", "_attachments", "_ts"}


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def cosmos_server() -> Iterator[CosmosServer]:
    with running_cosmos_server() as server:
        yield server


def _cosmos_store(server: CosmosServer, database: str | None = None) -> CosmosMetadataStore:
    # connection_verify=False: only for the emulator's self-signed certificate.
    return CosmosMetadataStore(
        server.endpoint,
        database or f"db-{uuid.uuid4().hex[:12]}",
        EMULATOR_KEY,
        connection_verify=False,
        timeout_seconds=2,
        retries=0,
    )


@pytest.fixture(params=["sqlite", "fake", "cosmos"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[MetadataStore]:
    made: Any
    if request.param == "sqlite":
        made = SqliteMetadataStore(str(tmp_path / "store.sqlite"))
    elif request.param == "fake":
        made = FakeMetadataStore()
    else:
        made = _cosmos_store(request.getfixturevalue("cosmos_server"))
    made.ensure_containers()
    yield made
    if hasattr(made, "close"):
        made.close()


@pytest.fixture(params=["sqlite", "fake"])
def embedded_store(request: pytest.FixtureRequest, tmp_path) -> Iterator[MetadataStore]:
    made: Any = SqliteMetadataStore(str(tmp_path / "store.sqlite")) if request.param == "sqlite" else FakeMetadataStore()
    made.ensure_containers()
    yield made
    if hasattr(made, "close"):
        made.close()


@pytest.fixture
def sqlite_store(tmp_path) -> Iterator[SqliteMetadataStore]:
    made = SqliteMetadataStore(str(tmp_path / "store.sqlite"))
    made.ensure_containers()
    yield made
    made.close()


# ---------------------------------------------------------------- helpers
def image(partition: str, n: int, *, folder: str = "f1", **extra: Any) -> Document:
    """An image document; capture days repeat every 7 images so ordering has ties."""
    return {
        "id": f"img-{partition}-{folder}-{n:03d}",
        "patientId": partition,
        "type": "image",
        "folderId": folder,
        "capturedAt": f"2024-03-{(n % 7) + 1:02d}T09:00:00Z",
        "rank": n % 4,
        **extra,
    }


def seed(store: MetadataStore) -> dict[str, list[Document]]:
    """23 images in A/f1, 9 in A/f2, 3 folders in A, and 6 images in B/f1 (same folder id)."""
    docs = {
        "a_f1": [store.create(PATIENTS, image(A, n)) for n in range(23)],
        "a_f2": [store.create(PATIENTS, image(A, n, folder="f2")) for n in range(9)],
        "a_folders": [store.create(PATIENTS, {"id": f"folder-{n}", "patientId": A, "type": "folder", "name": f"F{n}"}) for n in range(3)],
        "b_f1": [store.create(PATIENTS, image(B, n)) for n in range(6)],
    }
    return docs


def walk(store: MetadataStore, container: ContainerSpec, partition: str, *, limit: int, **query: Any) -> list[list[Document]]:
    """Every page of a query, following continuation tokens to the end."""
    pages: list[list[Document]] = []
    token: str | None = None
    for _ in range(1000):
        page = store.query(container, partition, limit=limit, continuation=token, **query)
        pages.append(page.items)
        token = page.continuation
        if token is None:
            return pages
    raise AssertionError("paging never ended")


def assert_well_paged(pages: list[list[Document]], limit: int) -> list[Document]:
    for page in pages[:-1]:
        assert len(page) == limit, "every page but the last is full"
    assert len(pages[-1]) <= limit
    flat = [doc for page in pages for doc in page]
    ids = [doc["id"] for doc in flat]
    assert len(ids) == len(set(ids)), "no document appears twice"
    return flat


def without_etag(doc: Document) -> Document:
    return {k: v for k, v in doc.items() if k != "_etag"}


# ---------------------------------------------------------------- contract: documents
def test_created_document_reads_back_with_an_etag_and_no_system_fields(store: MetadataStore) -> None:
    doc = {"id": "img-1", "patientId": A, "type": "image", "notes": "left forearm", "size": {"w": 3, "h": 4}, "tags": ["a", "b"]}
    created = store.create(PATIENTS, doc)
    assert isinstance(created["_etag"], str) and created["_etag"]
    assert without_etag(created) == doc
    read = store.read(PATIENTS, A, "img-1")
    assert read == created
    assert not SYSTEM_FIELDS & set(read)


def test_creating_an_existing_id_in_the_same_partition_conflicts(store: MetadataStore) -> None:
    store.create(PATIENTS, {"id": "upload-7", "patientId": A, "status": "pending"})
    with pytest.raises(Conflict):
        store.create(PATIENTS, {"id": "upload-7", "patientId": A, "status": "ready"})
    assert store.read(PATIENTS, A, "upload-7")["status"] == "pending"


def test_the_same_id_may_exist_in_different_partitions(store: MetadataStore) -> None:
    store.create(PATIENTS, {"id": "profile", "patientId": A, "displayName": "x"})
    store.create(PATIENTS, {"id": "profile", "patientId": B, "displayName": "y"})
    assert store.read(PATIENTS, A, "profile")["displayName"] == "x"
    assert store.read(PATIENTS, B, "profile")["displayName"] == "y"


def test_reading_an_absent_document_or_from_another_partition_raises_not_found(store: MetadataStore) -> None:
    store.create(PATIENTS, {"id": "img-1", "patientId": A})
    with pytest.raises(NotFound):
        store.read(PATIENTS, A, "img-missing")
    with pytest.raises(NotFound):
        store.read(PATIENTS, B, "img-1")


def test_containers_are_separate(store: MetadataStore) -> None:
    store.create(PATIENTS, {"id": "x-1", "patientId": A})
    with pytest.raises(NotFound):
        store.read(AUDIT, A, "x-1")
    store.create(AUDIT, {"id": "x-1", "patientId": A, "action": "view"})
    assert store.read(AUDIT, A, "x-1")["action"] == "view"


def test_replace_with_the_current_etag_succeeds_and_issues_a_new_etag(store: MetadataStore) -> None:
    created = store.create(PATIENTS, {"id": "img-1", "patientId": A, "rating": 1})
    replaced = store.replace(PATIENTS, {**created, "rating": 2}, if_match=created["_etag"])
    assert replaced["rating"] == 2
    assert replaced["_etag"] != created["_etag"]
    assert store.read(PATIENTS, A, "img-1") == replaced


def test_replace_with_a_stale_etag_is_refused_and_keeps_the_first_writer(store: MetadataStore) -> None:
    created = store.create(PATIENTS, {"id": "img-1", "patientId": A, "rating": 1})
    first = store.replace(PATIENTS, {**created, "rating": 2}, if_match=created["_etag"])
    with pytest.raises(PreconditionFailed):
        store.replace(PATIENTS, {**created, "rating": 3}, if_match=created["_etag"])
    assert store.read(PATIENTS, A, "img-1") == first


def test_replace_without_an_etag_overwrites_unconditionally(store: MetadataStore) -> None:
    created = store.create(PATIENTS, {"id": "img-1", "patientId": A, "rating": 1, "notes": "n"})
    store.replace(PATIENTS, {**created, "rating": 5}, if_match=None)
    replaced = store.replace(PATIENTS, {"id": "img-1", "patientId": A, "rating": 4}, if_match=None)
    assert without_etag(store.read(PATIENTS, A, "img-1")) == {"id": "img-1", "patientId": A, "rating": 4}
    assert replaced["_etag"] == store.read(PATIENTS, A, "img-1")["_etag"]


def test_replacing_an_absent_document_raises_not_found(store: MetadataStore) -> None:
    with pytest.raises(NotFound):
        store.replace(PATIENTS, {"id": "img-missing", "patientId": A}, if_match=None)
    with pytest.raises(NotFound):
        store.replace(PATIENTS, {"id": "img-missing", "patientId": A}, if_match="some-etag")


def test_an_etag_inside_the_document_is_not_what_the_store_keeps(store: MetadataStore) -> None:
    created = store.create(PATIENTS, {"id": "img-1", "patientId": A, "_etag": "chosen-by-client", "_ts": 1})
    assert created["_etag"] != "chosen-by-client"
    assert store.read(PATIENTS, A, "img-1")["_etag"] == created["_etag"]


def test_upsert_creates_then_replaces(store: MetadataStore) -> None:
    first = store.upsert(CLINICS, {"id": "clinic-1", "clinicId": "clinic-1", "name": "Derm A"})
    assert store.read(CLINICS, "clinic-1", "clinic-1") == first
    second = store.upsert(CLINICS, {"id": "clinic-1", "clinicId": "clinic-1", "name": "Derm B"})
    assert second["_etag"] != first["_etag"]
    assert store.read(CLINICS, "clinic-1", "clinic-1")["name"] == "Derm B"


def test_create_under_an_existing_parent_creates_the_child(store: MetadataStore) -> None:
    store.create(PATIENTS, {"id": "fld-1", "patientId": A, "type": "folder"})
    created = store.create_under(PATIENTS, {"id": "img-1", "patientId": A, "folderId": "fld-1"}, parent_id="fld-1")
    assert created["_etag"]
    assert store.read(PATIENTS, A, "img-1")["folderId"] == "fld-1"
    with pytest.raises(Conflict):
        store.create_under(PATIENTS, {"id": "img-1", "patientId": A, "folderId": "fld-1"}, parent_id="fld-1")


def test_create_under_a_deleted_parent_writes_nothing(store: MetadataStore) -> None:
    store.create(PATIENTS, {"id": "fld-1", "patientId": A, "type": "folder"})
    store.create(PATIENTS, {"id": "fld-2", "patientId": B, "type": "folder"})
    store.delete(PATIENTS, A, "fld-1")
    with pytest.raises(NotFound):
        store.create_under(PATIENTS, {"id": "img-1", "patientId": A, "folderId": "fld-1"}, parent_id="fld-1")
    with pytest.raises(NotFound):  # a parent in another partition is not a parent
        store.create_under(PATIENTS, {"id": "img-2", "patientId": A, "folderId": "fld-2"}, parent_id="fld-2")
    with pytest.raises(NotFound):
        store.read(PATIENTS, A, "img-1")
    with pytest.raises(NotFound):
        store.read(PATIENTS, A, "img-2")


def test_delete_removes_the_document(store: MetadataStore) -> None:
    store.create(PATIENTS, {"id": "img-1", "patientId": A})
    store.delete(PATIENTS, A, "img-1")
    with pytest.raises(NotFound):
        store.read(PATIENTS, A, "img-1")


def test_deleting_an_absent_document_raises_not_found(store: MetadataStore) -> None:
    store.create(PATIENTS, {"id": "img-1", "patientId": A})
    with pytest.raises(NotFound):
        store.delete(PATIENTS, A, "img-missing")
    with pytest.raises(NotFound):
        store.delete(PATIENTS, B, "img-1")
    assert store.read(PATIENTS, A, "img-1")["id"] == "img-1"


def test_delete_with_a_stale_etag_is_refused_and_with_the_current_etag_succeeds(store: MetadataStore) -> None:
    created = store.create(PATIENTS, {"id": "img-1", "patientId": A, "rating": 1})
    current = store.replace(PATIENTS, {**created, "rating": 2}, if_match=None)
    with pytest.raises(PreconditionFailed):
        store.delete(PATIENTS, A, "img-1", if_match=created["_etag"])
    assert store.read(PATIENTS, A, "img-1")["rating"] == 2
    store.delete(PATIENTS, A, "img-1", if_match=current["_etag"])
    with pytest.raises(NotFound):
        store.read(PATIENTS, A, "img-1")


def test_delete_partition_removes_that_partition_only(store: MetadataStore) -> None:
    docs = seed(store)
    store.create(AUDIT, {"id": "audit-1", "patientId": A, "action": "view"})
    removed = store.delete_partition(PATIENTS, A)
    assert removed == len(docs["a_f1"]) + len(docs["a_f2"]) + len(docs["a_folders"])
    assert walk(store, PATIENTS, A, limit=100) == [[]]
    assert len(assert_well_paged(walk(store, PATIENTS, B, limit=100), 100)) == len(docs["b_f1"])
    assert store.read(AUDIT, A, "audit-1")["action"] == "view", "audit outlives erasure of the patient's documents"
    assert store.delete_partition(PATIENTS, A) == 0


def test_returned_documents_are_copies_the_caller_may_change(store: MetadataStore) -> None:
    doc = {"id": "img-1", "patientId": A, "tags": ["mole"]}
    created = store.create(PATIENTS, doc)
    doc["tags"].append("changed-after-create")
    created["tags"].append("changed-after-create")
    read = store.read(PATIENTS, A, "img-1")
    read["tags"].append("changed-after-read")
    assert store.read(PATIENTS, A, "img-1")["tags"] == ["mole"]


@pytest.mark.parametrize(
    "bad",
    [
        {"patientId": A},
        {"id": "", "patientId": A},
        {"id": "a/b", "patientId": A},
        {"id": "img-1"},
        {"id": "img-1", "patientId": None},
        {"id": "img-1", "patientId": A, "at": float("nan")},
        {"id": "img-1", "patientId": A, "when": object()},
    ],
)
def test_documents_without_a_valid_id_partition_key_or_json_body_are_rejected(store: MetadataStore, bad: Document) -> None:
    with pytest.raises(ValueError):
        store.create(PATIENTS, bad)
    with pytest.raises(ValueError):
        store.upsert(PATIENTS, bad)


# ---------------------------------------------------------------- contract: queries
def test_where_filters_on_equality_and_none_matches_missing_or_null(store: MetadataStore) -> None:
    store.create(PATIENTS, {"id": "i-1", "patientId": A, "type": "image", "status": "ready", "archived": None})
    store.create(PATIENTS, {"id": "i-2", "patientId": A, "type": "image", "status": "pending"})
    store.create(PATIENTS, {"id": "i-3", "patientId": A, "type": "image", "status": "ready", "archived": True})
    store.create(PATIENTS, {"id": "f-1", "patientId": A, "type": "folder", "status": "ready"})

    def ids(**where: Any) -> set[str]:
        return {d["id"] for d in store.query(PATIENTS, A, where=where, limit=100).items}

    assert ids(type="image", status="ready") == {"i-1", "i-3"}
    assert ids(type="image", archived=None) == {"i-1", "i-2"}
    assert ids(archived=True) == {"i-3"}
    assert ids(type="nothing") == set()
    assert ids(id="i-2") == {"i-2"}
    assert ids() == {"i-1", "i-2", "i-3", "f-1"}


def test_where_equality_is_type_strict(store: MetadataStore) -> None:
    store.create(PATIENTS, {"id": "bool", "patientId": A, "v": False})
    store.create(PATIENTS, {"id": "zero", "patientId": A, "v": 0})
    store.create(PATIENTS, {"id": "text", "patientId": A, "v": "0"})
    store.create(PATIENTS, {"id": "one", "patientId": A, "v": 1})
    store.create(PATIENTS, {"id": "true", "patientId": A, "v": True})

    def ids(value: Any) -> set[str]:
        return {d["id"] for d in store.query(PATIENTS, A, where={"v": value}, limit=100).items}

    assert ids(False) == {"bool"}
    assert ids(0) == {"zero"}
    assert ids("0") == {"text"}
    assert ids(True) == {"true"}
    assert ids(1) == {"one"}


@pytest.mark.parametrize("descending", [False, True])
def test_order_by_sorts_the_partition_by_that_field(store: MetadataStore, descending: bool) -> None:
    docs = seed(store)
    items = store.query(PATIENTS, A, where={"type": "image", "folderId": "f1"}, order_by="capturedAt", descending=descending, limit=100).items
    values = [d["capturedAt"] for d in items]
    assert values == sorted(values, reverse=descending)
    assert {d["id"] for d in items} == {d["id"] for d in docs["a_f1"]}


@pytest.mark.parametrize("limit", [1, 5, 23, 50])
@pytest.mark.parametrize("descending", [False, True])
def test_pages_walk_every_matching_document_exactly_once_in_order(store: MetadataStore, limit: int, descending: bool) -> None:
    docs = seed(store)
    pages = walk(store, PATIENTS, A, limit=limit, where={"type": "image", "folderId": "f1"}, order_by="capturedAt", descending=descending)
    flat = assert_well_paged(pages, limit)
    assert {d["id"] for d in flat} == {d["id"] for d in docs["a_f1"]}, "no gaps"
    values = [d["capturedAt"] for d in flat]
    assert values == sorted(values, reverse=descending), "order holds across page boundaries"


@pytest.mark.parametrize("descending", [False, True])
def test_paging_without_order_by_goes_by_id(store: MetadataStore, descending: bool) -> None:
    docs = seed(store)
    pages = walk(store, PATIENTS, A, limit=4, where={"type": "image"}, descending=descending)
    flat = assert_well_paged(pages, 4)
    expected = sorted((d["id"] for d in docs["a_f1"] + docs["a_f2"]), reverse=descending)
    assert [d["id"] for d in flat] == expected


def test_paging_by_a_numeric_field_with_many_ties(store: MetadataStore) -> None:
    docs = seed(store)
    pages = walk(store, PATIENTS, A, limit=3, where={"type": "image", "folderId": "f1"}, order_by="rank", descending=True)
    flat = assert_well_paged(pages, 3)
    assert sorted(d["id"] for d in flat) == sorted(d["id"] for d in docs["a_f1"])
    assert [d["rank"] for d in flat] == sorted((d["rank"] for d in docs["a_f1"]), reverse=True)


def test_a_query_never_returns_another_partitions_documents(store: MetadataStore) -> None:
    docs = seed(store)
    for partition, own in ((A, docs["a_f1"]), (B, docs["b_f1"])):
        flat = assert_well_paged(walk(store, PATIENTS, partition, limit=5, where={"folderId": "f1"}, order_by="capturedAt"), 5)
        assert {d["patientId"] for d in flat} == {partition}
        assert {d["id"] for d in flat} == {d["id"] for d in own}
    assert store.query(PATIENTS, "patient-nobody", limit=10).items == []


def test_a_single_page_has_no_continuation(store: MetadataStore) -> None:
    seed(store)
    page = store.query(PATIENTS, A, where={"type": "folder"}, limit=10)
    assert len(page.items) == 3
    assert page.continuation is None


@pytest.mark.parametrize("token", ["", "not-a-token", "e30", "eyJ2IjoxfQ", "!!!!", "x" * 20000])
def test_a_malformed_continuation_token_is_rejected(store: MetadataStore, token: str) -> None:
    seed(store)
    with pytest.raises(ValueError):
        store.query(PATIENTS, A, where={"type": "image"}, order_by="capturedAt", limit=5, continuation=token)


def test_a_token_from_another_query_or_partition_is_rejected(store: MetadataStore) -> None:
    seed(store)
    token = store.query(PATIENTS, A, where={"type": "image"}, order_by="capturedAt", limit=5).continuation
    assert token is not None
    with pytest.raises(ValueError):
        store.query(PATIENTS, B, where={"type": "image"}, order_by="capturedAt", limit=5, continuation=token)
    with pytest.raises(ValueError):
        store.query(PATIENTS, A, where={"type": "folder"}, order_by="capturedAt", limit=5, continuation=token)
    with pytest.raises(ValueError):
        store.query(PATIENTS, A, where={"type": "image"}, order_by="capturedAt", descending=True, limit=5, continuation=token)


@pytest.mark.parametrize("limit", [0, -1, 1001, True])
def test_limit_must_be_between_1_and_1000(store: MetadataStore, limit: int) -> None:
    with pytest.raises(ValueError):
        store.query(PATIENTS, A, limit=limit)


def test_limit_of_1000_is_accepted(store: MetadataStore) -> None:
    seed(store)
    assert len(store.query(PATIENTS, A, limit=1000).items) == 35


@pytest.mark.parametrize(
    "query",
    [
        {"where": {"type = 'x' OR 1=1 --": "image"}},
        {"where": {"a.b": 1}},
        {"where": {"tags": ["x"]}},
        {"order_by": "capturedAt DESC; DROP TABLE patients"},
        {"order_by": "c.id"},
    ],
)
def test_unsafe_field_names_and_non_scalar_values_are_rejected(store: MetadataStore, query: dict[str, Any]) -> None:
    seed(store)
    with pytest.raises(ValueError):
        store.query(PATIENTS, A, limit=5, **query)
    assert len(store.query(PATIENTS, A, limit=100).items) == 35


def test_values_that_look_like_query_text_are_only_ever_data(store: MetadataStore) -> None:
    store.create(PATIENTS, {"id": "i-1", "patientId": A, "notes": "x' OR 1=1 --"})
    store.create(PATIENTS, {"id": "i-2", "patientId": A, "notes": "plain"})
    items = store.query(PATIENTS, A, where={"notes": "x' OR 1=1 --"}, limit=10).items
    assert [d["id"] for d in items] == ["i-1"]
    assert store.query(PATIENTS, "' OR 1=1 --", limit=10).items == []


# ---------------------------------------------------------------- contract: lifecycle
def test_ensure_containers_is_idempotent_and_keeps_data(store: MetadataStore) -> None:
    created = store.create(PATIENTS, {"id": "img-1", "patientId": A})
    store.ensure_containers()
    store.ensure_containers()
    assert store.read(PATIENTS, A, "img-1") == created


def test_ping_succeeds_when_the_store_is_reachable(store: MetadataStore) -> None:
    store.ping()


# ---------------------------------------------------------------- embedded stores (SQLite and the fake)
def test_documents_missing_the_order_field_come_first_ascending_and_last_descending(embedded_store: MetadataStore) -> None:
    for n in range(5):
        embedded_store.create(PATIENTS, {"id": f"dated-{n}", "patientId": A, "capturedAt": f"2024-01-0{n + 1}"})
    for n in range(3):
        embedded_store.create(PATIENTS, {"id": f"undated-{n}", "patientId": A, **({"capturedAt": None} if n == 1 else {})})
    asc = [d["id"] for d in assert_well_paged(walk(embedded_store, PATIENTS, A, limit=2, order_by="capturedAt"), 2)]
    desc = [d["id"] for d in assert_well_paged(walk(embedded_store, PATIENTS, A, limit=2, order_by="capturedAt", descending=True), 2)]
    assert asc == ["undated-0", "undated-1", "undated-2", "dated-0", "dated-1", "dated-2", "dated-3", "dated-4"]
    assert desc == list(reversed(asc))


def test_ties_are_broken_by_id(embedded_store: MetadataStore) -> None:
    for n in (3, 1, 2, 0):
        embedded_store.create(PATIENTS, {"id": f"img-{n}", "patientId": A, "capturedAt": "2024-01-01"})
    asc = assert_well_paged(walk(embedded_store, PATIENTS, A, limit=3, order_by="capturedAt"), 3)
    desc = assert_well_paged(walk(embedded_store, PATIENTS, A, limit=3, order_by="capturedAt", descending=True), 3)
    assert [d["id"] for d in asc] == ["img-0", "img-1", "img-2", "img-3"]
    assert [d["id"] for d in desc] == ["img-3", "img-2", "img-1", "img-0"]


def test_documents_written_between_pages_cause_no_duplicates_or_gaps(embedded_store: MetadataStore) -> None:
    docs = seed(embedded_store)
    query: dict[str, Any] = {"where": {"type": "image", "folderId": "f1"}, "order_by": "capturedAt", "descending": True, "limit": 5}
    seen: list[str] = []
    page = embedded_store.query(PATIENTS, A, **query)
    seen += [d["id"] for d in page.items]
    extra = 0
    while page.continuation:
        # a newer photo (sorts before the cursor) and an older one (sorts after it) arrive mid-walk
        embedded_store.create(PATIENTS, image(A, 100 + extra, capturedAt="2025-01-01T00:00:00Z"))
        embedded_store.create(PATIENTS, image(A, 200 + extra, capturedAt="2023-01-01T00:00:00Z"))
        extra += 1
        page = embedded_store.query(PATIENTS, A, continuation=page.continuation, **query)
        seen += [d["id"] for d in page.items]
    assert len(seen) == len(set(seen))
    assert {d["id"] for d in docs["a_f1"]} <= set(seen)
    assert not any(i.startswith(f"img-{A}-f1-1") for i in seen), "newer photos before the cursor are not replayed"


# ---------------------------------------------------------------- SQLite only
def test_sqlite_unreachable_path_is_reported_as_dependency_unavailable(tmp_path) -> None:
    store = SqliteMetadataStore(str(tmp_path / "no-such-dir" / "store.sqlite"))
    with pytest.raises(DependencyUnavailable) as caught:
        store.ping()
    assert caught.value.dependency == "sqlite"
    with pytest.raises(DependencyUnavailable):
        store.read(PATIENTS, A, "img-1")


def test_sqlite_file_that_is_not_a_database_is_reported_as_dependency_unavailable(tmp_path) -> None:
    path = tmp_path / "store.sqlite"
    path.write_bytes(b"this is not a database file, just some text that is long enough" * 20)
    store = SqliteMetadataStore(str(path))
    with pytest.raises(DependencyUnavailable):
        store.ping()
    store.close()


def test_sqlite_without_ensure_containers_reports_dependency_unavailable(tmp_path) -> None:
    store = SqliteMetadataStore(str(tmp_path / "store.sqlite"))
    store.ping()
    with pytest.raises(DependencyUnavailable):
        store.read(PATIENTS, A, "img-1")
    store.close()


def _race(n: int, action) -> list[str]:
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            action(i)
            result = "won"
        except (PreconditionFailed, Conflict) as exc:
            result = type(exc).__name__
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


def test_sqlite_two_threads_replacing_with_the_same_etag_exactly_one_wins(sqlite_store: SqliteMetadataStore) -> None:
    for round_ in range(15):
        doc = sqlite_store.create(PATIENTS, {"id": f"img-{round_}", "patientId": A, "rating": 0})
        outcomes = _race(2, lambda i, doc=doc: sqlite_store.replace(PATIENTS, {**doc, "rating": i + 1}, if_match=doc["_etag"]))
        assert sorted(outcomes) == ["PreconditionFailed", "won"]
        assert sqlite_store.read(PATIENTS, A, f"img-{round_}")["rating"] in (1, 2)


def test_sqlite_threads_creating_the_same_deterministic_id_exactly_one_wins(sqlite_store: SqliteMetadataStore) -> None:
    for round_ in range(10):
        outcomes = _race(4, lambda i, r=round_: sqlite_store.create(PATIENTS, {"id": f"upload-{r}", "patientId": A, "by": i}))
        assert sorted(outcomes) == ["Conflict", "Conflict", "Conflict", "won"]


def test_sqlite_memory_database_is_shared_by_all_threads() -> None:
    store = SqliteMetadataStore(":memory:")
    store.ensure_containers()
    outcomes = _race(4, lambda i: store.create(PATIENTS, {"id": f"img-{i}", "patientId": A}))
    assert outcomes == ["won"] * 4
    assert len(store.query(PATIENTS, A, limit=10).items) == 4
    store.close()


def test_sqlite_uses_wal_mode_for_files(sqlite_store: SqliteMetadataStore, tmp_path) -> None:
    sqlite_store.ping()
    with sqlite3.connect(tmp_path / "store.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_sqlite_folder_images_by_capture_time_are_served_from_an_index(sqlite_store: SqliteMetadataStore) -> None:
    plan = " ".join(sqlite_store.explain_query(PATIENTS, A, where={"type": "image", "folderId": "f1"}, order_by="capturedAt", descending=True))
    assert "USING INDEX ix_patients_type_folderId_capturedAt" in plan
    assert "TEMP B-TREE" not in plan, "no sort step: the index gives the order"


def test_sqlite_page_of_a_large_partition_is_fast(sqlite_store: SqliteMetadataStore) -> None:
    for n in range(2000):
        sqlite_store.create(PATIENTS, image(A, n, folder=f"f{n % 4}"))
    query: dict[str, Any] = {"where": {"type": "image", "folderId": "f2"}, "order_by": "capturedAt", "descending": True, "limit": 50}
    timings = []
    token = None
    for _ in range(5):
        started = time.perf_counter()
        page = sqlite_store.query(PATIENTS, A, continuation=token, **query)
        timings.append(time.perf_counter() - started)
        token = page.continuation
    assert sorted(timings)[2] < 0.05, f"median page time {sorted(timings)[2] * 1000:.1f} ms"


# ---------------------------------------------------------------- Cosmos only
def test_cosmos_query_text_filters_on_the_partition_key_and_keeps_values_out_of_the_text() -> None:
    text, parameters = build_query(PATIENTS, "' OR 1=1 --", {"notes": "x' OR 1=1", "archived": None}, "capturedAt", True)
    assert text.startswith('SELECT * FROM c WHERE c["patientId"] = @pk AND ')
    assert "1=1" not in text
    assert {"name": "@pk", "value": "' OR 1=1 --"} in parameters
    assert text.endswith('ORDER BY c["capturedAt"] DESC')


def test_cosmos_stopped_server_makes_ping_raise_dependency_unavailable_quickly() -> None:
    server = start_cosmos_server()
    try:
        store = _cosmos_store(server)
        store.ensure_containers()
        store.ping()
    finally:
        server.stop()
    started = time.monotonic()
    with pytest.raises(DependencyUnavailable) as caught:
        store.ping()
    assert caught.value.dependency == "cosmos"
    with pytest.raises(DependencyUnavailable):
        store.read(PATIENTS, A, "img-1")
    assert time.monotonic() - started < 10
    store.close()


def test_cosmos_never_reachable_account_raises_dependency_unavailable_not_at_construction() -> None:
    store = CosmosMetadataStore("https://127.0.0.1:9/", "db", EMULATOR_KEY, connection_verify=False, timeout_seconds=1, retries=0)
    with pytest.raises(DependencyUnavailable):
        store.ping()


def test_cosmos_missing_database_makes_ping_raise_dependency_unavailable(cosmos_server: CosmosServer) -> None:
    store = _cosmos_store(cosmos_server)
    with pytest.raises(DependencyUnavailable):
        store.ping()
    store.ensure_containers()
    store.ping()
    store.close()


def test_sqlite_short_lived_threads_do_not_pile_up_open_connections(sqlite_store: SqliteMetadataStore, tmp_path) -> None:
    sqlite_store.create(PATIENTS, {"id": "img-1", "patientId": A})
    db = str(tmp_path / "store.sqlite")

    def open_handles() -> int:
        count = 0
        for fd in os.listdir("/proc/self/fd"):
            try:
                count += os.readlink(f"/proc/self/fd/{fd}") == db
            except OSError:
                pass
        return count

    # SQLite's unix VFS keeps the descriptor of a closed connection for reuse while other connections
    # of the process hold locks on the file (closing it would drop their POSIX locks), so the count can
    # exceed the pool's 8 idle connections by the extra ones a burst opened; what must not happen is
    # growth with every burst of short-lived threads: 10 bursts of 10 threads would leave up to 100.
    counts = []
    for _ in range(10):
        outcomes = _race(10, lambda i: sqlite_store.read(PATIENTS, A, "img-1"))
        assert outcomes == ["won"] * 10
        counts.append(open_handles())
    assert max(counts) <= 10 + 1, f"idle connections are pooled, not kept per dead thread: {counts}"


# ---------------------------------------------------------------- the fake only
def test_fake_store_can_be_made_unavailable_for_503_paths() -> None:
    fake = FakeMetadataStore()
    fake.create(PATIENTS, {"id": "img-1", "patientId": A})
    fake.unavailable = True
    with pytest.raises(DependencyUnavailable):
        fake.ping()
    with pytest.raises(DependencyUnavailable):
        fake.read(PATIENTS, A, "img-1")
    fake.unavailable = False
    assert fake.read(PATIENTS, A, "img-1")["id"] == "img-1"


def test_fake_and_sqlite_agree_on_random_documents_and_queries(tmp_path) -> None:
    """The fake must order and filter exactly like SQLite, or unit tests would prove the wrong thing."""
    rng = random.Random(20240601)
    sqlite_store = SqliteMetadataStore(str(tmp_path / "store.sqlite"))
    sqlite_store.ensure_containers()
    fake = FakeMetadataStore()
    values: list[Any] = [None, True, False, 0, 1, 2.5, -3, "", "a", "B", "b", "é", "10", "9", [1], {"k": 1}]
    for n in range(150):
        doc: dict[str, Any] = {"id": f"d{rng.randrange(10_000):05d}-{n}", "patientId": A}
        for field in ("v", "w"):
            if rng.random() < 0.85:
                doc[field] = rng.choice(values)
        sqlite_store.upsert(PATIENTS, doc)
        fake.upsert(PATIENTS, doc)
    scalar_values = [v for v in values if not isinstance(v, list | dict)]
    for _ in range(60):
        query: dict[str, Any] = {
            "where": {"w": rng.choice(scalar_values)} if rng.random() < 0.5 else None,
            "order_by": rng.choice([None, "v", "w", "id"]),
            "descending": rng.random() < 0.5,
        }
        limit = rng.choice([1, 3, 7, 50])
        from_sqlite = [d["id"] for d in assert_well_paged(walk(sqlite_store, PATIENTS, A, limit=limit, **query), limit)]
        from_fake = [d["id"] for d in assert_well_paged(walk(fake, PATIENTS, A, limit=limit, **query), limit)]
        assert from_fake == from_sqlite, query
    sqlite_store.close()
