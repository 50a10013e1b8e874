"""The patient app is an installable PWA whose app shell opens with no network, served with its
own strict headers (CSP without unsafe-inline, camera for this origin only) and no third-party
requests."""

from __future__ import annotations

import json
from urllib.parse import urlparse

import httpx
import pytest

from tests.e2e.patient.helpers import PHONE, serve_demo_users, sign_in, unique_patient, wait_view
from tests.e2e.web.helpers import CHROMIUM

pytestmark = pytest.mark.browser


def test_manifest_and_service_worker_make_it_installable(playwright_driver, phone_args, stack, tmp_path):
    # A persistent profile: Chromium never offers to install from an incognito one (Playwright's
    # ordinary contexts are), so this is the only way to get its full installability verdict.
    phone_with_sw = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=phone_args, headless=True, service_workers="allow", **PHONE
    )
    try:
        _check_installable(phone_with_sw, phone_with_sw.pages[0] if phone_with_sw.pages else phone_with_sw.new_page(), stack)
    finally:
        phone_with_sw.close()


def _check_installable(phone_with_sw, sw_page, stack) -> None:
    sw_page.goto(stack.base_url + "/app/")
    wait_view(sw_page, "signin")
    sw_page.wait_for_function("async () => !!(await navigator.serviceWorker.ready).active", timeout=20000)
    assert sw_page.evaluate("async () => (await navigator.serviceWorker.ready).scope") == stack.base_url + "/app/"

    cdp = phone_with_sw.new_cdp_session(sw_page)
    manifest = cdp.send("Page.getAppManifest")
    assert not manifest.get("errors"), manifest.get("errors")
    parsed = json.loads(manifest["data"])
    assert parsed["display"] == "standalone" and parsed["start_url"] == "./"
    assert {i["sizes"] for i in parsed["icons"]} >= {"192x192", "512x512"}
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == [], f"Chromium says the app is not installable: {errors}"


def test_app_shell_opens_with_no_network(sw_page, phone_with_sw, stack):
    sw_page.goto(stack.base_url + "/app/")
    wait_view(sw_page, "signin")
    sw_page.wait_for_function("async () => !!(await navigator.serviceWorker.ready).active", timeout=20000)
    sw_page.reload()  # now controlled by the service worker
    wait_view(sw_page, "signin")
    phone_with_sw.set_offline(True)
    sw_page.goto(stack.base_url + "/app/?page=people")
    wait_view(sw_page, "people")
    assert sw_page.get_by_role("heading", level=1).inner_text() == "Who is using SkinVault?"
    assert sw_page.locator("#offline-banner").is_visible()
    cached = sw_page.evaluate(
        "async () => { const out = []; for (const k of await caches.keys()) { const c = await caches.open(k); for (const r of await c.keys()) out.push(r.url); } return out; }"
    )
    assert cached and not [u for u in cached if "/api/" in u], "the service worker never caches API responses"
    phone_with_sw.set_offline(False)


def test_patient_app_headers_allow_the_camera_here_only_and_no_inline_code(stack):
    r = httpx.get(stack.base_url + "/app/", timeout=10)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    csp = r.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "script-src 'self'" in csp and "worker-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "camera=(self)" in r.headers["permissions-policy"]
    manifest = httpx.get(stack.base_url + "/app/manifest.webmanifest", timeout=10)
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    assert httpx.get(stack.base_url + "/app/nope.js", timeout=10).status_code == 404
    assert httpx.get(stack.base_url + "/app/../local.settings.json", timeout=10).status_code == 404


def test_no_request_leaves_for_a_third_party_host(page, stack):
    hosts: set[str] = set()
    page.on("request", lambda req: hosts.add(urlparse(req.url).netloc))
    user = unique_patient()
    serve_demo_users(page, [user])
    sign_in(page, stack.base_url, user)
    page.get_by_role("button", name="New folder").click()
    wait_view(page, "new-folder")
    ours = {urlparse(stack.base_url).netloc, f"127.0.0.1:{stack.azurite.blob_port}"}
    assert hosts <= ours, f"requests to other hosts: {hosts - ours}"


def test_service_worker_caches_every_module_of_the_app_shell():
    """A module missing from the shell list would break the app offline; a listed file that does not
    exist would stop the service worker installing at all."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[3] / "patient"
    shell = set(re.findall(r'^\s+"([^"]+)",$', (root / "sw.js").read_text(), re.MULTILINE))
    modules = {p.relative_to(root).as_posix() for p in (root / "js").rglob("*.js")}
    assert modules <= shell, f"missing from the service worker's shell: {sorted(modules - shell)}"
    assert "demo-users.json" not in shell, "the deployed build has no demo users: a required shell file would stop the worker installing"
    generated = {s for s in shell if s.startswith("vendor/")}  # made by scripts/web_assets.sh
    missing = [s for s in shell - generated if s != "./" and not (root / s).is_file()]
    assert not missing, f"listed in the shell but absent: {missing}"


def test_make_run_lets_the_patient_app_put_to_the_local_uploads_endpoint(stack, tmp_path):
    from azure.storage.blob import BlobServiceClient

    from scripts.uploads_cors import main

    settings = tmp_path / "local.settings.json"
    settings.write_text(json.dumps({"Values": {"UPLOADS_STORAGE": stack.azurite.connection_string}}))
    assert main(["--settings", str(settings), "--origin", stack.base_url]) == 0
    rules = BlobServiceClient.from_connection_string(stack.azurite.connection_string).get_service_properties()["cors"]
    assert [r.allowed_origins for r in rules] == [stack.base_url] and "PUT" in rules[0].allowed_methods
    preflight = httpx.options(
        f"http://127.0.0.1:{stack.azurite.blob_port}/devstoreaccount1/uploads/x",
        headers={
            "Origin": stack.base_url,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "x-ms-blob-type,x-ms-meta-encryptiondata,content-type",
        },
        timeout=10,
    )
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == stack.base_url
