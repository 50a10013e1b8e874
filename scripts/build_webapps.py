"""Build the deployable folders of both web apps (`make webapps`).

    python3 scripts/build_webapps.py --outputs outputs.json --parameters webapps.json [--out .local/deploy]

For each app folder (web/ = clinicians, patient/ = patients; a missing folder is skipped with a
message) this writes <out>/<app>/ ready for `swa deploy`:

- the app's files with its vendored assets (vendor/ copied, symlinks resolved), without the dev
  sign-in: no demo-users.json, no example configs, no tests;
- config.json built from parameters: apiBaseUrl (the Function App's origin: the web apps call it
  directly, there is no Static Web App linked backend) and the sign-in settings (MSAL for
  clinicians, OIDC for patients) with the scope names of the app registrations in
  infra/README.md. Its auth mode is never "dev";
- staticwebapp.config.json whose CSP connect-src names exactly this app's own origin, the API
  origin and its identity provider (and, for patients, the ingest storage blob endpoint that
  photos are uploaded to).

Parameters (JSON file and/or command line; the command line wins):
  apiBaseUrl          https origin of the Function App          (outputs: API_BASE_URL / FUNCTION_APP_URL)
  uploadOrigin        ingest blob endpoint, patients only       (outputs: INGEST_STORAGE_BLOB_ENDPOINT)
  clinicianTenantId   Entra ID tenant of the clinician app      (outputs: AZURE_TENANT_ID)
  clinicianClientId   client id of "SkinVault Clinician"
  clinicianApiScope   default api://<clinicianClientId>/access_as_user
  patientAuthority    OIDC issuer of patients (Entra External ID or NHS login)
  patientClientId     client id of "SkinVault Patient"
  patientScope        default "openid profile email api://<patientClientId>/access_as_user"
Exit status 2 names a missing or malformed parameter; 1 means a built folder failed a check.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
ENTRA_ORIGIN = "https://login.microsoftonline.com"
# Files that only the local stack uses: never deployed.
LOCAL_ONLY_FILES = {"demo-users.json", "README.md", "package.json", "package-lock.json"}
LOCAL_ONLY_DIRS = {"tests", "node_modules", "__pycache__"}
PARAMETER_NAMES = (
    "apiBaseUrl",
    "uploadOrigin",
    "clinicianTenantId",
    "clinicianClientId",
    "clinicianApiScope",
    "patientAuthority",
    "patientClientId",
    "patientScope",
)
OUTPUT_PARAMETERS = {
    "API_BASE_URL": "apiBaseUrl",
    "FUNCTION_APP_URL": "apiBaseUrl",
    "INGEST_STORAGE_BLOB_ENDPOINT": "uploadOrigin",
    "AZURE_TENANT_ID": "clinicianTenantId",
}


class ParameterError(Exception):
    """A parameter is missing or malformed (exit status 2)."""


class BuildError(Exception):
    """A built folder failed a check (exit status 1)."""


# ----------------------------------------------------------------------------- CSP
def csp_directives(csp: str) -> list[tuple[str, list[str]]]:
    return [(words[0], words[1:]) for part in csp.split(";") if (words := part.split())]


def with_connect_src(csp: str, origins: list[str], *, keep_existing: bool = True) -> str:
    """The CSP with `origins` in connect-src ('self' always first); keep_existing=False replaces the
    directive's sources (the deploy build drops the local wildcards for the exact origins)."""
    directives = csp_directives(csp)
    out: list[str] = []
    found = False
    for name, sources in directives:
        if name == "connect-src":
            found = True
            wanted = (sources if keep_existing else []) + ["'self'", *origins]
            sources = list(dict.fromkeys(["'self'", *wanted]))
        out.append(" ".join([name, *sources]))
    if not found:
        out.append(" ".join(["connect-src", "'self'", *dict.fromkeys(origins)]))
    return "; ".join(out)


def origin_of(url: str, name: str, *, https: bool = True) -> str:
    parsed = urlparse(url.strip())
    if parsed.scheme not in (("https",) if https else ("https", "http")) or not parsed.hostname:
        raise ParameterError(f"{name} must be an https URL, got {url!r}")
    return f"{parsed.scheme}://{parsed.netloc}"


