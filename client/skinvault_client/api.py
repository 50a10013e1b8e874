"""SkinVault HTTP API client (sync, httpx): the calls the mobile app makes, one method each.

    client = SkinVaultClient("http://127.0.0.1:7071", token)
    folder = client.create_folder("Mole on left shoulder", body_site="left-shoulder")
    session = client.start_upload(folder["id"], "image/jpeg", size_bytes)

Errors come back as ``application/problem+json`` (RFC 9457) and are raised as :class:`ApiError`
with the server's ``title`` and ``detail`` (plain English, safe to show the user). Idempotent GETs
are retried a couple of times on 429/502/503/504 and on connection failures; nothing that changes
data is retried here (the uploader decides when a retry is safe).

The bearer token is sent only to the ``base_url`` it was given with and never appears in errors,
``repr`` or logs.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Literal, NotRequired, TypedDict

import httpx

USER_AGENT = "skinvault-client/0.1 (python)"
RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
IMAGE_SIZES = ("thumbnail", "preview", "original")
ImageSize = Literal["thumbnail", "preview", "original"]


PART_BYTES = 4 * 1024 * 1024  # the most the API serves in one part of a ranged download


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()  # "leave this field alone" (None means "clear it")


# ----------------------------------------------------------------------------- shapes (fields may grow)
class Folder(TypedDict, total=False):
    id: str
    name: str
    bodySite: str | None
    condition: str | None
    treatment: str | None
    notes: str | None
    startDate: str | None
    archived: bool


class QualityFlag(TypedDict):
    code: str
    advice: str


class Image(TypedDict, total=False):
    id: str
    folderId: str
    status: Literal["pending", "ready", "rejected"]
    rejectionReason: str | None
    capturedAt: str
    uploadedAt: str
    notes: str | None
    treatment: str | None
    rating: int | None
    description: str | None
    width: int | None
    height: int | None
    quality: dict[str, Any] | None


class Encryption(TypedDict):
    protocol: str
    kid: str
    alg: str
    jwk: dict[str, Any]


class UploadSession(TypedDict):
    uploadId: str
    uploadUrl: str
    expiresAt: str
    encryption: Encryption


class Page(TypedDict):
    items: list[dict[str, Any]]
    continuationToken: NotRequired[str | None]


class Token(TypedDict):
    access_token: str
    token_type: str
    expires_in: int


# ----------------------------------------------------------------------------- errors
class ApiError(Exception):
    """The API said no (``status`` >= 400), or could not be reached (``status`` == 0)."""

    def __init__(self, status: int, title: str, detail: str = "", *, problem_type: str | None = None, correlation_id: str | None = None) -> None:
        super().__init__(f"{title}: {detail}" if detail else title)
        self.status = status
        self.title = title
        self.detail = detail
        self.problem_type = problem_type
        self.correlation_id = correlation_id

    @property
    def transient(self) -> bool:
        """Worth trying again later: unreachable, throttled or a dependency briefly down."""
        return self.status == 0 or self.status in RETRYABLE_STATUS or self.status >= 500

    @property
    def message(self) -> str:
        """One line for a person: the problem's detail (or title), without status codes or ids."""
        return self.detail or self.title


class ApiUnreachable(ApiError):
    def __init__(self, base_url: str, reason: str) -> None:
        super().__init__(0, "Cannot reach SkinVault", f"No answer from {base_url} ({reason}). Check the connection and try again.")


def _error_from(response: httpx.Response) -> ApiError:
    correlation_id = response.headers.get("X-Correlation-Id")
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type in ("application/problem+json", "application/json"):
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and ("title" in body or "detail" in body):
            return ApiError(
                int(body.get("status") or response.status_code),
                str(body.get("title") or response.reason_phrase),
                str(body.get("detail") or ""),
                problem_type=body.get("type"),
                correlation_id=correlation_id,
            )
    return ApiError(response.status_code, response.reason_phrase or f"HTTP {response.status_code}", correlation_id=correlation_id)


def normalise_base_url(base_url: str) -> str:
    """'http://host:7071', 'http://host:7071/' and 'http://host:7071/api' all mean the same API."""
    url = base_url.strip().rstrip("/")
    if url.endswith("/api"):
        url = url[: -len("/api")]
    if not url.startswith(("http://", "https://")):
        raise ValueError("the API address must start with http:// or https://")
    return url


