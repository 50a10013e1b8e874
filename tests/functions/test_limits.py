"""Limits: per-patient quotas (folders, upload sessions waiting, uploads a day), clinic-code lookups
per patient and per client address, random share codes. Each is a 429 problem with Retry-After."""

from __future__ import annotations

import pytest

from shared_code.ports import PATIENTS
from shared_code.services import quotas
from tests.support.functions_client import registry
from tests.support.library_helpers import actor, build_scene, create_folder, ok, start_upload

PROBLEM = "application/problem+json"


def route_of(function_name: str, **params: str) -> str:
    """The URL of a registered HTTP function, found by its name (so these tests follow a route move)."""
    (route,) = [r for r in registry()[0] if r.name == function_name]
    return "/api/" + route.template.format(**params)


@pytest.fixture
def scene(client):
    return build_scene(client)


def _limited(reply) -> None:
    assert reply.status == 429, reply.body
    assert reply.content_type == PROBLEM
    assert int(reply.headers["Retry-After"]) > 0


def test_folders_are_limited_per_patient(scene, client, monkeypatch):
    monkeypatch.setattr(quotas, "MAX_FOLDERS", 3)
    for n in range(3):
        scene.folder(f"F{n}")
    _limited(client.post("/api/folders", token=scene.patient.token, json={"name": "one too many"}))
    other = actor(client, "patient-b", "patient", "Bea")
    assert client.post("/api/folders", token=other.token, json={"name": "mine"}).status == 201


def test_upload_sessions_waiting_at_once_are_limited_until_their_links_expire(scene, client, monkeypatch):
    monkeypatch.setattr(quotas, "MAX_PENDING_UPLOADS", 3)
    folder = scene.folder("Mole")
    for _ in range(3):
        start_upload(client, scene.patient.token, folder)
    body = {"contentType": "image/jpeg", "sizeBytes": 1000}
    r = client.post(f"/api/folders/{folder}/uploads", token=scene.patient.token, json=body)
    _limited(r)
    assert int(r.headers["Retry-After"]) <= client.services.settings.upload_url_minutes * 60 + 1
    client.services.clock.advance(minutes=client.services.settings.upload_url_minutes, seconds=1)
    assert client.post(f"/api/folders/{folder}/uploads", token=scene.patient.token, json=body).status == 201


def test_uploads_a_day_are_limited_and_the_limit_lifts_the_next_day(scene, client, monkeypatch):
    monkeypatch.setattr(quotas, "MAX_UPLOADS_PER_DAY", 4)
    folder = scene.folder("Mole")
    for _ in range(4):
        start_upload(client, scene.patient.token, folder)
        client.services.clock.advance(minutes=20)  # each link expired: only the daily count matters
    r = client.post(f"/api/folders/{folder}/uploads", token=scene.patient.token, json={"contentType": "image/jpeg", "sizeBytes": 1000})
    _limited(r)
    client.services.clock.advance(seconds=int(r.headers["Retry-After"]))
    assert (
        client.post(f"/api/folders/{folder}/uploads", token=scene.patient.token, json={"contentType": "image/jpeg", "sizeBytes": 1000}).status == 201
    )


def test_wrong_clinic_codes_are_limited_per_client_address_across_patients(scene, client):
    address = {"X-Forwarded-For": "198.51.100.7"}
    for n in range(30):
        who = actor(client, f"walker-{n}", "patient", "W")  # a new account every time
        assert client.get(f"/api/clinics?code=WRNG-{n:04d}", token=who.token, headers=address).status == 404
    fresh = actor(client, "walker-new", "patient", "W")
    _limited(client.get(f"/api/clinics?code={scene.clinic['shareCode']}", token=fresh.token, headers=address))
    # the same patient from another address is fine; the address is not stored in clear
    assert client.get(f"/api/clinics?code={scene.clinic['shareCode']}", token=fresh.token, headers={"X-Forwarded-For": "203.0.113.9"}).status == 200
    assert "198.51.100.7" not in str(client.services.store._tables)  # noqa: SLF001 - our own fake


def test_only_the_last_forwarded_address_counts(scene, client):
    for n in range(30):
        who = actor(client, f"spoof-{n}", "patient", "W")
        spoofed = {"X-Forwarded-For": f"10.0.0.{n}, 198.51.100.8"}
        client.get(f"/api/clinics?code=WRNG-{n:04d}", token=who.token, headers=spoofed)
    fresh = actor(client, "spoof-new", "patient", "W")
    _limited(client.get("/api/clinics?code=ABCD-EFGH", token=fresh.token, headers={"X-Forwarded-For": "1.2.3.4, 198.51.100.8"}))


def test_wrong_code_counters_go_with_the_account(scene, client):
    client.get("/api/clinics?code=WRNG-0001", token=scene.patient.token)
    counters = client.services.store.query(PATIENTS, scene.patient_id, where={"type": "rate-limit"}, limit=10).items
    assert counters
    ok(client.delete("/api/me", token=scene.patient.token), 204)
    assert client.services.store.query(PATIENTS, scene.patient_id, where={"type": "rate-limit"}, limit=10).items == []


def test_share_codes_are_random_and_vanity_codes_are_refused(client, admin_token, services):
    body = {"name": "Leeds", "odsCode": "RR8", "notificationEmail": "d@nhs.example"}
    r = client.post(route_of("create_clinic"), token=admin_token, json={**body, "shareCode": "LEED-SDRM"})
    assert r.status == 422 and "random" in r.json()["detail"]
    codes = {ok(client.post(route_of("create_clinic"), token=admin_token, json=body), 201)["shareCode"] for _ in range(5)}
    assert len(codes) == 5


def test_the_demo_code_is_accepted_only_where_the_app_runs_locally(client, admin_token, services):
    import dataclasses

    body = {"name": "Newcastle Dermatology", "odsCode": "RTD", "notificationEmail": "d@nhs.example", "shareCode": "NEWC-DERM"}
    assert ok(client.post(route_of("create_clinic"), token=admin_token, json=body), 201)["shareCode"] == "NEWC-DERM"
    client.services.settings = dataclasses.replace(services.settings, environment="dev")
    r = client.post(route_of("create_clinic"), token=admin_token, json={**body, "name": "Elsewhere"})
    assert r.status == 422 and "random" in r.json()["detail"]


def test_a_folder_name_still_works_for_an_ordinary_patient(scene, client):
    assert create_folder(client, scene.patient.token, "Mole")["name"] == "Mole"
