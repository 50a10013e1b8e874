"""Every web-app call to the API goes through apiBaseUrl (config.json).

In Azure the web apps call the Function App's origin directly (no Static Web App linked backend);
locally apiBaseUrl is "" and the same code calls this origin. Two proofs: a static scan of the
JavaScript of both web apps (web/ and, where present, patient/), and the clinician app in
Chromium with apiBaseUrl set to another origin, where every API request must go there.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from scripts.build_webapps import with_connect_src
from tests.e2e.web.helpers import CLINICIAN, sign_in, wait_view

ROOT = Path(__file__).resolve().parents[3]
APP_DIRS = [d for d in (ROOT / "web", ROOT / "patient") if d.is_dir()]
API_ORIGIN = "http://api.skinvault.test:7443"

# fetch(<first argument>
FETCH = re.compile(r"\bfetch\(\s*([^,)]+)")
# "/api/..." or `/api/...` literals
API_LITERAL = re.compile(r"""(["'`])/api/""")
# what may stand before an API literal: the helpers that prefix apiBaseUrl, or a path check
API_LITERAL_ALLOWED_BEFORE = re.compile(r"(apiUrl\(|startsWith\(|includes\(|===\s*|==\s*)\s*$")


def _scripts() -> list[Path]:
    files: list[Path] = []
    for app in APP_DIRS:
        files += [p for p in sorted(app.rglob("*.js")) if "vendor" not in p.parts and "tests" not in p.parts and "node_modules" not in p.parts]
    return files


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"(^|[^:])//.*$", r"\1", text, flags=re.M)


def test_every_fetch_of_both_web_apps_builds_its_url_from_api_base_url() -> None:
    scripts = _scripts()
    assert any(p.name == "api.js" for p in scripts)
    offenders: list[str] = []
    for path in scripts:
        text = _strip_comments(path.read_text(encoding="utf-8"))
        for match in FETCH.finditer(text):
            arg = match.group(1).strip()
            where = f"{path.relative_to(ROOT)}: fetch({arg}"
            if arg.startswith("apiUrl("):
                continue
            if re.fullmatch(r"(['\"])[^'\"]*\1", arg):
                if "/api" in arg or "//" in arg:
                    offenders.append(where + " (an API or absolute URL literal)")
                continue  # a static file of the web app itself (config.json, demo-users.json)
            if arg == "url" and re.search(r"\burl\s*=\s*apiUrl\(", text):
                continue  # api.js request(): url = apiUrl(path) + query string
            if arg == "url" and path.name == "blob-put.js":
                continue  # the one-blob upload SAS the API handed out: Blob Storage, not the API
            if arg == "req" and path.name == "sw.js":
                continue  # the service worker passing the page's own requests through
            offenders.append(where + " (not built by apiUrl)")
    assert offenders == []


def test_no_api_path_reaches_the_network_except_through_api_url() -> None:
    # API paths live in each app's api.js, whose only fetch is fetch(url) with url = apiUrl(path)
    # (checked above); elsewhere an API path may only be given to apiUrl() or compared against.
    offenders = []
    for path in _scripts():
        text = _strip_comments(path.read_text(encoding="utf-8"))
        for match in API_LITERAL.finditer(text if path.name != "api.js" else ""):
            before = text[max(0, match.start() - 40) : match.start()]
            if not API_LITERAL_ALLOWED_BEFORE.search(before):
                line = text[: match.start()].count("\n") + 1
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {text[match.start() : match.start() + 40]!r}")
        for other in ("XMLHttpRequest", "sendBeacon", "EventSource", "WebSocket"):
            for match in re.finditer(rf"\b{other}\b", text):
                window = text[match.start() : match.start() + 400]
                if API_LITERAL.search(window):
                    offenders.append(f"{path.relative_to(ROOT)}: {other} with an API path literal")
    assert offenders == []


def test_api_url_prefixes_the_configured_origin() -> None:
    api = (ROOT / "web" / "js" / "api.js").read_text(encoding="utf-8")
    assert re.search(r"export function apiUrl\(path\)", api)
    assert "apiBaseUrl" in api and re.search(r"let url = apiUrl\(path\)", api)


@pytest.fixture
def api_elsewhere(page, stack):
    """config.json names another origin as apiBaseUrl; that origin is answered by the local host
    through the browser's request interception, with the CORS headers the Function App sends
    (Bicep: exactly the web apps' origins), and the served CSP names it as the deploy build does."""
    api_requests: list[str] = []
    same_origin_api: list[str] = []
    web_origin = stack.base_url

    def config(route):
        route.fulfill(json={"apiBaseUrl": API_ORIGIN + "/", "auth": {"mode": "dev"}, "caseRefreshSeconds": 30, "worklistPageSize": 50})

    def document(route):
        if route.request.resource_type != "document":
            route.fallback()
            return
        response = route.fetch()
        headers = dict(response.headers)
        headers["content-security-policy"] = with_connect_src(headers["content-security-policy"], [API_ORIGIN])
        route.fulfill(response=response, headers=headers)

    def api(route):
        request = route.request
        api_requests.append(f"{request.method} {urlparse(request.url).path}")
        cors = {
            "access-control-allow-origin": web_origin,
            "access-control-allow-headers": "authorization, content-type, accept",
            "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE",
            "access-control-expose-headers": "content-disposition, x-correlation-id",
            "vary": "Origin",
        }
        if request.method == "OPTIONS":
            route.fulfill(status=204, headers=cors)
            return
        upstream = route.fetch(url=web_origin + request.url[len(API_ORIGIN) :])
        route.fulfill(response=upstream, headers={**dict(upstream.headers), **cors})

    def watch(request):
        if request.url.startswith(web_origin + "/api/"):
            same_origin_api.append(request.url)

    page.route(f"{web_origin}/config.json", config)
    page.route(f"{web_origin}/**", document)
    page.route(f"{API_ORIGIN}/**", api)
    page.on("request", watch)
    return api_requests, same_origin_api


def test_clinician_app_calls_only_the_api_base_url_origin(stack, seeded, page, api_elsewhere):
    api_requests, same_origin_api = api_elsewhere
    sign_in(page, stack.base_url, CLINICIAN["name"])
    wait_view(page, "worklist")
    page.locator("[data-testid='case-link'], a[href^='/cases/']").first.click()
    wait_view(page, "case")
    page.wait_for_load_state("networkidle")
    assert "POST /api/dev/token" in api_requests
    assert any(r.startswith("GET /api/clinic/cases") for r in api_requests)
    assert any("/content" in r for r in api_requests), "photos load through apiBaseUrl too"
    assert same_origin_api == []
