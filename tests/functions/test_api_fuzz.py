"""Property-based: schemathesis generates requests from the OpenAPI document; no request gets a 5xx.

The app is the local host's ASGI app (the same routing and request objects `make run` serves) over
real SQLite, once per role (patient, clinician, admin: tokens from the dev issuer). Fixed seed and a
bounded number of examples per operation, so the run is repeatable and takes a minute or two.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from localhost.host import build_asgi
from shared_code import bootstrap
from shared_code.adapters.sqlite_store import SqliteMetadataStore
from shared_code.auth.dev_issuer import DevIssuer
from shared_code.bootstrap import Services, build_validator
from shared_code.services import clinics
from tests.fakes.ports import FakeBlobStore, FakeEmailSender, FakeKek, FakeQueue, FixedClock
from tests.support.functions_client import registry, settings_for

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_PER_OPERATION = 25
SEED = 20261202


@pytest.fixture(scope="module")
def fuzz_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    tmp = tmp_path_factory.mktemp("fuzz")
    cfg = settings_for(tmp, SQLITE_PATH=str(tmp / "fuzz.db"))
    issuer = DevIssuer.from_settings(cfg)
    store = SqliteMetadataStore(str(tmp / "fuzz.db"))
    store.ensure_containers()
    svc = Services(
        settings=cfg,
        store=store,
        blobs=FakeBlobStore(),
        queue=FakeQueue(),
        kek=FakeKek(),
        email=FakeEmailSender(),
        validator=build_validator(cfg, issuer),
        clock=FixedClock(datetime(2026, 11, 27, 10, 0, tzinfo=UTC)),
        dev_issuer=issuer,
    )
    now = svc.clock.now()
    clinic = clinics.create_clinic(store, {"name": "Fuzz Dermatology", "odsCode": "FUZ", "notificationEmail": "fuzz@nhs.example"}, now)
    clinics.add_member(store, clinic["id"], {"sub": "fuzz-clinician", "name": "Dr Fuzz"}, now)
    bootstrap.override(svc)
    yield svc
    bootstrap.override(None)
    store.close()


# Loaded from the document in the repo (what GET /api/openapi.json serves), sent to the local host's
# ASGI app; the app reads bootstrap.services() per request, which the fixture above overrides.
schema = schemathesis.openapi.from_path(ROOT / "shared_code" / "api" / "openapi.yaml")
schema.app = build_asgi(registry()[0], ROOT / "web")
schema.config.seed = SEED
schema.config.generation.update(modes=list(schemathesis.GenerationMode))  # valid and invalid requests
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _call_as(case: schemathesis.Case, services: Services, role: str) -> None:
    issuer = services.dev_issuer
    assert issuer is not None
    token = issuer.mint(f"fuzz-{role}", f"Fuzz {role}", role)["access_token"]
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}\n{case.as_curl_command()}"
    )


@pytest.mark.timeout(600)
@pytest.mark.parametrize("role", ["patient", "clinician", "admin"])
@schema.parametrize()
@FUZZ_SETTINGS
def test_no_generated_request_gets_a_server_error(case: schemathesis.Case, role: str, fuzz_services: Services) -> None:
    _call_as(case, fuzz_services, role)