# ----------------------------------------------------------------------------- apps
@dataclass(frozen=True)
class WebApp:
    name: str
    folder: str
    auth: Callable[[dict[str, str]], dict[str, Any]]
    connect_origins: Callable[[dict[str, str]], list[str]]


def _need(params: dict[str, str], name: str, app: str) -> str:
    value = (params.get(name) or "").strip()
    if not value or value.startswith("REPLACE"):
        raise ParameterError(f"{app}: parameter {name} is missing")
    return value


def clinician_auth(params: dict[str, str]) -> dict[str, Any]:
    tenant = _need(params, "clinicianTenantId", "web")
    client_id = _need(params, "clinicianClientId", "web")
    scope = (params.get("clinicianApiScope") or "").strip() or f"api://{client_id}/access_as_user"
    return {"mode": "msal", "clientId": client_id, "authority": f"{ENTRA_ORIGIN}/{tenant}", "scopes": [scope], "redirectPath": "/signin"}


def patient_auth(params: dict[str, str]) -> dict[str, Any]:
    authority = _need(params, "patientAuthority", "patient")
    origin_of(authority, "patientAuthority")
    client_id = _need(params, "patientClientId", "patient")
    scope = (params.get("patientScope") or "").strip() or f"openid profile email api://{client_id}/access_as_user"
    return {"mode": "oidc", "authority": authority.rstrip("/"), "clientId": client_id, "scope": scope}


def clinician_origins(params: dict[str, str]) -> list[str]:
    return [ENTRA_ORIGIN]


def patient_origins(params: dict[str, str]) -> list[str]:
    return [origin_of(_need(params, "uploadOrigin", "patient"), "uploadOrigin"), origin_of(params["patientAuthority"], "patientAuthority")]


APPS = {
    "web": WebApp("web", "web", clinician_auth, clinician_origins),
    "patient": WebApp("patient", "patient", patient_auth, patient_origins),
}


# ----------------------------------------------------------------------------- build
def _ignore(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n in LOCAL_ONLY_FILES or n in LOCAL_ONLY_DIRS or n.endswith(".example.json") or n.startswith(".")}


def build_app(app: WebApp, source: Path, out: Path, params: dict[str, str]) -> Path:
    api_origin = origin_of(_need(params, "apiBaseUrl", app.name), "apiBaseUrl")
    auth = app.auth(params)
    connect = [api_origin, *app.connect_origins(params)]
    vendor = source / "vendor"
    if not vendor.is_dir() or not any(vendor.rglob("*.*")):
        raise BuildError(
            f"{app.name}: {vendor.relative_to(ROOT) if vendor.is_relative_to(ROOT) else vendor} is empty; run the app's vendor script first (scripts/web_assets.sh for web/)"
        )

    target = out / app.name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, symlinks=False, ignore=_ignore)

    config_path = target / "config.json"
    local = json.loads((source / "config.json").read_text()) if (source / "config.json").exists() else {}
    config = {**local, "apiBaseUrl": api_origin, "auth": auth}
    config_path.write_text(json.dumps(config, indent=2) + "\n")

    swa_path = target / "staticwebapp.config.json"
    swa = json.loads(swa_path.read_text())
    swa["routes"] = [r for r in swa.get("routes", []) if r.get("route") not in ("/demo-users.json", "/api/*")]
    fallback = swa.get("navigationFallback") or {}
    if "exclude" in fallback:
        fallback["exclude"] = [e for e in fallback["exclude"] if e != "/api/*"]
    headers = swa.setdefault("globalHeaders", {})
    headers["Content-Security-Policy"] = with_connect_src(headers.get("Content-Security-Policy", "default-src 'self'"), connect, keep_existing=False)
    swa_path.write_text(json.dumps(swa, indent=2) + "\n")

    check_built_app(target)
    return target


LOCAL_REFERENCE = re.compile(r"""(?:src|href)=["']([^"'#?]+)["']""")
JS_IMPORT = re.compile(r"""(?:\bimport\s*\(\s*|\bfrom\s+|\bimport\s+)["']([^"']+)["']""")


