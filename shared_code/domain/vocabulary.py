"""The closed vocabularies the API speaks, in one place: quality flags, triage outcomes, share purposes.

The OpenAPI document lists the same values (tests/unit/domain/test_vocabulary.py compares them) and
the web apps' label maps are keyed by them (tests/unit/web/test_label_maps.py). Members are ``str``
so they compare equal to, and are stored as, the plain strings already in the documents.
"""

from __future__ import annotations

from enum import StrEnum


class QualityFlagCode(StrEnum):
    """What the photo check found (shared_code/domain/imaging.py): advisory, never a rejection."""

    BLURRY = "blurry"
    TOO_DARK = "too-dark"
    TOO_BRIGHT = "too-bright"


class TriageOutcome(StrEnum):
    """The clinic's decision on a case; conversation.OUTCOME_TEXT says it to the patient."""

    LIST_FOR_EXCISION = "list-for-excision"
    SUN_DAMAGE_TREATMENT_FOLLOW_UP = "sun-damage-treatment-follow-up"
    ROUTINE_FOLLOW_UP = "routine-follow-up"
    URGENT_SUSPECTED_CANCER_REFERRAL = "urgent-suspected-cancer-referral"
    DISCHARGE = "discharge"
    REQUEST_MORE_PHOTOS = "request-more-photos"


class SharePurpose(StrEnum):
    """What a patient allows a clinic to use shared photos for; direct care is always included."""

    DIRECT_CARE = "direct-care"
    TEACHING = "teaching"
    RESEARCH = "research"


def values(vocabulary: type[StrEnum]) -> tuple[str, ...]:
    """The plain string values, in declaration order (for JSON schemas and documents)."""
    return tuple(member.value for member in vocabulary)
