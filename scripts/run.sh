#!/usr/bin/env bash
# Sets everything up and runs Madadkar's main job as far as it is built: a replica with a demo
# caseload, driven through the `madadkar` CLI. Data goes to $MADADKAR_DATA_DIR (default
# ./demo-data); run it again to start afresh.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cargo build --locked --release -p madadkar-cli
bin="${CARGO_TARGET_DIR:-target}/release/madadkar"
export MADADKAR_DATA_DIR="${MADADKAR_DATA_DIR:-$PWD/demo-data}"
rm -rf "$MADADKAR_DATA_DIR"

step() { printf '\n\033[1m$ madadkar %s\033[0m\n' "$*"; "$bin" "$@"; }
step init --worker "زهرا رضایی" --device "لپ‌تاپ گروه جهادی"
step demo --households 200
step household list --limit 10 --sort need
step household search "علي"
step followups --within 14
first=$("$bin" --json household list --limit 1 | sed -n 's/.*"id": "\([^"]*\)".*/\1/p' | head -n 1)
step household show "$first"
step history "$first"
step check
printf '\nThe demo replica is in %s; try: %s --data-dir %s household search كريمي\n' \
  "$MADADKAR_DATA_DIR" "$bin" "$MADADKAR_DATA_DIR"
