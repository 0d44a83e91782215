#!/usr/bin/env bash
# Installs what building, running and testing Madadkar needs on a fresh Debian 12 machine of our
# kind (Rust through rustup and Node 20 are on it), and nothing that is already there. Safe to
# run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Tauri v2 on WebKitGTK 4.1, Xvfb for the window in tests, WebKitWebDriver for tauri-driver;
# Python with venv for schemathesis (scripts/schemathesis.sh installs it into a venv); PostgreSQL
# for the server's second backend (its tests start throwaway clusters with initdb and pg_ctl).
packages=(build-essential pkg-config libssl-dev libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev
  libayatana-appindicator3-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev xvfb xauth
  webkit2gtk-driver python3 python3-venv postgresql)
missing=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust with rustup (https://rustup.rs) and run again" >&2
  exit 1
fi
for component in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
done
if ! command -v npm >/dev/null 2>&1; then
  echo "setup: npm not found; install Node.js 20 or later and run again" >&2
  exit 1
fi

# The web front end's packages, exactly as locked.
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  (cd ui && npm ci --no-audit --no-fund)
fi

# The JavaScript Automerge package, for the test that reads and writes households as another
# client would (tests/interop).
if [ ! -d tests/interop/node_modules ] || [ tests/interop/package-lock.json -nt tests/interop/node_modules/.package-lock.json ]; then
  (cd tests/interop && npm ci --no-audit --no-fund)
fi

# tauri-driver drives the real app in the end-to-end tests.
if ! command -v tauri-driver >/dev/null 2>&1; then
  cargo install tauri-driver --locked --version 2.1.0
fi
