"""Calls the registered functions of function_app.app with real func.HttpRequest objects.

Routing reuses the local host's route matching, so tests see the same routes Azure would.
"""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func

from localhost.host import collect_functions, resolve
from shared_code import bootstrap
from shared_code.auth.dev_issuer import DevIssuer
from shared_code.bootstrap import Services, build_validator
from shared_code.config import Settings
from tests.conftest import EXAMPLE_SETTINGS
from tests.fakes.ports import FakeBlobStore, FakeEmailSender, FakeKek, FakeQueue, FixedClock
from tests.fakes.store import FakeMetadataStore

_functions: list | None = None
_registry: tuple[list, list, list] | None = None


def all_functions() -> list:
    """function_app.app.get_functions(), called once per process (a second call raises)."""
    global _functions
    if _functions is None:
        import function_app

        _functions = function_app.app.get_functions()
    return _functions


def registry() -> tuple[list, list, list]:
    """(http routes, blob functions, queue functions) as the local host sees them."""
    global _registry
    if _registry is None:
        _registry = collect_functions(all_functions())
    return _registry


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


def settings_for(tmp_path: Path, **overrides: str) -> Settings:
    env = dict(EXAMPLE_SETTINGS)
    env["DEV_ISSUER_KEY_PATH"] = str(tmp_path / "dev-issuer.pem")
    env.update(overrides)
    return Settings.from_env(env)


def fake_services(tmp_path: Path, **overrides: str) -> Services:
    settings = settings_for(tmp_path, **overrides)
    issuer = DevIssuer.from_settings(settings)
    return Services(
        settings=settings,
        store=FakeMetadataStore(),
        blobs=FakeBlobStore(),
        queue=FakeQueue(),
        kek=FakeKek(),
        email=FakeEmailSender(),
        validator=build_validator(settings, issuer),
        clock=FixedClock(datetime(2026, 11, 27, 10, 0, tzinfo=UTC)),
        dev_issuer=issuer,
    )


@dataclass
class FunctionsClient:
    services: Services
    default_headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        bootstrap.override(self.services)

    def token(self, sub: str, role: str = "patient", name: str = "Test User", email: str | None = None) -> str:
        assert self.services.dev_issuer is not None
        return self.services.dev_issuer.mint(sub, name, role, email)["access_token"]

    def request(
        self, method: str, url: str, *, json: Any = None, body: bytes | None = None, token: str | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        parts = urlsplit(url)
        path = parts.path.removeprefix("/api")
        hdrs = {**self.default_headers, **(headers or {})}
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        if json is not None:
            body = jsonlib.dumps(json).encode()
            hdrs.setdefault("Content-Type", "application/json")
        route, params, _ = resolve(registry()[0], method, path)
        if route is not None:
            req = func.HttpRequest(
                method=method,
                url="http://localhost" + url,
                headers=hdrs,
                params=dict(parse_qsl(parts.query)),
                route_params=params,
                body=body or b"",
            )
            resp = route.handler(req)
            headers_out = dict(resp.headers)
            headers_out.setdefault("Content-Type", resp.mimetype or "")
            if resp.mimetype:
                headers_out["Content-Type"] = resp.mimetype
            return Reply(resp.status_code, headers_out, resp.get_body())
        return Reply(404, {"Content-Type": "application/problem+json"}, b'{"status":404}')

    def get(self, url: str, **kw: Any) -> Reply:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> Reply:
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw: Any) -> Reply:
        return self.request("PUT", url, **kw)

    def patch(self, url: str, **kw: Any) -> Reply:
        return self.request("PATCH", url, **kw)

    def delete(self, url: str, **kw: Any) -> Reply:
        return self.request("DELETE", url, **kw)
