#!/usr/bin/env bash
# Server capacity with the load generator (loadgen/, `madadkar-load`; issue 13): builds release,
# seeds a fresh database straight through the server's storage, starts `madadkar-server` on
# loopback, and runs every mode at 200 and 1,000 simulated workers from a separate process,
# printing each table (and keeping the JSON reports in the work directory).
#
#   bash scripts/load.sh                                   # 23,000 households
#   bash scripts/load.sh --households 1000000 --workers 10000
#   bash scripts/load.sh --runs "200" --duration 5         # a quicker look
#
# Options: --households N (23000)  --workers W field workers seeded (1000: every run size needs
# that many enrolled devices of its own)  --runs "200 1000"  --duration SECS (10, for noop and
# visit)  --repeat R (200, one-change pulls)  --dir DIR (a fresh temporary directory; the
# database and reports stay there with --keep)  --keep  --database URL (see below).
#
# Settings: the server runs with its defaults except the push quota (settings.json below),
# raised so that no 429 can come from it whatever the runs push; the charge is still made on
# every push, so its cost stays in the figures. Enrolment and lookup limits are not touched:
# the seeder enrols devices through the storage, and the load makes no lookups.
#
# PostgreSQL (the lead's hook): `--database postgres://…` is passed to the seeder (`--db`) and
# to `start_servers`, which today only starts SQLite servers; once the server takes
# `--database`, start one or two instances there and list their URLs in $servers (the runner
# spreads workers round-robin over a comma-separated list).
set -euo pipefail
cd "$(dirname "$0")/.."

households=23000
workers=1000
runs="200 1000"
duration=10
repeat=200
dir=""
keep=0
database=""
while [ $# -gt 0 ]; do
  case "$1" in
    --households) households=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --database) database=$2; shift 2 ;;
    *) echo "load.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

cargo build --locked --release -p madadkar-load -p madadkar-server
bin="${CARGO_TARGET_DIR:-target}/release"
if [ -z "$dir" ]; then dir=$(mktemp -d -t madadkar-load.XXXXXX); fi
mkdir -p "$dir"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ "$keep" = 0 ]; then rm -rf "$dir"; else echo "load: kept $dir"; fi
}
trap cleanup EXIT
# A thousand connections each way, and the server's database files.
ulimit -n 65536 2>/dev/null || true

data="$dir/server"
db="${database:-$data/madadkar-server.sqlite3}"
if [ -z "$database" ] && [ -e "$db" ]; then
  echo "load: $db exists; seed a fresh directory (--dir)" >&2
  exit 2
fi
cat > "$dir/settings.json" <<'EOF'
{"push_quota_changes": 1000000000, "push_quota_bytes": 1099511627776}
EOF

echo "== seed: $households households, $workers field workers ($db)"
"$bin/madadkar-load" seed --db "$db" --households "$households" --workers "$workers" \
  --plan "$dir/plan.json" --json "$dir/seed.json"

# Starts the server(s) and sets $servers to their comma-separated URLs.
start_servers() {
  if [ -n "$database" ]; then
    # Hook for PostgreSQL with one and two instances: start each with `--database "$database"`
    # (and its own settings) here, and list every URL in $servers.
    echo "load: --database $database: the server has no PostgreSQL backend yet" >&2
    exit 2
  fi
  local log="$dir/server.log"
  "$bin/madadkar-server" --data-dir "$data" --config "$dir/settings.json" \
    serve --listen 127.0.0.1:0 > "$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q "^listening on " "$log" && break; sleep 0.1; done
  servers=$(sed -n 's/^listening on //p' "$log" | head -n 1)
  if [ -z "$servers" ]; then echo "load: the server did not start:" >&2; cat "$log" >&2; exit 1; fi
  echo "== server: $servers (log in $log)"
}
start_servers

for n in $runs; do
  if [ "$n" -gt "$workers" ]; then
    echo "load: skipping $n workers: only $workers were seeded" >&2
    continue
  fi
  for mode in noop visit sync one-change; do
    echo
    echo "== $mode, $n workers"
    "$bin/madadkar-load" run --server "$servers" --plan "$dir/plan.json" --workers "$n" \
      --mode "$mode" --duration "$duration" --repeat "$repeat" --json "$dir/$mode-$n.json"
  done
done
