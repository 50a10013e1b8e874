"""Email: everything put into HTML is escaped, addresses with control characters are refused, and a
patient is emailed only at an address they proved is theirs (a code sent to it) or their token's."""

from __future__ import annotations

import pytest

from shared_code.domain.email_address import check_email_address, is_email_address
from shared_code.domain.errors import RuleViolation
from shared_code.ports import NOTIFICATIONS_QUEUE
from tests.support.functions_client import registry
from tests.support.library_helpers import actor, build_scene, create_clinic, deliver, deliver_all, ok

LINK_NAME = 'Derm <a href="https://evil.example/phish">click</a> & <script>alert(1)</script>'


def route_of(function_name: str, **params: str) -> str:
    """The URL of a registered HTTP function, found by its name (so these tests follow a route move)."""
    (route,) = [r for r in registry()[0] if r.name == function_name]
    return "/api/" + route.template.format(**params)


def _code(mail) -> str:
    return mail.text.split("code is ")[1][:6]


def _ask_for_more_photos(client, scene) -> None:
    ok(client.put(f"/api/clinic/cases/{scene.case_id()}/triage", token=scene.doctor.token, json={"outcome": "request-more-photos"}))
    (message,) = client.services.queue.take(NOTIFICATIONS_QUEUE)
    deliver(message, message_id="more-1")


# ----------------------------------------------------------------------------- escaping
def test_a_clinic_name_carrying_a_link_is_escaped_in_every_email(client):
    scene = build_scene(client, clinic_name=LINK_NAME)
    folder = scene.folder("Mole")
    scene.share(folder_ids=[folder])
    deliver_all(client)
    _ask_for_more_photos(client, scene)
    mails = client.services.email.sent
    assert {m.to for m in mails} == {"derm-leeds@nhs.example", "alice@example.org"}
    for mail in mails:
        assert '<a href="https://evil.example' not in mail.html and "<script>" not in mail.html
        assert "&lt;a href=&quot;https://evil.example/phish&quot;&gt;" in mail.html
        assert "&amp;" in mail.html
        assert mail.html.count("<a ") <= 1  # only our own sign-in link, if any


# ----------------------------------------------------------------------------- addresses
@pytest.mark.parametrize(
    "bad",
    [
        "derm@nhs.example\r\nBcc: all@evil.example",
        "derm@nhs.example\n",
        "de\x00rm@nhs.example",
        "derm@nhs.example\x85",
        "a b@nhs.example",
        "no-at",
        "@nhs.example",
    ],
)
def test_addresses_with_control_characters_or_no_shape_are_refused(client, bad):
    assert not is_email_address(bad)
    with pytest.raises(RuleViolation):
        check_email_address(bad)
    admin = client.token("admin-1", "admin", "Ada Admin")
    r = client.post(route_of("create_clinic"), token=admin, json={"name": "X", "odsCode": "RR8", "notificationEmail": bad})
    assert r.status == 422, r.body
    patient = client.token("p-1", "patient", "P")
    assert client.put("/api/me", token=patient, json={"email": bad}).status == 422
    assert client.post("/api/me/email-verification", token=patient, json={"email": bad}).status == 422
    clinic = create_clinic(client, admin, "Leeds")
    r = client.post(route_of("add_clinic_member", clinicId=clinic["id"]), token=admin, json={"sub": "d", "name": "D", "email": bad})
    assert r.status == 422
    assert client.services.email.sent == []


def test_ordinary_addresses_pass():
    for good in ("derm@nhs.example", "first.last+skin@nhs.net", "x@a.co.uk"):
        assert check_email_address(f"  {good} ") == good


# ----------------------------------------------------------------------------- verified addresses only
def test_an_address_typed_into_the_profile_gets_no_email_until_verified(client):
    scene = build_scene(client, patient_email=None)
    ok(client.put("/api/me", token=scene.patient.token, json={"email": "someone-else@example.org"}))
    scene.share()
    deliver_all(client)
    _ask_for_more_photos(client, scene)
    assert [m.to for m in client.services.email.sent] == ["derm-leeds@nhs.example"]


def test_the_identity_tokens_email_is_the_notification_address(client):
    scene = build_scene(client, patient_email="alice@example.org")
    ok(client.put("/api/me", token=scene.patient.token, json={"email": "typed@example.org"}))
    scene.share()
    deliver_all(client)
    _ask_for_more_photos(client, scene)
    assert client.services.email.sent[-1].to == "alice@example.org"


def test_a_code_sent_to_an_address_verifies_it(client):
    scene = build_scene(client, patient_email=None)
    token = scene.patient.token
    sent = ok(client.post("/api/me/email-verification", token=token, json={"email": "new@example.org"}), 202)
    assert sent["status"] == "code-sent" and sent["expiresAt"] == "2026-11-27T10:15:00Z"
    (mail,) = client.services.email.sent
    assert mail.to == "new@example.org" and "Alice" not in mail.text
    code = _code(mail)
    done = ok(client.post("/api/me/email-verification/confirm", token=token, json={"code": code}))
    assert done == {"email": "new@example.org", "status": "verified", "verifiedAt": "2026-11-27T10:00:00Z"}
    # the code is spent
    assert client.post("/api/me/email-verification/confirm", token=token, json={"code": code}).status in (422, 429)
    scene.share()
    deliver_all(client)
    _ask_for_more_photos(client, scene)
    assert client.services.email.sent[-1].to == "new@example.org"


def test_wrong_codes_are_limited_and_codes_expire(client):
    scene = build_scene(client, patient_email=None)
    token = scene.patient.token
    ok(client.post("/api/me/email-verification", token=token, json={"email": "new@example.org"}), 202)
    code = _code(client.services.email.sent[-1])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert client.post("/api/me/email-verification/confirm", token=token, json={"code": wrong}).status == 422
    r = client.post("/api/me/email-verification/confirm", token=token, json={"code": code})
    assert r.status == 429 and r.headers["Retry-After"]
    ok(client.post("/api/me/email-verification", token=token, json={"email": "new@example.org"}), 202)
    client.services.clock.advance(minutes=16)
    r = client.post("/api/me/email-verification/confirm", token=token, json={"code": _code(client.services.email.sent[-1])})
    assert r.status == 422 and "expired" in r.json()["detail"]


def test_codes_sent_are_limited_per_hour(client):
    scene = build_scene(client, patient_email=None)
    for _ in range(5):
        ok(client.post("/api/me/email-verification", token=scene.patient.token, json={"email": "new@example.org"}), 202)
    r = client.post("/api/me/email-verification", token=scene.patient.token, json={"email": "new@example.org"})
    assert r.status == 429 and int(r.headers["Retry-After"]) > 0
    assert len(client.services.email.sent) == 5
    client.services.clock.advance(hours=1, seconds=1)
    ok(client.post("/api/me/email-verification", token=scene.patient.token, json={"email": "new@example.org"}), 202)


def test_a_confirm_without_a_code_asked_for_is_422(client):
    patient = actor(client, "p-9", "patient", "P")
    assert client.post("/api/me/email-verification/confirm", token=patient.token, json={"code": "123456"}).status == 422
    assert client.post("/api/me/email-verification/confirm", token=patient.token, json={"code": "12345"}).status == 400


def test_a_clinician_cannot_use_the_patients_verification(client):
    scene = build_scene(client)
    assert client.post("/api/me/email-verification", token=scene.doctor.token, json={"email": "x@example.org"}).status == 404
