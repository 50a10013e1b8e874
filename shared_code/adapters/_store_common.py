"""Rules every MetadataStore implementation shares, so they behave the same (one contract suite).

Pure functions, no I/O: document validation, field-name checks (field names end up in SQL text,
so only plain identifiers are accepted), limits, and the opaque continuation-token envelope.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from shared_code.ports import ContainerSpec, Document

# Fields a store sets itself. `_etag` is returned to callers; the others are stripped.
ETAG = "_etag"
SYSTEM_FIELDS = frozenset({ETAG, "_rid", "_self", "_attachments", "_ts", "_lsn"})

MAX_LIMIT = 1000
_FIELD_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_CONTAINER_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Cosmos DB refuses these characters in ids; refusing them everywhere keeps the stores alike.
_BAD_ID_CHARS = frozenset("/\\?#")
_MAX_ID_LEN = 255
_TOKEN_VERSION = 1

Scalar = str | int | float | bool | None


def check_container(container: ContainerSpec) -> None:
    if not _CONTAINER_RE.match(container.name):
        raise ValueError(f"invalid container name {container.name!r}")
    check_field(container.partition_key)


def check_field(name: str) -> str:
    """A top-level field name safe to place in query text (identifier characters only)."""
    if not isinstance(name, str) or not _FIELD_RE.match(name):
        raise ValueError(f"invalid field name {name!r}")
    return name


def check_id(value: Any, what: str = "id") -> str:
    if not isinstance(value, str) or not value or len(value) > _MAX_ID_LEN or any(c in _BAD_ID_CHARS for c in value):
        raise ValueError(f"{what} must be a non-empty string of at most {_MAX_ID_LEN} characters without / \\ ? #")
    return value


def check_partition(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("partition key value must be a non-empty string")
    return value


def check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return limit


def check_where(where: Mapping[str, Any] | None) -> dict[str, Scalar]:
    """Top-level equality filters; values must be scalars (None matches a missing or null field)."""
    checked: dict[str, Scalar] = {}
    for name, value in (where or {}).items():
        check_field(name)
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ValueError(f"where value for {name!r} must be a string, number, boolean or None")
        if isinstance(value, float) and value != value:  # NaN never equals anything
            raise ValueError(f"where value for {name!r} must not be NaN")
        checked[name] = value
    return checked


def prepare_document(container: ContainerSpec, doc: Mapping[str, Any]) -> tuple[str, str, Document]:
    """Validate a document for writing; returns (partition, id, a JSON-clean copy without system fields)."""
    if not isinstance(doc, Mapping):
        raise ValueError("document must be a JSON object")
    clean = {k: v for k, v in doc.items() if k not in SYSTEM_FIELDS}
    try:
        text = json.dumps(clean, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"document is not valid JSON: {exc}") from None
    copy: Document = json.loads(text)
    doc_id = check_id(copy.get("id"))
    partition = check_partition(copy.get(container.partition_key))
    return partition, doc_id, copy


def query_fingerprint(container: ContainerSpec, partition: str, where: Mapping[str, Scalar], order_by: str | None, descending: bool) -> str:
    """Ties a continuation token to the query that produced it."""
    shape = json.dumps([container.name, partition, sorted(where.items()), order_by, descending], default=str)
    return hashlib.sha256(shape.encode()).hexdigest()[:16]


def prepare_query(
    container: ContainerSpec, partition: str, where: Mapping[str, Any] | None, order_by: str | None, descending: bool, limit: int
) -> tuple[dict[str, Scalar], str | None, str]:
    """Checks a query's arguments the same way for every store: (filters, order field or None for id, fingerprint)."""
    check_partition(partition)
    check_limit(limit)
    filters = check_where(where)
    if order_by is not None:
        check_field(order_by)
    if order_by == "id":
        order_by = None
    return filters, order_by, query_fingerprint(container, partition, filters, order_by, bool(descending))


def encode_token(fingerprint: str, position: Mapping[str, Any]) -> str:
    envelope = {"v": _TOKEN_VERSION, "f": fingerprint, "p": dict(position)}
    raw = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, fingerprint: str) -> dict[str, Any]:
    """The position inside a token; ValueError when malformed or minted for a different query."""
    if not isinstance(token, str) or not token or len(token) > 16384:
        raise ValueError("malformed continuation token")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        envelope = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValueError("malformed continuation token") from None
    if not isinstance(envelope, dict) or envelope.get("v") != _TOKEN_VERSION or not isinstance(envelope.get("p"), dict):
        raise ValueError("malformed continuation token")
    if envelope.get("f") != fingerprint:
        raise ValueError("continuation token belongs to a different query")
    position: dict[str, Any] = envelope["p"]
    return position
