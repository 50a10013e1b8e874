"""ETags per RFC 9110: strong, quoted in the ETag header; If-Match takes the quoted form, the legacy
unquoted `etag` field and `*`; a change without If-Match is never refused with 412."""

from __future__ import annotations

import dataclasses

import pytest

from shared_code.adapters.sqlite_store import SqliteMetadataStore
from tests.support.functions_client import FunctionsClient
from tests.support.library_helpers import add_ready_image, build_scene, ok, run_together


@pytest.fixture
def scene(client):
    return build_scene(client)


def test_get_and_patch_send_a_quoted_strong_etag(client, scene):
    folder = scene.folder("Mole")
    r = client.get(f"/api/folders/{folder}", token=scene.patient.token)
    etag = r.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert etag == f'"{r.json()["etag"]}"'
    r = client.patch(f"/api/folders/{folder}", token=scene.patient.token, json={"notes": "n"})
    assert r.status == 200 and r.headers["ETag"] == f'"{r.json()["etag"]}"' != etag


@pytest.mark.parametrize("form", ["quoted", "unquoted", "star", "list"])
def test_if_match_accepts_the_quoted_unquoted_star_and_list_forms(client, scene, form):
    folder = scene.folder("Mole")
    got = client.get(f"/api/folders/{folder}", token=scene.patient.token)
    header = {"quoted": got.headers["ETag"], "unquoted": got.json()["etag"], "star": "*", "list": f'"nope", {got.headers["ETag"]}'}[form]
    r = client.patch(f"/api/folders/{folder}", token=scene.patient.token, json={"notes": form}, headers={"If-Match": header})
    assert r.status == 200, r.body
    assert r.json()["notes"] == form


@pytest.mark.parametrize("stale", ["old", "weak", "other"])
def test_if_match_with_a_stale_or_weak_etag_is_412(client, scene, stale):
    folder = scene.folder("Mole")
    first = client.get(f"/api/folders/{folder}", token=scene.patient.token).headers["ETag"]
    ok(client.patch(f"/api/folders/{folder}", token=scene.patient.token, json={"notes": "someone else"}))
    current = client.get(f"/api/folders/{folder}", token=scene.patient.token).headers["ETag"]
    header = {"old": first, "weak": "W/" + current, "other": '"0000"'}[stale]
    r = client.patch(f"/api/folders/{folder}", token=scene.patient.token, json={"notes": "mine"}, headers={"If-Match": header})
    assert r.status == 412, r.body
    assert client.get(f"/api/folders/{folder}", token=scene.patient.token).json()["notes"] == "someone else"


def test_image_patch_honours_if_match_too(client, scene):
    folder = scene.folder("Mole")
    image = add_ready_image(client, scene.patient.token, folder)
    got = client.get(f"/api/images/{image}", token=scene.patient.token)
    assert got.headers["ETag"] == f'"{got.json()["etag"]}"'
    assert (
        client.patch(f"/api/images/{image}", token=scene.patient.token, json={"rating": 3}, headers={"If-Match": got.headers["ETag"]}).status == 200
    )
    assert (
        client.patch(f"/api/images/{image}", token=scene.patient.token, json={"rating": 4}, headers={"If-Match": got.headers["ETag"]}).status == 412
    )
    assert client.patch(f"/api/images/{image}", token=scene.patient.token, json={"rating": 5}, headers={"If-Match": "*"}).status == 200


def test_twenty_concurrent_patches_without_if_match_all_succeed_on_sqlite(services, tmp_path):
    store = SqliteMetadataStore(str(tmp_path / "etags.db"))
    store.ensure_containers()
    client = FunctionsClient(dataclasses.replace(services, store=store))
    scene = build_scene(client)
    folder = scene.folder("Mole")
    image = add_ready_image(client, scene.patient.token, folder)

    def patch_folder(n: int):
        return lambda: client.patch(f"/api/folders/{folder}", token=scene.patient.token, json={"notes": f"note {n}"})

    def patch_image(n: int):
        return lambda: client.patch(f"/api/images/{image}", token=scene.patient.token, json={"rating": n % 11})

    for calls in ([patch_folder(n) for n in range(20)], [patch_image(n) for n in range(20)]):
        replies = run_together(*calls)
        assert [getattr(r, "status", r) for r in replies] == [200] * 20
    assert client.get(f"/api/folders/{folder}", token=scene.patient.token).json()["notes"].startswith("note ")
    store.close()
