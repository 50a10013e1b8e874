"""Platform behaviour through the registered functions: health, profile, dev tokens, admin clinics, HTTP conventions."""

from __future__ import annotations

import json

PROBLEM = "application/problem+json"


def test_health_reports_each_dependency_and_needs_no_token(client):
    r = client.get("/api/health")
    assert r.status == 200
    assert r.json() == {"status": "ok", "dependencies": {"blobStorage": "ok", "metadataStore": "ok", "queues": "ok"}}


def test_health_is_503_when_blob_storage_is_down(client, services):
    services.blobs.available = False
    r = client.get("/api/health")
    assert r.status == 503
    assert r.json()["dependencies"]["blobStorage"] == "unavailable"


def test_health_is_503_when_the_queues_do_not_answer(client, services):
    services.queue.available = False
    r = client.get("/api/health")
    assert r.status == 503
    assert r.json()["dependencies"] == {"blobStorage": "ok", "metadataStore": "ok", "queues": "unavailable"}


def test_health_is_503_when_the_store_answers_reads_but_refuses_writes(client, services):
    from shared_code.ports import DependencyUnavailable

    def refuse(*_args, **_kwargs):
        raise DependencyUnavailable("fake-store", "read-only")

    services.store.upsert = refuse  # ping (a read) still answers
    services.store.ping()
    r = client.get("/api/health")
    assert r.status == 503
    assert r.json()["dependencies"]["metadataStore"] == "unavailable"


def test_me_requires_a_bearer_token(client):
    r = client.get("/api/me")
    assert r.status == 401
    assert r.content_type == PROBLEM
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert r.json()["status"] == 401


def test_me_is_created_on_first_use_from_the_token(client, patient_token):
    r = client.get("/api/me", token=patient_token)
    assert r.status == 200
    me = r.json()
    assert me["displayName"] == "Alice Example"
    assert me["nhsNumber"] is None
    assert me["id"].startswith("pt-") and "patient-a" not in me["id"]
    assert r.headers["Cache-Control"] == "no-store"


def test_put_me_sets_profile_with_a_valid_nhs_number(client, patient_token):
    r = client.put("/api/me", token=patient_token, json={"displayName": "Alice E", "dateOfBirth": "1980-02-29", "nhsNumber": "943 476 5919"})
    assert r.status == 200, r.body
    assert r.json()["nhsNumber"] == "9434765919"
    assert client.get("/api/me", token=patient_token).json()["dateOfBirth"] == "1980-02-29"


def test_put_me_rejects_an_nhs_number_failing_modulus_11_with_422(client, patient_token):
    r = client.put("/api/me", token=patient_token, json={"nhsNumber": "9434765918"})
    assert r.status == 422
    assert "Modulus 11" in r.json()["detail"]
    assert "9434765918" not in r.body.decode()


def test_malformed_json_is_400(client, patient_token):
    r = client.put("/api/me", token=patient_token, body=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status == 400 and r.content_type == PROBLEM


def test_wrong_field_type_is_400_without_echoing_the_value(client, patient_token):
    r = client.put("/api/me", token=patient_token, json={"displayName": 12345678})
    assert r.status == 400
    assert r.json()["errors"][0]["pointer"] == "/displayName"
    assert "12345678" not in r.body.decode()


def test_unknown_field_is_400(client, patient_token):
    r = client.put("/api/me", token=patient_token, json={"shoeSize": "9"})
    assert r.status == 400
    assert r.json()["errors"][0]["detail"] == "unknown field"


def test_body_over_the_limit_is_413(client, patient_token):
    big = json.dumps({"displayName": "x" * 2_000_000}).encode()
    r = client.put("/api/me", token=patient_token, body=big, headers={"Content-Type": "application/json"})
    assert r.status == 413


def test_wrong_content_type_is_415(client, patient_token):
    r = client.put("/api/me", token=patient_token, body=b"displayName=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 415


def test_correlation_id_is_echoed_or_generated(client):
    given = client.get("/api/health", headers={"X-Correlation-Id": "abc-123"})
    assert given.headers["X-Correlation-Id"] == "abc-123"
    generated = client.get("/api/health")
    assert len(generated.headers["X-Correlation-Id"]) == 36


def test_dev_token_endpoint_mints_a_token_the_api_accepts(client):
    r = client.post("/api/dev/token", json={"sub": "bob", "name": "Bob", "role": "patient"})
    assert r.status == 200
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    assert client.get("/api/me", token=body["access_token"]).status == 200


def test_dev_token_rejects_an_unknown_role(client):
    r = client.post("/api/dev/token", json={"sub": "bob", "name": "Bob", "role": "superuser"})
    assert r.status == 400


def test_dev_endpoints_do_not_exist_when_the_dev_issuer_is_off(client, services):
    services.dev_issuer = None
    assert client.post("/api/dev/token", json={"sub": "bob", "name": "Bob", "role": "patient"}).status == 404
    assert client.get("/api/dev/jwks").status == 404


def test_admin_creates_a_clinic_with_a_typable_share_code(client, admin_token):
    r = client.post(
        "/api/manage/clinics", token=admin_token, json={"name": "Newcastle Dermatology", "odsCode": "rtd", "notificationEmail": "derm@nhs.example"}
    )
    assert r.status == 201, r.body
    clinic = r.json()
    assert clinic["odsCode"] == "RTD"
    code = clinic["shareCode"]
    assert len(code) == 9 and code[4] == "-" and not set(code.replace("-", "")) & set("01OIL")
    listed = client.get("/api/manage/clinics", token=admin_token).json()["items"]
    assert [c["id"] for c in listed] == [clinic["id"]]


def test_admin_manages_clinic_members(client, admin_token):
    clinic = client.post("/api/manage/clinics", token=admin_token, json={"name": "C", "odsCode": "RTD", "notificationEmail": "c@nhs.example"}).json()
    add = client.post(
        f"/api/manage/clinics/{clinic['id']}/members", token=admin_token, json={"sub": "doc-1", "name": "Dr One", "email": "one@nhs.example"}
    )
    assert add.status == 201
    assert client.services.authenticate("Bearer " + client.token("doc-1", "clinician")).clinic_ids == (clinic["id"],)
    assert client.delete(f"/api/manage/clinics/{clinic['id']}/members/doc-1", token=admin_token).status == 204
    assert client.services.authenticate("Bearer " + client.token("doc-1", "clinician")).clinic_ids == ()
    assert client.delete(f"/api/manage/clinics/{clinic['id']}/members/doc-1", token=admin_token).status == 404


def test_patients_and_clinicians_cannot_use_admin_tools(client, patient_token):
    r = client.post("/api/manage/clinics", token=patient_token, json={"name": "C", "odsCode": "RTD", "notificationEmail": "c@nhs.example"})
    assert r.status == 403
    clin = client.token("doc-9", "clinician")
    assert client.get("/api/manage/clinics", token=clin).status == 403


def test_admin_gets_404_on_patient_endpoints(client, admin_token):
    assert client.get("/api/me", token=admin_token).status == 404
    assert client.get("/api/folders", token=admin_token).status == 404
