#!/usr/bin/env bash
# Builds the edge worker (wasm32) with worker-build, using the pinned tools that
# scripts/setup.sh installed. Set VITRINE_SKIP_BUILD=1 to reuse an existing build
# (tests build once, then start many `wrangler dev` processes).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ "${VITRINE_SKIP_BUILD:-0}" = 1 ] && [ -f "$root/edge/build/worker/shim.mjs" ]; then
  exit 0
fi
source "$root/scripts/env.sh"
# worker-build would download these from GitHub when it cannot find them; point it at the pinned
# copies setup.sh installed, wherever cargo and npm put them.
if [ -z "${WASM_BINDGEN_BIN:-}" ]; then
  WASM_BINDGEN_BIN=$(command -v wasm-bindgen || true)
fi
if [ ! -x "${WASM_BINDGEN_BIN:-}" ]; then
  echo "wasm-bindgen not found (looked in \$CARGO_HOME/bin = $cargo_bin and on PATH): run scripts/setup.sh" >&2
  exit 1
fi
export WASM_BINDGEN_BIN
export WASM_OPT_BIN="${WASM_OPT_BIN:-$root/node_modules/.bin/wasm-opt}"
export ESBUILD_BIN="${ESBUILD_BIN:-$root/node_modules/.bin/esbuild}"
cd "$root/edge"
worker-build --release
