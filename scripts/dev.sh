#!/usr/bin/env bash
# Sets up and runs the whole Vitrine system locally on the embedded defaults:
# simulated shop → lake (./.vitrine/lake) → compact → train → publish → the worker in workerd
# (wrangler dev, local R2 + Queue) serving on http://127.0.0.1:8787. Ctrl-C stops it.
# Events you POST land in the worker's local R2 lake; scripts/retrain.sh pulls them into the
# local lake, retrains and publishes, and the worker picks the new model up.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
source scripts/env.sh

port=${VITRINE_PORT:-8787}
state=${VITRINE_STATE:-$root/.vitrine}
lake="file://$state/lake"
models="file://$state/models"
mkdir -p "$state/artifacts"
[ -s "$state/admin-key" ] || od -An -tx1 -N16 /dev/urandom | tr -d ' \n' > "$state/admin-key"
export VITRINE_ADMIN_KEY=$(cat "$state/admin-key")
# Keyed pseudonyms (worker PSEUDONYM_KEY = trainer VITRINE_PSEUDONYM_KEY) and the PII column key.
[ -s "$state/pseudonym-key" ] || od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$state/pseudonym-key"
[ -s "$state/pii-key" ] || od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$state/pii-key"
export VITRINE_PSEUDONYM_KEY=$(cat "$state/pseudonym-key") VITRINE_PII_KEY=$(cat "$state/pii-key")

echo "==> building the worker and the trainer" >&2
bash scripts/build-edge.sh
cargo build --release -p trainer --locked
trainer="$root/target/release/trainer"

if [ ! -d "$state/lake/raw/events" ]; then
  echo "==> simulating an electronics shop into $lake" >&2
  "$trainer" simulate --lake "$lake"
fi
"$trainer" compact --lake "$lake"
"$trainer" train --lake "$lake" --models "$models" --out "$state/artifacts/model.bin"
"$trainer" publish --artifact "$state/artifacts/model.bin" --models "$models"

echo "==> starting the worker on http://127.0.0.1:$port" >&2
VITRINE_SKIP_BUILD=1 wrangler dev --local --ip 127.0.0.1 --port "$port" \
  --persist-to "$state/wrangler" --show-interactive-dev-session=false \
  --var "ADMIN_KEY:$VITRINE_ADMIN_KEY" --var "PSEUDONYM_KEY:$VITRINE_PSEUDONYM_KEY" --var MODEL_REFRESH_SECONDS:5 &
wrangler_pid=$!
trap 'kill $wrangler_pid 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1 && break
  sleep 0.5
done
# Seed the worker's local R2 models bucket through its admin API (in production the trainer
# publishes straight to R2 with --models s3://...).
"$trainer" publish --artifact "$state/artifacts/model.bin" --models "$models" \
  --worker "http://127.0.0.1:$port" --admin-key "$VITRINE_ADMIN_KEY"
# The BI tables and the dashboard's data.
"$trainer" kpis --lake "$lake" --models "$models" \
  --worker "http://127.0.0.1:$port" --admin-key "$VITRINE_ADMIN_KEY" >/dev/null

item=$(curl -fsS "http://127.0.0.1:$port/v1/recommendations?k=1" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
now=$(date +%s000)
cat <<MSG

Vitrine is running on http://127.0.0.1:$port  (admin key in $state/admin-key)
  demo shop:  http://127.0.0.1:$port/demo/
  dashboard:  http://127.0.0.1:$port/admin/

  curl -s 'http://127.0.0.1:$port/v1/model'
  curl -s 'http://127.0.0.1:$port/v1/recommendations?anonymous_id=a1&k=5'
  curl -s 'http://127.0.0.1:$port/v1/recommendations?category=electronics.smartphone&k=5'
  curl -s 'http://127.0.0.1:$port/v1/items/$item/similar?k=5'
  curl -s -X POST 'http://127.0.0.1:$port/v1/events' -H 'content-type: application/json' \\
    -d '{"events":[{"event_id":"demo-1","type":"view","anonymous_id":"a1","session_id":"s1","timestamp":$now,"item_id":"$item"}]}'

Retrain from what the worker collected:  scripts/retrain.sh
MSG
wait $wrangler_pid
