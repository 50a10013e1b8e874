"""The clinic's side of the loop in the browser: request photos, see the request wait for photos,
triage with a message for the patient, internal notes, the patient's reply in the conversation,
withdrawing a comment, and the case kept as "sharing ended" when the patient stops sharing.

The patient's side is driven over the API here (the patient app has its own browser tests)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.helpers import invitation_code, ok, share, upload_photo, wait_for
from tests.e2e.web.helpers import assert_accessible, sign_in, wait_view
from tests.support.email_scan import eml_content
from tests.support.images import make_photo

PATIENT = "Morwenna Tregothnan"
EMAIL = "morwenna@example.org"
INSTRUCTION = "Please photograph both elbows in daylight"
MESSAGE = "Thank you. Please send new photos in two weeks."
INTERNAL = "Internal: compare with 2024 clinic photos"


def test_clinic_requests_photos_answers_the_patient_and_sees_the_reply(stack, seeded, page):
    base = stack.base_url
    sign_in(page, base)
    wait_view(page, "worklist")

    # -- request photos
    page.get_by_role("button", name="Request photos").click()
    wait_view(page, "request-photos")
    assert_accessible(page, "request photos")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator(".app-inline-error")).to_contain_text("Enter the patient's email address")
    page.get_by_label("Patient's email address").fill(EMAIL)
    page.get_by_label("What should they photograph? (optional)").fill(INSTRUCTION)
    page.get_by_label("Reminder (optional)").select_option("2w")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator("[data-testid='request-sent']")).to_contain_text(EMAIL)
    assert_accessible(page, "photo request sent")
    page.get_by_role("link", name="Go back to the worklist").click()
    wait_view(page, "worklist")
    waiting = page.locator("tr[data-status='waiting-for-photos']", has_text=EMAIL)
    expect(waiting).to_contain_text("Waiting for photos")
    expect(waiting).to_contain_text(INSTRUCTION)
    assert_accessible(page, "worklist with a photo request")

    # -- the patient opens the link, accepts, shares a folder (no photos yet)
    code = invitation_code(stack.outbox, EMAIL)
    patient = stack.client(stack.token("web-loop-patient", "patient", PATIENT, EMAIL))
    ok(patient.put("/api/me", json={"displayName": PATIENT, "dateOfBirth": "1966-09-02"}))
    seen = ok(patient.get(f"/api/invitations/{code}"))
    assert seen["clinic"]["id"] == seeded["clinicId"] and seen["instruction"] == INSTRUCTION
    ok(patient.post(f"/api/invitations/{code}/accept"))
    folder = ok(patient.post("/api/folders", json={"name": "Elbows", "bodySite": "left-elbow"}), 201)
    granted = share(patient, seeded["clinicId"], folder_ids=[folder["id"]])
    page.reload()
    wait_view(page, "worklist")
    row = page.locator("tr", has=page.get_by_role("link", name=PATIENT))
    expect(row.locator("[data-col='new']")).to_have_text("Waiting for photos")
    expect(page.locator("tr[data-status='waiting-for-photos']", has_text=EMAIL)).to_have_count(0)

    # -- a photo arrives: a normal case
    image = upload_photo(patient, folder["id"], make_photo(900, 700, seed=77, gps=False))
    assert wait_for(patient, image, timeout=120)["status"] == "ready"
    page.reload()
    wait_view(page, "worklist")
    expect(row.locator("[data-col='new']")).to_have_text("1 new")

    # -- triage with a message for the patient, an internal note, a comment
    page.get_by_role("link", name=PATIENT).click()
    wait_view(page, "case")
    triage = page.locator("[data-testid='triage']")
    triage.get_by_label("Request more photos").check()
    triage.get_by_label("Remind the patient to take new photos (optional)").select_option("2w")
    triage.get_by_label("Message for the patient (optional)").fill(MESSAGE)
    triage.get_by_label("Internal note (optional)").fill(INTERNAL)
    triage.get_by_role("button", name="Record triage outcome").click()
    expect(page.locator("[data-testid='triage-patient-message']")).to_contain_text(MESSAGE)
    notes = page.locator("[data-testid='internal-notes']")
    notes.get_by_label("Add an internal note").fill("Seen in MDT list")
    notes.get_by_role("button", name="Add internal note").click()
    expect(notes.locator("[data-testid='internal-notes-list']")).to_contain_text("Seen in MDT list")
    conversation = page.locator("[data-testid='folder-comments']")
    conversation.get_by_label("Write to the patient about this folder").fill("Wrong photo request, please ignore")
    conversation.get_by_role("button", name="Add comment").click()
    expect(conversation.locator(".app-comments__item", has_text="Wrong photo request")).to_have_count(1)

    # -- the patient reads the clinic's answer (never the internal notes) and replies
    messages = patient.get("/api/messages")
    assert MESSAGE in messages.text and INTERNAL not in messages.text and "Seen in MDT list" not in messages.text
    outcome = next(m for m in ok(messages)["items"] if m["kind"] == "outcome")
    assert outcome["outcome"]["code"] == "request-more-photos" and outcome["text"] == MESSAGE
    ok(patient.post(f"/api/folders/{folder['id']}/comments", json={"text": "Will do, thank you"}), 201)

    # -- the clinician sees the reply, and withdraws the comment posted in error
    page.reload()
    wait_view(page, "case")
    expect(page.locator("[data-testid='new-replies']")).to_contain_text("1 new reply")
    reply = conversation.locator(".app-comments__item--patient")
    expect(reply).to_contain_text("Will do, thank you")
    expect(reply).to_contain_text("Reply from the patient")
    wrong = conversation.locator(".app-comments__item", has_text="Wrong photo request")
    wrong.get_by_role("button", name=re.compile("Withdraw")).click()
    expect(conversation.locator(".app-comments__item", has_text="Wrong photo request")).to_contain_text("Withdrawn")
    assert_accessible(page, "case with conversation and internal notes")
    withdrawn = next(m for m in ok(patient.get(f"/api/folders/{folder['id']}/messages"))["items"] if m["withdrawn"])
    assert withdrawn["text"] is None

    # -- the patient stops sharing: the worklist keeps the case, marked, without a way in
    ok(patient.delete(f"/api/shares/{granted['id']}"))
    page.goto("/")
    wait_view(page, "worklist")
    ended = page.locator("tr[data-status='sharing-ended']", has_text=PATIENT)
    expect(ended).to_contain_text("Sharing ended by the patient on")
    expect(page.get_by_role("link", name=PATIENT)).to_have_count(0)
    assert_accessible(page, "worklist with a case whose sharing ended")
    assert all(INTERNAL not in eml_content(p) for p in stack.outbox.glob("*.eml"))
