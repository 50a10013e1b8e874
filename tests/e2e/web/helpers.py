"""Helpers for the clinician web app's browser tests: Chromium, axe-core, and patients made over the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.helpers import share, upload_photo, wait_for

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_JS = ROOT / "tools" / "node" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
CLINICIAN = {"sub": "demo-clinician", "name": "Dr Demo Clinician"}


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def wait_view(page: Any, view: str, state: str = "ready", timeout: float = 15000) -> None:
    page.wait_for_selector(f"main[data-view='{view}'][data-state='{state}']", timeout=timeout)


def sign_in(page: Any, base_url: str, name: str = CLINICIAN["name"]) -> None:
    page.goto(base_url + "/signin")
    wait_view(page, "signin")
    page.get_by_role("button", name=f"Sign in as {name}").click()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical WCAG 2.2 AA violations on the page as it is now.

    axe is injected with page.evaluate (DevTools protocol), which the page's CSP does not govern,
    so the CSP under test stays exactly as served.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async (tags) => { const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})); }",
        WCAG_TAGS,
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def assert_accessible(page: Any, screen: str) -> None:
    bad = axe_violations(page)
    assert not bad, f"axe found serious/critical WCAG 2.2 AA violations on the {screen} screen: {bad}"


# ------------------------------------------------------------------------------------- API side


def _ok(r: httpx.Response) -> Any:
    assert r.status_code < 400, f"{r.request.method} {r.request.url.path} -> {r.status_code}: {r.text[:300]}"
    return r.json() if r.content else None


def token(base_url: str, sub: str, role: str, name: str) -> str:
    r = httpx.post(base_url + "/api/dev/token", json={"sub": sub, "name": name, "role": role}, timeout=30)
    return _ok(r)["access_token"]


def wait_ready(api: httpx.Client, image_ids: list[str], timeout: float = 180) -> None:
    for image_id in image_ids:
        status = wait_for(api, image_id, timeout)["status"]
        assert status == "ready", f"photo {image_id} was {status}"


def share_with_clinic(api: httpx.Client, clinic_id: str, days: int = 90) -> dict[str, Any]:
    return share(api, clinic_id, days=days)


def make_shared_patient(
    base_url: str,
    clinic_id: str,
    *,
    sub: str,
    display_name: str,
    photos: int = 1,
    photo_size: tuple[int, int] = (1200, 900),
    folder_name: str = "Mole on back",
    body_site: str = "back",
) -> dict[str, Any]:
    """A patient with one folder of real (Pillow-made) photos, shared with the clinic."""
    from tests.support.images import make_photo

    patient_token = token(base_url, sub, "patient", display_name)
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {patient_token}"}, timeout=60) as api:
        _ok(api.put("/api/me", json={"displayName": display_name, "dateOfBirth": "1980-01-31", "nhsNumber": None}))
        folder = _ok(api.post("/api/folders", json={"name": folder_name, "bodySite": body_site, "condition": "Mole check", "treatment": "None"}))
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=photos + 1)
        ids = [
            upload_photo(
                api, folder["id"], make_photo(*photo_size, seed=100 + i, gps=False), captured_at=start + timedelta(days=i), notes=f"Photo {i + 1}"
            )
            for i in range(photos)
        ]
        wait_ready(api, ids)
        granted = share_with_clinic(api, clinic_id)
    return {"token": patient_token, "folderId": folder["id"], "imageIds": ids, "shareId": granted["id"], "sub": sub}


def case_id_for(base_url: str, clinician_token: str, display_name: str) -> str:
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {clinician_token}"}, timeout=30) as api:
        token_ = None
        while True:
            page = _ok(api.get("/api/clinic/cases", params={"filter": "all", "limit": 200, **({"continuationToken": token_} if token_ else {})}))
            for item in page["items"]:
                # photo requests have no patient yet; cases whose patient stopped sharing cannot be opened
                if (item.get("patient") or {}).get("displayName") == display_name and item.get("status", "open") != "sharing-ended":
                    return item["caseId"]
            token_ = page.get("continuationToken")
            if not token_:
                raise AssertionError(f"no case for {display_name!r} in the worklist")


def revoke_share(base_url: str, patient_token: str, share_id: str) -> None:
    r = httpx.delete(f"{base_url}/api/shares/{share_id}", headers={"Authorization": f"Bearer {patient_token}"}, timeout=30)
    assert r.status_code in (200, 204), r.text
