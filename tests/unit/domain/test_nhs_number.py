"""NHS number Modulus 11 rule and display format."""

import pytest

from shared_code.domain.nhs_number import format_nhs_number, is_valid_nhs_number, nhs_check_digit, normalise_nhs_number


@pytest.mark.parametrize("value", ["9434765919", "9000000009", "4010232137", "9434765870"])
def test_published_example_nhs_numbers_pass_the_modulus_11_check(value):
    assert is_valid_nhs_number(value)


@pytest.mark.parametrize(
    "value",
    [
        "9434765918",  # wrong check digit
        "9434765911",  # wrong check digit
        "1234567890",  # remainder rule gives 10: never issued
        "943476591",  # nine digits
        "94347659190",  # eleven digits
        "943 476 5919",  # spaces must be removed by the caller first
        "943476591X",
        "",
        "９４３４７６５９１９",  # full-width digits are not ASCII digits
    ],
)
def test_malformed_or_wrong_check_digit_nhs_numbers_are_invalid(value):
    assert not is_valid_nhs_number(value)


def test_non_string_values_are_invalid():
    assert not is_valid_nhs_number(9434765919)  # type: ignore[arg-type]
    assert not is_valid_nhs_number(None)  # type: ignore[arg-type]


def test_check_digit_of_ten_means_no_valid_number_exists_for_those_nine_digits():
    # 1*10+2*9+3*8+4*7+5*6+6*5+7*4+8*3+9*2 = 210; 210 % 11 = 1; 11 - 1 = 10 -> invalid
    assert nhs_check_digit("123456789") is None
    assert not any(is_valid_nhs_number("123456789" + str(d)) for d in range(10))


def test_remainder_zero_gives_check_digit_zero():
    # 0*... = 0 -> 11 - 0 = 11 -> check digit 0
    assert nhs_check_digit("000000000") == 0
    assert is_valid_nhs_number("0000000000")


def test_exactly_one_check_digit_is_accepted_for_nine_digits():
    accepted = [d for d in range(10) if is_valid_nhs_number("943476591" + str(d))]
    assert accepted == [9]


def test_format_groups_digits_three_three_four():
    assert format_nhs_number("9434765919") == "943 476 5919"
    assert format_nhs_number("943 476 5919") == "943 476 5919"


def test_format_refuses_values_that_are_not_ten_digits():
    with pytest.raises(ValueError):
        format_nhs_number("94347659")


def test_normalise_removes_spaces_and_hyphens_only():
    assert normalise_nhs_number("943 476-5919") == "9434765919"
    assert is_valid_nhs_number(normalise_nhs_number("943 476 5919"))
