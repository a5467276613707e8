#!/usr/bin/env bash
# Load (not CI): the worker in workerd (wrangler dev) under a mixed load from wrk for DURATION
# (default 5m): 80% reads (for-you 35%, similar items 25%, search 20%) and 20% event batches of
# 10 views with distinct event ids, CONNECTIONS (default 16) connections on 2 threads. Reports
# req/s, p50/p99 and the error rate, then pulls the worker's lake bucket into a lake dir, compacts
# it and accounts for every event: events in the lake after dedup = events the worker accepted
# (lost = acknowledged events missing; duplicates = raw lines - distinct ids, removed by
# compaction; batches in flight when wrk stops may be stored without wrk reading the 202).
# Needs wrk (installed with apt-get when missing). Prints Markdown for docs/reliability.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/env.sh
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
duration=${DURATION:-5m}
conns=${CONNECTIONS:-16}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -- -"$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work" || true; }
trap cleanup EXIT

bash scripts/build-edge.sh >/dev/null
cargo build --release -p trainer --locked -q
trainer="${CARGO_TARGET_DIR:-$root/target}/release/trainer"
export VITRINE_PSEUDONYM_KEY=load-pseudonym-key-0123456789 RUST_LOG=warn

# A model to serve: a simulated shop, compacted and trained.
lake="file://$work/lake"
$trainer simulate --lake "$lake" --events 200000 --users 5000 --items 5000 --days 10 >/dev/null
$trainer compact --lake "$lake" >/dev/null
$trainer train --lake "$lake" --models "file://$work/models" --out "$work/model.bin" --factors 32 >/dev/null

port=8831
export VITRINE_SKIP_BUILD=1 WRANGLER_SEND_METRICS=false CI=true NO_COLOR=1
setsid node_modules/.bin/wrangler dev --local --ip 127.0.0.1 --port "$port" --inspector-port $((port + 1)) \
  --show-interactive-dev-session=false --persist-to "$work/state" --var ADMIN_KEY:bench-admin-key-0123456789abcdef-0123 --var DEV_MODE:1 --var GLOBAL_RATE_LIMITS:off \
  --var "PSEUDONYM_KEY:$VITRINE_PSEUDONYM_KEY" --var MODEL_REFRESH_SECONDS:5 \
  --var RATE_LIMIT_PER_IP:1000000000 --var RATE_LIMIT_PER_KEY:1000000000 >"$work/wrangler.log" 2>&1 &
pids+=($!)
url="http://127.0.0.1:$port"
for _ in $(seq 1 180); do curl -sf "$url/v1/health" >/dev/null && break; sleep 0.5; done
$trainer publish --artifact "$work/model.bin" --models "file://$work/models" --worker "$url" --admin-key bench-admin-key-0123456789abcdef-0123 --force >/dev/null
until curl -sf "$url/v1/recommendations?anonymous_id=warm-shopper-1a2b3c4d5e6f&k=10" >/dev/null; do sleep 0.5; done

mapfile -t items < <(python3 -c '
import json, sys
for i, l in enumerate(open(sys.argv[1])):
    if i >= 2000: break
    print(json.loads(l)["id"])' "$work/lake/raw/products/simulated.ndjson")
for _ in $(seq 1 20); do curl -sf "$url/v1/recommendations?anonymous_id=warm-shopper-1a2b3c4d5e6f&k=10" >/dev/null; done

wrk -t2 -c"$conns" -d"$duration" --latency -s bench/load.lua "$url" -- "${items[@]}" >"$work/wrk.txt" 2>&1 || true
line=$(grep '^LOAD ' "$work/wrk.txt" || { cat "$work/wrk.txt" >&2; exit 1; })
val() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$line"; }
requests=$(val requests) errors=$(val errors) non2xx=$(val non2xx) rps=$(val rps)
p50=$(val p50_ms) p99=$(val p99_ms) maxms=$(val max_ms) posts=$(val posts) accepted=$(val accepted)

# Drain: pull the worker's lake bucket until the raw event lines stop growing.
pulled="file://$work/pulled"
count() { find "$work/pulled/raw/events" -type f -name '*.ndjson' -exec cat {} + 2>/dev/null | wc -l; }
prev=-1 same=0
for _ in $(seq 1 120); do
  $trainer pull --lake "$pulled" --worker "$url" --admin-key bench-admin-key-0123456789abcdef-0123 >/dev/null
  n=$(count)
  if [ "$n" = "$prev" ] && [ "$n" -ge "$accepted" ]; then same=$((same + 1)); else same=0; fi
  [ "$same" -ge 2 ] && break
  [ "$n" = "$prev" ] && [ "$n" -lt "$accepted" ] && same=$((same + 1)) && [ "$same" -ge 10 ] && break
  prev=$n
  sleep 2
done
raw_lines=$(count)
report=$($trainer compact --lake "$pulled")
in_lake=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["events_out"])' "$report")
dups=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["duplicates_removed"])' "$report")
quarantined=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["quarantined"])' "$report")
sent=$((posts * 10))
# wrk stops with a few batches in flight: the worker may have accepted them without wrk reading
# the answer, so the lake holds between `accepted` and `sent` events, never more than `sent`.
lost=$((accepted > in_lake ? accepted - in_lake : 0))
[ "$in_lake" -le "$sent" ] || { echo "the lake holds $in_lake events, more than the $sent sent" >&2; exit 1; }
err_rate=$(python3 -c "print(f'{100 * ($errors + $non2xx) / max($requests, 1):.3f}')")

cat <<MD
| mixed load, wrangler dev (2 cores), wrk -t2 -c$conns -d$duration | value |
|---|---|
| requests | $requests ($posts event batches) |
| req/s | $rps |
| latency p50 / p99 / max | $p50 / $p99 / $maxms ms |
| errors (socket + non-2xx) | $errors + $non2xx ($err_rate %) |
| events sent / acknowledged (202 read by wrk) | $sent / $accepted |
| raw lines in the lake | $raw_lines |
| events in the lake after compaction | $in_lake |
| lost (accepted - in lake) | $lost |
| duplicates removed by compaction | $dups |
| quarantined | $quarantined |
MD
[ "$lost" = 0 ] || { echo "LOST $lost EVENTS" >&2; exit 1; }
