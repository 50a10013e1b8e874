"""Property-based: schemathesis generates requests from the OpenAPI document; no request gets a 5xx.

The app is the local host's ASGI app (the same routing and request objects `make run` serves) over
real SQLite, once per role (patient, clinician, admin: tokens from the dev issuer). Fixed seed and a
bounded number of examples per operation, so the run is repeatable and takes a minute or two.

So that generated bodies reach the services and the store (not just a 404 for an id nobody has),
the fuzz patient has a folder with a ready photo shared with the fuzz clinician's clinic, rebuilt
whenever a generated DELETE removed it, and the well-formed ids generated for a path (or the
consent text's clinicId) are swapped for those real ones. Malformed ids are sent as generated (and
ids of the wrong kind still reach handlers: a folder id where an image id goes, for example).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from localhost.host import build_asgi
from shared_code import bootstrap
from shared_code.adapters.sqlite_store import SqliteMetadataStore
from shared_code.auth.dev_issuer import DevIssuer
from shared_code.auth.principal import PATIENT, Principal
from shared_code.bootstrap import Services, build_validator
from shared_code.domain.common import is_valid_id, iso
from shared_code.domain.errors import RateLimited
from shared_code.domain.sharing import ACTIVE, share_state
from shared_code.ports import PATIENTS, UPLOADS, NotFound
from shared_code.services import clinics, consent, library, processing, sharing
from tests.fakes.ports import FakeBlobStore, FakeEmailSender, FakeKek, FakeQueue, FixedClock
from tests.support.functions_client import registry, settings_for
from tests.support.images import make_photo

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
    REAL_IDS.clear()
    REAL_IDS.update({"clinicId": clinic["id"], "sub": "fuzz-clinician"})
    bootstrap.override(svc)
    yield svc
    bootstrap.override(None)
    store.close()


REAL_IDS: dict[str, str] = {}


def _exists(svc: Services, patient_id: str, doc_id: str | None, doc_type: str) -> dict | None:
    if not doc_id:
        return None
    try:
        doc = svc.store.read(PATIENTS, patient_id, doc_id)
    except NotFound:
        return None
    return doc if doc.get("type") == doc_type else None


def _ensure_scene(svc: Services) -> None:
    """The fuzz patient's folder, ready photo and share, and the clinician's membership: made again
    if a generated request removed them."""
    assert svc.dev_issuer is not None
    user = Principal(kind=PATIENT, sub="fuzz-patient", issuer=svc.dev_issuer.issuer, name="Fuzz patient")
    pid = user.patient_id
    if REAL_IDS["clinicId"] not in clinics.clinic_ids_of_member(svc.store, "fuzz-clinician"):  # a generated DELETE removed them
        clinics.add_member(svc.store, REAL_IDS["clinicId"], {"sub": "fuzz-clinician", "name": "Dr Fuzz"}, svc.clock.now())
    if _exists(svc, pid, REAL_IDS.get("folderId"), "folder") is None:
        REAL_IDS["folderId"] = library.create_folder(svc, user, {"name": "Fuzz folder"})["id"]
        REAL_IDS.pop("imageId", None)
    image = _exists(svc, pid, REAL_IDS.get("imageId"), "image")
    if image is None or image.get("status") != "ready":
        try:
            upload = library.start_upload(svc, user, REAL_IDS["folderId"], {"contentType": "image/jpeg", "sizeBytes": 50_000})
        except RateLimited:  # the generated uploads used the day's quota: it is tomorrow
            svc.clock.advance(days=1)
            upload = library.start_upload(svc, user, REAL_IDS["folderId"], {"contentType": "image/jpeg", "sizeBytes": 50_000})
        svc.blobs.put_encrypted(UPLOADS, f"{pid}/{upload['uploadId']}", make_photo(320, 240, seed=1, gps=False))
        assert processing.handle_upload(svc, f"uploads/{pid}/{upload['uploadId']}") == "ready"
        REAL_IDS["imageId"] = upload["uploadId"]
    share = _exists(svc, pid, REAL_IDS.get("shareId"), "share")
    if share is None or share_state(share, svc.clock.now()) != ACTIVE:
        body = {
            "clinicId": REAL_IDS["clinicId"],
            "allFolders": True,
            "purposes": ["direct-care"],
            "expiresAt": iso(svc.clock.now() + timedelta(days=365)),
            "consent": {"textVersion": consent.current_version(), "accepted": True},
        }
        REAL_IDS["shareId"] = sharing.grant(svc, user, body)["id"]
        REAL_IDS["caseId"] = sharing.case_id_for(REAL_IDS["clinicId"], pid)


def _with_real_ids(case: schemathesis.Case) -> None:
    """Swap the well-formed generated ids for real ones; malformed ones stay as generated."""
    for params in (case.path_parameters or {}, case.query or {}):
        for name, value in list(params.items()):
            if name in REAL_IDS and isinstance(value, str) and is_valid_id(value):
                params[name] = REAL_IDS[name]


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
    _ensure_scene(services)
    _with_real_ids(case)
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
