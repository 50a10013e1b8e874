"""Upload sessions and the upload key through the registered functions."""

from __future__ import annotations


def test_upload_key_is_the_encryption_an_upload_session_carries(client, patient_token):
    r = client.get("/api/upload-key", token=patient_token)
    assert r.status == 200, r.body
    key = r.json()
    assert key["protocol"] == "2.0" and key["alg"] == "RSA-OAEP-256"
    assert key["kid"] == key["jwk"]["kid"]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key["jwk"]), "only the public half is handed out"
    folder = client.post("/api/folders", token=patient_token, json={"name": "Mole"}).json()
    session = client.post(f"/api/folders/{folder['id']}/uploads", token=patient_token, json={"contentType": "image/jpeg", "sizeBytes": 10}).json()
    assert session["encryption"] == key


def test_upload_key_may_be_kept_by_the_phone(client, patient_token):
    r = client.get("/api/upload-key", token=patient_token)
    assert r.headers["Cache-Control"] == "private, max-age=3600"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_upload_key_needs_a_token(client):
    r = client.get("/api/upload-key")
    assert r.status == 401
    assert r.content_type == "application/problem+json"


def test_upload_key_is_for_patients_only(client):
    doctor = client.token("doc-1", "clinician", "Dr Derm")
    assert client.get("/api/upload-key", token=doctor).status == 404


def test_upload_key_follows_a_rotation(client, patient_token, services):
    before = client.get("/api/upload-key", token=patient_token).json()
    services.kek.public_jwk = lambda: {**before["jwk"], "kid": "fake:kek/2"}
    after = client.get("/api/upload-key", token=patient_token).json()
    assert after["kid"] == "fake:kek/2" != before["kid"]
