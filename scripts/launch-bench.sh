#!/usr/bin/env bash
# The launch bench (issue 12): how long the real desktop app takes from launch to the worker's
# first caseload page at 23,000 households, target under a second. Not a test: a measurement.
#
#   scripts/launch-bench.sh --dir DIR [--runs 5] [--households 23000]
#
# Builds the release CLI and desktop app, makes a replica of demo households in DIR/replica once
# (kept, and reused when DIR already holds one of that size), then launches the release app under
# xvfb-run RUNS times through tauri-driver and WebKitWebDriver, unlocks it and reads the marks the
# app measured itself (src-tauri/src/launch.rs): launch → lock screen painted; unlock → store open
# (the passphrase's Argon2id derivation, deliberate, counts) → first page query → rows painted.
# The first launch follows a page-cache drop where the system allows it (root outside a
# container), else it is only the first. Baselines in the same run: the same first page read by
# a new CLI process, and a CLI process that only derives the key (a wrong passphrase).
# Prints a Markdown table (scripts/launch-bench.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=""
runs=5
households=23000
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --households) households=$2; shift 2 ;;
    *) echo "usage: $0 --dir DIR [--runs N] [--households N]" >&2; exit 2 ;;
  esac
done
[ -n "$dir" ] || { echo "usage: $0 --dir DIR [--runs N] [--households N]" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

echo "== building the UI and the release CLI and desktop app" >&2
(cd ui && npx vite build --logLevel warn)
cargo build --locked --release -p madadkar-cli -p madadkar-desktop >&2
target="${CARGO_TARGET_DIR:-$PWD/target}"
cli="$target/release/madadkar"

# The bench replica's passphrase guards generated demo data only; it lives in a file, as the
# CLI and the driver read it, never in an argument.
passfile="$dir/passphrase"
[ -f "$passfile" ] || (umask 077 && echo "launch bench passphrase 1404" > "$passfile")
[ -f "$dir/wrong-passphrase" ] || (umask 077 && echo "not the bench passphrase" > "$dir/wrong-passphrase")
replica="$dir/replica"
madadkar() { "$cli" --data-dir "$replica" --passphrase-file "$passfile" "$@"; }

if [ "$(cat "$dir/households" 2>/dev/null)" != "$households" ]; then
  echo "== making a replica of $households demo households in $replica (once; kept for later runs)" >&2
  rm -rf "$replica" "$dir/households"
  mkdir -p "$replica"
  start=$(date +%s)
  madadkar demo --households "$households" >&2
  echo "$households" > "$dir/households"
  echo "   made in $(( $(date +%s) - start )) s" >&2
fi
total=$(madadkar --json household list --limit 1 | sed -n 's/.*"total": *\([0-9]*\).*/\1/p' | head -n 1)
[ "$total" = "$households" ] || { echo "the replica lists $total households, not $households" >&2; exit 1; }

# Milliseconds a command takes as a new process; `ok` or `fails` says how it must end, so that
# a broken baseline is an error, not a fast number.
elapsed_ms() {
  local expect=$1 t0 t1 status=0
  shift
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1 || status=$?
  t1=$(date +%s%N)
  if { [ "$expect" = ok ] && [ $status -ne 0 ]; } || { [ "$expect" = fails ] && [ $status -eq 0 ]; }; then
    echo "baseline command ended with status $status, expected $expect: $*" >&2
    exit 1
  fi
  echo $(( (t1 - t0) / 1000000 ))
}

echo "== baselines: the first page read by a new CLI process; a CLI process deriving the key only" >&2
list_ms=()
wrong_ms=()
for _ in $(seq "$runs"); do
  list_ms+=("$(elapsed_ms ok madadkar --json household list --limit 100)")
  # A wrong passphrase: the process starts, derives the key (Argon2id) and stops at the key file.
  wrong_ms+=("$(elapsed_ms fails "$cli" --data-dir "$replica" --passphrase-file "$dir/wrong-passphrase" --json household list --limit 100)")
done
join() { local IFS=,; echo "$*"; }
cat > "$dir/baseline.json" <<EOF
{"CLI: \`household list --limit 100\` (process start, Argon2id, open store, first page query, count, JSON out)": [$(join "${list_ms[@]}")],
 "CLI with a wrong passphrase (process start, Argon2id, key file refused: the derivation's floor)": [$(join "${wrong_ms[@]}")]}
EOF

first_note="first; page cache not dropped"
if sync && { echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null; then
  first_note="first, page cache dropped"
fi

echo "== launching the release app $runs times under Xvfb" >&2
MADADKAR_E2E_PROFILE=release CARGO_TARGET_DIR="$target" xvfb-run -a -s "-screen 0 1366x768x24" \
  node scripts/launch-bench.mjs --dir "$replica" --passphrase-file "$passfile" --runs "$runs" \
  --baseline "$dir/baseline.json" --households "$households" --first-note "$first_note"
