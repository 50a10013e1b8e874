"""Clinical depth in the browser: the Urgent filter with the 28-day clock, triage per folder with
"List for excision", a blurred intimate-site photo shown only on "Show photo" (audited), the measure
tool, and a worklist that fits a phone. Each screen is checked with axe (WCAG 2.2 AA)."""

from __future__ import annotations

import httpx
from playwright.sync_api import expect

from tests.e2e.web.helpers import CLINICIAN, assert_accessible, case_id_for, make_shared_patient, sign_in, token, wait_view


def _clinician(base: str) -> httpx.Client:
    return httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {token(base, CLINICIAN['sub'], 'clinician', CLINICIAN['name'])}"}, timeout=30
    )


def test_urgent_filter_shows_the_usc_case_with_days_left_and_folder_triage_lists_for_excision(stack, seeded, page):
    base = stack.base_url
    patient = make_shared_patient(base, seeded["clinicId"], sub="web-usc-patient", display_name="Uma Urgent", photos=1, body_site="left-forearm")
    with _clinician(base) as api:
        case_id = case_id_for(base, api.headers["Authorization"].split()[1], "Uma Urgent")
        r = api.post(
            f"/api/clinic/cases/{case_id}/folders/{patient['folderId']}/triage", json={"outcome": "urgent-suspected-cancer-referral", "note": "2WW"}
        )
        assert r.status_code == 201, r.text

    sign_in(page, base)
    wait_view(page, "worklist")
    page.get_by_role("link", name="Urgent", exact=True).click()
    wait_view(page, "worklist")
    row = page.locator(f"tr[data-case-id='{case_id}']")
    expect(row).to_be_visible()
    expect(row.get_by_test_id("fds")).to_contain_text("days left of 28")
    for other in page.locator("tbody tr").all():
        expect(other.locator("td[data-col='triage']")).to_have_attribute("data-urgency", "usc")
    assert_accessible(page, "urgent worklist")

    row.get_by_role("link", name="Uma Urgent").click()
    wait_view(page, "case")
    expect(page.get_by_test_id("case-fds")).to_contain_text("days left of 28")
    panel = page.get_by_test_id("folder-clinical").first
    panel.get_by_label("List for excision").check()
    expect(panel.get_by_test_id("excision-fields")).to_be_visible()
    panel.get_by_label("Procedure").select_option("punch")
    panel.get_by_label("Priority").select_option("urgent")
    panel.get_by_role("button", name="Record outcome for this folder").click()
    expect(panel.get_by_test_id("excision")).to_contain_text("Punch biopsy, urgent priority, site: Left forearm")
    panel.get_by_text("Triage history").click()
    expect(panel.get_by_test_id("folder-triage-history").locator("li")).to_have_count(2)
    assert_accessible(page, "case with folder triage")


def test_an_intimate_photo_is_blurred_until_show_photo_which_is_audited(stack, seeded, page):
    base = stack.base_url
    patient = make_shared_patient(
        base, seeded["clinicId"], sub="web-intimate-patient", display_name="Ivy Intimate", photos=1, body_site="genitals", folder_name="Private area"
    )
    sign_in(page, base)
    wait_view(page, "worklist")
    page.get_by_role("link", name="Ivy Intimate").click()
    wait_view(page, "case")
    thumb = page.locator("a.app-thumb").first
    expect(thumb).to_have_class("app-thumb app-intimate")
    blurred = thumb.locator("img").evaluate("img => getComputedStyle(img).filter")
    assert "blur" in blurred
    assert_accessible(page, "case with a blurred intimate photo")
    page.get_by_role("button", name="Show photo").first.click()
    expect(page.get_by_test_id("intimate-notice")).to_have_count(0)
    assert "blur" not in thumb.locator("img").evaluate("img => getComputedStyle(img).filter")
    trail = httpx.get(f"{base}/api/audit", headers={"Authorization": f"Bearer {patient['token']}"}, timeout=30).json()
    assert any(e.get("action") == "revealed-intimate-photo" for e in trail["items"]), trail


