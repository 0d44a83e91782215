#!/usr/bin/env bash
# schemathesis against the sync API's OpenAPI description (docs/openapi.json) and the real
# server process: a server on a loopback port over a temporary database, with a group, a field
# worker and an enrolled device (the device's token authenticates the requests). Bounded: a few
# examples per operation and a time budget of under a minute. Installs schemathesis into a venv
# under the cache directory the first time (python3 with venv; scripts/setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== schemathesis against the OpenAPI description and the real server (bounded)"
version=4.32.5
budget="${MADADKAR_SCHEMATHESIS_SECONDS:-50}"
examples="${MADADKAR_SCHEMATHESIS_EXAMPLES:-25}"
venv="${MADADKAR_CACHE:-$HOME/.cache/madadkar}/schemathesis-$version"
if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "schemathesis: installing schemathesis $version into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

cargo build --quiet --locked -p madadkar-server --bin madadkar-server
bin="${CARGO_TARGET_DIR:-target}/debug/madadkar-server"

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

server() { "$bin" --data-dir "$work/data" "$@"; }
json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

server group add g1 --name "Group one" >/dev/null
worker=$(server --json worker add "Field worker" --group g1 --role field | json_field id)
code=$(server --json enroll-code "$worker" --hours 1 | json_field code)

"$bin" --data-dir "$work/data" serve --listen 127.0.0.1:0 >"$work/server.log" 2>&1 &
server_pid=$!
base=""
for _ in $(seq 1 100); do
  base=$(sed -n 's/^listening on \(http:\/\/[0-9.:]*\)$/\1/p' "$work/server.log" | head -n 1)
  [ -n "$base" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$base" ] || { echo "schemathesis: the server did not start" >&2; cat "$work/server.log" >&2; exit 1; }

# Enrol a device the way a client does, for a real token.
token=$(python3 - "$base" "$code" <<'PY'
import json, sys, urllib.request, uuid
base, code = sys.argv[1], sys.argv[2]
body = json.dumps({"code": code, "device_id": str(uuid.uuid4()), "device_name": "schemathesis"}).encode()
request = urllib.request.Request(base + "/v1/enroll", data=body, headers={"content-type": "application/json"})
with urllib.request.urlopen(request, timeout=10) as answer:
    print(json.load(answer)["token"])
PY
)

echo "schemathesis: $examples examples per operation, at most $budget s, against $base"
# positive_data_acceptance is left out: a body the description can only call "bytes" (a changes
# frame, a sync round) is almost never a valid frame, and the server rightly refuses it.
status=0
SCHEMATHESIS_HOOKS=scripts/schemathesis_hooks.py \
  timeout $((budget + 30)) "$venv/bin/schemathesis" run docs/openapi.json \
  --url "$base" \
  --header "Authorization: Bearer $token" \
  --checks all --exclude-checks positive_data_acceptance \
  --max-examples "$examples" --max-time "$budget" \
  --workers 1 --seed 9 --no-color \
  || status=$?
if [ "$status" -ne 0 ]; then
  echo "schemathesis: failed (exit $status); the server's log:" >&2
  tail -n 50 "$work/server.log" >&2
fi
exit "$status"
