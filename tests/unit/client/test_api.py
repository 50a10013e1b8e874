"""SkinVaultClient against an httpx MockTransport standing in for the server (the client is real)."""

from __future__ import annotations

import json

import httpx
import pytest

from skinvault_client.api import UNSET, ApiError, ApiUnreachable, SkinVaultClient, normalise_base_url


def _client(handler, token="tok-123"):  # noqa: S107 - a test token
    session = httpx.Client(transport=httpx.MockTransport(handler))
    return SkinVaultClient("http://api.test", token, session=session, sleep=lambda s: None)


def _problem(status, title, detail):
    body = {"type": "https://skinvault.nhs.example/problems/x", "title": title, "status": status, "detail": detail}
    return httpx.Response(status, json=body, headers={"Content-Type": "application/problem+json", "X-Correlation-Id": "corr-1"})


def test_problem_json_becomes_api_error_with_title_and_detail():
    client = _client(lambda req: _problem(422, "Not allowed", "capturedAt cannot be in the future."))
    with pytest.raises(ApiError) as caught:
        client.update_image("img-1", captured_at="2999-01-01T00:00:00Z")
    err = caught.value
    assert (err.status, err.title, err.detail) == (422, "Not allowed", "capturedAt cannot be in the future.")
    assert err.correlation_id == "corr-1"
    assert err.message == "capturedAt cannot be in the future."
    assert not err.transient


def test_non_json_error_still_gives_status_and_reason():
    client = _client(lambda req: httpx.Response(502, text="<html>bad gateway</html>"))
    with pytest.raises(ApiError) as caught:
        client.create_folder("x")
    assert caught.value.status == 502 and caught.value.title == "Bad Gateway" and caught.value.transient


def test_idempotent_get_is_retried_on_503_then_succeeds():
    calls = []

    def handler(req):
        calls.append(req.method)
        if len(calls) < 3:
            return _problem(503, "Service temporarily unavailable", "Try again in a minute.")
        return httpx.Response(200, json={"id": "img-1", "status": "ready"})

    assert _client(handler).get_image("img-1")["status"] == "ready"
    assert calls == ["GET", "GET", "GET"]


def test_get_gives_up_after_a_couple_of_retries():
    calls = []

    def handler(req):
        calls.append(1)
        return _problem(503, "Service temporarily unavailable", "Try again in a minute.")

    with pytest.raises(ApiError) as caught:
        _client(handler).list_folders()
    assert caught.value.status == 503 and len(calls) == 3


def test_post_is_never_retried_by_the_client():
    calls = []

    def handler(req):
        calls.append(1)
        return _problem(503, "Service temporarily unavailable", "Try again in a minute.")

    with pytest.raises(ApiError):
        _client(handler).start_upload("fld-1", "image/jpeg", 10)
    assert len(calls) == 1


def test_unreachable_api_is_status_0_and_transient():
    def handler(req):
        raise httpx.ConnectError("refused")

    with pytest.raises(ApiUnreachable) as caught:
        _client(handler).get_me()
    assert caught.value.status == 0 and caught.value.transient


def test_requests_carry_bearer_token_and_correlation_id_but_repr_hides_token():
    seen = {}

    def handler(req):
        seen.update(req.headers)
        seen["url"] = str(req.url)
        return httpx.Response(200, json={"items": [], "continuationToken": None})

    client = _client(handler, token="secret-token")
    client.list_images("fld-1", limit=10)
    assert seen["authorization"] == "Bearer secret-token"
    assert seen["x-correlation-id"]
    assert seen["url"] == "http://api.test/api/folders/fld-1/images?limit=10"
    assert "secret-token" not in repr(client)


def test_iterators_follow_continuation_tokens():
    pages = {None: {"items": [{"id": "fld-1"}], "continuationToken": "p2"}, "p2": {"items": [{"id": "fld-2"}], "continuationToken": None}}

    def handler(req):
        return httpx.Response(200, json=pages[req.url.params.get("continuationToken")])

    assert [f["id"] for f in _client(handler).iter_folders()] == ["fld-1", "fld-2"]


def test_patch_sends_only_the_fields_given_and_none_clears():
    bodies = []

    def handler(req):
        bodies.append(json.loads(req.content))
        return httpx.Response(200, json={"id": "img-1"})

    client = _client(handler)
    client.update_image("img-1", rating=7)
    client.update_image("img-1", notes=None, treatment=UNSET)
    assert bodies == [{"rating": 7}, {"notes": None}]


def test_create_folder_sends_camel_case_fields():
    bodies = []

    def handler(req):
        bodies.append(json.loads(req.content))
        return httpx.Response(201, json={"id": "fld-1", "name": "Mole"})

    _client(handler).create_folder("Mole", body_site="left-shoulder", start_date="2026-01-01")
    assert bodies == [{"name": "Mole", "bodySite": "left-shoulder", "startDate": "2026-01-01"}]


@pytest.mark.parametrize("bad", ["", "../me", "img-1/content", "img 1", "a?b", "."])
def test_ids_that_would_change_the_path_are_refused(bad):
    client = _client(lambda req: httpx.Response(200, json={}))
    with pytest.raises(ValueError):
        client.get_image(bad)


def test_base_url_forms_are_normalised():
    assert normalise_base_url("http://127.0.0.1:7071/") == "http://127.0.0.1:7071"
    assert normalise_base_url("https://skinvault.example/api") == "https://skinvault.example"
    with pytest.raises(ValueError):
        normalise_base_url("127.0.0.1:7071")


def test_image_content_returns_bytes_and_checks_size():
    client = _client(lambda req: httpx.Response(200, content=b"\xff\xd8jpeg", headers={"Content-Type": "image/jpeg"}))
    assert client.image_content("img-1", "thumbnail") == b"\xff\xd8jpeg"
    with pytest.raises(ValueError):
        client.image_content("img-1", "huge")  # type: ignore[arg-type]


def _ranged_server(body: bytes, part: int, *, skip: bool = False):
    def handler(req):
        first, last = (int(x) for x in req.headers["Range"].removeprefix("bytes=").split("-"))
        first += 1 if skip and first else 0  # a broken server that skips a byte
        last = min(last, first + part - 1, len(body) - 1)
        return httpx.Response(206, content=body[first : last + 1], headers={"Content-Range": f"bytes {first}-{last}/{len(body)}"})

    return handler


def test_an_original_is_downloaded_in_parts_and_put_together():
    body = bytes(range(256)) * 50
    assert _client(_ranged_server(body, 1000)).download_in_parts("/images/img-1/content", part_bytes=4096) == body
    assert _client(_ranged_server(body, 5000)).image_content("img-1", "original") == body


def test_a_part_that_does_not_follow_the_last_one_stops_the_download():
    with pytest.raises(ApiError) as err:
        _client(_ranged_server(b"x" * 5000, 1000, skip=True)).image_content("img-1", "original")
    assert err.value.title == "Download interrupted"
