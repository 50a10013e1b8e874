"""Smoke: the patient app signs in, sets a passcode and makes a folder."""

from __future__ import annotations

import pytest

from tests.e2e.patient.helpers import new_folder, serve_demo_users, sign_in, unique_patient

pytestmark = pytest.mark.browser


def test_sign_in_choose_passcode_and_make_a_folder(page, stack):
    user = unique_patient()
    serve_demo_users(page, [user])
    sign_in(page, stack.base_url, user)
    new_folder(page, "Mole on left arm")
    assert page.get_by_role("heading", level=1).inner_text() == "Mole on left arm"
