#!/usr/bin/env bash
# make run: Azurite (blob+queue, data in .local/azurite) + the local Functions host on :7071
# (SQLite store, local PEM KEK, .eml outbox, web app at /, patient app at /app/) + the demo seed. Ctrl-C stops both.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .local/azurite .local/outbox
PORT=${PORT:-7071}

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "stopping SkinVault local stack"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
}
trap cleanup INT TERM EXIT

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if port_busy 10000; then
  echo "run: something already listens on 127.0.0.1:10000 - using it as Azurite"
else
  tools/node/node_modules/.bin/azurite --silent --skipApiVersionCheck --loose \
    --blobHost 127.0.0.1 --blobPort 10000 --queueHost 127.0.0.1 --queuePort 10001 --tableHost 127.0.0.1 --tablePort 10002 \
    --location .local/azurite > .local/azurite.log 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do port_busy 10000 && port_busy 10001 && break; sleep 0.1; done
  port_busy 10000 || { echo "error: Azurite did not start (see .local/azurite.log)" >&2; exit 1; }
fi

.venv/bin/python -m localhost.host --port "$PORT" &
pids+=($!)
for _ in $(seq 1 150); do
  curl -fsS "http://127.0.0.1:$PORT/api/health" >/dev/null 2>&1 && break
  kill -0 "${pids[-1]}" 2>/dev/null || { echo "error: the local host stopped (see above)" >&2; exit 1; }
  sleep 0.2
done

.venv/bin/python -m scripts.seed_demo --api "http://127.0.0.1:$PORT" || exit 1
# the patient app PUTs ciphertext straight to the uploads blob endpoint: allow its origin (CORS)
.venv/bin/python -m scripts.uploads_cors --origin "http://127.0.0.1:$PORT" --origin "http://localhost:$PORT" || exit 1

cat <<MSG

SkinVault is running.
  Clinician web app   http://127.0.0.1:$PORT/          (sign in as "Dr Demo Clinician")
  Patient app         http://127.0.0.1:$PORT/app/      (sign in as "Alex Demo", then choose a passcode)
  API                 http://127.0.0.1:$PORT/api/       (health: /api/health, contract: /api/openapi.json)
  Azurite             blob http://127.0.0.1:10000, queue http://127.0.0.1:10001 (data in .local/azurite)
  Emails (outbox)     .local/outbox/*.eml
  Demo clinic         Newcastle Dermatology (ODS RTD), share code NEWC-DERM
  Demo users          demo-patient (Alex Demo), demo-clinician (Dr Demo Clinician), demo-admin (Demo Admin)
  Get a token         curl -s -X POST http://127.0.0.1:$PORT/api/dev/token -H 'Content-Type: application/json' \\
                        -d '{"sub":"demo-patient","name":"Alex Demo","role":"patient"}'
  Patient CLI         PYTHONPATH=client .venv/bin/python -m skinvault_client --help
Press Ctrl-C to stop.
MSG
wait "${pids[-1]}"