def check_built_app(target: Path) -> None:
    """The dev sign-in is gone and every file the app refers to is in the folder."""
    problems: list[str] = []
    config = json.loads((target / "config.json").read_text())
    if config.get("auth", {}).get("mode") in (None, "dev"):
        problems.append("config.json auth mode is dev")
    for leftover in ("demo-users.json",):
        if any(target.rglob(leftover)):
            problems.append(f"{leftover} is in the build")
    if any(target.rglob("*.example.json")):
        problems.append("an example config is in the build")
    swa = json.loads((target / "staticwebapp.config.json").read_text())
    if "/demo-users.json" in json.dumps(swa.get("routes", [])):
        problems.append("staticwebapp.config.json still routes /demo-users.json")

    for html in target.rglob("*.html"):
        for ref in LOCAL_REFERENCE.findall(html.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:|^//", ref):
                continue
            if "." not in ref.rstrip("/").rsplit("/", 1)[-1]:
                continue  # a client-side route (/research): the navigation fallback serves index.html
            path = target / ref.lstrip("/") if ref.startswith("/") else html.parent / ref
            if not path.exists():
                problems.append(f"{html.relative_to(target)} refers to missing {ref}")
    for script in target.rglob("*.js"):
        if "vendor" in script.relative_to(target).parts:
            continue
        for ref in JS_IMPORT.findall(script.read_text(encoding="utf-8")):
            if not ref.startswith((".", "/")):
                continue
            path = target / ref.lstrip("/") if ref.startswith("/") else (script.parent / ref)
            if not path.resolve().exists():
                problems.append(f"{script.relative_to(target)} imports missing {ref}")
    if problems:
        raise BuildError(f"{target.name}: " + "; ".join(problems))


# ----------------------------------------------------------------------------- CLI
def load_parameters(args: argparse.Namespace) -> dict[str, str]:
    params: dict[str, str] = {}
    if args.outputs:
        outputs = json.loads(Path(args.outputs).read_text())
        outputs = outputs.get("properties", {}).get("outputs", outputs)
        for key, name in OUTPUT_PARAMETERS.items():
            entry = outputs.get(key) or outputs.get(key.lower())
            value = entry.get("value") if isinstance(entry, dict) else entry
            if value and not params.get(name):
                params[name] = str(value)
    if args.parameters:
        params.update({k: str(v) for k, v in json.loads(Path(args.parameters).read_text()).items() if k in PARAMETER_NAMES and v})
    for name in PARAMETER_NAMES:
        value = getattr(args, name)
        if value:
            params[name] = value
    return params


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outputs", help="az deployment sub show ... --query properties.outputs (JSON file)")
    parser.add_argument("--parameters", help="JSON file with the parameters listed above")
    parser.add_argument("--out", default=str(ROOT / ".local" / "deploy"), help="output folder (default .local/deploy)")
    parser.add_argument("--apps", default="web,patient", help="comma-separated: web,patient")
    parser.add_argument("--root", default=str(ROOT), help=argparse.SUPPRESS)
    for name in PARAMETER_NAMES:
        parser.add_argument("--" + re.sub(r"([A-Z])", lambda m: "-" + m.group(1).lower(), name), dest=name)
    args = parser.parse_args(argv)
    root = Path(args.root)
    out = Path(args.out)
    try:
        params = load_parameters(args)
        built = 0
        for name in [a.strip() for a in args.apps.split(",") if a.strip()]:
            if name not in APPS:
                raise ParameterError(f"unknown app {name!r} (known: {', '.join(APPS)})")
            app = APPS[name]
            source = root / app.folder
            if not source.is_dir():
                print(f"build_webapps: skipping {name}: {app.folder}/ does not exist in this checkout", file=sys.stderr)
                continue
            target = build_app(app, source, out, params)
            print(
                f"build_webapps: {name} -> {target} (apiBaseUrl {params['apiBaseUrl']}, sign-in {json.loads((target / 'config.json').read_text())['auth']['mode']})"
            )
            built += 1
        if not built:
            raise BuildError("no web app was built")
    except ParameterError as exc:
        print(f"build_webapps: {exc}", file=sys.stderr)
        return 2
    except BuildError as exc:
        print(f"build_webapps: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
