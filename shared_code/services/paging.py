"""One way to page: single-partition queries with an opaque, validated continuation token."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shared_code.api.http import decode_token, encode_token
from shared_code.domain.errors import BadRequest
from shared_code.ports import ContainerSpec, MetadataStore, Page


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
    inner = decode_token(token).get("c") if token else None
    try:
        return store.query(container, partition, where=where, order_by=order_by, descending=descending, limit=limit, continuation=inner)
    except ValueError:
        if inner is not None:
            raise BadRequest("continuationToken does not belong to this list") from None
        raise


def response(items: list[dict], continuation: str | None) -> dict:
    return {"items": items, "continuationToken": encode_token({"c": continuation}) if continuation else None}


def as_response(page: Page, view: Callable[[dict], dict]) -> dict:
    return response([view(item) for item in page.items], page.continuation)


def fetch_all(
    store: MetadataStore, container: ContainerSpec, partition: str, *, where: Mapping[str, Any], order_by: str, descending: bool = False
) -> list[dict]:
    out: list[dict] = []
    cont = None
    while True:
        page = store.query(container, partition, where=where, order_by=order_by, descending=descending, limit=500, continuation=cont)
        out.extend(page.items)
        if not page.continuation:
            return out
        cont = page.continuation
