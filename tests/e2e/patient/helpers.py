"""Helpers for the patient app's browser tests: a phone, a fake camera clip, sign-in and passcode."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
PASSCODE = "482913"
TAPPABLE = {"left-forearm", "neck", "right-hand"}  # drawn on the body map


def unique_patient(prefix: str = "Pat") -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    return {"sub": f"e2e-patient-{tag}", "name": f"{prefix} {tag}", "role": "patient"}


def make_camera_clip(path: Path, width: int = 640, height: int = 480, frames: int = 10) -> Path:
    """A Y4M clip of a skin close-up (mole, freckles, texture) for Chromium's fake camera."""
    from tests.support.images import render_skin

    image = render_skin(width, height, seed=7).convert("YCbCr")
    y, cb, cr = image.split()
    half = (width // 2, height // 2)
    plane = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n" + plane)
    return path


def wait_view(page: Any, view: str, state: str = "ready", timeout: float = 30000) -> None:
    page.wait_for_selector(f"main[data-view='{view}'][data-state='{state}']", timeout=timeout)


def serve_demo_users(page_or_context: Any, users: list[dict[str, str]]) -> None:
    """Answer the app's demo-users.json with these (unique) patients, so tests do not share data."""
    import json

    page_or_context.route("**/app/demo-users.json", lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(users)))


def sign_in(page: Any, base_url: str, user: dict[str, str], passcode: str = PASSCODE, *, first_time: bool = True) -> None:
    """Sign in from the app's own sign-in screen; choose (first time) or enter the passcode."""
    page.goto(base_url + "/app/?page=signin")
    wait_view(page, "signin")
    page.get_by_role("button", name=f"Sign in as {user['name']}").click()
    if first_time:
        wait_view(page, "passcode")
        page.get_by_label("Choose a passcode").fill(passcode)
        page.get_by_label("Enter the passcode again").fill(passcode)
        page.get_by_role("button", name="Save passcode").click()
    else:
        wait_view(page, "unlock")
        page.get_by_label("Passcode", exact=True).fill(passcode)
        page.get_by_role("button", name="Unlock").click()
    wait_view(page, "home")


def new_folder(page: Any, name: str, site: str = "left-forearm") -> str:
    page.get_by_role("button", name="New folder").click()
    wait_view(page, "new-folder")
    page.get_by_label("Folder name").fill(name)
    if site in TAPPABLE:  # the body map, as a finger would
        page.locator(f"svg.app-bodymap [data-site='{site}']").tap()
        assert page.get_by_label("Where on your body").input_value() == site
        assert page.locator(f"svg.app-bodymap [data-site='{site}']").get_attribute("class").endswith("--chosen")
    else:
        page.get_by_label("Where on your body").select_option(site)
    page.get_by_label("Condition (optional)").fill("Mole check")
    page.get_by_role("button", name="Create folder").click()
    wait_view(page, "folder")
    return page.evaluate("() => new URL(location.href).searchParams.get('folder')")


def wait_photo_status(page: Any, status: str, count: int = 1, timeout: float = 60000) -> None:
    page.wait_for_function(
        "([s, n]) => document.querySelectorAll(`li.app-timeline__item[data-status='${s}']`).length >= n",
        arg=[status, count],
        timeout=timeout,
    )
