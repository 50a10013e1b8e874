"""The whole loop of issue 11 in two browsers against the real local stack (no page routes): the
clinician (web app at /) requests photos for a patient's email; the patient (patient app at /app/
on a phone) opens the link from the email, signs in, shares with that clinic and takes a photo with
the camera; the clinician sees the photo and asks for more photos with a message for the patient;
the patient reads the message (and the reminder the clinic set) and replies; the clinician sees the
reply. Every screen passed through is checked with axe."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import invitation_code
from tests.e2e.patient.helpers import PASSCODE, new_folder, serve_demo_users, unique_patient, wait_photo_status, wait_view
from tests.e2e.web import helpers as web
from tests.e2e.web.helpers import assert_accessible

pytestmark = pytest.mark.browser

INSTRUCTION = "Please photograph the mole on your left forearm in daylight"
OUTCOME = "Your clinic would like more photos."
MESSAGE = "Thank you. Please send a closer photo with a ruler next to the mole."
REPLY = "Here is a closer one, taken this morning."


@pytest.fixture
def clinician(phone_browser: Any, stack: Any) -> Any:
    """The clinician's desktop browser (a second context of the same Chromium, so one driver)."""
    ctx = phone_browser.new_context(viewport={"width": 1280, "height": 800}, base_url=stack.base_url)
    ctx.set_default_timeout(30000)
    p = ctx.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None)
    yield p
    ctx.close()
    assert not errors, f"the clinician's page raised errors or CSP violations: {errors}"


