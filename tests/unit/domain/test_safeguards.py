"""Safeguards: intimate sites are never shared beyond direct care; under-18s share only for care and never intimate sites."""

from datetime import date

import pytest

from shared_code.domain.body_sites import BODY_SITES
from shared_code.domain.errors import RuleViolation
from shared_code.domain.safeguards import INTIMATE_SITES, MINOR_INTIMATE_MESSAGE, age_on, check_share, is_intimate, is_under_18

TODAY = date(2026, 12, 2)


def test_intimate_sites_are_body_sites_the_app_offers():
    assert INTIMATE_SITES <= set(BODY_SITES)
    assert is_intimate("genitals") and is_intimate("perianal") and is_intimate("breast")
    assert not is_intimate("left-forearm") and not is_intimate(None)


def test_age_turns_on_the_birthday():
    assert age_on(date(2008, 12, 2), TODAY) == 18
    assert age_on(date(2008, 12, 3), TODAY) == 17
    assert is_under_18("2008-12-03", TODAY) and not is_under_18("2008-12-02", TODAY)
    assert not is_under_18(None, TODAY)


def test_an_intimate_site_cannot_be_shared_for_teaching_or_research():
    with pytest.raises(RuleViolation):
        check_share(["genitals"], ["direct-care", "teaching"], "1980-01-01", TODAY)
    check_share(["genitals"], ["direct-care"], "1980-01-01", TODAY)
    check_share(["scalp"], ["direct-care", "research"], "1980-01-01", TODAY)


def test_under_18_cannot_share_intimate_sites_at_all_and_shares_only_for_care():
    with pytest.raises(RuleViolation) as raised:
        check_share(["breast"], ["direct-care"], "2012-01-01", TODAY)
    assert raised.value.detail == MINOR_INTIMATE_MESSAGE and "contact your clinic" in MINOR_INTIMATE_MESSAGE
    with pytest.raises(RuleViolation):
        check_share(["scalp"], ["direct-care", "teaching"], "2012-01-01", TODAY)
    check_share(["scalp"], ["direct-care"], "2012-01-01", TODAY)
