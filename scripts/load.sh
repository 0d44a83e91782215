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
# PostgreSQL: `--postgres` starts a throwaway cluster from Debian's packages in the work
# directory (durable settings: fsync and synchronous commit on, as in production) and seeds a
# database there; `--database postgres://…` uses one of your own instead. `--instances N`
# starts N server instances on it, and the runner spreads workers round-robin over them.
#
#   bash scripts/load.sh --postgres --instances 2
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
postgres=0
instances=1
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
    --postgres) postgres=1; shift ;;
    --instances) instances=$2; shift 2 ;;
    *) echo "load.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

cargo build --locked --release -p madadkar-load -p madadkar-server
bin="${CARGO_TARGET_DIR:-target}/release"
if [ -z "$dir" ]; then dir=$(mktemp -d -t madadkar-load.XXXXXX); fi
mkdir -p "$dir"
pids=()
runas=()
[ "$(id -u)" = 0 ] && runas=(runuser -u postgres --)
pgbin=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "$pgbin" ]; then "${runas[@]}" "$pgbin/pg_ctl" -D "$dir/pg/data" -m fast stop >/dev/null 2>&1 || true; fi
  if [ "$keep" = 0 ]; then rm -rf "$dir"; else echo "load: kept $dir"; fi
}
trap cleanup EXIT
# A thousand connections each way, and the server's database files.
ulimit -n 65536 2>/dev/null || true

if [ "$postgres" = 1 ]; then
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  mkdir -p "$dir/pg"
  [ "$(id -u)" = 0 ] && chown postgres "$dir" "$dir/pg"
  "${runas[@]}" "$pgbin/initdb" -D "$dir/pg/data" -A trust -U madadkar -E UTF8 > /dev/null
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${runas[@]}" "$pgbin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/pg -c max_connections=300 -c shared_buffers=1GB" start > /dev/null
  "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U madadkar madadkar
  database="postgres://madadkar@127.0.0.1:$port/madadkar"
  echo "== postgres: $("$pgbin/postgres" --version) on port $port"
fi
if [ -z "$database" ] && [ "$instances" != 1 ]; then
  echo "load: several instances need a shared database (--postgres or --database)" >&2
  exit 2
fi
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
  local urls=()
  for i in $(seq "$instances"); do
    local log="$dir/server-$i.log"
    if [ -n "$database" ]; then
      "$bin/madadkar-server" --data-dir "$data" --database "$database" --config "$dir/settings.json" \
        serve --listen 127.0.0.1:0 > "$log" 2>&1 &
    else
      "$bin/madadkar-server" --data-dir "$data" --config "$dir/settings.json" \
        serve --listen 127.0.0.1:0 > "$log" 2>&1 &
    fi
    pids+=($!)
    for _ in $(seq 100); do grep -q "^listening on " "$log" && break; sleep 0.1; done
    local url
    url=$(sed -n 's/^listening on //p' "$log" | head -n 1)
    if [ -z "$url" ]; then echo "load: server $i did not start:" >&2; cat "$log" >&2; exit 1; fi
    urls+=("$url")
  done
  servers=$(IFS=,; echo "${urls[*]}")
  echo "== servers: $servers"
}
start_servers

for n in $runs; do
  if [ "$n" -gt "$workers" ]; then
    echo "load: skipping $n workers: only $workers were seeded" >&2
    continue
  fi
  for mode in noop visit sync restart sync-cold one-change; do
    if [ "$mode" = restart ]; then
      # The same burst again with nothing kept in the servers' memory: each instance keeps
      # the household documents its pushes checked (sync-server/src/documents.rs), and the
      # burst above pushed to households the visit run had just pushed to.
      for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
      pids=()
      rm -f "$dir"/server-*.log
      start_servers
      continue
    fi
    run_mode=${mode%-cold}
    echo
    if [ "$mode" = sync-cold ]; then
      echo "== sync after a restart (no household document kept in memory), $n workers"
    else
      echo "== $mode, $n workers"
    fi
    "$bin/madadkar-load" run --server "$servers" --plan "$dir/plan.json" --workers "$n" \
      --mode "$run_mode" --duration "$duration" --repeat "$repeat" --json "$dir/$mode-$n.json"
  done
done