def test_measure_tool_calibrates_on_a_ruler_and_saves_millimetres(stack, seeded, page):
    base = stack.base_url
    patient = make_shared_patient(base, seeded["clinicId"], sub="web-measure-patient", display_name="Max Measure", photos=1, body_site="left-forearm")
    with _clinician(base) as api:
        case_id = case_id_for(base, api.headers["Authorization"].split()[1], "Max Measure")
    image_id = patient["imageIds"][0]
    sign_in(page, base)
    wait_view(page, "worklist")
    page.goto(f"/cases/{case_id}/photos/{image_id}")
    wait_view(page, "photo")
    expect(page.get_by_test_id("zoom-level")).to_have_text("Zoom 100%")
    page.get_by_role("button", name="Zoom in").click()
    expect(page.get_by_test_id("zoom-level")).to_have_text("Zoom 150%")
    page.get_by_role("button", name="Rotate").click()
    expect(page.get_by_test_id("zoom-level")).to_contain_text("turned 90°")
    page.get_by_text("Measure", exact=True).click()
    stage_img = page.locator(".app-measure__img")
    expect(stage_img).to_have_js_property("complete", True)
    page.wait_for_function("() => document.querySelector('.app-measure__img').naturalWidth > 0")
    page.get_by_label("Length you will mark on the ruler, in millimetres").fill("10")
    stage_img.scroll_into_view_if_needed()
    box = stage_img.bounding_box()
    assert box and box["width"] > 100
    clicks = [(0.1, 0.5), (0.6, 0.5), (0.2, 0.2), (0.2, 0.45)]  # ruler: half the width; lesion: a quarter of the height
    for fx, fy in clicks:
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    expect(page.get_by_test_id("measure-step")).to_have_text("Measured. Save it, or start again.")
    page.get_by_role("button", name="Save measurement").click()
    expect(page.get_by_test_id("measure-result")).to_contain_text("Saved with the photo")
    with _clinician(base) as api:
        (saved,) = api.get(f"/api/clinic/cases/{case_id}/images/{image_id}/measurements").json()["items"]
    expected = 0.25 * 900 / (0.5 * 1200) * 10  # the photo is 1200 x 900
    assert abs(saved["lengthMm"] - expected) < 0.2, saved
    assert_accessible(page, "photo with the measure tool")


def test_worklist_fits_a_phone_without_sideways_scrolling(browser, stack, seeded):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, base_url=stack.base_url, has_touch=True, is_mobile=True)
    try:
        page = ctx.new_page()
        sign_in(page, stack.base_url)
        wait_view(page, "worklist")
        assert page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
        assert page.evaluate("() => { const t = document.querySelector('.app-table-scroll'); return !t || t.scrollWidth <= t.clientWidth; }")
        assert_accessible(page, "worklist (phone)")
    finally:
        ctx.close()


def test_mark_as_reviewed_clears_the_new_photos_count_in_the_header_at_once(stack, seeded, page):
    base = stack.base_url
    make_shared_patient(base, seeded["clinicId"], sub="web-review-patient", display_name="Rita Review", photos=2)
    sign_in(page, base)
    wait_view(page, "worklist")
    page.get_by_role("link", name="Rita Review").click()
    wait_view(page, "case")
    expect(page.get_by_test_id("new-since-review")).to_contain_text("2 photos")
    page.get_by_role("button", name="Mark as reviewed").click()
    expect(page.get_by_test_id("new-since-review")).to_have_count(0)
    expect(page.locator(".app-timeline__photo .nhsuk-tag--blue")).to_have_count(0)


def test_an_intimate_photo_stays_hidden_in_the_photo_view_and_its_measure_tool_until_shown(stack, seeded, page):
    base = stack.base_url
    patient = make_shared_patient(
        base, seeded["clinicId"], sub="web-intimate-photo", display_name="Ida Intimate", photos=1, body_site="perianal", folder_name="Sore area"
    )
    with _clinician(base) as api:
        case_id = case_id_for(base, api.headers["Authorization"].split()[1], "Ida Intimate")
    sign_in(page, base)
    wait_view(page, "worklist")
    page.goto(f"/cases/{case_id}/photos/{patient['imageIds'][0]}")
    wait_view(page, "photo")
    viewport = page.get_by_test_id("viewport")
    assert "blur" in viewport.locator("img").evaluate("img => getComputedStyle(img).filter")
    page.get_by_text("Measure", exact=True).click()
    expect(page.get_by_test_id("measure")).to_contain_text("Choose Show photo above before measuring this photo.")
    assert page.locator(".app-measure__img").get_attribute("src") is None
    assert_accessible(page, "photo view of a blurred intimate photo")
    page.get_by_role("button", name="Show photo").click()
    expect(page.get_by_test_id("intimate-notice")).to_have_count(0)
    assert "blur" not in viewport.locator("img").evaluate("img => getComputedStyle(img).filter")


def test_the_demo_case_shows_the_patients_lesion_history(stack, seeded, page):
    sign_in(page, stack.base_url)
    wait_view(page, "worklist")
    page.goto(f"/cases/{seeded['caseId']}")
    wait_view(page, "case")
    expect(page.get_by_test_id("lesion-history").first).to_contain_text("Usually burns, tans a little (fair skin)")
