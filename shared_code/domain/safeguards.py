"""Safeguards for the most private photos: intimate body sites and patients under 18. Pure.

- Intimate sites (genitals, perianal, breast and nipple) show blurred to clinicians until one
  chooses "Show photo" (audited on its own), and are never shared for teaching or research.
- A patient under 18 (from their date of birth, UK date) shares for direct care only and cannot
  share photos of intimate sites at all: they are asked to contact the clinic instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from shared_code.domain.errors import RuleViolation

# keys of shared_code.domain.body_sites.BODY_SITES (a nipple is photographed under "breast")
INTIMATE_SITES = frozenset({"genitals", "perianal", "breast"})
ADULT_AGE = 18
MINOR_INTIMATE_MESSAGE = (
    "Photos of intimate areas cannot be shared by someone under 18. Please contact your clinic instead: they will arrange to see you."
)
MINOR_PURPOSE_MESSAGE = "Someone under 18 can share photos for their own care only (not for teaching or research)."
INTIMATE_PURPOSE_MESSAGE = "Photos of intimate areas can be shared for your own care only (not for teaching or research)."


def is_intimate(body_site: str | None) -> bool:
    return body_site in INTIMATE_SITES


def age_on(date_of_birth: date, today: date) -> int:
    return today.year - date_of_birth.year - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))


def is_under_18(date_of_birth: str | None, today: date) -> bool:
    """False when the date of birth is not known (the clinic sees it is not recorded)."""
    if not date_of_birth:
        return False
    return age_on(date.fromisoformat(date_of_birth), today) < ADULT_AGE


def check_share(body_sites: Iterable[str | None], purposes: Iterable[str], date_of_birth: str | None, today: date) -> None:
    """Raise RuleViolation (with words for the patient) when a share would break a safeguard."""
    purposes = set(purposes)
    intimate = any(is_intimate(site) for site in body_sites)
    minor = is_under_18(date_of_birth, today)
    if minor and intimate:
        raise RuleViolation(MINOR_INTIMATE_MESSAGE)
    if minor and purposes - {"direct-care"}:
        raise RuleViolation(MINOR_PURPOSE_MESSAGE)
    if intimate and purposes - {"direct-care"}:
        raise RuleViolation(INTIMATE_PURPOSE_MESSAGE)
