#!/usr/bin/env bash
# Runs every check CI runs: format, clippy (native and wasm32), unit tests and end-to-end tests
# (the real trainer on a real lake dir, the real worker in workerd via wrangler dev).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
source scripts/env.sh

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
step "cargo fmt --check"
cargo fmt --all -- --check
step "clippy (native, all targets)"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "clippy (wasm32: shared + edge)"
cargo clippy -p shared -p edge --target wasm32-unknown-unknown --locked -- -D warnings
step "build the worker (wasm32, worker-build)"
bash scripts/build-edge.sh
step "build the trainer"
cargo build -p trainer --locked
step "unit and end-to-end tests"
cargo test --workspace --locked -- --test-threads 2
