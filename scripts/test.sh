#!/usr/bin/env bash
# Sets everything up and runs every check and test: formatting, lints, unit, property, crash
# and end-to-end tests. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo build (binaries the end-to-end tests start)"
cargo build --workspace --bins --locked
echo "== cargo test"
cargo test --workspace --locked
