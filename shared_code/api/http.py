"""HTTP conventions shared by every function: auth, body parsing, problem+json, correlation ids.

A function module declares a route and writes a handler taking an `ApiCall`; `endpoint(...)` turns
it into the `(req: func.HttpRequest) -> func.HttpResponse` the Functions runtime calls.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import azure.functions as func
import jsonschema

from shared_code import bootstrap, telemetry
from shared_code.auth.principal import ADMIN, CLINICIAN, PATIENT, Principal
from shared_code.domain.common import is_valid_id
from shared_code.domain.errors import (
    BadRequest,
    DomainError,
    NotFoundError,
    PayloadTooLarge,
    RuleViolation,
    UnsupportedMediaType,
)
from shared_code.ports import Conflict, DependencyUnavailable, NotFound, PreconditionFailed

log = logging.getLogger("skinvault.api")

PROBLEM_BASE = "https://skinvault.nhs.example/problems/"
CORRELATION_HEADER = "X-Correlation-Id"
_CORRELATION_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
JSON_TYPES = ("application/json", "application/merge-patch+json")

ANY_USER = (PATIENT, CLINICIAN, ADMIN)
STAFF = (CLINICIAN, ADMIN)

BASE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}

# The one id rule (shared_code.domain.common.ID_PATTERN), applied at the edge: a path id that
# breaks it is 404 (there is nothing at that address); a body or query id that breaks it is 422.
# Body and query fields that carry ids: `clinicId`, `folderIds`, ... (named so by convention).
_ID_FIELD_RE = re.compile(r"(^id$|Ids?$)")
MAX_JSON_DEPTH = 32


def _is_unicode(value: str) -> bool:
    """False for text that is not valid Unicode (a lone UTF-16 surrogate such as "\\ud800")."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def problem(
    status: int, type_slug: str, title: str, detail: str, *, correlation_id: str = "", extra: Mapping[str, Any] | None = None
) -> func.HttpResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + type_slug, "title": title, "status": status, "detail": detail}
    if correlation_id:
        body["correlationId"] = correlation_id
    if extra:
        body.update(extra)
    headers = dict(BASE_HEADERS)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="skinvault"'
    if correlation_id:
        headers[CORRELATION_HEADER] = correlation_id
    return func.HttpResponse(json.dumps(body), status_code=status, headers=headers, mimetype="application/problem+json", charset="utf-8")


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(data, separators=(",", ":"), default=str),
        status_code=status,
        headers={**BASE_HEADERS, **(headers or {})},
        mimetype="application/json",
        charset="utf-8",
    )


def no_content() -> func.HttpResponse:
    return func.HttpResponse(status_code=204, headers=dict(BASE_HEADERS))


def binary_response(data: bytes, content_type: str, *, filename: str | None = None) -> func.HttpResponse:
    headers = dict(BASE_HEADERS)
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return func.HttpResponse(data, status_code=200, headers=headers, mimetype=content_type)


def part_response(data: bytes, content_type: str, content_range: str | None, *, filename: str | None = None) -> func.HttpResponse:
    """A large body served in parts (domain/ranges.py): 206 with Content-Range for a part, else the
    whole body; either way `Accept-Ranges: bytes` tells the client it may ask for parts."""
    # a web app on another origin reads Content-Range (and the file name) only when they are exposed
    headers = {**BASE_HEADERS, "Accept-Ranges": "bytes", "Access-Control-Expose-Headers": "Content-Range, Content-Disposition"}
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if content_range is not None:
        headers["Content-Range"] = content_range
    return func.HttpResponse(data, status_code=200 if content_range is None else 206, headers=headers, mimetype=content_type)


