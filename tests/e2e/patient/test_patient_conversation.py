"""The patient's side of the conversation with a clinic (issue 11): the folder's messages (a triage
outcome in plain English, a withdrawn comment) and a reply, photo reminders, and a clinic's request
for photos opened from its link. These endpoints belong to the conversation work; here the app is
held to their OpenAPI contract by answering them with page routes (everything else is the real
local stack), so the screens are proven before the two branches meet."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.patient.helpers import PASSCODE, new_folder, serve_demo_users, sign_in, unique_patient, wait_view
from tests.e2e.web.helpers import assert_accessible

pytestmark = pytest.mark.browser


def iso(delta_days: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(days=delta_days)).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def fulfil(route, body, status: int = 200) -> None:
    content_type = "application/problem+json" if status >= 400 else "application/json"
    route.fulfill(status=status, content_type=content_type, body=json.dumps(body))


def test_messages_reply_reminders_and_a_clinics_request_for_photos(page, stack):
    demo = stack.seed_demo()
    clinic = {"id": demo["clinicId"], "name": "Newcastle Dermatology"}
    user = unique_patient()
    serve_demo_users(page, [user])
    sign_in(page, stack.base_url, user)
    folder_id = new_folder(page, "Mole on left forearm")
    sent: dict[str, list] = {"replies": [], "reminders": [], "accepted": []}
    messages = [
        {
            "id": "msg-1",
            "kind": "outcome",
            "targetType": "case",
            "targetId": "case-1",
            "folderId": folder_id,
            "clinicId": clinic["id"],
            "author": {"kind": "clinician", "name": "Dr Demo Clinician", "clinicName": clinic["name"]},
            "text": "Please send one more photo in daylight.",
            "outcome": {"code": "request-more-photos", "text": "Your clinic would like more photos."},
            "withdrawn": False,
            "createdAt": iso(-1),
        },
        {
            "id": "msg-2",
            "kind": "comment",
            "targetType": "folder",
            "targetId": folder_id,
            "folderId": folder_id,
            "clinicId": clinic["id"],
            "author": {"kind": "clinician", "name": "Dr Demo Clinician", "clinicName": clinic["name"]},
            "text": None,
            "outcome": None,
            "withdrawn": True,
            "createdAt": iso(-0.5),
        },
    ]
    reminder = {
        "folderId": folder_id,
        "every": "2w",
        "label": "Every 2 weeks",
        "nextDueAt": iso(-1),
        "lastDueAt": None,
        "due": True,
        "setBy": {"kind": "clinic", "clinicName": clinic["name"]},
    }

    def folder_messages(route):
        fulfil(route, {"items": messages, "continuationToken": None})

    def comments(route):
        if route.request.method != "POST":
            route.fallback()
            return
        body = route.request.post_data_json
        sent["replies"].append(body)
        mine = {**messages[0], "id": f"msg-{len(messages) + 1}", "kind": "reply", "author": {"kind": "patient", "name": "You", "clinicName": None}}
        mine.update({"text": body["text"], "outcome": None, "createdAt": iso()})
        messages.append(mine)
        fulfil(route, mine, 201)

    def reminders(route):
        fulfil(route, {"items": [reminder], "continuationToken": None})

    def set_reminder(route):
        sent["reminders"].append((route.request.method, route.request.post_data_json if route.request.method == "PUT" else None))
        if route.request.method == "PUT":
            fulfil(route, {**reminder, "every": route.request.post_data_json["every"], "due": False, "nextDueAt": iso(30)})
        else:
            route.fulfill(status=204)

    invitation = {
        "clinic": clinic,
        "instruction": "Please photograph both elbows in daylight.",
        "reminder": None,
        "expiresAt": iso(14),
        "state": "pending",
    }

    def invitations(route):
        path = route.request.url.split("/api/invitations/", 1)[1].split("?")[0]
        if path == "REQ-USED":
            fulfil(
                route,
                {"type": "about:blank", "title": "Already used", "status": 409, "detail": "This request has already been used by someone else."},
                409,
            )
        elif path == "REQ-1234/accept":
            sent["accepted"].append(path)
            fulfil(route, {**invitation, "state": "accepted"})
        else:
            fulfil(route, invitation)

    page.route(re.compile(rf".*/api/folders/{folder_id}/messages(\?.*)?$"), folder_messages)
    page.route(re.compile(rf".*/api/folders/{folder_id}/comments(\?.*)?$"), comments)
    page.route(re.compile(r".*/api/reminders(\?.*)?$"), reminders)
    page.route(re.compile(rf".*/api/folders/{folder_id}/reminder$"), set_reminder)
    page.route(re.compile(r".*/api/messages(\?.*)?$"), folder_messages)
    page.route(re.compile(r".*/api/invitations/.*"), invitations)

    # home: the reminder that is due
    page.get_by_role("link", name="Your folders").click()
    wait_view(page, "home")
    due = page.get_by_test_id("reminders-due")
    assert "Mole on left forearm" in due.inner_text()

    # the folder: messages in plain English, a withdrawn one without its words, and a reply
    due.get_by_role("link", name="Mole on left forearm").click()
    wait_view(page, "folder")
    conversation = page.get_by_test_id("conversation")
    conversation.wait_for()
    text = conversation.inner_text()
    assert "Your clinic would like more photos." in text and "Please send one more photo in daylight." in text
    assert "This message was withdrawn by the clinic." in text
    assert_accessible(page, "folder with messages")
    page.get_by_label("Reply to your clinic").fill("I will send one tomorrow morning.")
    page.get_by_role("button", name="Send reply").click()
    conversation.get_by_text("I will send one tomorrow morning.").wait_for()
    assert sent["replies"] == [{"text": "I will send one tomorrow morning.", "clinicId": clinic["id"]}]

    # the reminder, set by the clinic, changed by the patient
    assert page.get_by_label("Remind me to take a photo").input_value() == "2w"
    assert page.get_by_text(f"Set by {clinic['name']}").is_visible()
    page.get_by_label("Remind me to take a photo").select_option("1m")
    page.get_by_text("Saved. Next reminder").wait_for()
    assert sent["reminders"] == [("PUT", {"every": "1m"})]

    # every message
    page.get_by_role("link", name="Your folders").click()
    wait_view(page, "home")
    page.get_by_role("link", name="Messages from your clinic").click()
    wait_view(page, "messages")
    assert "Your clinic would like more photos." in page.inner_text("main")
    assert_accessible(page, "messages")

    # a clinic's request for photos, from the link in its email: accepted, then the share is pre-filled
    page.goto(stack.base_url + "/app/?invite=REQ-1234")
    wait_view(page, "unlock")
    page.get_by_label("Passcode", exact=True).fill(PASSCODE)
    page.get_by_role("button", name="Unlock").click()
    wait_view(page, "invite")
    assert page.get_by_test_id("instruction").inner_text() == "Please photograph both elbows in daylight."
    assert_accessible(page, "request for photos")
    page.get_by_role("button", name=f"Share with {clinic['name']}").click()
    page.get_by_role("heading", name=f"Share with {clinic['name']}").wait_for()
    assert sent["accepted"] == ["REQ-1234/accept"]
    page.get_by_role("button", name="I agree - share my photos").click()
    wait_view(page, "shares")
    assert clinic["name"] in page.locator("li.app-share").first.inner_text()

    # a used code: a plain message
    page.goto(stack.base_url + "/app/?invite=REQ-USED")
    wait_view(page, "unlock")
    page.get_by_label("Passcode", exact=True).fill(PASSCODE)
    page.get_by_role("button", name="Unlock").click()
    wait_view(page, "invite")
    assert page.get_by_role("heading", level=1).inner_text() == "This link cannot be used"
    assert "already been used" in page.inner_text("main")
