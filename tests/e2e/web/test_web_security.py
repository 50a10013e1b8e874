"""The web app's security headers as served, and the rules that let its CSP stay strict."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

WEB = Path(__file__).resolve().parents[3] / "web"
PAGES = ["/", "/index.html", "/signin", "/cases/case-123", "/cases/case-123/photos/img-1", "/js/app.js", "/css/app.css", "/config.json"]


def _csp_directives(value: str) -> dict[str, list[str]]:
    out = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.parametrize("path", PAGES)
def test_served_pages_carry_the_security_headers(stack, path):
    r = httpx.get(stack.base_url + path, timeout=10)
    assert r.status_code == 200
    h = r.headers
    csp = _csp_directives(h["content-security-policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"], "no unsafe-inline, no eval, no third-party scripts"
    assert csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert set(csp["img-src"]) == {"'self'", "blob:", "data:"}
    assert set(csp["connect-src"]) == {"'self'", "https://login.microsoftonline.com"}
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"
    assert (
        re.match(r"max-age=(\d+)", h["strict-transport-security"])
        and int(re.match(r"max-age=(\d+)", h["strict-transport-security"]).group(1)) >= 31536000
    )
    assert h["x-frame-options"] == "DENY"


def test_client_side_routes_fall_back_to_the_app_shell(stack):
    shell = httpx.get(stack.base_url + "/", timeout=10).text
    deep = httpx.get(stack.base_url + "/cases/case-123/compare?folder=f&a=1&b=2", timeout=10)
    assert deep.status_code == 200 and deep.text == shell
    assert httpx.get(stack.base_url + "/js/missing.js", timeout=10).status_code == 404


def test_local_host_sends_exactly_the_headers_azure_static_web_apps_will():
    cfg = json.loads((WEB / "staticwebapp.config.json").read_text())
    assert cfg["navigationFallback"]["rewrite"] == "/index.html"
    assert "/api/*" in cfg["navigationFallback"]["exclude"]
    assert any(r["route"] == "/api/*" for r in cfg["routes"])
    assert "Content-Security-Policy" in cfg["globalHeaders"]


def test_api_image_content_is_never_cacheable(stack, seeded):
    from tests.e2e.web.helpers import CLINICIAN, token

    t = token(stack.base_url, CLINICIAN["sub"], "clinician", CLINICIAN["name"])
    image_id = seeded["imageIds"][0]
    r = httpx.get(f"{stack.base_url}/api/images/{image_id}/content", params={"size": "thumbnail"}, headers={"Authorization": f"Bearer {t}"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/jpeg")
    assert "no-store" in r.headers["cache-control"]


class _Inline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and "src" not in a:
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        if "style" in a:
            self.problems.append(f"style attribute on <{tag}>")
        if any(k.startswith("on") for k in a):
            self.problems.append(f"inline event handler on <{tag}>")
        for k in ("src", "href"):
            if a.get(k, "").startswith(("http:", "https:", "//")):
                self.problems.append(f"third-party {k} {a[k]}")


def test_app_shell_has_nothing_the_csp_would_block():
    parser = _Inline()
    parser.feed((WEB / "index.html").read_text())
    assert parser.problems == []


def test_app_code_inserts_api_data_as_text_and_loads_nothing_from_elsewhere():
    sources = list((WEB / "js").rglob("*.js")) + list((WEB / "css").rglob("*.css"))
    assert sources
    for path in sources:
        text = path.read_text()
        assert "innerHTML" not in text and "outerHTML" not in text and "insertAdjacentHTML" not in text, path
        assert "eval(" not in text and "new Function" not in text, path
        assert 'setAttribute("style"' not in text, path
        assert not re.search(r"localStorage\s*[.\[]", text), f"{path}: tokens and data stay out of localStorage"
        urls = [u for u in re.findall(r"https?://[^\s\"'`)]+", text) if not u.startswith("http://www.w3.org/")]
        assert not urls, f"{path} refers to {urls}"


def test_vendored_nhsuk_css_makes_no_third_party_requests():
    css = WEB / "vendor" / "nhsuk" / "nhsuk-frontend.min.css"
    assert css.exists(), "run scripts/web_assets.sh (make setup does)"
    text = css.read_text()
    assert not re.search(r"url\((?:https?:)?//", text)
    for ref in re.findall(r"url\((assets/[^)]+)\)", text):
        assert (css.parent / ref).exists(), ref