def parse_if_match(value: str | None) -> tuple[str, ...] | None:
    """If-Match (RFC 9110): None when absent; ("*",) for any version; else the strong entity tags
    given, without quotes. The legacy unquoted form (an `etag` field sent back as it is) is
    accepted; weak tags (W/"...") never match, as strong comparison requires."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value == "*":
        return ("*",)
    tags: list[str] = []
    for part in value.split(","):
        part = part.strip()
        if not part or part.startswith("W/"):
            continue
        tags.append(part[1:-1] if len(part) >= 2 and part[0] == part[-1] == '"' else part)
    return tuple(tags)


def etag_header(etag: str | None) -> dict[str, str]:
    """The ETag response header for a stored version: a strong entity tag, quoted."""
    if not etag:
        return {}
    return {"ETag": etag if len(etag) >= 2 and etag[0] == etag[-1] == '"' else f'"{etag}"'}


def correlation_id_of(req: func.HttpRequest) -> str:
    given = req.headers.get(CORRELATION_HEADER, "")
    return given if _CORRELATION_RE.match(given) else str(uuid.uuid4())


@dataclass
class ApiCall:
    req: func.HttpRequest
    principal: Principal | None
    services: Any
    correlation_id: str
    body: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)

    def param(self, name: str) -> str:
        """A path id: one that breaks the id rule names nothing, so 404."""
        value: str = self.req.route_params.get(name, "")
        if not is_valid_id(value):
            raise NotFoundError()
        return value

    def query(self, name: str, default: str | None = None) -> str | None:
        value: str | None = self.req.params.get(name)
        if value is None or value == "":
            return default
        if not _is_unicode(value) or any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in value):
            raise RuleViolation(f"{name} is not valid text.")
        if _ID_FIELD_RE.search(name) and not is_valid_id(value):
            raise RuleViolation(f"{name} is not a valid id.")
        return value

    def paging(self) -> tuple[int, str | None]:
        raw = self.query("limit", "50")
        try:
            limit = int(raw or "50")
        except ValueError:
            raise BadRequest("limit must be a whole number from 1 to 200") from None
        if not 1 <= limit <= 200:
            raise BadRequest("limit must be a whole number from 1 to 200")
        token = self.query("continuationToken")
        if token is not None and (len(token) > 4096 or not token.isascii()):
            raise BadRequest("continuationToken is not valid for this list")
        return limit, token

    def client_address(self) -> str | None:
        """The caller's IP address as the platform's front end saw it: the last X-Forwarded-For
        entry (App Service appends the address it received the connection from; earlier entries
        are the client's own say-so). None when there is none (the local host)."""
        forwarded = self.req.headers.get("X-Forwarded-For") or ""
        last = forwarded.split(",")[-1].strip()
        if not last or len(last) > 64 or not all(ch.isalnum() or ch in ".:[]-_" for ch in last) or not last.isascii():
            return None
        return last

    @property
    def user(self) -> Principal:
        assert self.principal is not None
        return self.principal


Handler = Callable[[ApiCall], Any]


def _parse_body(req: func.HttpRequest, validator: jsonschema.protocols.Validator, max_bytes: int) -> Any:
    raw = req.get_body() or b""
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"The request body is larger than {max_bytes} bytes.")
    content_type = (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise UnsupportedMediaType("Send the request body as application/json.")
    try:
        data = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest("The request body is not valid JSON.") from None
    except RecursionError:  # nested deeper than the parser goes
        raise BadRequest(f"The request body is nested more than {MAX_JSON_DEPTH} levels deep.") from None
    if data is None:
        raise BadRequest("The request needs a JSON body.")
    _check_depth(data)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
    if errors:
        details = [{"pointer": "/" + "/".join(str(p) for p in e.path), "detail": _schema_message(e)} for e in errors[:10]]
        raise BadRequest("The request body does not match the expected fields.", errors=details)
    _check_text_and_ids(data)
    return data


def _check_depth(data: Any) -> None:
    """400 for JSON nested deeper than any of our bodies needs (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise BadRequest(f"The request body is nested more than {MAX_JSON_DEPTH} levels deep.")
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)


def _check_text_and_ids(data: Any) -> None:
    """422 for text that is not valid Unicode anywhere in the body, and for ids that break the id rule."""
    stack: list[tuple[str, Any, bool]] = [("", data, False)]
    while stack:
        pointer, value, is_id = stack.pop()
        if isinstance(value, str):
            if not _is_unicode(value):
                raise RuleViolation(
                    "The request body holds text that is not valid Unicode.", errors=[{"pointer": pointer or "/", "detail": "not valid Unicode"}]
                )
            if is_id and not is_valid_id(value):
                raise RuleViolation("The request body holds an id that is not valid.", errors=[{"pointer": pointer, "detail": "not a valid id"}])
        elif isinstance(value, dict):
            for key, child in value.items():
                if not _is_unicode(key):
                    raise RuleViolation("The request body holds text that is not valid Unicode.")
                stack.append((f"{pointer}/{key}", child, bool(_ID_FIELD_RE.search(key))))
        elif isinstance(value, list):
            stack.extend((f"{pointer}/{i}", child, is_id) for i, child in enumerate(value))


def _schema_message(error: jsonschema.ValidationError) -> str:
    # Never echo the offending value back (it may be patient data): describe the rule only.
    if error.validator == "additionalProperties":
        return "unknown field"
    if error.validator == "required":
        return "a required field is missing: " + ", ".join(error.validator_value) if isinstance(error.validator_value, list) else "required"
    if error.validator == "type":
        return f"must be of type {error.validator_value}"
    if error.validator in ("maxLength", "minLength", "maximum", "minimum", "maxItems", "minItems"):
        return f"{error.validator} is {error.validator_value}"
    if error.validator == "enum":
        return "must be one of: " + ", ".join(map(str, cast(Iterable[Any], error.validator_value)))
    if error.validator == "format":
        return f"must be a valid {error.validator_value}"
    return f"breaks the {error.validator} rule"


def _map_exception(exc: Exception, correlation_id: str) -> func.HttpResponse:
    if isinstance(exc, DomainError):
        extra: dict[str, Any] = {"errors": exc.errors} if exc.errors else {}
        resp = problem(exc.status, exc.type_slug, exc.title, exc.detail, correlation_id=correlation_id, extra=extra)
        retry = getattr(exc, "retry_after_seconds", None)
        if retry:
            resp.headers["Retry-After"] = str(retry)
        return resp
    if isinstance(exc, NotFound):
        e = NotFoundError()
        return problem(404, e.type_slug, e.title, e.detail, correlation_id=correlation_id)
    if isinstance(exc, PreconditionFailed):
        return problem(412, "precondition-failed", "Changed by someone else", "Reload and try again.", correlation_id=correlation_id)
    if isinstance(exc, Conflict):
        return problem(409, "conflict", "Conflict", "It already exists.", correlation_id=correlation_id)
    if isinstance(exc, DependencyUnavailable):
        log.warning("dependency unavailable dependency=%s correlation_id=%s", exc.dependency, correlation_id)
        resp = problem(
            503,
            "dependency-unavailable",
            "Service temporarily unavailable",
            "Part of SkinVault is not answering. Nothing was lost; try again in a minute.",
            correlation_id=correlation_id,
        )
        resp.headers["Retry-After"] = "30"
        return resp
    # Unexpected: log the type and where, never the message (it may hold data).
    frames = "".join(traceback.format_tb(exc.__traceback__)[-3:])
    log.error("unhandled error type=%s correlation_id=%s at:\n%s", type(exc).__name__, correlation_id, frames)
    return problem(500, "internal-error", "Something went wrong", "Try again later.", correlation_id=correlation_id)


def endpoint(
    *,
    roles: tuple[str, ...] | None = (PATIENT,),
    body: Mapping[str, Any] | None = None,
    wrong_role: type[DomainError] = NotFoundError,
) -> Callable[[Handler], Callable[[func.HttpRequest], func.HttpResponse]]:
    """Wrap a handler: authenticate (roles=None means public), parse and validate the body, map errors."""

    validator = jsonschema.Draft202012Validator(body) if body is not None else None  # built once, not per request

    def decorate(fn: Handler) -> Callable[[func.HttpRequest], func.HttpResponse]:
        def handler(req: func.HttpRequest) -> func.HttpResponse:
            # one trace per request, continuing the caller's W3C traceparent (spans carry ids only)
            with telemetry.http_span(fn.__name__, req.method, req.headers) as span:
                resp = respond(req)
                telemetry.http_outcome(span, resp.status_code, resp.headers.get(CORRELATION_HEADER, ""))
                return resp

        def respond(req: func.HttpRequest) -> func.HttpResponse:
            correlation_id = correlation_id_of(req)
            try:
                svc = bootstrap.services()
                principal = None
                if roles is not None:
                    principal = svc.authenticate(req.headers.get("Authorization"))
                    if principal.kind not in roles:
                        # Patient data: staff learn nothing (404). Admin/clinic tools: 403.
                        raise wrong_role("This is not available to your account.") if wrong_role is not NotFoundError else NotFoundError()
                call = ApiCall(req=req, principal=principal, services=svc, correlation_id=correlation_id)
                if body is not None and validator is not None:
                    call.body = _parse_body(req, validator, svc.settings.max_request_body_bytes)
                result = fn(call)
                resp = result if isinstance(result, func.HttpResponse) else json_response(result)
                for k, v in call.response_headers.items():
                    resp.headers[k] = v
            except Exception as exc:  # noqa: BLE001 - every failure becomes a problem response
                resp = _map_exception(exc, correlation_id)
            resp.headers[CORRELATION_HEADER] = correlation_id
            return resp

        handler.__wrapped__ = respond  # type: ignore[attr-defined]  # inspect.unwrap: the endpoint's settings live in respond's closure
        handler.__annotations__ = respond.__annotations__ = {"req": func.HttpRequest, "return": func.HttpResponse}
        handler.__name__ = fn.__name__
        handler.__qualname__ = fn.__qualname__
        handler.__doc__ = fn.__doc__
        handler.__module__ = fn.__module__
        return handler

    return decorate
