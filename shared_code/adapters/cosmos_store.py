"""Azure Cosmos DB (NoSQL API) implementation of MetadataStore, using azure-cosmos 4.x.

- Every query is a single-partition, parameterised query whose text filters on the partition key
  (`SELECT * FROM c WHERE c["patientId"] = @pk AND ...`): @vercel/cosmosdb-server insists on it
  and Cosmos serves it from one partition. Field names come from checked identifiers only; values
  are always parameters.
- ORDER BY uses one field (multi-field ORDER BY needs a composite index per combination). Ties are
  paged correctly by Cosmos' own continuation tokens, which we wrap in our opaque envelope.
- Optimistic concurrency with `etag` + `MatchConditions.IfNotModified` (412 -> PreconditionFailed).
- The SDK client is created on first use (its constructor calls the service), so an unreachable
  account surfaces as DependencyUnavailable from ping() instead of failing start-up.
- Credential: the emulator key locally; a TokenCredential (managed identity) in Azure, where data
  plane RBAC cannot create databases or containers: ensure_containers then only checks that Bicep
  created them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError, ServiceResponseError
from azure.cosmos import ContainerProxy, CosmosClient, DatabaseProxy, PartitionKey
from azure.cosmos import exceptions as cosmos_errors

from shared_code.adapters._store_common import (
    ETAG,
    SYSTEM_FIELDS,
    Scalar,
    check_container,
    check_field,
    check_id,
    check_partition,
    decode_token,
    encode_token,
    prepare_document,
    prepare_query,
)
from shared_code.ports import (
    CONTAINERS,
    Conflict,
    ContainerSpec,
    DependencyUnavailable,
    Document,
    NotFound,
    Page,
    PreconditionFailed,
    StoreError,
)

DEPENDENCY = "cosmos"
_UNAVAILABLE_STATUS = frozenset({401, 403, 408, 429, 449, 500, 502, 503, 504})


class CosmosMetadataStore:
    def __init__(
        self,
        endpoint: str,
        database: str,
        credential: Any,
        *,
        connection_verify: bool | str = True,
        containers: tuple[ContainerSpec, ...] = CONTAINERS,
        timeout_seconds: float = 10.0,
        retries: int = 3,
    ) -> None:
        """`credential`: the emulator key (str) locally, a TokenCredential in Azure.

        `connection_verify=False` is for the local emulator's self-signed certificate only.
        `timeout_seconds`/`retries` bound how long a call waits on an unreachable account.
        """
        self._endpoint = endpoint
        self._database_name = database
        self._credential = credential
        self._verify = connection_verify
        self._containers = containers
        self._timeout = timeout_seconds
        self._retries = retries
        self._client: CosmosClient | None = None
        self._client_lock = threading.Lock()
        self._proxies: dict[str, ContainerProxy] = {}

    # ------------------------------------------------------------ plumbing
    def _get_client(self) -> CosmosClient:
        with self._client_lock:
            if self._client is None:
                self._client = CosmosClient(
                    self._endpoint,
                    credential=self._credential,
                    connection_verify=self._verify,
                    connection_timeout=self._timeout,
                    read_timeout=self._timeout,
                    retry_total=self._retries,
                    retry_connect=self._retries,
                    retry_read=self._retries,
                    retry_backoff_max=max(1, int(self._timeout)),
                    retry_fixed_interval=200,
                    enable_endpoint_discovery=False,
                )
            return self._client

    def _database(self) -> DatabaseProxy:
        return self._get_client().get_database_client(self._database_name)

    def _container(self, container: ContainerSpec) -> ContainerProxy:
        check_container(container)
        proxy = self._proxies.get(container.name)
        if proxy is None:
            proxy = self._proxies[container.name] = self._database().get_container_client(container.name)
        return proxy

    def close(self) -> None:
        with self._client_lock:
            client, self._client = self._client, None
            self._proxies = {}
        if client is not None:
            client.close()

    # ------------------------------------------------------------ schema and health
    def ensure_containers(self) -> None:
        for spec in self._containers:
            check_container(spec)
        with _mapped_errors("database", forbidden_passthrough=True):
            try:
                database = self._get_client().create_database_if_not_exists(self._database_name)
                for spec in self._containers:
                    database.create_container_if_not_exists(spec.name, PartitionKey(path="/" + spec.partition_key))
                return
            except cosmos_errors.CosmosHttpResponseError as exc:
                if exc.status_code != 403:
                    raise
        # Azure with data-plane RBAC: management operations are refused; Bicep owns the schema.
        with _mapped_errors("container"):
            for spec in self._containers:
                try:
                    properties = self._container(spec).read()
                except cosmos_errors.CosmosResourceNotFoundError:
                    raise DependencyUnavailable(DEPENDENCY, f"container {spec.name} does not exist") from None
                paths = (properties.get("partitionKey") or {}).get("paths") or []
                if paths != ["/" + spec.partition_key]:
                    raise DependencyUnavailable(DEPENDENCY, f"container {spec.name} has partition key {paths}")

    def ping(self) -> None:
        with _mapped_errors("database"):
            try:
                self._database().read()
            except cosmos_errors.CosmosResourceNotFoundError:
                raise DependencyUnavailable(DEPENDENCY, f"database {self._database_name} does not exist") from None

    # ------------------------------------------------------------ documents
    def create(self, container: ContainerSpec, doc: Document) -> Document:
        _partition, doc_id, body = prepare_document(container, doc)
        with _mapped_errors(f"{container.name}/{doc_id}"):
            proxy = self._container(container)
            return _clean(proxy.create_item(body))

    def create_under(self, container: ContainerSpec, doc: Document, *, parent_id: str) -> Document:
        """Create, then read the parent in the same partition; if it is gone, delete the child
        again and raise NotFound. With the deleters' order (the parent document first, then a query
        for its children) a child is always either seen by the deleter or removed here. (A
        transactional batch [read parent, create child] would do it in one round trip on Azure, but
        the emulator the contract suite runs against accepts only create operations in a batch.)"""
        _partition, doc_id, body = prepare_document(container, doc)
        check_id(parent_id, "parent_id")
        created = self.create(container, body)
        try:
            self.read(container, created[container.partition_key], parent_id)
        except NotFound:
            try:
                self.delete(container, created[container.partition_key], doc_id)
            except NotFound:
                pass
            raise
        return created

    def read(self, container: ContainerSpec, partition: str, id: str) -> Document:
        check_partition(partition)
        check_id(id)
        with _mapped_errors(f"{container.name}/{id}"):
            proxy = self._container(container)
            return _clean(proxy.read_item(id, partition_key=partition))

    def replace(self, container: ContainerSpec, doc: Document, *, if_match: str | None) -> Document:
        _partition, doc_id, body = prepare_document(container, doc)
        with _mapped_errors(f"{container.name}/{doc_id}"):
            proxy = self._container(container)
            if if_match is None:
                return _clean(proxy.replace_item(doc_id, body))
            return _clean(proxy.replace_item(doc_id, body, etag=if_match, match_condition=MatchConditions.IfNotModified))

    def upsert(self, container: ContainerSpec, doc: Document) -> Document:
        _partition, doc_id, body = prepare_document(container, doc)
        with _mapped_errors(f"{container.name}/{doc_id}"):
            proxy = self._container(container)
            return _clean(proxy.upsert_item(body))

    def delete(self, container: ContainerSpec, partition: str, id: str, *, if_match: str | None = None) -> None:
        check_partition(partition)
        check_id(id)
        with _mapped_errors(f"{container.name}/{id}"):
            proxy = self._container(container)
            if if_match is None:
                proxy.delete_item(id, partition_key=partition)
            else:
                proxy.delete_item(id, partition_key=partition, etag=if_match, match_condition=MatchConditions.IfNotModified)

    def delete_partition(self, container: ContainerSpec, partition: str) -> int:
        check_partition(partition)
        pk = check_field(container.partition_key)
        deleted = 0
        with _mapped_errors(f"{container.name} partition"):
            proxy = self._container(container)
            ids = [
                row["id"]
                for row in proxy.query_items(
                    f'SELECT c["id"] FROM c WHERE c["{pk}"] = @pk',  # noqa: S608 (checked identifier)
                    parameters=[{"name": "@pk", "value": partition}],
                    partition_key=partition,
                )
            ]
            for doc_id in ids:
                try:
                    proxy.delete_item(doc_id, partition_key=partition)
                    deleted += 1
                except cosmos_errors.CosmosResourceNotFoundError:
                    pass  # deleted concurrently: the goal is met
        return deleted

    # ------------------------------------------------------------ queries
    def query(
        self,
        container: ContainerSpec,
        partition: str,
        *,
        where: Mapping[str, Any] | None = None,
        order_by: str | None = None,
        descending: bool = False,
        limit: int = 50,
        continuation: str | None = None,
    ) -> Page:
        filters, order_by, fingerprint = prepare_query(container, partition, where, order_by, descending, limit)
        inner: str | None = None
        if continuation is not None:
            inner = decode_token(continuation, fingerprint).get("c")
            if not isinstance(inner, str) or not inner:
                raise ValueError("malformed continuation token")

        text, parameters = build_query(container, partition, filters, order_by, bool(descending))
        items: list[Document] = []
        with _mapped_errors(f"{container.name} query"):
            proxy = self._container(container)
            # A Cosmos page may hold fewer items than asked for; keep reading until the page is full.
            while len(items) < limit:
                pager: Any = proxy.query_items(text, parameters=parameters, partition_key=partition, max_item_count=limit - len(items)).by_page(inner)
                try:
                    page = list(next(pager))
                except StopIteration:
                    inner = None
                    break
                except cosmos_errors.CosmosHttpResponseError as exc:
                    if exc.status_code == 400 and continuation is not None:
                        raise ValueError("malformed continuation token") from None
                    raise
                items.extend(_clean(d) for d in page)
                previous, inner = inner, pager.continuation_token
                if not inner or (not page and inner == previous):
                    break
        token = encode_token(fingerprint, {"c": inner}) if inner else None
        return Page(items=items, continuation=token)


def build_query(
    container: ContainerSpec, partition: str, filters: Mapping[str, Scalar], order_by: str | None, descending: bool
) -> tuple[str, list[dict[str, Any]]]:
    """Parameterised single-partition query text. Field names are checked identifiers."""
    pk = check_field(container.partition_key)
    conditions = [f'c["{pk}"] = @pk']
    parameters: list[dict[str, Any]] = [{"name": "@pk", "value": partition}]
    for index, (name, value) in enumerate(filters.items()):
        field = f'c["{check_field(name)}"]'
        if value is None:
            conditions.append(f"(NOT IS_DEFINED({field}) OR IS_NULL({field}))")
        else:
            conditions.append(f"{field} = @w{index}")
            parameters.append({"name": f"@w{index}", "value": value})
    direction = "DESC" if descending else "ASC"
    order_field = check_field(order_by) if order_by is not None else "id"
    text = f'SELECT * FROM c WHERE {" AND ".join(conditions)} ORDER BY c["{order_field}"] {direction}'  # noqa: S608 (checked identifiers)
    return text, parameters


def _clean(doc: Mapping[str, Any]) -> Document:
    """The document as callers see it: our fields plus `_etag`, without Cosmos system fields."""
    cleaned = {k: v for k, v in doc.items() if k not in SYSTEM_FIELDS}
    cleaned[ETAG] = doc[ETAG]
    return cleaned


@contextmanager
def _mapped_errors(what: str, *, forbidden_passthrough: bool = False) -> Iterator[None]:
    """Translate SDK exceptions into the port's errors (messages carry ids only, never documents)."""
    try:
        yield
    except cosmos_errors.CosmosResourceExistsError:
        raise Conflict(f"{what} already exists") from None
    except cosmos_errors.CosmosAccessConditionFailedError:
        raise PreconditionFailed(f"{what} changed since it was read") from None
    except cosmos_errors.CosmosResourceNotFoundError:
        raise NotFound(what) from None
    except cosmos_errors.CosmosClientTimeoutError as exc:
        raise DependencyUnavailable(DEPENDENCY, f"timeout on {what}") from exc
    except cosmos_errors.CosmosHttpResponseError as exc:
        if exc.status_code == 403 and forbidden_passthrough:
            raise
        if exc.status_code == 412:
            raise PreconditionFailed(f"{what} changed since it was read") from None
        if exc.status_code in _UNAVAILABLE_STATUS:
            raise DependencyUnavailable(DEPENDENCY, f"status {exc.status_code} on {what}") from exc
        raise StoreError(f"cosmos refused {what}: status {exc.status_code}") from exc
    except ClientAuthenticationError as exc:
        raise DependencyUnavailable(DEPENDENCY, f"authentication failed on {what}") from exc
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise DependencyUnavailable(DEPENDENCY, f"cannot reach the account ({type(exc).__name__}) on {what}") from exc
