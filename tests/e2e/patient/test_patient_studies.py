"""Research studies in the patient app: join with the study code (participant information, research
consent with its version and hash, chosen folders; an intimate-site folder is refused in plain words),
the schedule relative to the day of joining, and leaving the study (access stops at once). Axe-clean."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.helpers import ok, unique
from tests.e2e.patient.helpers import serve_demo_users, sign_in, unique_patient, wait_view
from tests.e2e.web.helpers import assert_accessible

pytestmark = pytest.mark.browser

INFO_TITLE = "Taking part in the eczema photo study"
INFO_LAST = "If you leave, photos already given to the research team stay in the study."


def _study(base: str) -> dict:
    admin = ok(httpx.post(f"{base}/api/dev/token", json={"sub": unique("admin"), "name": "Ada Admin", "role": "admin"}, timeout=10))["access_token"]
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin}"}, timeout=30) as api:
        clinic = ok(api.post("/api/manage/clinics", json={"name": "Study Clinic", "odsCode": "RTD", "notificationEmail": "study@nhs.example"}))
        body = {
            "clinicId": clinic["id"],
            "title": unique("Eczema photo study"),
            "sponsor": "Newcastle upon Tyne Hospitals",
            "recReference": "24/NE/0789",
            "irasId": "334466",
            "startDate": "2026-01-01",
            "endDate": "2030-12-31",
            "scheduleWeeks": [0, 4, 12],
            "bodySites": ["left-forearm"],
            "participantInformation": {"title": INFO_TITLE, "paragraphs": ["We would like to use photos of your skin.", INFO_LAST]},
        }
        return ok(api.post("/api/manage/studies", json=body))


def check(page, screen: str) -> None:
    """Axe-clean, and no sideways scrolling on a 320 px wide phone (as every patient screen)."""
    assert_accessible(page, screen)
    for width in (390, 320):
        page.set_viewport_size({"width": width, "height": 700})
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the {screen} screen scrolls sideways by {overflow}px at {width}px wide"
    page.set_viewport_size({"width": 390, "height": 844})


def go(page, query: str, view: str) -> None:
    page.evaluate("(q) => { history.pushState(null, '', q); dispatchEvent(new PopStateEvent('popstate')); }", query)
    wait_view(page, view)


def test_join_a_study_see_the_schedule_and_leave(page, stack):
    base = stack.base_url
    study = _study(base)
    user = unique_patient()
    serve_demo_users(page, [user])
    sign_in(page, base, user)
    patient = stack.client(stack.token(user["sub"], "patient", user["name"]))
    arm = ok(patient.post("/api/folders", json={"name": "Patch on my arm", "bodySite": "left-forearm"}))
    ok(patient.post("/api/folders", json={"name": "Private rash", "bodySite": "genitals"}))

    # from the home menu to the (empty) studies screen
    go(page, "?page=home", "home")
    page.get_by_role("link", name="Research studies").click()
    wait_view(page, "studies")
    page.get_by_text("You are not taking part in any research study.").wait_for()
    check(page, "research studies")

    # the study code: a wrong one is refused plainly, the right one (any case) finds the study
    page.get_by_role("button", name="Join a study").click()
    wait_view(page, "join-study")
    check(page, "join a study")
    page.get_by_label("Study code").fill("NOPE-0000")
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("We cannot find a study with that code").first.wait_for()
    page.get_by_label("Study code").fill(study["enrolmentCode"].lower())
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name=f"Join {study['title']}").wait_for()
    info = page.get_by_test_id("participant-information")
    assert INFO_TITLE in info.inner_text() and INFO_LAST in info.inner_text()
    shown_hash = info.get_attribute("data-text-hash")
    assert info.get_attribute("data-version") == "1" and shown_hash.startswith("sha256:")
    assert not page.get_by_label("I have read the information above").is_checked()
    check(page, "participant information and research consent")

    # consent is needed; an intimate-site folder is refused by the API and the reason is shown
    page.get_by_label("Private rash").check()
    page.get_by_role("button", name="Join the study").click()
    page.get_by_text("Tick the box to say you agree to take part").wait_for()
    page.get_by_label("I have read the information above").check()
    page.get_by_role("button", name="Join the study").click()
    refusal = page.locator(".app-inline-error")
    refusal.wait_for()
    assert "intimate" in refusal.inner_text().lower()
    assert ok(patient.get("/api/enrolments"))["items"] == []
    check(page, "research consent (refused)")

    # someone under 18 is refused too, in plain words
    page.get_by_label("Private rash").uncheck()
    page.get_by_label("Patch on my arm").check()
    ok(patient.put("/api/me", json={"dateOfBirth": "2015-06-01"}))
    page.get_by_role("button", name="Join the study").click()
    page.locator(".app-inline-error", has_text="18").wait_for()
    assert ok(patient.get("/api/enrolments"))["items"] == []
    ok(patient.put("/api/me", json={"dateOfBirth": "1980-06-01"}))

    # join with the arm folder: the schedule, relative to today
    page.get_by_label("I would rather not say").check()
    page.get_by_role("button", name="Join the study").click()
    wait_view(page, "study")
    page.get_by_test_id("enrolled").wait_for()
    page.get_by_role("heading", name=study["title"]).wait_for()
    rows = page.get_by_test_id("study-schedule").locator("tbody tr")
    states = [(rows.nth(i).get_attribute("data-week"), rows.nth(i).get_attribute("data-state")) for i in range(rows.count())]
    assert states == [("0", "due"), ("4", "upcoming"), ("12", "upcoming")]
    assert "Due now" in rows.nth(0).inner_text() and "Week 4 (day 28)" in rows.nth(1).inner_text()
    (enrolment,) = ok(patient.get("/api/enrolments"))["items"]
    assert enrolment["folderIds"] == [arm["id"]] and enrolment["sex"] == "not-stated"
    assert enrolment["consent"]["version"] == "1" and enrolment["consent"]["textHash"] == shown_hash
    check(page, "study schedule")

    # leave: a plain confirmation, then access stops at once
    page.get_by_role("button", name="Leave this study").click()
    callout = page.locator(".nhsuk-warning-callout")
    callout.wait_for()
    assert "kept, as the participant information says" in callout.inner_text()
    check(page, "leave the study")
    page.get_by_role("button", name="Yes, leave the study").click()
    wait_view(page, "studies")
    page.get_by_test_id("withdrawn").wait_for()
    assert ok(patient.get(f"/api/enrolments/{enrolment['id']}"))["status"] == "withdrawn"
    page.get_by_text("Studies you have left").wait_for()
    check(page, "research studies (after leaving)")
    patient.close()
