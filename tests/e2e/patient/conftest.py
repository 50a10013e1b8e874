"""Browser fixtures for the patient app: Debian Chromium emulating a phone (390x844, touch) with a
fake rear camera playing a clip of skin. The `stack` fixture comes from tests/e2e/conftest.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.patient.helpers import PHONE, make_camera_clip
from tests.e2e.web.helpers import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="session")
def uploads_cors(stack: Any) -> None:
    """Phones PUT ciphertext straight to the uploads account from the app's origin: allow it (as the
    ingest account's CORS rule does in Azure)."""
    from scripts.uploads_cors import allow_origins

    allow_origins(stack.azurite.connection_string, [stack.base_url])


@pytest.fixture(scope="session")
def camera_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_camera_clip(tmp_path_factory.mktemp("camera") / "skin.y4m")


@pytest.fixture(scope="session")
def phone_args(camera_clip: Path) -> list[str]:
    return [
        *CHROMIUM_ARGS,
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={camera_clip}",
    ]


@pytest.fixture(scope="session")
def phone_browser(playwright_driver: Any, phone_args: list[str]) -> Any:
    b = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=phone_args, headless=True)
    yield b
    b.close()


def _context(browser: Any, stack: Any, *, service_workers: str) -> Any:
    ctx = browser.new_context(**PHONE, base_url=stack.base_url, service_workers=service_workers, accept_downloads=True)
    ctx.grant_permissions(["camera"], origin=stack.base_url)
    ctx.set_default_timeout(30000)  # generous: the suite shares two cores with everything else
    return ctx


@pytest.fixture
def phone(phone_browser: Any, stack: Any, uploads_cors: None) -> Any:
    """A phone browser context. Service workers are blocked so page.route sees every request;
    the tests of the service worker itself use `phone_with_sw`."""
    ctx = _context(phone_browser, stack, service_workers="block")
    yield ctx
    ctx.close()


@pytest.fixture
def phone_with_sw(phone_browser: Any, stack: Any, uploads_cors: None) -> Any:
    ctx = _context(phone_browser, stack, service_workers="allow")
    yield ctx
    ctx.close()


def _watch(p: Any) -> list[str]:
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None)
    return errors


@pytest.fixture
def page(phone: Any) -> Any:
    p = phone.new_page()
    errors = _watch(p)
    yield p
    assert not errors, f"the page raised errors or CSP violations: {errors}"


@pytest.fixture
def sw_page(phone_with_sw: Any) -> Any:
    p = phone_with_sw.new_page()
    errors = _watch(p)
    yield p
    assert not errors, f"the page raised errors or CSP violations: {errors}"
