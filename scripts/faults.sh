#!/usr/bin/env bash
# Fault injection with real processes: builds the sync server, the `madadkar` CLI and the test
# binaries (crash_writer, drop_proxy, fault_runner), then runs fault_runner for [runs] runs
# (default 105: 15 of each of the 7 fault kinds) and prints one line per run and a table.
#   scripts/faults.sh [runs] [seed]
# A failing run prints its kind and seed; `fault_runner --runs 1 --kind KIND --seed SEED`
# (in target/debug) reproduces it.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-105}"
seed_args=()
if [ -n "${2:-}" ]; then
  seed_args=(--seed "$2")
fi
cargo build --locked -p madadkar-server -p madadkar-cli -p madadkar-e2e --bins
target_dir="${CARGO_TARGET_DIR:-target}"
"$target_dir/debug/fault_runner" --runs "$runs" "${seed_args[@]}"
