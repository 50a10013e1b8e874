"""OIDC mode (NHS login or Entra External ID, set by config.json): authorisation code + PKCE through
the vendored oidc-client-ts. The identity provider is played by page routes on its real host name
(so the app's CSP is exercised unchanged); its access token is one the local dev issuer minted."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from tests.e2e.patient.helpers import unique_patient, wait_view

pytestmark = pytest.mark.browser

AUTHORITY = "https://auth.login.nhs.uk"
CLIENT_ID = "skinvault-patient-test"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_jwt(claims: dict) -> str:
    return ".".join([b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()), b64url(json.dumps(claims).encode()), b64url(b"sig")])


def test_oidc_sign_in_uses_authorisation_code_with_pkce_and_keeps_tokens_out_of_local_storage(page, stack):
    user = unique_patient("Nhs")
    seen: dict[str, dict] = {}
    cors = {"Access-Control-Allow-Origin": stack.base_url, "Access-Control-Allow-Headers": "*"}
    config = {"apiBaseUrl": "", "auth": {"mode": "oidc", "authority": AUTHORITY, "clientId": CLIENT_ID, "scope": "openid profile"}}
    page.route("**/app/config.json", lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(config)))

    def provider(route):
        req = route.request
        url = urlparse(req.url)
        if req.method == "OPTIONS":
            route.fulfill(status=204, headers={**cors, "Access-Control-Allow-Methods": "GET, POST"})
        elif url.path == "/.well-known/openid-configuration":
            doc = {
                "issuer": AUTHORITY,
                "authorization_endpoint": f"{AUTHORITY}/authorize",
                "token_endpoint": f"{AUTHORITY}/token",
                "jwks_uri": f"{AUTHORITY}/.well-known/jwks.json",
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
            }
            route.fulfill(status=200, content_type="application/json", headers=cors, body=json.dumps(doc))
        elif url.path == "/authorize":
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            seen["authorize"] = query
            back = (
                query["redirect_uri"] + ("&" if "?" in query["redirect_uri"] else "?") + urlencode({"code": "one-time-code", "state": query["state"]})
            )
            route.fulfill(status=302, headers={"Location": back})
        elif url.path == "/token":
            form = {k: v[0] for k, v in parse_qs(req.post_data or "").items()}
            seen["token"] = form
            now = int(time.time())
            claims = {
                "iss": AUTHORITY,
                "aud": CLIENT_ID,
                "sub": user["sub"],
                "given_name": "Nhs",
                "family_name": "Tester",
                "iat": now,
                "exp": now + 3600,
            }
            body = {
                "access_token": stack.token(user["sub"], "patient", user["name"]),
                "token_type": "Bearer",
                "expires_in": 3600,
                "id_token": unsigned_jwt(claims),
                "scope": "openid profile",
            }
            route.fulfill(status=200, content_type="application/json", headers=cors, body=json.dumps(body))
        else:
            route.fulfill(status=404, headers=cors, body="")

    page.route(f"{AUTHORITY}/**", provider)
    page.goto(stack.base_url + "/app/?page=signin")
    wait_view(page, "signin")
    page.get_by_role("button", name="Continue to NHS login").click()
    wait_view(page, "passcode")

    authorize = seen["authorize"]
    assert authorize["response_type"] == "code" and authorize["client_id"] == CLIENT_ID
    assert authorize["code_challenge_method"] == "S256"
    token = seen["token"]
    assert token["grant_type"] == "authorization_code" and token["code"] == "one-time-code"
    assert b64url(hashlib.sha256(token["code_verifier"].encode()).digest()) == authorize["code_challenge"]

    page.get_by_label("Choose a passcode").fill("2580")
    page.get_by_label("Enter the passcode again").fill("2580")
    page.get_by_role("button", name="Save passcode").click()
    wait_view(page, "home")
    assert page.locator("#account-name").inner_text() == "Nhs Tester"
    assert page.evaluate("() => localStorage.length") == 0
    keys = page.evaluate("() => Object.keys(sessionStorage)")
    assert f"skinvault.token.{user['sub']}" in keys
    assert not [k for k in keys if k.startswith("oidc.user:")], "the library's own copy of the tokens is removed"
