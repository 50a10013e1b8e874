#!/usr/bin/env bash
# Runs the whole pytest suite. Tests start the services they need (Azurite, cosmosdb-server,
# local HTTPS stand-ins for Key Vault and ACS, the local host). "No tests ran" is a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest "$@"
rc=$?
if [ "$rc" = 5 ]; then
  echo "run_tests: pytest collected no tests - treating as a failure" >&2
  exit 1
fi
exit "$rc"
