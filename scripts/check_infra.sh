#!/usr/bin/env bash
# Static checks of infra/bicep, offline:
#   1. every .bicep file parses (pycep, the parser checkov itself uses);
#   2. checkov's Bicep checks: zero failed checks (skips carry their reason next to the resource).
# checkov lives in its own virtual environment (.venv-checkov): its pins (packaging<24) clash
# with the test tools. The venv is created once; later runs reuse it and need no network.
# Usage: scripts/check_infra.sh [--install-only]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CHECKOV_VENV:-$ROOT/.venv-checkov}"
CHECKOV_VERSION="3.3.30"
MARKER="$VENV/.checkov-$CHECKOV_VERSION-installed"
BICEP_DIR="$ROOT/infra/bicep"

install_checkov() {
  if [ -f "$MARKER" ] && [ -x "$VENV/bin/checkov" ]; then
    return 0
  fi
  local python_bin
  python_bin="$(command -v python3.11 || command -v python3)"
  echo "check_infra: installing checkov==$CHECKOV_VERSION into $VENV" >&2
  rm -rf "$VENV"
  "$python_bin" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION" >&2
  touch "$MARKER"
}

# Two runs at once (make test and pytest) must not build the venv twice.
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/check_infra-$(printf %s "$VENV" | cksum | cut -d' ' -f1).lock"
  flock 9
  install_checkov
  flock -u 9
else
  install_checkov
fi

if [ "${1:-}" = "--install-only" ]; then
  exit 0
fi

echo "check_infra: parsing every .bicep file under infra/bicep (pycep)"
if ! "$VENV/bin/python" "$ROOT/tests/infra/pycep_parse.py" "$BICEP_DIR" >/dev/null; then
  "$VENV/bin/python" "$ROOT/tests/infra/pycep_parse.py" "$BICEP_DIR" \
    | "$VENV/bin/python" -c 'import json,sys; [print("  PARSE ERROR", f, e["error"][:500]) for f, e in json.load(sys.stdin).items() if not e["ok"]]' >&2
  exit 1
fi

echo "check_infra: checkov --framework bicep over infra/bicep"
cd "$ROOT"
# --skip-download: no call to the vendor's API (offline); exit code 1 when any check fails.
"$VENV/bin/checkov" -d infra/bicep --framework bicep --quiet --compact --skip-download
