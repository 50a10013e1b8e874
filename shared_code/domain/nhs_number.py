"""NHS number rules (pure functions, no I/O).

An NHS number is ten digits; the tenth is a Modulus 11 check digit (NHS Data Dictionary, "NHS Number"):
multiply the first nine digits by the weights 10, 9, ..., 2, sum, take the remainder modulo 11 and
subtract it from 11. A result of 11 means the check digit is 0; a result of 10 means the number is
invalid (no such NHS number is ever issued); otherwise the result must equal the tenth digit.

Only this rule is applied: numbers such as 0000000000 pass it and are accepted, as the Data Dictionary
algorithm does. Values are never logged by this module.
"""

from __future__ import annotations

_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def normalise_nhs_number(value: str) -> str:
    """Remove the spaces (or hyphens) people type between the 3-3-4 groups; nothing else is changed."""
    return value.replace(" ", "").replace("-", "")


def nhs_check_digit(first_nine: str) -> int | None:
    """The Modulus 11 check digit for nine digits, or None when the remainder rule gives 10 (invalid)."""
    if len(first_nine) != 9 or not (first_nine.isascii() and first_nine.isdigit()):
        raise ValueError("nine ASCII digits are required")
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, _WEIGHTS, strict=True))
    check = 11 - (total % 11)
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def is_valid_nhs_number(value: str) -> bool:
    """True when value is exactly ten ASCII digits whose last digit is the Modulus 11 check digit.

    Spaces are not accepted here: callers that take user input normalise first
    (see normalise_nhs_number) so that what is stored is the plain ten digits.
    """
    if not isinstance(value, str) or len(value) != 10 or not (value.isascii() and value.isdigit()):
        return False
    expected = nhs_check_digit(value[:9])
    return expected is not None and expected == int(value[9])


def format_nhs_number(value: str) -> str:
    """Format ten digits in the 3 3 4 grouping the NHS uses on screen and paper: "943 476 5919"."""
    digits = normalise_nhs_number(value)
    if len(digits) != 10 or not (digits.isascii() and digits.isdigit()):
        raise ValueError("an NHS number has ten digits")
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
