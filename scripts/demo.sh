#!/usr/bin/env bash
# Demo: the service in CRUD mode against the CRUD Service and Auth0 Client fakes, all as local
# processes on 127.0.0.1. Ctrl-C stops all three. Ports: service 3000 (HTTP_PORT), CRUD fake
# 18080, Auth0 fake 18081 (override with CRUD_FAKE_PORT / AUTH_FAKE_PORT).
set -euo pipefail
cd "$(dirname "$0")/.."

CRUD_FAKE_PORT="${CRUD_FAKE_PORT:-18080}"
AUTH_FAKE_PORT="${AUTH_FAKE_PORT:-18081}"
cargo build --quiet --workspace --bins

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

target/debug/crud-fake --port "$CRUD_FAKE_PORT" --default-state DRAFT &
pids+=($!)
target/debug/auth0-fake --port "$AUTH_FAKE_PORT" &
pids+=($!)

for port in "$CRUD_FAKE_PORT" "$AUTH_FAKE_PORT"; do
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
done

# The group schemas of config/groups/ become PUBLIC documents of the CRUD fake's /ums-config.
for group in config/groups/*.json; do
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["__STATE__"]="PUBLIC"; print(json.dumps(d))' "$group" |
    curl -s -o /dev/null -H 'content-type: application/json' --data-binary @- "http://127.0.0.1:$CRUD_FAKE_PORT/ums-config/"
done

export HTTP_HOST="${HTTP_HOST:-127.0.0.1}"
export CRUD_SERVICE="http://127.0.0.1:$CRUD_FAKE_PORT"
export USERS_CRUD_ENDPOINT=/users
export UMS_CONFIG_CRUD_ENDPOINT=/ums-config
export ROLES_CRUD_ENDPOINT=/roles
export JOBS_CRUD_ENDPOINT=/jobs
export AUTH_SERVICE="http://127.0.0.1:$AUTH_FAKE_PORT"
echo "demo: service on http://${HTTP_HOST}:${HTTP_PORT:-3000}, CRUD fake on :$CRUD_FAKE_PORT, Auth0 fake on :$AUTH_FAKE_PORT"
target/debug/user-manager-service &
pids+=($!)
wait "${pids[-1]}"
