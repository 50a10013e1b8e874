"""SNOMED CT body sites offered for folders."""

import re

import pytest

from shared_code.domain.body_sites import BODY_SITES, body_site, human_label, is_known_body_site, laterality

# Verhoeff dihedral-group tables (the check digit scheme of every SNOMED CT identifier).
_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]


def verhoeff_ok(digits: str) -> bool:
    check = 0
    for position, char in enumerate(reversed(digits)):
        check = _D[check][_P[position % 8][int(char)]]
    return check == 0


def test_verhoeff_helper_accepts_known_sctids_and_catches_a_typo():
    assert verhoeff_ok("39937001")  # Skin structure
    assert verhoeff_ok("404684003")  # Clinical finding
    assert not verhoeff_ok("39937002")
    assert not verhoeff_ok("39973001")  # adjacent transposition


@pytest.mark.parametrize("key", sorted(BODY_SITES))
def test_every_body_site_code_is_a_well_formed_sctid_of_a_concept(key):
    code, display = BODY_SITES[key]
    assert re.fullmatch(r"[1-9][0-9]{5,17}", code), code
    assert verhoeff_ok(code), f"{key}: {code} fails the Verhoeff check digit"
    # partition identifier: 00 (international concept) or 10 (extension concept)
    assert code[-3:-1] in ("00", "10"), f"{key}: {code} is not a concept id"
    assert display and display == display.strip()


def test_keys_are_lowercase_hyphenated_api_values():
    for key in BODY_SITES:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", key), key


def test_codes_are_not_reused_for_two_sites():
    codes = [code for code, _ in BODY_SITES.values()]
    assert len(codes) == len(set(codes))


def test_sites_cover_skin_scalp_hair_and_nails_with_both_sides_of_paired_limbs():
    for key in ("scalp", "hair", "fingernail", "toenail", "face", "back", "buttock", "genitals", "sole", "skin-other"):
        assert is_known_body_site(key)
    for part in ("upper-arm", "forearm", "hand", "thigh", "knee", "lower-leg", "foot"):
        assert is_known_body_site(f"left-{part}") and is_known_body_site(f"right-{part}")


def test_left_and_right_sites_have_distinct_lateral_codes_whose_terms_name_the_side():
    for key, (code, display) in BODY_SITES.items():
        side = laterality(key)
        if side == "L":
            twin = "right-" + key.removeprefix("left-")
            assert BODY_SITES[twin][0] != code
            assert "left" in display.lower()
        elif side == "R":
            assert "right" in display.lower()
        else:
            assert "left" not in display.lower() and "right" not in display.lower()


def test_lookup_helpers():
    assert body_site("scalp") == ("41695006", "Scalp structure")
    assert human_label("left-upper-arm") == "Left upper arm"
    assert not is_known_body_site("elbow-of-doom")
    assert not is_known_body_site(None)
    with pytest.raises(KeyError):
        body_site("elbow-of-doom")


def test_every_site_has_a_human_label():
    for key in BODY_SITES:
        label = human_label(key)
        assert label and label[0].isupper() and "-" not in label