# ----------------------------------------------------------------------------- client
class SkinVaultClient:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        session: httpx.Client | None = None,
        timeout: float = 30.0,
        get_retries: int = 2,
        retry_wait: float = 0.5,
        max_retry_wait: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = normalise_base_url(base_url)
        self.token = token
        self._own_session = session is None
        self._http = session if session is not None else httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT})
        self._get_retries = get_retries
        self._retry_wait = retry_wait
        self._max_retry_wait = max_retry_wait
        self._sleep = sleep

    def __repr__(self) -> str:  # never the token
        return f"SkinVaultClient({self.base_url!r}, signed_in={self.token is not None})"

    def close(self) -> None:
        if self._own_session:
            self._http.close()

    def __enter__(self) -> SkinVaultClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ plumbing
    def _headers(self, accept: str) -> dict[str, str]:
        headers = {"Accept": f"{accept}, application/problem+json", "X-Correlation-Id": str(uuid.uuid4())}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def _wait_before_retry(self, attempt: int, response: httpx.Response | None) -> None:
        wait = self._retry_wait * (2**attempt)
        if response is not None:
            try:
                wait = max(wait, float(response.headers.get("Retry-After", "0")))
            except ValueError:
                pass
        self._sleep(min(wait, self._max_retry_wait))

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        accept: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send one call to ``/api{path}``; raise ApiError unless the status is 2xx."""
        url = f"{self.base_url}/api{path}"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        retries = self._get_retries if method == "GET" else 0
        attempt = 0
        while True:
            try:
                response = self._http.request(method, url, json=json, params=query or None, headers={**self._headers(accept), **(headers or {})})
            except httpx.TransportError as exc:
                if attempt < retries:
                    self._wait_before_retry(attempt, None)
                    attempt += 1
                    continue
                raise ApiUnreachable(self.base_url, type(exc).__name__) from None
            if response.status_code in RETRYABLE_STATUS and attempt < retries:
                self._wait_before_retry(attempt, response)
                attempt += 1
                continue
            if response.status_code >= 400:
                raise _error_from(response)
            return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        return response.json() if response.content else None

    # ------------------------------------------------------------------ sign-in (local dev issuer)
    def dev_token(self, sub: str, name: str, *, role: str = "patient", email: str | None = None) -> Token:
        body: dict[str, Any] = {"sub": sub, "name": name, "role": role}
        if email:
            body["email"] = email
        return self._json("POST", "/dev/token", json=body)

    # ------------------------------------------------------------------ the patient's account
    def get_me(self) -> dict[str, Any]:
        return self._json("GET", "/me")

    def put_me(self, profile: dict[str, Any]) -> dict[str, Any]:
        return self._json("PUT", "/me", json=profile)

    def erase_account(self) -> None:
        self.request("DELETE", "/me")

    def export_account(self) -> bytes:
        return self.download_in_parts("/me/export", accept="application/zip")

    # ------------------------------------------------------------------ folders
    def list_folders(self, *, limit: int | None = None, continuation_token: str | None = None) -> Page:
        return self._json("GET", "/folders", params={"limit": limit, "continuationToken": continuation_token})

    def iter_folders(self, *, page_size: int = 200) -> Iterator[Folder]:
        yield from self._iterate(lambda token: self.list_folders(limit=page_size, continuation_token=token))

    def create_folder(
        self,
        name: str,
        *,
        body_site: str | None = None,
        condition: str | None = None,
        treatment: str | None = None,
        notes: str | None = None,
        start_date: str | None = None,
    ) -> Folder:
        body = {"name": name, "bodySite": body_site, "condition": condition, "treatment": treatment, "notes": notes, "startDate": start_date}
        return self._json("POST", "/folders", json={k: v for k, v in body.items() if v is not None})

    def get_folder(self, folder_id: str) -> Folder:
        return self._json("GET", f"/folders/{_segment(folder_id)}")

    def update_folder(
        self,
        folder_id: str,
        *,
        name: str = UNSET,
        body_site: str | None = UNSET,
        condition: str | None = UNSET,
        treatment: str | None = UNSET,
        notes: str | None = UNSET,
        start_date: str | None = UNSET,
        archived: bool = UNSET,
    ) -> Folder:
        body = _given(name=name, bodySite=body_site, condition=condition, treatment=treatment, notes=notes, startDate=start_date, archived=archived)
        return self._json("PATCH", f"/folders/{_segment(folder_id)}", json=body)

    def delete_folder(self, folder_id: str) -> None:
        self.request("DELETE", f"/folders/{_segment(folder_id)}")

    # ------------------------------------------------------------------ uploads and images
    def start_upload(
        self, folder_id: str, content_type: str, size_bytes: int, *, captured_at: str | None = None, notes: str | None = None
    ) -> UploadSession:
        body: dict[str, Any] = {"contentType": content_type, "sizeBytes": size_bytes}
        if captured_at:
            body["capturedAt"] = captured_at
        if notes:
            body["notes"] = notes
        return self._json("POST", f"/folders/{_segment(folder_id)}/uploads", json=body)

    def get_image(self, image_id: str) -> Image:
        return self._json("GET", f"/images/{_segment(image_id)}")

    def list_images(self, folder_id: str, *, limit: int | None = None, continuation_token: str | None = None) -> Page:
        return self._json("GET", f"/folders/{_segment(folder_id)}/images", params={"limit": limit, "continuationToken": continuation_token})

    def iter_images(self, folder_id: str, *, page_size: int = 200) -> Iterator[Image]:
        yield from self._iterate(lambda token: self.list_images(folder_id, limit=page_size, continuation_token=token))

    def update_image(
        self,
        image_id: str,
        *,
        captured_at: str = UNSET,
        notes: str | None = UNSET,
        treatment: str | None = UNSET,
        rating: int | None = UNSET,
        description: str | None = UNSET,
    ) -> Image:
        body = _given(capturedAt=captured_at, notes=notes, treatment=treatment, rating=rating, description=description)
        return self._json("PATCH", f"/images/{_segment(image_id)}", json=body)

    def delete_image(self, image_id: str) -> None:
        self.request("DELETE", f"/images/{_segment(image_id)}")

    def image_content(self, image_id: str, size: ImageSize = "preview") -> bytes:
        if size not in IMAGE_SIZES:
            raise ValueError(f"size must be one of {', '.join(IMAGE_SIZES)}")
        return self.download_in_parts(f"/images/{_segment(image_id)}/content", params={"size": size}, accept="image/jpeg")

    def download_in_parts(self, path: str, *, params: dict[str, Any] | None = None, accept: str = "*/*", part_bytes: int = PART_BYTES) -> bytes:
        """A large body (an original, an export package) asked for part by part with HTTP Range:
        the server holds one part at a time and serves at most 4 MiB a part (Content-Range says
        which bytes came). A server that ignores Range answers 200 with the whole body."""
        parts: list[bytes] = []
        first = 0
        while True:
            response = self.request("GET", path, params=params, accept=accept, headers={"Range": f"bytes={first}-{first + part_bytes - 1}"})
            if response.status_code != 206:
                return response.content
            span, _, total = response.headers.get("Content-Range", "").removeprefix("bytes ").partition("/")
            start, _, last = span.partition("-")
            if not (start.isdigit() and last.isdigit() and total.isdigit()) or int(start) != first or len(response.content) != int(last) - first + 1:
                raise ApiError(502, "Download interrupted", "The server sent a part that does not follow the last one. Try again.")
            parts.append(response.content)
            first = int(last) + 1
            if first >= int(total):
                return b"".join(parts)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _iterate(fetch: Callable[[str | None], Page]) -> Iterator[Any]:
        token: str | None = None
        while True:
            page = fetch(token)
            yield from page.get("items", [])
            token = page.get("continuationToken")
            if not token:
                return


def _given(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not UNSET}


def _segment(value: str) -> str:
    """An id as one path segment: ids never contain '/', '?', '#' or spaces; refuse ones that do."""
    if not value or any(ch in value for ch in "/?#% \\") or value in (".", ".."):
        raise ValueError("not a valid SkinVault id")
    return value
