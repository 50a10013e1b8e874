"""`make webapps` (scripts/build_webapps.py): the deployable folders of both web apps, never the dev sign-in."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.build_webapps import csp_directives, main

ROOT = Path(__file__).resolve().parents[2]
API = "https://func-skinvault-abc.azurewebsites.net"
INGEST = "https://stingestabc.blob.core.windows.net/"
TENANT = "11111111-2222-3333-4444-555555555555"
CLINICIAN_CLIENT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
PATIENT_AUTHORITY = "https://skinvaultpatients.ciamlogin.com/99999999-8888-7777-6666-555555555555/v2.0"
PATIENT_CLIENT = "bbbbbbbb-cccc-dddd-eeee-ffffffffffff"


def _outputs(tmp_path: Path) -> Path:
    """What `az deployment sub show -n skinvault-dev --query properties.outputs` prints."""
    path = tmp_path / "outputs.json"
    outputs = {
        "API_BASE_URL": {"type": "String", "value": API},
        "INGEST_STORAGE_BLOB_ENDPOINT": {"type": "String", "value": INGEST},
        "AZURE_TENANT_ID": {"type": "String", "value": TENANT},
    }
    path.write_text(json.dumps(outputs))
    return path


def _parameters(tmp_path: Path) -> Path:
    path = tmp_path / "webapps.json"
    path.write_text(json.dumps({"clinicianClientId": CLINICIAN_CLIENT, "patientAuthority": PATIENT_AUTHORITY, "patientClientId": PATIENT_CLIENT}))
    return path


def _patient_app(root: Path) -> None:
    """A stand-in patient/ folder with the files the real one has that the build touches."""
    app = root / "patient"
    (app / "js").mkdir(parents=True)
    (app / "vendor" / "oidc").mkdir(parents=True)
    (app / "vendor" / "oidc" / "oidc-client-ts.min.js").write_text("/* vendored */")
    (app / "js" / "app.js").write_text('import { x } from "./config.js";\n')
    (app / "js" / "config.js").write_text("export const x = 1;\n")
    (app / "index.html").write_text(
        '<!doctype html><script type="module" src="js/app.js"></script><script src="vendor/oidc/oidc-client-ts.min.js"></script>'
    )
    (app / "config.json").write_text(json.dumps({"apiBaseUrl": "", "auth": {"mode": "dev"}}))
    (app / "config.oidc.example.json").write_text("{}")
    (app / "demo-users.json").write_text("[]")
    (app / "tests").mkdir()
    (app / "tests" / "lock.test.mjs").write_text("")
    headers = {
        "Content-Security-Policy": "default-src 'self'; connect-src 'self' https://*.azurewebsites.net https://*.blob.core.windows.net; frame-ancestors 'none'"
    }
    routes = [
        {"route": "/demo-users.json", "headers": {"Cache-Control": "no-cache"}},
        {"route": "/config.json", "headers": {"Cache-Control": "no-cache"}},
    ]
    (app / "staticwebapp.config.json").write_text(json.dumps({"routes": routes, "globalHeaders": headers}))


def _both_apps_root(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    root.mkdir()
    shutil.copytree(ROOT / "web", root / "web", symlinks=False)
    _patient_app(root)
    return root


@pytest.fixture
def built(tmp_path: Path) -> Path:
    if not (ROOT / "web" / "vendor" / "msal" / "msal-browser.min.js").exists():
        pytest.fail("web/vendor is missing: scripts/web_assets.sh (make setup) copies it from tools/node")
    out = tmp_path / "deploy"
    args = [
        "--outputs",
        str(_outputs(tmp_path)),
        "--parameters",
        str(_parameters(tmp_path)),
        "--out",
        str(out),
        "--root",
        str(_both_apps_root(tmp_path)),
    ]
    assert main(args) == 0
    return out


def test_clinician_build_signs_in_with_entra_id_and_calls_the_function_app_origin(built: Path) -> None:
    config = json.loads((built / "web" / "config.json").read_text())
    assert config["apiBaseUrl"] == API
    # scope name = the app registration in infra/README.md: api://<client id>/access_as_user
    assert config["auth"] == {
        "mode": "msal",
        "clientId": CLINICIAN_CLIENT,
        "authority": f"https://login.microsoftonline.com/{TENANT}",
        "scopes": [f"api://{CLINICIAN_CLIENT}/access_as_user"],
        "redirectPath": "/signin",
    }
    readme = (ROOT / "infra" / "README.md").read_text()
    assert "`api://<client-id>`, scope `access_as_user`" in readme
    csp = dict(csp_directives(json.loads((built / "web" / "staticwebapp.config.json").read_text())["globalHeaders"]["Content-Security-Policy"]))
    assert csp["connect-src"] == ["'self'", API, "https://login.microsoftonline.com"]
    assert csp["script-src"] == ["'self'"]


def test_builds_never_ship_the_dev_sign_in(built: Path) -> None:
    for app in ("web", "patient"):
        folder = built / app
        assert json.loads((folder / "config.json").read_text())["auth"]["mode"] != "dev"
        assert not list(folder.rglob("demo-users.json"))
        assert not list(folder.rglob("*.example.json"))
        assert not (folder / "tests").exists()
        swa = json.loads((folder / "staticwebapp.config.json").read_text())
        assert "demo-users" not in json.dumps(swa)
        assert "/api/*" not in json.dumps(swa)  # no linked backend: nothing is served under /api here


def test_builds_include_the_vendored_assets(built: Path) -> None:
    assert (built / "web" / "vendor" / "msal" / "msal-browser.min.js").stat().st_size > 10_000
    assert (built / "web" / "vendor" / "nhsuk" / "nhsuk-frontend.min.css").exists()
    assert not (built / "web" / "vendor").is_symlink()
    assert (built / "patient" / "vendor" / "oidc" / "oidc-client-ts.min.js").exists()


def test_patient_build_signs_in_with_its_issuer_and_may_upload_to_the_ingest_account(built: Path) -> None:
    config = json.loads((built / "patient" / "config.json").read_text())
    assert config["apiBaseUrl"] == API
    assert config["auth"] == {
        "mode": "oidc",
        "authority": PATIENT_AUTHORITY,
        "clientId": PATIENT_CLIENT,
        "scope": f"openid profile email api://{PATIENT_CLIENT}/access_as_user",
    }
    csp = dict(csp_directives(json.loads((built / "patient" / "staticwebapp.config.json").read_text())["globalHeaders"]["Content-Security-Policy"]))
    # exactly: itself, the API, the ingest blob endpoint, the issuer; the local wildcards are gone
    assert csp["connect-src"] == ["'self'", API, "https://stingestabc.blob.core.windows.net", "https://skinvaultpatients.ciamlogin.com"]


def test_a_missing_app_folder_is_skipped_with_a_message(tmp_path: Path) -> None:
    root = tmp_path / "checkout"
    root.mkdir()
    shutil.copytree(ROOT / "web", root / "web", symlinks=False)
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "build_webapps.py"),
            "--root",
            str(root),
            "--out",
            str(tmp_path / "out"),
            "--outputs",
            str(_outputs(tmp_path)),
            "--parameters",
            str(_parameters(tmp_path)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "skipping patient: patient/ does not exist" in proc.stderr
    assert (tmp_path / "out" / "web" / "config.json").exists() and not (tmp_path / "out" / "patient").exists()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"--api-base-url": "http://func.example"}, "apiBaseUrl must be an https URL"),
        ({"--clinician-client-id": "REPLACE-clinician-app-registration-client-id"}, "clinicianClientId is missing"),
    ],
)
def test_a_missing_or_insecure_parameter_stops_the_build_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], override: dict[str, str], message: str
) -> None:
    args = ["--outputs", str(_outputs(tmp_path)), "--parameters", str(_parameters(tmp_path)), "--out", str(tmp_path / "out"), "--apps", "web"]
    for key, value in override.items():
        args += [key, value]
    assert main(args) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out" / "web").exists()
