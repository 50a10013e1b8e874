"""Profile rules: given and family names, and the display name derived from them."""

from __future__ import annotations

from datetime import date

import pytest

from shared_code.domain.errors import RuleViolation
from shared_code.domain.profile import apply_profile_changes, derived_display_name, validate_profile_update

TODAY = date(2026, 6, 1)


def test_names_are_trimmed_and_inner_spaces_collapsed():
    assert validate_profile_update({"givenName": "  Mary \t Ann ", "familyName": "O'Brien "}, TODAY) == {
        "givenName": "Mary Ann",
        "familyName": "O'Brien",
    }


@pytest.mark.parametrize("field", ["givenName", "familyName"])
def test_a_blank_name_is_refused_but_null_clears_it(field):
    with pytest.raises(RuleViolation, match=field):
        validate_profile_update({field: "   "}, TODAY)
    assert validate_profile_update({field: None}, TODAY) == {field: None}


def test_display_name_is_given_then_family_name():
    assert derived_display_name("Mary", "Smith") == "Mary Smith"
    assert derived_display_name(None, "Smith") == "Smith"
    assert derived_display_name(None, None) is None


def test_changing_a_name_rederives_the_display_name_unless_one_is_sent():
    doc = {"displayName": "M S", "givenName": "Mary", "familyName": "Smith"}
    assert apply_profile_changes(doc, {"familyName": "Jones"})["displayName"] == "Mary Jones"
    assert apply_profile_changes(doc, {"familyName": "Jones", "displayName": "Molly"})["displayName"] == "Molly"
    assert apply_profile_changes(doc, {"email": "m@example.org"})["displayName"] == "M S"
    assert apply_profile_changes(doc, {"givenName": None, "familyName": None})["displayName"] == "M S"
    assert doc["displayName"] == "M S", "the stored document is not changed in place"
