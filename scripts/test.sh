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
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --locked -- --test-threads 2 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line over every test binary (cargo prints one per binary, the last often a doc-test run of 0).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
