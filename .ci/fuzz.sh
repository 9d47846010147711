#!/usr/bin/env bash
# Fuzz the HTTP API with schemathesis over its own /openapi.json: no 5xx, every error in the envelope.
# schemathesis conflicts with langgraph-api (jsonschema-rs pins), so it lives in its own virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.cache/fuzz-venv
if [ ! -x "$VENV/bin/schemathesis" ]; then
  python -m venv "$VENV"
  "$VENV/bin/pip" install -q schemathesis
fi

WORK=$(mktemp -d)
PORT=$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# A server as a user would run it, but with the SSRF guard fully on (no private hosts), no keys, no LLM,
# a throwaway cache, and short fetch deadlines: fuzzed websites are unreachable or blocked (422s).
env -u BLUEPRINT_ALLOW_PRIVATE_HOSTS -u BLUEPRINT_API_KEYS -u BLUEPRINT_CACHE_URL \
    -u OPENAI_API_KEY -u OPENAI_BASE_URL -u APOLLO_API_KEY -u CLEARBIT_API_KEY \
    BLUEPRINT_CACHE_DIR="$WORK/cache" BLUEPRINT_ENGINE=catalog \
    BLUEPRINT_FETCH_TIMEOUT_S=2 BLUEPRINT_SITE_DEADLINE_S=3 \
    python -m uvicorn --factory server.app:create_app --host 127.0.0.1 --port "$PORT" \
    --log-level warning >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 150); do
  if python -c "import httpx,sys; sys.exit(httpx.get('http://127.0.0.1:$PORT/healthz').status_code != 200)" 2>/dev/null; then
    break
  fi
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; echo "fuzz: server did not start" >&2; exit 1; }
  sleep 0.2
done

# a whole blueprint stream is ~25 events: read it to the end, so the check can demand `done`
printf 'max-stream-events = 500\n' >"$WORK/schemathesis.toml"

status=0
# run from the temp dir: schemathesis keeps its crash store in ./.schemathesis
ROOT=$(pwd)
(cd "$WORK" && SCHEMATHESIS_HOOKS="$ROOT/.ci/fuzz_checks.py" "$ROOT/$VENV/bin/schemathesis" --config-file schemathesis.toml run "http://127.0.0.1:$PORT/openapi.json" \
  -c not_a_server_error,error_envelope -n 25 --seed 8 --request-timeout 10 --generation-database :memory: --no-color) \
  || status=$?

if [ "$status" -ne 0 ]; then
  echo "fuzz: failures above; server log:" >&2
  tail -n 50 "$WORK/server.log" >&2
fi
exit "$status"
