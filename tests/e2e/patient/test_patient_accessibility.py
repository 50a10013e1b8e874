"""Every screen of the patient app is axe-clean (WCAG 2.2 AA, serious and critical) and fits a
320 px wide phone without sideways scrolling."""

from __future__ import annotations

import pytest

from tests.e2e.patient.helpers import new_folder, serve_demo_users, unique_patient, wait_photo_status, wait_view
from tests.e2e.web.helpers import assert_accessible
from tests.support.images import make_photo

pytestmark = pytest.mark.browser


def check(page, screen: str) -> None:
    assert_accessible(page, screen)
    for width in (390, 320):
        page.set_viewport_size({"width": width, "height": 700})
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"the {screen} screen scrolls sideways by {overflow}px at {width}px wide"
    page.set_viewport_size({"width": 390, "height": 844})


def go(page, query: str, view: str) -> None:
    page.evaluate("(q) => { history.pushState(null, '', q); dispatchEvent(new PopStateEvent('popstate')); }", query)
    wait_view(page, view)


def test_every_screen_is_accessible_and_fits_320px(page, stack):
    user = unique_patient()
    serve_demo_users(page, [user])
    page.goto(stack.base_url + "/app/?page=signin")
    wait_view(page, "signin")
    check(page, "sign-in")
    page.get_by_role("button", name=f"Sign in as {user['name']}").click()
    wait_view(page, "passcode")
    check(page, "choose a passcode")
    page.get_by_role("button", name="Save passcode").click()
    page.locator(".nhsuk-form-group--error").first.wait_for()
    check(page, "choose a passcode (with an error)")
    page.get_by_label("Choose a passcode").fill("1357")
    page.get_by_label("Enter the passcode again").fill("1357")
    page.get_by_role("button", name="Save passcode").click()
    wait_view(page, "home")
    check(page, "folders (empty)")

    page.get_by_role("button", name="New folder").click()
    wait_view(page, "new-folder")
    check(page, "new folder")
    page.get_by_role("link", name="Back").click()
    wait_view(page, "home")
    folder_id = new_folder(page, "Mole on neck", site="neck")
    for seed in (1, 2):
        page.set_input_files(
            "#gallery", files=[{"name": f"{seed}.jpg", "mimeType": "image/jpeg", "buffer": make_photo(1000, 750, seed=seed, gps=False)}]
        )
        wait_photo_status(page, "ready", count=seed)
    check(page, "folder timeline")
    go(page, "./", "home")
    check(page, "folders")

    go(page, f"?page=camera&folder={folder_id}", "camera")
    page.wait_for_selector(".app-camera__stage[data-camera='live']")
    check(page, "take photo")
    go(page, f"?page=compare&folder={folder_id}", "compare")
    page.wait_for_function("() => document.querySelectorAll('img.app-compare__img[data-state=loaded]').length === 2")
    assert page.locator("#compare-a").input_value() != page.locator("#compare-b").input_value(), "two different dates side by side"
    check(page, "compare")
    image_id = page.evaluate("() => document.querySelector('#compare-a').value")
    go(page, f"?page=photo&folder={folder_id}&photo={image_id}", "photo")
    check(page, "photo")
    page.get_by_role("button", name="Delete this photo").click()
    page.get_by_role("button", name="Yes, delete it").wait_for()
    check(page, "photo (confirm delete)")
    go(page, f"?page=edit-folder&folder={folder_id}", "edit-folder")
    check(page, "edit folder")
    go(page, "?page=profile", "profile")
    check(page, "your details")
    page.get_by_label("NHS number (optional)").fill("123 456 7890")
    page.get_by_role("button", name="Save details").click()
    page.locator(".nhsuk-form-group--error").first.wait_for()
    check(page, "your details (with an error)")
    for query, view, screen in (
        ("?page=share", "share", "share with a clinic"),
        ("?page=shares", "shares", "who you share with"),
        ("?page=audit", "audit", "who has looked"),
        ("?page=account", "account", "download or delete"),
        ("?page=people", "people", "switch person"),
        ("?page=nowhere", "not-found", "page not found"),
    ):
        go(page, query, view)
        check(page, screen)
    go(page, f"?page=unlock&sub={user['sub']}", "unlock")
    check(page, "unlock")
