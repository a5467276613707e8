#!/usr/bin/env bash
# Foundation figures: worker wasm size (raw/gzip), cold `wrangler dev` start, /v1/recommendations
# latency on loopback (1,000 sequential requests, with a hello-world-equivalent floor: /v1/health),
# and compaction throughput on a simulated shop of EVENTS events (default 1,000,000).
# Prints a Markdown table; docs/benchmarks.md records its output.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh >/dev/null
source scripts/env.sh
command -v hey >/dev/null || { apt-get update -qq && apt-get install -y -qq hey; }
events=${EVENTS:-1000000}
work=$(mktemp -d)
trap 'kill -s TERM -- -$wpid 2>/dev/null || true; rm -rf "$work"' EXIT

bash scripts/build-edge.sh >/dev/null 2>&1
cargo build --release -p trainer --locked -q
trainer="${CARGO_TARGET_DIR:-$root/target}/release/trainer"
wasm=edge/build/index_bg.wasm
raw=$(stat -c %s "$wasm"); gz=$(gzip -9 -c "$wasm" | wc -c)

lake="file://$work/lake"
"$trainer" simulate --lake "$lake" --events "$events" --users $((events / 50)) --items 20000 >/dev/null 2>&1
start=$(date +%s.%N)
"$trainer" compact --lake "$lake" >/dev/null 2>&1
end=$(date +%s.%N)
compact_s=$(echo "$end - $start" | bc -l)
"$trainer" train --lake "$lake" --models "file://$work/models" --out "$work/model.bin" >/dev/null 2>&1

port=$((20000 + RANDOM % 20000))
key=bench-admin-key-0123456789abcdef-0123
t0=$(date +%s.%N)
setsid env VITRINE_SKIP_BUILD=1 wrangler dev --local --ip 127.0.0.1 --port "$port" --inspector-port $((port + 1)) \
  --persist-to "$work/wrangler" --show-interactive-dev-session=false --var "ADMIN_KEY:$key" --var DEV_MODE:1 --var GLOBAL_RATE_LIMITS:off --var "PSEUDONYM_KEY:bench-pseudonym-key-0123" >"$work/wrangler.log" 2>&1 &
wpid=$!
until curl -fsS "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1; do sleep 0.05; done
t1=$(date +%s.%N)
cold_s=$(echo "$t1 - $t0" | bc -l)
"$trainer" publish --artifact "$work/model.bin" --models "file://$work/models" --worker "http://127.0.0.1:$port" --admin-key "$key" >/dev/null 2>&1
until curl -fsS "http://127.0.0.1:$port/v1/recommendations?k=10" >/dev/null 2>&1; do sleep 0.2; done

lat() { hey -n 1000 -c 1 "$1" | awk '/ 50% in/{p50=$3} / 99% in/{p99=$3} /Requests\/sec/{rps=$2} END{printf "%.2f|%.2f|%.0f", p50*1000, p99*1000, rps}'; }
floor=$(lat "http://127.0.0.1:$port/v1/health")
recs=$(lat "http://127.0.0.1:$port/v1/recommendations?anonymous_id=anon-shopper-5a6b7c8d9e0f&k=10")

printf '| figure | value |\n|---|---|\n'
printf '| worker wasm raw / gzip | %s KiB / %s KiB |\n' $((raw / 1024)) $((gz / 1024))
printf '| cold `wrangler dev` start to first 200 | %.2f s |\n' "$cold_s"
printf '| /v1/health (runner floor) p50 / p99 / req/s | %s ms / %s ms / %s |\n' $(echo "$floor" | tr '|' ' ')
printf '| /v1/recommendations k=10 p50 / p99 / req/s | %s ms / %s ms / %s |\n' $(echo "$recs" | tr '|' ' ')
printf '| compaction of %s simulated events | %.2f s = %.0f events/s |\n' "$events" "$compact_s" "$(echo "$events / $compact_s" | bc -l)"
