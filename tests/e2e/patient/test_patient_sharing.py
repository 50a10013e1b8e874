"""Sharing from the patient app: the clinic's code, the consent page (teaching and research unticked),
chosen folders and an end date; who has looked, in plain words; stop sharing; download my data;
delete my account with a typed confirmation."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.patient.helpers import new_folder, serve_demo_users, sign_in, unique_patient, wait_photo_status, wait_view
from tests.e2e.web.helpers import assert_accessible
from tests.support.images import make_photo

pytestmark = pytest.mark.browser


def test_share_see_who_looked_stop_download_and_delete(page, stack):
    demo = stack.seed_demo()
    user = unique_patient()
    serve_demo_users(page, [user])
    sign_in(page, stack.base_url, user)
    new_folder(page, "Mole on left forearm")
    page.set_input_files("#gallery", files=[{"name": "a.jpg", "mimeType": "image/jpeg", "buffer": make_photo(1000, 750, seed=9, gps=False)}])
    wait_photo_status(page, "ready")
    image_id = page.locator("li.app-timeline__item").first.get_attribute("data-image-id")
    page.get_by_role("link", name="Your folders").click()
    wait_view(page, "home")
    new_folder(page, "Private rash", site="back")

    # share one folder with the clinic
    page.evaluate("() => { history.pushState(null, '', '?page=share'); dispatchEvent(new PopStateEvent('popstate')); }")
    wait_view(page, "share")
    page.get_by_label("Clinic code").fill("NOPE-0000")
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("We cannot find a clinic with that code").first.wait_for()
    page.get_by_label("Clinic code").fill(demo["shareCode"].lower())
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Share with Newcastle Dermatology").wait_for()
    assert page.get_by_test_id("consent-text").locator("p").count() > 0
    assert not page.get_by_label("Teaching").is_checked() and not page.get_by_label("Research").is_checked()
    assert_accessible(page, "consent")
    page.get_by_label("Only the folders I choose").check()
    page.get_by_label("Mole on left forearm").check()
    page.get_by_label("1 year").check()
    page.get_by_role("button", name="I agree - share my photos").click()
    wait_view(page, "shares")
    page.get_by_test_id("shared").wait_for()
    card = page.locator("li.app-share").first
    assert "Newcastle Dermatology" in card.inner_text() and "Mole on left forearm" in card.inner_text()
    assert "Private rash" not in card.inner_text() and "teaching" not in card.inner_text()

    # the clinician looks at the photo; the patient sees it in plain words
    clinician = stack.token("demo-clinician", "clinician", "Dr Demo Clinician")
    r = httpx.get(
        f"{stack.base_url}/api/images/{image_id}/content", params={"size": "preview"}, headers={"Authorization": f"Bearer {clinician}"}, timeout=30
    )
    assert r.status_code == 200
    page.evaluate("() => { history.pushState(null, '', '?page=audit'); dispatchEvent(new PopStateEvent('popstate')); }")
    wait_view(page, "audit")
    page.get_by_text("Dr Demo Clinician, Newcastle Dermatology, looked at 1 photo in Mole on left forearm").wait_for()
    assert_accessible(page, "who has looked")

    # stop sharing: confirmed, effective at once
    page.evaluate("() => { history.pushState(null, '', '?page=shares'); dispatchEvent(new PopStateEvent('popstate')); }")
    wait_view(page, "shares")
    page.get_by_role("button", name="Stop sharing with Newcastle Dermatology").click()
    page.get_by_role("button", name="Yes, stop sharing").click()
    page.get_by_test_id("stopped").wait_for()
    r = httpx.get(
        f"{stack.base_url}/api/images/{image_id}/content", params={"size": "preview"}, headers={"Authorization": f"Bearer {clinician}"}, timeout=30
    )
    assert r.status_code == 404

    # download my data, then delete the account (typed confirmation)
    page.evaluate("() => { history.pushState(null, '', '?page=account'); dispatchEvent(new PopStateEvent('popstate')); }")
    wait_view(page, "account")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download my data").click()
    assert download.value.suggested_filename
    page.get_by_role("button", name="Delete my account").click()
    page.get_by_text("Type DELETE to confirm").first.wait_for()
    page.get_by_label("To delete your account, type DELETE").fill("delete")
    page.get_by_role("button", name="Delete my account").click()
    wait_view(page, "signin")
    page.get_by_test_id("deleted").wait_for()
    patient = stack.token(user["sub"], "patient", user["name"])
    folders = httpx.get(f"{stack.base_url}/api/folders", headers={"Authorization": f"Bearer {patient}"}, timeout=30)
    assert folders.status_code in (200, 404) and not (folders.status_code == 200 and folders.json()["items"])
