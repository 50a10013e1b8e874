"""The clinician web app as `make webapps` builds it for Azure, served the way Static Web Apps
serves it (its staticwebapp.config.json headers and fallback): it signs in with Entra ID only.
No demo clinicians, no dev token request, no CSP violation. Entra ID is answered by the test."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from scripts.build_webapps import main as build_webapps
from tests.e2e.web.helpers import wait_view

ROOT = Path(__file__).resolve().parents[3]
TENANT = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
API = "https://func-skinvault-abc.azurewebsites.net"


def _static_web_app(folder: Path) -> ThreadingHTTPServer:
    """Serves `folder` with its staticwebapp.config.json globalHeaders and navigation fallback."""
    config = json.loads((folder / "staticwebapp.config.json").read_text())
    headers = config["globalHeaders"]
    fallback = config["navigationFallback"]["rewrite"]

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def translate_path(self, path: str) -> str:
            local = Path(super().translate_path(path))
            if not local.exists() and "." not in Path(urlparse(path).path).name:
                return str(folder / fallback.lstrip("/"))
            return str(local)

        def end_headers(self) -> None:
            for key, value in headers.items():
                self.send_header(key, value)
            super().end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def deployed_web(tmp_path: Path) -> Iterator[str]:
    if not (ROOT / "web" / "vendor" / "msal" / "msal-browser.min.js").exists():
        pytest.fail("web/vendor is missing: scripts/web_assets.sh (make setup) copies it from tools/node")
    out = tmp_path / "deploy"
    args = ["--apps", "web", "--out", str(out), "--api-base-url", API, "--clinician-tenant-id", TENANT, "--clinician-client-id", CLIENT_ID]
    assert build_webapps(args) == 0
    server = _static_web_app(out / "web")
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _entra(authorize: list[str]):
    base = f"https://login.microsoftonline.com/{TENANT}"
    metadata = {
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "issuer": f"{base}/v2.0",
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_types_supported": ["code"],
    }

    def handle(route):
        url = route.request.url
        if "openid-configuration" in url:
            route.fulfill(json=metadata, headers={"Access-Control-Allow-Origin": "*"})
        elif "discovery/instance" in url:
            body = {"tenant_discovery_endpoint": f"{base}/v2.0/.well-known/openid-configuration", "metadata": []}
            route.fulfill(json=body, headers={"Access-Control-Allow-Origin": "*"})
        elif "/authorize" in url:
            authorize.append(url)
            route.fulfill(content_type="text/html", body="<!doctype html><title>Entra ID</title><p>stand-in</p>")
        else:
            route.abort()

    return handle


def test_deployed_clinician_app_offers_entra_id_sign_in_only(browser, deployed_web: str) -> None:
    context = browser.new_context(base_url=deployed_web)
    page = context.new_page()
    problems: list[str] = []
    requested: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None)
    page.on("request", lambda r: requested.append(r.url))
    authorize: list[str] = []
    page.route("https://login.microsoftonline.com/**", _entra(authorize))
    try:
        page.goto("/signin")
        wait_view(page, "signin")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        expect(page.get_by_role("button", name="Sign in as Dr Demo Clinician")).to_have_count(0)
        assert not [u for u in requested if "demo-users" in u or "/api/dev/token" in u]
        assert page.request.get(deployed_web + "/demo-users.json").status == 404

        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("https://login.microsoftonline.com/**", timeout=15000)
        query = parse_qs(urlparse(authorize[0]).query)
        assert query["client_id"] == [CLIENT_ID]
        assert f"api://{CLIENT_ID}/access_as_user" in query["scope"][0]
        assert query["redirect_uri"] == [deployed_web + "/signin"]
        assert not [u for u in requested if "demo-users" in u or "/api/dev/token" in u]
        assert problems == []
    finally:
        context.close()
