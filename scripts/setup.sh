#!/usr/bin/env bash
# Idempotent setup on a fresh Debian machine (Python 3.11, Node 20, root): Debian packages when
# missing, the venv with pinned requirements, npm packages into tools/node, local.settings.json.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v dciodvfy >/dev/null 2>&1 || need_apt+=(dicom3tools)
command -v pdftoppm >/dev/null 2>&1 || need_apt+=(poppler-utils)
if ((${#need_apt[@]})); then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
stamp=.venv/.requirements.sha
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: creating the Python virtual environment (.venv)"
  "$PY" -m venv .venv
  # (pip warns about find-links folders some machines configure but lack: noise, filtered out)
  .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt 2> >(grep -v "^WARNING: Location" >&2)
  echo "$want" > "$stamp"
fi

nstamp=tools/node/node_modules/.lock.sha
nwant=$(sha256sum tools/node/package-lock.json | cut -d' ' -f1)
if [ ! -d tools/node/node_modules ] || [ "$(cat "$nstamp" 2>/dev/null)" != "$nwant" ]; then
  echo "setup: installing npm packages into tools/node"
  (cd tools/node && npm ci --no-audit --no-fund --loglevel=error)
  echo "$nwant" > "$nstamp"
fi

# the clinician web app's vendored assets (nhsuk-frontend, msal-browser) into web/vendor, and the
# patient app's (nhsuk-frontend, oidc-client-ts) into patient/vendor (both git-ignored)
if [ ! -f web/vendor/.stamp ] || [ "$(cat web/vendor/.stamp)" != "$nwant" ] || [ ! -d patient/vendor/oidc ]; then
  bash scripts/web_assets.sh
  echo "$nwant" > web/vendor/.stamp
fi

mkdir -p .local
if [ ! -f local.settings.json ]; then
  cp local.settings.example.json local.settings.json
else
  # settings added since the file was made get their local default; values already there are kept
  .venv/bin/python - <<'PY'
import json
example = json.load(open("local.settings.example.json"))
current = json.load(open("local.settings.json"))
missing = {k: v for k, v in example["Values"].items() if k not in current.setdefault("Values", {})}
if missing:
    current["Values"].update(missing)
    json.dump(current, open("local.settings.json", "w"), indent=2)
    print("setup: added to local.settings.json: " + ", ".join(sorted(missing)))
PY
fi
