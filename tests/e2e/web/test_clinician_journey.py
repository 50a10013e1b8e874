"""The clinician's whole journey through the web app, in headless Chromium, on the seeded demo case."""

from __future__ import annotations

import re
import zipfile

import httpx
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.web.helpers import CLINICIAN, assert_accessible, sign_in, token, wait_view


def _clinician_api(base_url: str) -> httpx.Client:
    t = token(base_url, CLINICIAN["sub"], "clinician", CLINICIAN["name"])
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {t}"}, timeout=30)


def _viewport(page, testid):
    loc = page.locator(f"[data-testid='{testid}']")
    return {k: float(loc.get_attribute(f"data-{k}")) for k in ("scale", "x", "y")}


def test_clinician_journey_sign_in_review_triage_export_and_sign_out(stack, seeded, page):
    base = stack.base_url
    case_id = seeded["caseId"]
    requested: list[str] = []
    image_responses: list[tuple[str, int, str]] = []
    page.on("request", lambda r: requested.append(r.url))
    page.on(
        "response",
        lambda r: image_responses.append((r.url, r.status, r.headers.get("cache-control", ""))) if "/content" in r.url else None,
    )

    with _clinician_api(base) as api:
        before = api.get(f"/api/clinic/cases/{case_id}").json()
    # other e2e tests share the demo case: expect whatever triage state it is in now
    triage_text = "Awaiting triage" if before["triage"] is None else None

    # -- sign in: an unauthenticated visit lands on the sign-in page listing the demo clinicians
    page.goto("/")
    wait_view(page, "signin")
    assert page.url.endswith("/signin")
    expect(page.get_by_role("button", name="Sign in as Dr Demo Clinician")).to_be_visible()
    assert_accessible(page, "sign-in")
    page.get_by_role("button", name="Sign in as Dr Demo Clinician").click()

    # -- worklist
    wait_view(page, "worklist")
    assert page.url == base + "/", "the token must never appear in the URL"
    stored = page.evaluate("() => JSON.parse(sessionStorage.getItem('skinvault.session'))")
    assert stored["accessToken"].count(".") == 2 and stored["user"]["sub"] == "demo-clinician"
    assert page.evaluate("() => localStorage.length") == 0
    expect(page.locator("#account-name")).to_have_text("Dr Demo Clinician")
    row = page.locator("tr", has=page.get_by_role("link", name="Alex Demo"))
    expect(row).to_contain_text("943 476 5919")
    expect(row).to_contain_text("Born 12 April 1978")
    if triage_text:
        expect(row.locator("[data-col='triage']")).to_have_text(triage_text)
    expect(row).to_contain_text("Mole on left forearm")
    assert_accessible(page, "worklist")

    page.get_by_role("link", name="Awaiting triage").click()
    wait_view(page, "worklist")
    assert page.url.endswith("/?filter=awaiting-triage")
    expect(page.get_by_role("link", name="Awaiting triage")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("link", name="Alex Demo")).to_have_count(1 if triage_text else 0)
    page.get_by_role("link", name="All cases").click()
    wait_view(page, "worklist")
    assert page.url == base + "/"

    # keyboard only: focus the patient link and press Enter
    page.get_by_role("link", name="Alex Demo").focus()
    page.keyboard.press("Enter")

    # -- case view
    wait_view(page, "case")
    assert page.url == f"{base}/cases/{case_id}"
    expect(page.get_by_role("heading", level=1)).to_have_text("Alex Demo")
    expect(page.locator("[data-testid='nhs-number']")).to_have_text("943 476 5919")
    expect(page.locator(".app-patient-details")).to_contain_text("12 April 1978")
    forearm = page.locator("section.app-folder", has=page.get_by_role("heading", name=re.compile("Mole on left forearm")))
    elbows = page.locator("section.app-folder", has=page.get_by_role("heading", name=re.compile("Psoriasis on elbows")))
    expect(forearm).to_contain_text("Left forearm")
    expect(forearm).to_contain_text("Changing mole")
    expect(elbows).to_contain_text("Calcipotriol ointment")
    expect(forearm.locator(".app-timeline__photo")).to_have_count(3)
    expect(elbows.locator(".app-timeline__photo")).to_have_count(3)
    expect(forearm).to_contain_text("Patient's note: A bit darker at one edge")
    # the timeline is oldest first
    dates = forearm.locator(".app-timeline__date time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert dates == sorted(dates)
    # thumbnails in view load; those below the fold wait until scrolled to (lazy loading)
    first_thumb = forearm.locator("img.app-thumb__img").first
    expect(first_thumb).to_have_attribute("data-state", "loaded")
    assert first_thumb.evaluate("img => img.naturalWidth > 0 && img.src.startsWith('blob:')")
    last_thumb = elbows.locator("img.app-thumb__img").last
    assert last_thumb.get_attribute("data-state") == "waiting"
    last_thumb.scroll_into_view_if_needed()
    expect(last_thumb).to_have_attribute("data-state", "loaded")
    assert_accessible(page, "case")

    # -- viewer: preview first, zoom and pan, original on demand, download
    forearm.locator("a.app-thumb").first.click()
    wait_view(page, "photo")
    viewport = page.locator("[data-testid='viewport']")
    expect(viewport).to_have_attribute("data-size", "preview")
    preview_width = viewport.locator("img").evaluate("img => img.naturalWidth")
    assert 0 < preview_width <= 1600
    assert not any("size=original" in u for u, _, _ in image_responses), "the original is loaded only on demand"
    page.get_by_role("button", name="Zoom in").click()
    assert _viewport(page, "viewport")["scale"] == 1.5
    viewport.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("+")
    state = _viewport(page, "viewport")
    assert state["scale"] > 1.5 and state["x"] > 0
    assert_accessible(page, "photo viewer")
    page.get_by_role("button", name="Show original").click()
    expect(viewport).to_have_attribute("data-size", "original")
    assert viewport.locator("img").evaluate("img => img.naturalWidth") == 1600
    assert any("size=original" in u and status == 206 for u, status, _ in image_responses)  # asked for in parts (Range)
    assert _viewport(page, "viewport")["scale"] == state["scale"], "loading the original keeps the zoom"
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download original").click()
    original = Image.open(dl.value.path())
    assert original.format == "JPEG" and original.size == (1600, 1200)

    # comment on the photo
    photo_comment = "Irregular pigment at the 3 o'clock edge."
    page.get_by_label("Add a comment about this photo").fill(photo_comment)
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("[data-testid='photo-comments'] .app-comments__item").last).to_contain_text(photo_comment)
    image_id = page.url.rsplit("/", 1)[-1]
    with _clinician_api(base) as api:
        texts = [c["text"] for c in api.get(f"/api/images/{image_id}/comments").json()["items"]]
    assert photo_comment in texts

    # -- back to the case: comment on a folder, compare two photos
    page.get_by_role("link", name="Back to case").click()
    wait_view(page, "case")
    folder_comment = "Please photograph it again in four weeks with a ruler beside it."
    forearm.get_by_label("Write to the patient about this folder").fill(folder_comment)
    forearm.get_by_role("button", name="Add comment").click()
    expect(forearm.locator(".app-comments__item").last).to_contain_text(folder_comment)

    forearm.get_by_role("button", name="Compare").click()
    wait_view(page, "compare")
    expect(page.locator("[data-testid='viewport-a']")).to_have_attribute("data-size", "preview")
    expect(page.locator("[data-testid='viewport-b']")).to_have_attribute("data-size", "preview")
    expect(page.locator("[data-testid='compare-gap']")).to_contain_text("days apart")
    assert_accessible(page, "compare")
    page.get_by_role("button", name="Zoom in").click()
    page.get_by_role("button", name="Zoom in").click()
    box = page.locator("[data-testid='viewport-a']").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 80, box["y"] + box["height"] / 2 + 40, steps=5)
    page.mouse.up()
    left, right = _viewport(page, "viewport-a"), _viewport(page, "viewport-b")
    assert left["scale"] == 2.25 and left["x"] > 0 and left["y"] > 0
    assert left == right, "the two photos zoom and pan together"

    # -- triage, mark reviewed, export
    page.get_by_role("link", name="Back to case").click()
    wait_view(page, "case")
    triage = page.locator("[data-testid='triage']")
    triage.get_by_label("List for excision").check()
    triage.get_by_label("Internal note (optional)").fill("Atypical naevus: list for excision biopsy.")
    triage.get_by_role("button", name="Record triage outcome").click()
    expect(page.locator("[data-testid='triage-current']")).to_contain_text("List for excision")
    if before["lastReviewedAt"] is None:
        expect(page.locator("[data-testid='last-reviewed']")).to_have_text("Not yet reviewed")
    with page.expect_response(lambda r: r.url.endswith("/reviewed") and r.status == 200):
        page.get_by_role("button", name="Mark as reviewed").click()
    expect(page.locator("[data-testid='last-reviewed']")).not_to_have_text("Not yet reviewed")
    with _clinician_api(base) as api:
        detail = api.get(f"/api/clinic/cases/{case_id}").json()
    assert detail["triage"]["outcome"] == "list-for-excision"
    assert detail["triage"]["note"] == "Atypical naevus: list for excision biopsy."
    assert detail["lastReviewedAt"] and (before["lastReviewedAt"] is None or detail["lastReviewedAt"] > before["lastReviewedAt"])

    page.get_by_role("button", name="Export to patient record").click()
    download_export = page.get_by_role("button", name="Download export")
    expect(download_export).to_be_visible(timeout=60000)
    with page.expect_download() as dl:
        download_export.click()
    assert zipfile.is_zipfile(dl.value.path())
    with zipfile.ZipFile(dl.value.path()) as z:
        assert z.namelist()
    assert_accessible(page, "case after triage and export")

    # -- sign out: nothing of the session stays in the browser
    blob_url = page.locator("img.app-thumb__img[data-state='loaded']").first.get_attribute("src")
    assert blob_url.startswith("blob:")
    probe = "(u) => new Promise((ok) => { const i = new Image(); i.onload = () => ok('readable'); i.onerror = () => ok('revoked'); i.src = u; })"
    assert page.evaluate(probe, blob_url) == "readable"
    page.get_by_role("button", name="Sign out").click()
    wait_view(page, "signin")
    expect(page.locator("[data-testid='signed-out']")).to_be_visible()
    assert page.evaluate("() => sessionStorage.length") == 0
    assert page.evaluate(probe, blob_url) == "revoked", "photo object URLs do not outlive the session"
    assert page.evaluate("async () => (await caches.keys()).length") == 0
    page.go_back()
    wait_view(page, "signin")
    expect(page.get_by_text("Alex Demo")).to_have_count(0)
    assert_accessible(page, "signed out")

    # images were never cacheable, and nothing was fetched from anywhere but the app's own origin
    assert image_responses and all(status in (200, 206) and "no-store" in cc for _, status, cc in image_responses)
    foreign = [u for u in requested if not u.startswith((base + "/", "blob:", "data:"))]
    assert not foreign, f"third-party requests: {foreign}"


def test_worklist_paging_moves_between_pages_of_cases(stack, seeded, page):
    """With a page size of one (from config), two cases make two pages with working links."""
    from tests.e2e.web.helpers import make_shared_patient

    make_shared_patient(stack.base_url, seeded["clinicId"], sub="web-paging-patient", display_name="Pat Paging", photos=0)
    page.route(
        "**/config.json",
        lambda route: route.fulfill(json={"auth": {"mode": "dev"}, "worklistPageSize": 1, "caseRefreshSeconds": 0}),
    )
    sign_in(page, stack.base_url)
    wait_view(page, "worklist")
    expect(page.locator("tbody tr")).to_have_count(1)
    first = page.locator("tbody tr a").inner_text()
    page.get_by_role("link", name=re.compile("Next")).click()
    wait_view(page, "worklist")
    assert page.url.endswith("/?page=2")
    second = page.locator("tbody tr a").inner_text()
    assert second != first
    page.get_by_role("link", name=re.compile("Previous")).click()
    wait_view(page, "worklist")
    assert page.locator("tbody tr a").inner_text() == first
    assert_accessible(page, "worklist page")
