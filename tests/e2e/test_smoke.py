"""scripts/smoke.py against the local stack: every check passes with the local expectations, and
the same checks fail where the local stack is not what Azure must be (dev issuer on, plain http)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from scripts.smoke import run_smoke

ROOT = Path(__file__).resolve().parents[2]


def test_smoke_passes_against_the_local_stack_with_local_expectations(stack) -> None:
    results = {r.name: r for r in run_smoke(stack.base_url, local=True)}
    assert set(results) == {"health", "openapi", "dev-token-absent", "unauthenticated-refused", "cors", "security-headers", "tls-only"}
    assert [r for r in results.values() if r.failed] == []
    assert results["tls-only"].status == "SKIP"
    assert results["security-headers"].status == "PASS" and stack.base_url in results["security-headers"].detail
    assert "foreign origin refused" in results["cors"].detail


def test_smoke_command_exits_zero_locally(stack) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "smoke.py"), stack.base_url, "--local"], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all checks passed" in proc.stdout


def test_smoke_with_azure_expectations_fails_on_the_dev_issuer_and_plain_http(stack) -> None:
    results = {r.name: r for r in run_smoke(stack.base_url, [stack.base_url])}
    assert results["dev-token-absent"].failed  # the local dev issuer answers: never acceptable in Azure
    assert results["tls-only"].failed and "not https" in results["tls-only"].detail
    assert not results["health"].failed and not results["unauthenticated-refused"].failed


# An Azure deployment as the smoke test sees it from outside, answered by a stand-in server
# (httpx.MockTransport), to prove the Azure-side expectations: CORS exactly the two web apps,
# connect-src naming the API, http redirected to https, no dev issuer.
API = "https://func-skinvault-abc.azurewebsites.net"
WEB = ["https://clinician.azurestaticapps.net", "https://patient.azurestaticapps.net"]
CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' " + API + "; object-src 'none'; frame-ancestors 'none'"
WEB_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "x-frame-options": "DENY",
}


def _azure(allowed_origins: list[str]):
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme == "http":
            return httpx.Response(301, headers={"location": str(url.copy_with(scheme="https"))})
        if url.host != "func-skinvault-abc.azurewebsites.net":
            return httpx.Response(200, headers=WEB_HEADERS, text="<!doctype html>")
        origin = request.headers.get("origin")
        if "*" in allowed_origins:
            cors = {"access-control-allow-origin": "*"}
        else:
            cors = {"access-control-allow-origin": origin} if origin in allowed_origins else {}
        if request.method == "OPTIONS":
            return httpx.Response(204, headers=cors)
        if url.path == "/api/health":
            return httpx.Response(200, json={"status": "ok"}, headers=cors)
        if url.path == "/api/openapi.json":
            return httpx.Response(200, json={"openapi": "3.1.0", "paths": {"/api/me": {}}})
        if url.path == "/api/me":
            body = {"type": "about:blank", "title": "Unauthorised", "status": 401}
            return httpx.Response(401, json=body, headers={"content-type": "application/problem+json", **cors})
        return httpx.Response(404, json={"status": 404}, headers={"content-type": "application/problem+json"})

    return httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=False)


def test_smoke_passes_a_deployment_that_allows_exactly_the_two_web_apps() -> None:
    from scripts.smoke import Smoke

    results = {r.name: r for r in Smoke(API, WEB, local=False, client=_azure(WEB)).run()}
    assert {name: r.status for name, r in results.items()} == dict.fromkeys(results, "PASS")


def test_smoke_fails_a_deployment_that_allows_any_origin_or_misses_a_web_app() -> None:
    from scripts.smoke import Smoke

    wildcard = {r.name: r for r in Smoke(API, WEB, local=False, client=_azure(["*"])).run()}
    assert wildcard["cors"].failed and "foreign origin" in wildcard["cors"].detail
    one_app = {r.name: r for r in Smoke(API, WEB, local=False, client=_azure(WEB[:1])).run()}
    assert one_app["cors"].failed and WEB[1] in one_app["cors"].detail
