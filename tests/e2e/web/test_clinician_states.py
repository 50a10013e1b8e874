"""The states a clinician meets besides the happy path: withdrawn share, expired session, errors, empty worklist."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests.e2e.web.helpers import (
    CLINICIAN,
    assert_accessible,
    case_id_for,
    make_shared_patient,
    revoke_share,
    sign_in,
    token,
    wait_view,
)


def test_revoked_share_shows_patient_has_withdrawn_access_while_case_is_open(stack, seeded, page):
    base = stack.base_url
    patient = make_shared_patient(base, seeded["clinicId"], sub="web-revoke-patient", display_name="Robin Revoke", photos=2)
    case_id = case_id_for(base, token(base, CLINICIAN["sub"], "clinician", CLINICIAN["name"]), "Robin Revoke")

    sign_in(page, base)
    wait_view(page, "worklist")
    page.get_by_role("link", name="Robin Revoke").click()
    wait_view(page, "case")
    assert page.url == f"{base}/cases/{case_id}"
    thumb = page.locator("img.app-thumb__img").first
    expect(thumb).to_have_attribute("data-state", "loaded")

    revoke_share(base, patient["token"], patient["shareId"])

    # the next thing the clinician does finds the share gone
    page.locator("a.app-thumb").first.click()
    wait_view(page, "photo", "revoked")
    expect(page.get_by_role("heading", level=1)).to_have_text("The patient has withdrawn access")
    assert page.locator("img[src^='blob:']").count() == 0, "no photo stays on screen"
    assert_accessible(page, "withdrawn access")

    page.get_by_role("link", name="Go back to the worklist").click()
    wait_view(page, "worklist")
    expect(page.get_by_role("link", name="Robin Revoke")).to_have_count(0)  # kept as "sharing ended": no way in
    expect(page.locator(f"tr[data-case-id='{case_id}']")).to_contain_text("Sharing ended by the patient on")


def test_revoked_share_detected_by_the_open_case_refreshing(stack, seeded, page):
    base = stack.base_url
    patient = make_shared_patient(base, seeded["clinicId"], sub="web-revoke-patient-2", display_name="Riley Revoke", photos=0)
    case_id = case_id_for(base, token(base, CLINICIAN["sub"], "clinician", CLINICIAN["name"]), "Riley Revoke")
    page.route("**/config.json", lambda route: route.fulfill(json={"auth": {"mode": "dev"}, "caseRefreshSeconds": 1}))
    sign_in(page, base)
    wait_view(page, "worklist")
    page.goto(f"/cases/{case_id}")
    wait_view(page, "case")
    revoke_share(base, patient["token"], patient["shareId"])
    wait_view(page, "case", "revoked", timeout=10000)
    expect(page.get_by_role("heading", level=1)).to_have_text("The patient has withdrawn access")


def _expired_token(stack) -> str:
    from shared_code.auth.dev_issuer import DevIssuer

    s = stack.settings()
    issuer = DevIssuer(
        s["DEV_ISSUER_KEY_PATH"],
        s["AUTH_STAFF_ISSUER"],
        s["AUTH_STAFF_AUDIENCE"],
        clinician_role=s["AUTH_CLINICIAN_ROLE"],
        admin_role=s["AUTH_ADMIN_ROLE"],
    )
    return issuer.mint(CLINICIAN["sub"], CLINICIAN["name"], "clinician", lifetime=-120)["access_token"]


def test_expired_session_returns_to_sign_in_and_back_to_where_the_clinician_was(stack, seeded, page):
    base = stack.base_url
    case_id = seeded["caseId"]
    expired = _expired_token(stack)
    assert httpx.get(base + "/api/clinic/cases", headers={"Authorization": f"Bearer {expired}"}).status_code == 401

    sign_in(page, base)
    wait_view(page, "worklist")
    page.goto(f"/cases/{case_id}")
    wait_view(page, "case")
    target = page.locator("a.app-thumb").first.get_attribute("href")

    # the API now sees an expired token (signed by the right key, past its exp)
    page.evaluate(
        "(t) => { const s = JSON.parse(sessionStorage.getItem('skinvault.session')); s.accessToken = t;"
        " sessionStorage.setItem('skinvault.session', JSON.stringify(s)); }",
        expired,
    )
    page.locator("a.app-thumb").first.click()
    wait_view(page, "signin")
    assert page.url == base + "/signin"
    expect(page.locator("[data-testid='session-expired']")).to_contain_text("Your session has ended")
    assert page.evaluate("() => sessionStorage.getItem('skinvault.session')") is None
    expect(page.get_by_text("Alex Demo")).to_have_count(0)
    assert_accessible(page, "session expired")

    page.get_by_role("button", name="Sign in as Dr Demo Clinician").click()
    wait_view(page, "photo")
    assert page.url == base + target


def test_session_past_its_expiry_time_is_not_used(stack, seeded, page):
    base = stack.base_url
    sign_in(page, base)
    wait_view(page, "worklist")
    page.evaluate(
        "() => { const s = JSON.parse(sessionStorage.getItem('skinvault.session')); s.expiresAt = Date.now() - 1000;"
        " sessionStorage.setItem('skinvault.session', JSON.stringify(s)); }"
    )
    api_calls: list[str] = []
    page.on("request", lambda r: api_calls.append(r.url) if "/api/clinic/" in r.url else None)
    page.goto(f"/cases/{seeded['caseId']}")
    wait_view(page, "signin")
    expect(page.locator("[data-testid='session-expired']")).to_be_visible()
    assert not api_calls, "an expired token is never sent"
    page.get_by_role("button", name="Sign in as Dr Demo Clinician").click()
    wait_view(page, "case")
    assert page.url == f"{base}/cases/{seeded['caseId']}"


def test_network_failure_shows_error_with_retry_that_recovers(stack, seeded, page):
    sign_in(page, stack.base_url)
    wait_view(page, "worklist")
    failures = {"left": 1}

    def flaky(route):
        if failures["left"]:
            failures["left"] -= 1
            route.abort("connectionrefused")
        else:
            route.continue_()

    page.route("**/api/clinic/cases/*", flaky)
    page.goto(f"/cases/{seeded['caseId']}")
    wait_view(page, "case", "error")
    expect(page.get_by_role("heading", level=1)).to_have_text("We cannot reach SkinVault")
    assert_accessible(page, "error")
    page.get_by_role("button", name="Try again").click()
    wait_view(page, "case")
    expect(page.get_by_role("heading", level=1)).to_have_text("Alex Demo")


def test_server_error_shows_error_with_retry(stack, seeded, page):
    sign_in(page, stack.base_url)
    wait_view(page, "worklist")
    page.route(
        "**/api/clinic/cases?*",
        lambda route: route.fulfill(
            status=503,
            content_type="application/problem+json",
            body='{"type":"about:blank","title":"Service unavailable","status":503,"detail":"Storage is down."}',
        ),
    )
    page.reload()
    wait_view(page, "worklist", "error")
    expect(page.get_by_role("heading", level=1)).to_have_text("SkinVault is not available at the moment")
    page.unroute("**/api/clinic/cases?*")
    page.get_by_role("button", name="Try again").click()
    wait_view(page, "worklist")


def test_empty_worklist_for_a_clinic_with_no_shared_cases(stack, seeded, page):
    base = stack.base_url
    admin = token(base, "demo-admin", "admin", "Demo Admin")
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin}"}, timeout=30) as api:
        r = api.post("/api/manage/clinics", json={"name": "Quiet Dermatology", "odsCode": "RX1", "notificationEmail": "quiet@nhs.example"})
        assert r.status_code == 201, r.text
        member = {"sub": "quiet-clinician", "name": "Dr Quiet Clinician", "email": "quiet@nhs.example"}
        assert api.post(f"/api/manage/clinics/{r.json()['id']}/members", json=member).status_code in (200, 201)
    users = [{"sub": "quiet-clinician", "name": "Dr Quiet Clinician", "role": "clinician"}]
    page.route("**/demo-users.json", lambda route: route.fulfill(json=users))
    sign_in(page, base, "Dr Quiet Clinician")
    wait_view(page, "worklist")
    expect(page.locator("[data-testid='empty-worklist']")).to_contain_text("No cases are shared with your clinic")
    assert_accessible(page, "empty worklist")
    page.get_by_role("link", name="New photos").click()
    wait_view(page, "worklist")
    expect(page.locator("[data-testid='empty-worklist']")).to_contain_text("no new photos")
