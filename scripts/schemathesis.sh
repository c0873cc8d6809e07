#!/usr/bin/env bash
# Schemathesis against the OpenAPI document the service serves at /documentation/json, in the
# two store modes: (a) embedded (SQLite and the local provider on a fresh DATA_DIR), (b) CRUD mode
# on the CRUD Service and Auth0 Client fakes (seeded with config/groups, as scripts/demo.sh).
# Every process listens on 127.0.0.1 on a free port and is killed on exit. Exits non-zero when a
# mode reports a failure or an error. Per-operation exceptions: .ci/schemathesis.toml.
#
# ST_MAX_TIME (default 90) bounds each mode in seconds; ST_SEED fixes the seed (random otherwise);
# ST_WORKERS (default 1, see below); ST_MODES (default "embedded crud"); ST_REPORT_DIR keeps the
# NDJSON reports of each mode there (in a temporary directory otherwise).
#
# One worker by default: with two, Hypothesis (inside schemathesis) sometimes calls `ast.parse`
# from both worker threads at once, and CPython 3.11.7, this machine's Python, then raises
# "SystemError: AST constructor recursion depth mismatch" (CPython gh-106905, fixed in later
# releases), which schemathesis reports as a flaky "Runtime Error: Inconsistent results" on
# whichever operation was being generated. Nothing of the service is involved.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
MAX_TIME="${ST_MAX_TIME:-90}"
WORKERS="${ST_WORKERS:-1}"
MODES="${ST_MODES:-embedded crud}"
CONFIG=.ci/schemathesis.toml

ST=st
if ! command -v st >/dev/null 2>&1; then
  echo "== pip install schemathesis==$SCHEMATHESIS_VERSION"
  python3 -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
  # The console script lands in the interpreter's scripts directory (pyenv shims need a rehash).
  ST="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/st"
fi
if ! "$ST" --version | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "schemathesis.sh: $("$ST" --version) found; the configuration is checked with $SCHEMATHESIS_VERSION" >&2
fi

echo "== cargo build --workspace --bins"
cargo build --quiet --workspace --bins

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until `url` answers 200 (30 s at most).
wait_for() {
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "schemathesis.sh: $1 did not answer" >&2
  return 1
}

# Starts the service in the background with the environment given as arguments; sets $service_url.
service_url=
start_service() {
  local port
  port=$(free_port)
  env HTTP_HOST=127.0.0.1 HTTP_PORT="$port" LOG_LEVEL=warn "$@" \
    target/debug/user-manager-service >"$work/service-$port.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$port/-/healthz"
  service_url="http://127.0.0.1:$port"
}

# Runs schemathesis on the service at $2 (with `authorization: Bearer $3` when given); $1 names
# the mode. Returns its exit code.
run_schemathesis() {
  local mode=$1 url=$2 token=${3:-} report_dir="${ST_REPORT_DIR:-$work/reports}"
  local seed_args=() auth_args=()
  if [ -n "$token" ]; then auth_args=(-H "Authorization: Bearer $token"); fi
  if [ -n "${ST_SEED:-}" ]; then seed_args=(--seed "$ST_SEED"); fi
  mkdir -p "$report_dir"
  echo "== schemathesis ($mode mode): $url, --max-time $MAX_TIME -w $WORKERS ${seed_args[*]}"
  local started=$SECONDS status=0
  "$ST" --config-file "$CONFIG" run "$url/documentation/json" --url "$url" \
    --checks all --max-time "$MAX_TIME" -w "$WORKERS" "${seed_args[@]}" "${auth_args[@]}" \
    --report ndjson --report-ndjson-path "$report_dir/$mode.ndjson" \
    --no-color || status=$?
  echo "== schemathesis ($mode mode): exit $status after $((SECONDS - started)) s"
  return "$status"
}

embedded() {
  local data_dir="$work/data"
  mkdir -p "$data_dir"
  start_service DATA_DIR="$data_dir" GROUPS_CONFIG_DIR=config/groups
  # Access control is on in embedded mode: the admin client written at first start gets a token
  # with every scope (15 minutes: longer than a run).
  local token
  token=$(curl -fsS -H 'content-type: application/json' --data-binary @"$data_dir/admin-client.json" \
    "$service_url/oauth/token" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
  run_schemathesis embedded "$service_url" "$token"
}

crud() {
  local crud_port auth_port
  crud_port=$(free_port)
  target/debug/crud-fake --port "$crud_port" --default-state DRAFT >"$work/crud-fake.log" 2>&1 &
  pids+=($!)
  auth_port=$(free_port)
  target/debug/auth0-fake --port "$auth_port" >"$work/auth0-fake.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$crud_port/-/healthz"
  wait_for "http://127.0.0.1:$auth_port/-/healthz"
  # The group schemas of config/groups/ become PUBLIC documents of the CRUD fake's /ums-config.
  for group in config/groups/*.json; do
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["__STATE__"]="PUBLIC"; print(json.dumps(d))' "$group" |
      curl -fsS -o /dev/null -H 'content-type: application/json' --data-binary @- \
        "http://127.0.0.1:$crud_port/ums-config/"
  done
  start_service CRUD_SERVICE="http://127.0.0.1:$crud_port" USERS_CRUD_ENDPOINT=/users \
    UMS_CONFIG_CRUD_ENDPOINT=/ums-config ROLES_CRUD_ENDPOINT=/roles JOBS_CRUD_ENDPOINT=/jobs \
    AUTH_SERVICE="http://127.0.0.1:$auth_port"
  run_schemathesis crud "$service_url"
}

failed=()
for mode in $MODES; do
  "$mode" || failed+=("$mode")
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "schemathesis: failures in ${failed[*]} mode(s); service logs were in $work" >&2
  exit 1
fi
echo "schemathesis: no failures in $MODES"