def test_clinic_requests_photos_patient_shares_and_they_talk_in_both_apps(page, clinician, stack):
    stack.seed_demo()
    base = stack.base_url
    email = f"loop-{uuid.uuid4().hex[:8]}@example.org"
    user = unique_patient("Loop")

    # -- the clinician asks for photos
    web.sign_in(clinician, base)
    web.wait_view(clinician, "worklist")
    clinician.get_by_role("button", name="Request photos").click()
    web.wait_view(clinician, "request-photos")
    clinician.get_by_label("Patient's email address").fill(email)
    clinician.get_by_label("What should they photograph? (optional)").fill(INSTRUCTION)
    clinician.get_by_role("button", name="Send request").click()
    expect(clinician.locator("[data-testid='request-sent']")).to_contain_text(email)
    clinician.get_by_role("link", name="Go back to the worklist").click()
    web.wait_view(clinician, "worklist")
    expect(clinician.locator("tr[data-status='waiting-for-photos']", has_text=email)).to_contain_text("Waiting for photos")

    # -- the patient opens the link from the email, signs in, and sees the request
    code = invitation_code(stack.outbox, email)
    serve_demo_users(page, [user])
    page.goto(f"{base}/app/?invite={code}")
    wait_view(page, "signin")
    page.get_by_role("button", name=f"Sign in as {user['name']}").click()
    wait_view(page, "passcode")
    page.get_by_label("Choose a passcode").fill(PASSCODE)
    page.get_by_label("Enter the passcode again").fill(PASSCODE)
    page.get_by_role("button", name="Save passcode").click()
    wait_view(page, "invite")
    expect(page.get_by_test_id("instruction")).to_have_text(INSTRUCTION)
    assert_accessible(page, "request for photos")

    # -- shares with that clinic: the share flow is pre-filled for it
    page.get_by_role("button", name="Share with Newcastle Dermatology").click()
    page.get_by_role("heading", name="Share with Newcastle Dermatology").wait_for()
    assert not page.get_by_label("Teaching").is_checked() and not page.get_by_label("Research").is_checked()
    assert_accessible(page, "consent, pre-filled for the clinic that asked")
    page.get_by_role("button", name="I agree - share my photos").click()
    wait_view(page, "shares")
    page.get_by_test_id("shared").wait_for()
    expect(page.locator("li.app-share").first).to_contain_text("Newcastle Dermatology")
    assert_accessible(page, "who you share with")

    # -- gives their details (the clinic sees who it is), then takes a photo with the camera in a new
    #    folder (the share covers all folders, including new ones)
    page.get_by_role("link", name="Your folders").click()
    wait_view(page, "home")
    page.get_by_role("link", name="Your details").click()
    wait_view(page, "profile")
    given, family = user["name"].split(" ")
    page.get_by_label("First name").fill(given)
    page.get_by_label("Last name").fill(family)
    page.get_by_label("Date of birth").fill("1975-06-14")
    page.get_by_role("button", name="Save details").click()
    page.get_by_text("Your details have been saved.").wait_for()
    page.get_by_role("link", name="Your folders").click()
    wait_view(page, "home")
    folder_id = new_folder(page, "Mole on left forearm")
    page.get_by_role("button", name="Take photo").click()
    wait_view(page, "camera")
    page.wait_for_selector(".app-camera__stage[data-camera='live']")
    page.get_by_test_id("shutter").click()
    page.get_by_text("Photo kept").wait_for()
    page.get_by_role("link", name="Done").click()
    wait_view(page, "folder")
    wait_photo_status(page, "ready")

    # -- the clinician sees the photo in the case and asks for more, with a message for the patient
    clinician.goto("/")
    web.wait_view(clinician, "worklist")
    expect(clinician.locator("tr[data-status='waiting-for-photos']", has_text=email)).to_have_count(0)
    clinician.get_by_role("link", name=user["name"]).click()
    web.wait_view(clinician, "case")
    expect(clinician.locator("img[data-image-id]").first).to_be_visible()
    assert_accessible(clinician, "case with the patient's first photo")
    triage = clinician.locator("[data-testid='triage']")
    triage.get_by_label("Request more photos").check()
    triage.get_by_label("Remind the patient to take new photos (optional)").select_option("2w")
    triage.get_by_label("Message for the patient (optional)").fill(MESSAGE)
    triage.get_by_role("button", name="Record triage outcome").click()
    expect(clinician.locator("[data-testid='triage-patient-message']")).to_contain_text(MESSAGE)

    # -- the patient sees the message in the folder and replies
    page.get_by_role("link", name="Your folders").click()
    wait_view(page, "home")
    page.get_by_role("link", name="Mole on left forearm").click()
    wait_view(page, "folder")
    assert f"folder={folder_id}" in page.url
    conversation = page.get_by_test_id("conversation")
    expect(conversation).to_contain_text(MESSAGE)
    expect(conversation).to_contain_text(OUTCOME)
    expect(conversation).to_contain_text("Newcastle Dermatology")
    expect(page.get_by_label("Remind me to take a photo")).to_have_value("2w")
    expect(page.get_by_text("Set by Newcastle Dermatology")).to_be_visible()
    page.get_by_label("Remind me to take a photo").select_option("4w")
    page.get_by_text("Saved. Next reminder").wait_for()
    assert_accessible(page, "folder with the clinic's message")
    page.get_by_label("Reply to your clinic").fill(REPLY)
    page.get_by_role("button", name="Send reply").click()
    expect(conversation.locator(".app-message--mine")).to_contain_text(REPLY)

    # -- and among every message from the clinic
    page.get_by_role("link", name="Your folders").click()
    wait_view(page, "home")
    page.get_by_role("link", name="Messages from your clinic").click()
    wait_view(page, "messages")
    expect(page.locator("main")).to_contain_text(MESSAGE)
    assert_accessible(page, "messages from your clinic")

    # -- the link opened again after sharing: no second share, a plain word instead
    page.goto(f"{base}/app/?invite={code}")
    wait_view(page, "unlock")
    page.get_by_label("Passcode", exact=True).fill(PASSCODE)
    page.get_by_role("button", name="Unlock").click()
    wait_view(page, "invite")
    expect(page.get_by_role("heading", level=1)).to_have_text("You have already shared with Newcastle Dermatology")
    expect(page.get_by_role("button", name="Share with Newcastle Dermatology")).to_have_count(0)

    # -- the clinician sees the reply
    clinician.reload()
    web.wait_view(clinician, "case")
    expect(clinician.locator("[data-testid='new-replies']")).to_contain_text("1 new reply")
    reply = clinician.locator("[data-testid='folder-comments'] .app-comments__item--patient")
    expect(reply).to_contain_text(REPLY)
    expect(reply).to_contain_text("Reply from the patient")
    assert_accessible(clinician, "case with the patient's reply")
