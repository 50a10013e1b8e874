"""Azure mode: with an msal config the sign-in page loads MSAL (vendored, same origin) and sends the
clinician to Entra ID with PKCE. Entra ID itself cannot be reached offline: its endpoints are answered
by the test, so this proves the wiring, not a real sign-in."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.e2e.web.helpers import assert_accessible, wait_view

WEB = Path(__file__).resolve().parents[3] / "web"
TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
AUTHORITY = f"https://login.microsoftonline.com/{TENANT}"


def _openid_configuration() -> dict:
    base = f"https://login.microsoftonline.com/{TENANT}"
    return {
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "issuer": f"https://login.microsoftonline.com/{TENANT}/v2.0",
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_types_supported": ["code"],
    }


def test_msal_mode_sends_the_clinician_to_entra_id_with_pkce(stack, page):
    if not (WEB / "vendor" / "msal" / "msal-browser.min.js").exists():
        pytest.fail("web/vendor/msal is missing: scripts/web_assets.sh copies @azure/msal-browser from tools/node")
    config = {"auth": {"mode": "msal", "clientId": CLIENT_ID, "authority": AUTHORITY, "scopes": ["api://skinvault-api/Clinic.Read"]}}
    page.route("**/config.json", lambda route: route.fulfill(json=config))
    authorize: list[str] = []

    def entra(route):
        url = route.request.url
        if "openid-configuration" in url:
            route.fulfill(json=_openid_configuration(), headers={"Access-Control-Allow-Origin": "*"})
        elif "discovery/instance" in url:
            body = {"tenant_discovery_endpoint": f"{AUTHORITY}/v2.0/.well-known/openid-configuration", "metadata": []}
            route.fulfill(json=body, headers={"Access-Control-Allow-Origin": "*"})
        elif "/authorize" in url:
            authorize.append(url)
            route.fulfill(content_type="text/html", body="<!doctype html><title>Entra ID</title><p>stand-in</p>")
        else:
            route.abort()

    page.route("https://login.microsoftonline.com/**", entra)
    page.goto("/cases/some-case")
    wait_view(page, "signin")
    assert page.evaluate("() => sessionStorage.getItem('skinvault.returnTo')") == "/cases/some-case"
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in as Dr Demo Clinician")).to_have_count(0)
    assert_accessible(page, "sign-in (Entra ID)")

    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("https://login.microsoftonline.com/**", timeout=15000)
    assert authorize, "MSAL went to the authorize endpoint"
    q = parse_qs(urlparse(authorize[0]).query)
    assert q["client_id"] == [CLIENT_ID]
    assert q["redirect_uri"] == [stack.base_url + "/signin"]
    assert q["code_challenge_method"] == ["S256"] and q["code_challenge"][0]
    assert "api://skinvault-api/Clinic.Read" in q["scope"][0]
    assert q["response_type"] == ["code"]
