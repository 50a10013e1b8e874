"""The patient's profile through the registered functions: given and family names, the display name
derived from them, and the email for notifications."""

from __future__ import annotations

from shared_code.ports import PATIENTS


def test_a_new_profile_has_no_given_or_family_name_yet(client, patient_token):
    me = client.get("/api/me", token=patient_token).json()
    assert (me["givenName"], me["familyName"], me["displayName"], me["email"]) == (None, None, "Alice Example", "alice@example.org")


def test_given_and_family_names_set_the_display_name(client, patient_token):
    r = client.put("/api/me", token=patient_token, json={"givenName": "  Mary  Ann ", "familyName": "Smith"})
    assert r.status == 200, r.body
    me = r.json()
    assert (me["givenName"], me["familyName"], me["displayName"]) == ("Mary Ann", "Smith", "Mary Ann Smith")
    assert client.get("/api/me", token=patient_token).json()["displayName"] == "Mary Ann Smith"


def test_changing_one_name_keeps_the_other_in_the_display_name(client, patient_token):
    client.put("/api/me", token=patient_token, json={"givenName": "Mary", "familyName": "Smith"})
    me = client.put("/api/me", token=patient_token, json={"familyName": "Jones"}).json()
    assert me["displayName"] == "Mary Jones"


def test_an_explicit_display_name_wins(client, patient_token):
    me = client.put("/api/me", token=patient_token, json={"givenName": "Margaret", "familyName": "Smith", "displayName": "Peggy Smith"}).json()
    assert (me["givenName"], me["displayName"]) == ("Margaret", "Peggy Smith")
    # and a later update of other fields leaves it alone
    assert client.put("/api/me", token=patient_token, json={"email": "peggy@example.org"}).json()["displayName"] == "Peggy Smith"


def test_clearing_both_names_keeps_the_last_display_name(client, patient_token):
    client.put("/api/me", token=patient_token, json={"givenName": "Mary", "familyName": "Smith"})
    me = client.put("/api/me", token=patient_token, json={"givenName": None, "familyName": None}).json()
    assert (me["givenName"], me["familyName"], me["displayName"]) == (None, None, "Mary Smith")


def test_a_blank_name_is_422_and_a_too_long_one_400(client, patient_token):
    r = client.put("/api/me", token=patient_token, json={"givenName": "   "})
    assert r.status == 422 and "givenName" in r.json()["detail"]
    assert client.put("/api/me", token=patient_token, json={"familyName": "x" * 101}).status == 400
    assert client.put("/api/me", token=patient_token, json={"familyName": 7}).status == 400


def test_email_for_notifications_can_be_changed_and_cleared(client, patient_token):
    assert client.put("/api/me", token=patient_token, json={"email": "new@example.org"}).json()["email"] == "new@example.org"
    assert client.put("/api/me", token=patient_token, json={"email": "not-an-email"}).status == 422
    assert client.put("/api/me", token=patient_token, json={"email": None}).json()["email"] is None


def test_a_profile_stored_before_names_existed_shows_them_as_null(client, patient_token, services):
    me = client.get("/api/me", token=patient_token).json()
    doc = services.store.read(PATIENTS, me["id"], me["id"])
    for field in ("givenName", "familyName"):
        doc.pop(field)
    services.store.replace(PATIENTS, doc, if_match=doc["_etag"])
    again = client.get("/api/me", token=patient_token).json()
    assert again["givenName"] is None and again["familyName"] is None
    assert client.put("/api/me", token=patient_token, json={"givenName": "Alice"}).json()["displayName"] == "Alice"
