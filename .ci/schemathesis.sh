#!/usr/bin/env bash
# Schemathesis against the service's own OpenAPI document: starts
# `backtester serve` on a free loopback port with a fresh SQLite file, seeds
# a strategy, a dataset, a completed run and a sweep (so that id paths
# resolve), and runs every check. Fails on any 5xx or any response that
# breaks the schema. It makes an account first and sends its token with
# every request. Called from .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
venv="${SCHEMATHESIS_VENV:-$HOME/.cache/bt-venv}"
if ! [ -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'schemathesis>=4,<5'
fi

cargo build --quiet --bin backtester
bin="$CARGO_TARGET_DIR/debug/backtester"

work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# An account, as a shared server has them: every request carries its token
# (Schemathesis also checks that requests without it are refused).
"$bin" user add st --admin --database-url "sqlite://$work/st.db" >/dev/null
token="$("$bin" token create --user st --scope read,run,write,admin --database-url "sqlite://$work/st.db" 2>/dev/null)"
SCHEMATHESIS_AUTH_HEADER="Authorization: Bearer $token"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
# Small queue limits: Schemathesis reruns and queues runs as fast as it can.
"$bin" serve --bind "127.0.0.1:$port" --database-url "sqlite://$work/st.db" \
  --max-concurrent-runs 2 --max-queued-runs 50 --max-queued-per-client 50 >"$work/server.log" 2>&1 &
server=$!

auth=(-H "$SCHEMATHESIS_AUTH_HEADER")
call() { curl -sS --fail-with-body "${auth[@]}" "$@"; }

for _ in $(seq 100); do
  if curl -s -o /dev/null "$base/health"; then break; fi
  sleep 0.1
done

# Seeds: strategy 1, dataset 1 (GOOG), run 1 (completed), sweep 1 (completed).
python3 -c 'import json, sys; print(json.dumps({"name": "sma_cross", "runtime": "rhai", "source": open(sys.argv[1]).read()}))' \
  scripts/sma_cross.rhai | call -H 'Content-Type: application/json' --data-binary @- "$base/api/strategies" >/dev/null
call -H 'Content-Type: text/csv' --data-binary @data/GOOG.csv "$base/api/datasets?symbol=GOOG" >/dev/null
call -H 'Content-Type: application/json' "$base/api/runs" \
  -d '{"strategy_id": 1, "symbols": ["GOOG"], "initial_capital": 10000}' >/dev/null
call -H 'Content-Type: application/json' "$base/api/sweeps" \
  -d '{"strategy_id": 1, "symbols": ["GOOG"], "initial_capital": 10000, "grid": ["fast=5,10", "slow=20,30"]}' >/dev/null
for _ in $(seq 300); do
  run="$(call "$base/api/runs/1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["status"])')"
  sweep="$(call "$base/api/sweeps/1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["status"])')"
  if [ "$run" = completed ] && [ "$sweep" = completed ]; then break; fi
  sleep 0.2
done
if [ "$run" != completed ] || [ "$sweep" != completed ]; then
  echo ".ci/schemathesis.sh: the seeded run ($run) or sweep ($sweep) did not complete" >&2
  cat "$work/server.log" >&2
  exit 1
fi

schema="$base/api/openapi.json"

# Bounded: a few dozen examples per operation, a few minutes on two cores.
status=0
"$venv/bin/st" --no-color --config-file .ci/schemathesis.toml run "$schema" --url "$base" \
  --checks all --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-100}" --workers 1 \
  --request-timeout 20 --seed "${SCHEMATHESIS_SEED:-1}" "${auth[@]}" || status=$?
# The stateful phase deletes only what its scenarios created: the seeds stay.
for seed in strategies/1 datasets/1 runs/1 sweeps/1; do
  if ! call -o /dev/null "$base/api/$seed"; then
    echo ".ci/schemathesis.sh: the seeded /api/$seed is gone: a deletion did not follow its link" >&2
    status=1
  fi
done
if [ "$status" != 0 ]; then
  echo ".ci/schemathesis.sh: the server's log:" >&2
  tail -n 50 "$work/server.log" >&2
fi
exit "$status"
