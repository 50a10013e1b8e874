"""Invitation codes travel in a link and in the path of /api/invitations/{code}: every one must pass the API's id rule."""

from __future__ import annotations

from shared_code.domain.common import is_valid_id
from shared_code.services import invitations


def test_every_invitation_code_passes_the_id_rule_and_is_long_enough():
    codes = {invitations.new_invitation_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(is_valid_id(code) and len(code) == 24 for code in codes)
