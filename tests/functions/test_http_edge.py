"""Bad input at the HTTP edge is a 4xx problem, never a 500: ids, dates, text, nesting, tokens.

Path ids go through the local host's ASGI app (so percent-decoding happens as in Azure); the rest
through the registered functions with real func.HttpRequest objects.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from localhost.host import build_asgi
from shared_code.services.paging import encode_token
from tests.support.functions_client import registry
from tests.support.library_helpers import actor, build_scene, grant_share, ok

ROOT = Path(__file__).resolve().parents[2]
PROBLEM = "application/problem+json"


@pytest.fixture
def scene(client):
    return build_scene(client)


@pytest.fixture
def http(client):
    with TestClient(build_asgi(registry()[0], ROOT / "web")) as tc:
        yield tc


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ----------------------------------------------------------------------------- ids
@pytest.mark.parametrize("bad", ["%23", "a%23b", "%3F", "a%3Fb", "%5C", "a%5Cb", "a%2Fb", "%20", "a%09b", "%C3%A9", "x" * 129, "%00"])
def test_a_malformed_path_id_is_404_problem(http, scene, bad):
    for method, path in (
        ("GET", f"/api/folders/{bad}"),
        ("PATCH", f"/api/folders/{bad}"),
        ("GET", f"/api/images/{bad}"),
        ("DELETE", f"/api/shares/{bad}"),
        ("POST", f"/api/clinic/cases/{bad}/reviewed"),
        ("GET", f"/api/images/{bad}/comments"),
    ):
        token = scene.doctor.token if "clinic" in path or "comments" in path else scene.patient.token
        r = http.request(method, path, headers={**_bearer(token), "Content-Type": "application/json"}, content=b"{}")
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)


@pytest.mark.parametrize("bad", ["a#b", "a?b", "a\\b", "a/b", "", " ", "é", "a\u0000b"])
def test_a_malformed_body_id_is_422(client, scene, bad):
    folder = scene.folder("Mole")
    body = {
        "clinicId": scene.clinic["id"],
        "folderIds": [folder, bad],
        "purposes": ["direct-care"],
        "expiresAt": "2027-01-01T00:00:00Z",
        "consent": {"textVersion": "x", "accepted": True},
    }
    r = client.post("/api/shares", token=scene.patient.token, json=body)
    assert r.status in (400, 422), r.body  # "" is below minLength: the schema's 400
    if bad:
        assert r.status == 422 and r.json()["errors"][0]["pointer"] == "/folderIds/1"
    body["folderIds"] = [folder]
    body["clinicId"] = bad
    assert client.post("/api/shares", token=scene.patient.token, json=body).status in (400, 422)


@pytest.mark.parametrize("bad", ["a#b", "a\\b", "a/b", "é"])
def test_a_malformed_query_id_is_422(client, scene, bad):
    r = client.get(f"/api/consent-text?clinicId={quote(bad)}", token=scene.patient.token)
    assert r.status == 422, r.body
    assert r.content_type == PROBLEM


def test_well_formed_ids_still_work(client, scene):
    folder = scene.folder("Mole")
    assert ok(client.get(f"/api/folders/{folder}", token=scene.patient.token))["id"] == folder
    assert client.get("/api/folders/fld-0000", token=scene.patient.token).status == 404


# ----------------------------------------------------------------------------- dates
@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_dates_no_photo_or_share_can_have_are_422(client, scene, moment):
    folder = scene.folder("Mole")
    r = client.post(
        f"/api/folders/{folder}/uploads", token=scene.patient.token, json={"contentType": "image/jpeg", "sizeBytes": 10, "capturedAt": moment}
    )
    assert r.status == 422, r.body
    image = ok(client.post(f"/api/folders/{folder}/uploads", token=scene.patient.token, json={"contentType": "image/jpeg", "sizeBytes": 10}), 201)
    r = client.patch(f"/api/images/{image['uploadId']}", token=scene.patient.token, json={"capturedAt": moment})
    assert r.status == 422, r.body
    version = ok(client.get(f"/api/consent-text?clinicId={scene.clinic['id']}", token=scene.patient.token))["version"]
    share = {
        "clinicId": scene.clinic["id"],
        "allFolders": True,
        "purposes": ["direct-care"],
        "expiresAt": moment,
        "consent": {"textVersion": version, "accepted": True},
    }
    r = client.post("/api/shares", token=scene.patient.token, json=share)
    assert r.status == 422, r.body


# ----------------------------------------------------------------------------- text
@pytest.mark.parametrize("escaped", ["\\ud800", "\\udfff", "a\\ud83d", "\\udc00b"])
def test_text_that_is_not_valid_unicode_is_422(client, scene, escaped):
    raw = ('{"name": "' + escaped + '"}').encode()
    r = client.post("/api/folders", token=scene.patient.token, body=raw, headers={"Content-Type": "application/json"})
    assert r.status == 422, r.body
    assert r.content_type == PROBLEM
    raw = ('{"displayName": "ok", "' + escaped + '": 1}').encode()
    assert client.put("/api/me", token=scene.patient.token, body=raw, headers={"Content-Type": "application/json"}).status in (400, 422)
    folder = scene.folder("Mole")
    raw = ('{"notes": "x' + escaped + 'y"}').encode()
    assert client.patch(f"/api/folders/{folder}", token=scene.patient.token, body=raw, headers={"Content-Type": "application/json"}).status == 422


def test_a_valid_surrogate_pair_is_fine(client, scene):
    raw = b'{"name": "Mole \\ud83d\\ude00"}'
    r = client.post("/api/folders", token=scene.patient.token, body=raw, headers={"Content-Type": "application/json"})
    assert r.status == 201 and r.json()["name"] == "Mole \U0001f600"


# ----------------------------------------------------------------------------- nesting
@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_json_nested_deeply_is_400_problem_without_an_error_log(client, scene, depth, caplog):
    raw = ('{"displayName": ' + "[" * depth + "]" * depth + "}").encode()
    with caplog.at_level(logging.INFO):
        r = client.put("/api/me", token=scene.patient.token, body=raw, headers={"Content-Type": "application/json"})
    assert r.status == 400, r.body
    assert r.content_type == PROBLEM
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]


# ----------------------------------------------------------------------------- continuation tokens
@pytest.mark.parametrize(
    "token",
    [
        "not-base64!",
        "%%%",
        encode_token({"i": "x"}),
        encode_token({"i": [1]}),
        encode_token({"i": -1}),
        encode_token({"i": True}),
        encode_token({"i": 0, "c": 5}),
        encode_token({"i": 0, "c": "garbage"}),
        encode_token({"i": 0, "c": encode_token({"v": 1, "f": "x", "p": {}})}),
        encode_token({"zzz": 1}),
        base64.urlsafe_b64encode(b"[1,2]").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        base64.urlsafe_b64encode(b"[" * 3000).decode(),
        "é",
    ],
)
def test_a_malformed_worklist_continuation_token_is_400(client, scene, token):
    scene.share()
    r = client.get(f"/api/clinic/cases?continuationToken={quote(token)}", token=scene.doctor.token)
    assert r.status == 400, r.body
    assert r.content_type == PROBLEM


@pytest.mark.parametrize("path", ["/api/folders", "/api/shares", "/api/audit"])
@pytest.mark.parametrize(
    "token", ["garbage", base64.urlsafe_b64encode(json.dumps({"v": 1, "f": "x", "p": {"b": "v"}}).encode()).decode(), "[" * 5000]
)
def test_a_malformed_list_continuation_token_is_400(client, scene, path, token):
    r = client.get(f"{path}?continuationToken={quote(token)}", token=scene.patient.token)
    assert r.status == 400, r.body


def test_a_real_worklist_continuation_token_pages_on(client, scene):
    other = actor(client, "patient-b", "patient", "Bob")
    ok(client.get("/api/me", token=other.token))
    scene.share()
    grant_share(client, other.token, scene.clinic["id"])
    first = ok(client.get("/api/clinic/cases?limit=1", token=scene.doctor.token))
    assert first["continuationToken"]
    second = ok(client.get(f"/api/clinic/cases?limit=1&continuationToken={first['continuationToken']}", token=scene.doctor.token))
    assert first["items"][0]["caseId"] != second["items"][0]["caseId"]
    assert scene.case_id() in {first["items"][0]["caseId"], second["items"][0]["caseId"]}


# ----------------------------------------------------------------------------- tokens
def test_an_es256_token_with_an_rsa_keys_kid_is_401_without_an_error_log(client, services, caplog):
    import time

    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    issuer = services.dev_issuer
    now = int(time.time())
    claims = {"iss": issuer.issuer, "aud": issuer.audience, "sub": "x", "iat": now, "nbf": now, "exp": now + 600}
    token = jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": issuer.kid})
    with caplog.at_level(logging.INFO):
        r = client.get("/api/me", token=token)
    assert r.status == 401 and r.content_type == PROBLEM
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]


@pytest.mark.parametrize("start", ["0001-01-01", "1899-12-31"])
def test_a_folder_start_date_no_condition_can_have_is_422(client, scene, start):
    assert client.post("/api/folders", token=scene.patient.token, json={"name": "Mole", "startDate": start}).status == 422
