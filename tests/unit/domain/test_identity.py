"""NHS number status and the keys that spot one NHS number on two different people."""

from shared_code.auth.tokens import verified_nhs_number
from shared_code.domain.identity import (
    ABSENT,
    UNVERIFIED,
    VERIFIED,
    identity_keys,
    nhs_number_status,
    same_number_other_person,
    verification_extension,
)


def test_status_says_whether_nhs_login_vouched_for_the_number():
    assert nhs_number_status({}) == ABSENT
    assert nhs_number_status({"nhsNumber": "9434765919"}) == UNVERIFIED
    assert nhs_number_status({"nhsNumber": "9434765919", "nhsNumberVerified": True}) == VERIFIED
    assert verification_extension(ABSENT) is None
    assert verification_extension(VERIFIED)["valueCodeableConcept"]["coding"][0]["code"] == "01"


def test_only_a_valid_nhs_number_claim_counts():
    assert verified_nhs_number({"nhs_number": "943 476 5919"}) == "9434765919"
    assert verified_nhs_number({"nhs_number": "9434765918"}) is None
    assert verified_nhs_number({}) is None


def test_same_number_with_another_name_or_birth_date_is_a_conflict_but_the_same_person_is_not():
    alice = identity_keys({"nhsNumber": "9434765919", "displayName": "Alice  Example", "dateOfBirth": "1970-01-01"})
    alice_again = identity_keys({"nhsNumber": "9434765919", "displayName": "alice example", "dateOfBirth": "1970-01-01"})
    bob = identity_keys({"nhsNumber": "9434765919", "displayName": "Bob", "dateOfBirth": "1970-01-01"})
    assert not same_number_other_person(alice, [alice_again])
    assert same_number_other_person(alice, [alice_again, bob])
    assert not same_number_other_person(identity_keys({"displayName": "X"}), [bob])
    assert "9434765919" not in str(alice)
