"""Smoke test of a deployed SkinVault from outside, with no patient data and no token (`make smoke`).

    python scripts/smoke.py https://func-skinvault-<token>.azurewebsites.net \\
        --web https://<clinician web app> --web https://<patient web app>
    python scripts/smoke.py http://127.0.0.1:7071 --local        # the local stack (make run)

Checks: health answers 200; the OpenAPI document is served; the dev token endpoint is absent
(404; present with --local); CORS allows exactly the web apps' origins and no other; the web apps
send the security headers (strict CSP whose connect-src names the API, nosniff, no referrer,
HSTS, no framing); an unauthenticated API call is refused with problem+json; TLS only (the API
and web apps are https, plain http is redirected or refused; skipped with --local).
Prints one line per check; exit status 1 when any check fails.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlparse

import httpx

FOREIGN_ORIGIN = "https://smoke-test.skinvault.invalid"
TIMEOUT = 20.0


@dataclass(frozen=True)
class Result:
    name: str
    status: str  # PASS, FAIL or SKIP
    detail: str

    @property
    def failed(self) -> bool:
        return self.status == "FAIL"


def _origin(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc}"


def _csp(value: str) -> dict[str, list[str]]:
    return {words[0]: words[1:] for part in value.split(";") if (words := part.split())}


class Smoke:
    def __init__(self, api_url: str, web_origins: list[str], *, local: bool, client: httpx.Client | None = None) -> None:
        self.api = api_url.rstrip("/")
        self.api_origin = _origin(self.api)
        self.local = local
        self.client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
        # Locally the web apps are served by the host itself: the clinician app at /, the patient app at /app/.
        self.web = [w.rstrip("/") for w in web_origins] or ([self.api + "/", self.api + "/app/"] if local else [])
        self.results: list[Result] = []

    def check(self, name: str, fn: Callable[[], tuple[str, str]]) -> None:
        try:
            status, detail = fn()
        except httpx.HTTPError as exc:
            status, detail = "FAIL", f"{type(exc).__name__}: {exc}"
        self.results.append(Result(name, status, detail))

    # ------------------------------------------------------------------ checks
    def health(self) -> tuple[str, str]:
        r = self.client.get(self.api + "/api/health")
        return ("PASS" if r.status_code == 200 else "FAIL", f"GET /api/health -> {r.status_code}")

    def openapi(self) -> tuple[str, str]:
        r = self.client.get(self.api + "/api/openapi.json")
        ok = r.status_code == 200 and str(r.json().get("openapi", "")).startswith("3.") and r.json().get("paths")
        return ("PASS" if ok else "FAIL", f"GET /api/openapi.json -> {r.status_code}")

    def dev_token(self) -> tuple[str, str]:
        r = self.client.post(self.api + "/api/dev/token", json={"sub": "smoke-test", "name": "Smoke Test", "role": "patient"})
        if self.local:
            return ("PASS" if r.status_code == 200 else "FAIL", f"local: POST /api/dev/token -> {r.status_code} (the dev issuer is on locally)")
        return ("PASS" if r.status_code == 404 else "FAIL", f"POST /api/dev/token -> {r.status_code} (must be 404: no dev issuer in Azure)")

    def unauthenticated(self) -> tuple[str, str]:
        r = self.client.get(self.api + "/api/me")
        kind = r.headers.get("content-type", "")
        body = r.json() if kind.startswith("application/problem+json") else {}
        ok = r.status_code == 401 and body.get("status") == 401 and body.get("title")
        return ("PASS" if ok else "FAIL", f"GET /api/me without a token -> {r.status_code} {kind.split(';')[0]}")

    def _preflight(self, origin: str) -> str | None:
        r = self.client.options(
            self.api + "/api/me",
            headers={"Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"},
        )
        return r.headers.get("access-control-allow-origin")

    def cors(self) -> tuple[str, str]:
        problems = []
        foreign = self._preflight(FOREIGN_ORIGIN)
        if foreign in ("*", FOREIGN_ORIGIN):
            problems.append(f"a foreign origin is allowed ({foreign})")
        simple = self.client.get(self.api + "/api/health", headers={"Origin": FOREIGN_ORIGIN}).headers.get("access-control-allow-origin")
        if simple in ("*", FOREIGN_ORIGIN):
            problems.append(f"a foreign origin may read responses ({simple})")
        allowed = []
        for web in self.web:
            origin = _origin(web)
            if origin == self.api_origin:
                continue  # same origin (the local host): no CORS needed
            got = self._preflight(origin)
            if got != origin:
                problems.append(f"{origin} is not allowed (got {got})")
            else:
                allowed.append(origin)
        if problems:
            return "FAIL", "; ".join(problems)
        return "PASS", f"allowed exactly: {', '.join(allowed) or 'none cross-origin (same origin)'}; foreign origin refused"

    def security_headers(self) -> tuple[str, str]:
        checked, problems = [], []
        for web in self.web:
            r = self.client.get(web if web.endswith("/") else web + "/")
            if self.local and r.status_code == 404 and web.endswith("/app/"):
                continue  # no patient app in this checkout
            if r.status_code != 200:
                problems.append(f"{web} -> {r.status_code}")
                continue
            h = r.headers
            csp = _csp(h.get("content-security-policy", ""))
            if csp.get("script-src") != ["'self'"] or "'unsafe-inline'" in " ".join(csp.get("style-src", [])):
                problems.append(f"{web}: CSP allows inline or third-party script/style")
            if csp.get("frame-ancestors") != ["'none'"] or csp.get("object-src") != ["'none'"]:
                problems.append(f"{web}: CSP frame-ancestors/object-src not 'none'")
            connect = csp.get("connect-src", [])
            if _origin(web) != self.api_origin and self.api_origin not in connect:
                problems.append(f"{web}: CSP connect-src does not name the API origin {self.api_origin}")
            if h.get("x-content-type-options") != "nosniff" or h.get("referrer-policy") != "no-referrer":
                problems.append(f"{web}: nosniff / no-referrer missing")
            if h.get("x-frame-options", "").upper() != "DENY":
                problems.append(f"{web}: X-Frame-Options is not DENY")
            hsts = re.match(r"max-age=(\d+)", h.get("strict-transport-security", ""))
            if not hsts or int(hsts.group(1)) < 31536000:
                problems.append(f"{web}: HSTS missing or shorter than a year")
            checked.append(web)
        if problems:
            return "FAIL", "; ".join(problems)
        if not checked:
            return "SKIP", "no web app given (--web)"
        return "PASS", f"{', '.join(checked)}"

    def tls_only(self) -> tuple[str, str]:
        if self.local:
            return "SKIP", "local stack (plain http on 127.0.0.1)"
        problems = [f"{u} is not https" for u in [self.api, *self.web] if urlparse(u).scheme != "https"]
        for target in [self.api + "/api/health", *self.web]:
            plain = "http://" + target.split("://", 1)[1]
            try:
                r = self.client.get(plain)
            except httpx.HTTPError:
                continue  # plain http refused outright: fine
            location = r.headers.get("location", "")
            if not (r.status_code in (301, 302, 307, 308) and location.startswith("https://")):
                problems.append(f"{plain} -> {r.status_code} (not redirected to https)")
        return ("FAIL", "; ".join(problems)) if problems else ("PASS", "https only; plain http redirected or refused")

    def run(self) -> list[Result]:
        self.check("health", self.health)
        self.check("openapi", self.openapi)
        self.check("dev-token-absent", self.dev_token)
        self.check("unauthenticated-refused", self.unauthenticated)
        self.check("cors", self.cors)
        self.check("security-headers", self.security_headers)
        self.check("tls-only", self.tls_only)
        return self.results


def run_smoke(api_url: str, web_origins: list[str] | None = None, *, local: bool = False) -> list[Result]:
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        return Smoke(api_url, web_origins or [], local=local, client=client).run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Smoke test of a deployed SkinVault (no patient data).")
    parser.add_argument("url", help="the API's base URL (the Function App), e.g. https://func-skinvault-abc.azurewebsites.net")
    parser.add_argument("--web", action="append", default=[], help="a web app origin (repeat for the clinician and the patient app)")
    parser.add_argument("--local", action="store_true", help="local stack expectations: dev issuer on, same origin, no TLS")
    args = parser.parse_args(argv)
    results = run_smoke(args.url, args.web, local=args.local)
    for result in results:
        print(f"{result.status:4}  {result.name:24} {result.detail}")
    failed = [r.name for r in results if r.failed]
    print(f"smoke: {'FAILED: ' + ', '.join(failed) if failed else 'all checks passed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
