#!/usr/bin/env bash
# Cold model loads in workerd (wrangler dev), repeated: a fresh isolate's first request minus a
# warm one, COLD_RUNS times (default 5) with the artifact in the data centre's Workers Cache and
# as many times from R2 (cache emptied before each start), for each size in COLD_SIZES (default
# 10000,100000). Prints the median and the range. The synthetic artifacts are bench/edge.sh's
# (the scoring benchmark's generator). Prints Markdown; record it in docs/benchmarks.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/env.sh
runs=${COLD_RUNS:-5}
sizes=${COLD_SIZES:-10000,100000}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -- -"$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work" || true; }
trap cleanup EXIT
arts="$root/bench/out/edge"
source bench/edge-lib.sh

bash scripts/build-edge.sh >/dev/null
# The trainer only publishes here: any build of it will do.
[ -x "${CARGO_TARGET_DIR:-$root/target}/release/trainer" ] || cargo build --release -p trainer --locked -q
missing=()
for n in ${sizes//,/ }; do [ -f "$arts/model-$n.bin" ] || missing+=("$n"); done
if [ ${#missing[@]} -gt 0 ]; then
  mkdir -p "$arts"
  SCORING_WRITE="$arts" SCORING_SIZES=$(IFS=,; echo "${missing[*]}") cargo bench -p trainer --bench scoring --locked -q >/dev/null
fi

summary() { python3 -c '
import statistics, sys
xs = sorted(float(x) for x in sys.argv[1:])
print(f"{statistics.median(xs):.0f} ms ({xs[0]:.0f}–{xs[-1]:.0f})")' "$@"; }

echo "| items | artifact | from the Workers Cache, median (range) | from R2, median (range) |"
echo "|---|---|---|---|"
start_vitrine
until curl -sf http://127.0.0.1:8821/v1/health >/dev/null; do sleep 0.5; done
for n in ${sizes//,/ }; do
  publish "$n"
  cache=() r2=()
  for _ in $(seq 1 "$runs"); do
    stop_vitrine; start_vitrine
    read -r _ _ load <<<"$(cold_once)"
    [ "$(fetched_from)" = cache ] || { echo "expected a cache hit at $n items" >&2; exit 1; }
    cache+=("$load")
  done
  for _ in $(seq 1 "$runs"); do
    stop_vitrine; rm -rf "$work/state/v3/cache"; start_vitrine
    read -r _ _ load <<<"$(cold_once)"
    [ "$(fetched_from)" = r2 ] || { echo "expected an R2 read at $n items" >&2; exit 1; }
    r2+=("$load")
  done
  size=$(python3 -c 'import os,sys; print(f"{os.path.getsize(sys.argv[1]) / 1e6:.1f} MB")' "$arts/model-$n.bin")
  echo "| $n | $size | $(summary "${cache[@]}") | $(summary "${r2[@]}") |"
done
