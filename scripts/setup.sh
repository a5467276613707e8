#!/usr/bin/env bash
# Installs everything Vitrine needs to build, run and test, idempotently:
# the pinned Rust toolchain + wasm32 target, wasm-bindgen CLI and worker-build (exact versions,
# from crates.io), and the npm packages pinned by package-lock.json (wrangler + workerd,
# node 22, binaryen's wasm-opt, esbuild, playwright-core), Debian's chromium for the browser test
# and a Python venv (.venv) with DuckDB for the BI tables' external-client test.
# Safe to re-run; skips what is already there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# PATH: node_modules/.bin and ${CARGO_HOME:-$HOME/.cargo}/bin first, so what is installed here is found.
source scripts/env.sh

WASM_BINDGEN_VERSION=0.2.130
WORKER_BUILD_VERSION=0.8.7
toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)" >&2; exit 1; }
command -v npm >/dev/null || { echo "node and npm are required" >&2; exit 1; }

if ! rustup toolchain list | grep -q "^$toolchain"; then
  say "installing Rust $toolchain"
  rustup toolchain install "$toolchain" --profile minimal
fi
say "Rust $toolchain with rustfmt, clippy and the wasm32 target"
rustup component add --toolchain "$toolchain" rustfmt clippy >/dev/null 2>&1
rustup target add --toolchain "$toolchain" wasm32-unknown-unknown >/dev/null 2>&1

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # Not --locked: a locked dependency version is missing from the registry mirror.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --no-default-features
fi
if ! cargo install --list | grep -q "^worker-build v$WORKER_BUILD_VERSION:"; then
  say "installing worker-build $WORKER_BUILD_VERSION (a few minutes, once)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked
fi

lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -x node_modules/.bin/wrangler ] || [ "$(cat node_modules/.vitrine-lock 2>/dev/null)" != "$lock_hash" ]; then
  say "npm ci (wrangler, workerd, node 22, wasm-opt, esbuild)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.vitrine-lock
fi
if ! command -v chromium >/dev/null; then
  # The storefront test drives Debian's Chromium through playwright-core (pinned in package-lock).
  say "installing chromium (apt) for the headless storefront test"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
req_hash=$(sha256sum tests/bi/requirements.txt | cut -d' ' -f1)
if [ "$(cat .venv/.vitrine-req 2>/dev/null)" != "$req_hash" ]; then
  # DuckDB reads the BI tables in the external-client test (tests/tests/e2e/bi.rs).
  say "python venv .venv with duckdb (pinned in tests/bi/requirements.txt)"
  if ! python3 -m venv .venv >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv .venv
  fi
  .venv/bin/pip install -q -r tests/bi/requirements.txt
  echo "$req_hash" > .venv/.vitrine-req
fi
say "tools ready"
