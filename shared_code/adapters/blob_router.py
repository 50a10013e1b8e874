"""One BlobStore over two storage accounts: phones upload to an ingest account that must be
reachable from the internet (SAS only), while images and exports stay in an account that only the
app reaches through private endpoints. Locally both are the same Azurite."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from shared_code.ports import BlobInfo, BlobStore


class RoutedBlobStore:
    def __init__(self, default: BlobStore, routes: Mapping[str, BlobStore]) -> None:
        self._default = default
        self._routes = dict(routes)

    def _for(self, container: str) -> BlobStore:
        return self._routes.get(container, self._default)

    def _all(self) -> list[BlobStore]:
        stores: list[BlobStore] = [self._default]
        for store in self._routes.values():
            if all(store is not s for s in stores):
                stores.append(store)
        return stores

    def ensure_containers(self) -> None:
        for store in self._all():
            store.ensure_containers()

    def ping(self) -> None:
        for store in self._all():
            store.ping()

    def put_encrypted(self, container: str, name: str, data: bytes | Iterable[bytes], *, metadata: Mapping[str, str] | None = None) -> BlobInfo:
        return self._for(container).put_encrypted(container, name, data, metadata=metadata)

    def read_decrypted(self, container: str, name: str, *, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        return self._for(container).read_decrypted(container, name, offset=offset, length=length)

    def plaintext_size(self, container: str, name: str) -> int:
        return self._for(container).plaintext_size(container, name)

    def info(self, container: str, name: str) -> BlobInfo:
        return self._for(container).info(container, name)

    def delete(self, container: str, name: str) -> None:
        self._for(container).delete(container, name)

    def delete_prefix(self, container: str, prefix: str) -> int:
        return self._for(container).delete_prefix(container, prefix)

    def list(self, container: str, prefix: str = "") -> Iterator[BlobInfo]:
        return self._for(container).list(container, prefix)

    def list_page(
        self, container: str, prefix: str = "", *, continuation: str | None = None, limit: int = 500
    ) -> tuple[builtins.list[BlobInfo], str | None]:
        return self._for(container).list_page(container, prefix, continuation=continuation, limit=limit)

    def upload_url(self, container: str, name: str, expires_at: datetime) -> str:
        return self._for(container).upload_url(container, name, expires_at)

    def rewrap_content_key(self, container: str, name: str) -> bool:
        return self._for(container).rewrap_content_key(container, name)
