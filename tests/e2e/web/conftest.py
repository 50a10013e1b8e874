"""Browser fixtures for the clinician web app tests (the `stack` fixture comes from tests/e2e/conftest.py)."""

from __future__ import annotations

import pytest

from tests.e2e.web.helpers import launch


@pytest.fixture(scope="session")
def seeded(stack):
    return stack.seed_demo()


@pytest.fixture(scope="session")
def browser(playwright_driver):
    b = launch(playwright_driver)
    yield b
    b.close()


@pytest.fixture
def context(browser, stack):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True, base_url=stack.base_url)
    ctx.set_default_timeout(15000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None)
    yield p
    assert not errors, f"the page raised errors or CSP violations: {errors}"
