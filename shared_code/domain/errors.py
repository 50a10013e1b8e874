"""Domain errors. Services raise these; the API layer maps each to one problem+json status."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    type_slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class BadRequest(DomainError):
    status, type_slug, title = 400, "bad-request", "Bad request"


class Unauthenticated(DomainError):
    status, type_slug, title = 401, "unauthenticated", "Sign-in required"


class Forbidden(DomainError):
    status, type_slug, title = 403, "forbidden", "Not allowed"


class NotFoundError(DomainError):
    status, type_slug, title = 404, "not-found", "Not found"

    def __init__(self, detail: str = "There is nothing here, or it is not yours to see.") -> None:
        super().__init__(detail)


class Gone(DomainError):
    status, type_slug, title = 410, "gone", "No longer available"


class RangeNotSatisfiable(DomainError):
    status, type_slug, title = 416, "range-not-satisfiable", "Range not satisfiable"


class PayloadTooLarge(DomainError):
    status, type_slug, title = 413, "payload-too-large", "Too large"


class UnsupportedMediaType(DomainError):
    status, type_slug, title = 415, "unsupported-media-type", "Unsupported media type"


class RuleViolation(DomainError):
    status, type_slug, title = 422, "rule-violation", "Not allowed by the rules"


class RateLimited(DomainError):
    status, type_slug, title = 429, "rate-limited", "Too many attempts"

    def __init__(self, detail: str, retry_after_seconds: int = 60) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class AlreadyTaken(DomainError):
    status, type_slug, title = 409, "conflict", "Already used"
