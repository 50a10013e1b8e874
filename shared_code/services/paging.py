"""One way to page: single-partition queries with an opaque, validated continuation token.

The store's own token is already opaque and bound to its query, so it is handed out as it is;
`encode_token`/`decode_token` are for lists that span several partitions (the clinic worklist)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any

from shared_code.domain.errors import BadRequest
from shared_code.ports import ContainerSpec, MetadataStore, Page

BAD_CONTINUATION = "continuationToken is not valid for this list"


def encode_token(data: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str, shape: Mapping[str, type] | None = None) -> dict[str, Any]:
    """The state inside a token from `encode_token`; 400 when it is not one.

    With `shape` (field -> int or str), every field must be one of those, of that type (ints not
    negative), so a forged token can never reach the code that uses it as something else."""
    try:
        data = json.loads(base64.urlsafe_b64decode((token + "=" * (-len(token) % 4)).encode()))
    except (ValueError, RecursionError):
        raise BadRequest(BAD_CONTINUATION) from None
    if not isinstance(data, dict):
        raise BadRequest(BAD_CONTINUATION)
    if shape is not None:
        for name, value in data.items():
            wanted = shape.get(name)
            if wanted is None or isinstance(value, bool) or not isinstance(value, wanted):
                raise BadRequest(BAD_CONTINUATION)
            if isinstance(value, int) and value < 0:
                raise BadRequest(BAD_CONTINUATION)
    return data


def fetch(
    store: MetadataStore,
    container: ContainerSpec,
    partition: str,
    *,
    where: Mapping[str, Any],
    order_by: str,
    descending: bool = True,
    limit: int = 50,
    token: str | None = None,
) -> Page:
    try:
        return store.query(container, partition, where=where, order_by=order_by, descending=descending, limit=limit, continuation=token or None)
    except (ValueError, RecursionError):
        if token:
            raise BadRequest(BAD_CONTINUATION) from None
        raise


def response(items: list[dict[str, Any]], continuation: str | None) -> dict[str, Any]:
    return {"items": items, "continuationToken": continuation}


def as_response(page: Page, view: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    return response([view(item) for item in page.items], page.continuation)


def fetch_all(
    store: MetadataStore, container: ContainerSpec, partition: str, *, where: Mapping[str, Any], order_by: str, descending: bool = False
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cont = None
    while True:
        page = store.query(container, partition, where=where, order_by=order_by, descending=descending, limit=500, continuation=cont)
        out.extend(page.items)
        if not page.continuation:
            return out
        cont = page.continuation
