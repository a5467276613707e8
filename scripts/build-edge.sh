#!/usr/bin/env bash
# Builds the edge worker (wasm32) with worker-build, using the pinned tools that
# scripts/setup.sh installed. Set VITRINE_SKIP_BUILD=1 to reuse an existing build
# (tests build once, then start many `wrangler dev` processes).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# The dashboard's chart library, from the npm package pinned in package-lock (served as a static
# asset; not committed).
mkdir -p "$root/edge/assets/admin/vendor"
cp "$root/node_modules/chart.js/dist/chart.umd.min.js" "$root/edge/assets/admin/vendor/chart.umd.min.js"
if [ "${VITRINE_SKIP_BUILD:-0}" = 1 ] && [ -f "$root/edge/build/worker/shim.mjs" ]; then
  exit 0
fi
export PATH="$root/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$HOME/.cargo/bin/wasm-bindgen}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$root/node_modules/.bin/wasm-opt}"
export ESBUILD_BIN="${ESBUILD_BIN:-$root/node_modules/.bin/esbuild}"
cd "$root/edge"
worker-build --release
