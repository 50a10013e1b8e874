"""The clinician app works on a tablet: nothing needs sideways scrolling, everything stays accessible."""

from __future__ import annotations

import pytest

from tests.e2e.web.helpers import assert_accessible, sign_in, wait_view

TABLETS = {"ipad-portrait": (768, 1024), "ipad-landscape": (1024, 768)}


@pytest.mark.parametrize("size", list(TABLETS), ids=list(TABLETS))
def test_worklist_and_case_fit_a_tablet_screen(browser, stack, seeded, size):
    width, height = TABLETS[size]
    ctx = browser.new_context(viewport={"width": width, "height": height}, base_url=stack.base_url, has_touch=True, is_mobile=True)
    try:
        page = ctx.new_page()
        sign_in(page, stack.base_url)
        wait_view(page, "worklist")
        overflow = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        assert page.evaluate(overflow) <= 0, "the worklist scrolls sideways"
        assert_accessible(page, f"worklist ({size})")
        page.goto(f"/cases/{seeded['caseId']}")
        wait_view(page, "case")
        assert page.evaluate(overflow) <= 0, "the case view scrolls sideways"
        assert page.get_by_text("943 476 5919").first.is_visible()
        assert_accessible(page, f"case ({size})")
    finally:
        ctx.close()
