#!/usr/bin/env bash
# Sets up and runs the whole Vitrine system locally on the embedded defaults:
# simulated shop → lake (./.vitrine/lake) → the nightly pipeline (compact, KPIs, train, gate,
# publish) → the worker in workerd (wrangler dev, local R2 + Queue) serving on
# http://127.0.0.1:8787. Ctrl-C stops it.
# Events you POST land in the worker's local R2 lake; scripts/retrain.sh pulls them into the
# local lake, retrains and publishes, and the worker picks the new model up.
# The trainer is built with the `local` profile (Vitrine's crates optimised, dependencies not, no
# LTO: about six minutes the first time on 2 cores); benchmarks use `release` (thin LTO).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
started=$(date +%s)
step() { printf '\033[1m==> [%3ss] %s\033[0m\n' "$(( $(date +%s) - started ))" "$*" >&2; }
fail() { printf '\033[1;31merror: %s\033[0m\n' "$*" >&2; exit 1; }

step "tools (pinned; installed once)"
bash scripts/setup.sh
source scripts/env.sh

port=${VITRINE_PORT:-8787}
state=${VITRINE_STATE:-$root/.vitrine}
lake="file://$state/lake"
models="file://$state/models"
mkdir -p "$state/artifacts"
[ -s "$state/admin-key" ] && [ "$(wc -c < "$state/admin-key")" -ge 32 ] \
  || od -An -tx1 -N24 /dev/urandom | tr -d ' \n' > "$state/admin-key"
export VITRINE_ADMIN_KEY=$(cat "$state/admin-key")
# Keyed pseudonyms (worker PSEUDONYM_KEY = trainer VITRINE_PSEUDONYM_KEY) and the PII column key.
[ -s "$state/pseudonym-key" ] || od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$state/pseudonym-key"
[ -s "$state/pii-key" ] || od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$state/pii-key"
# The shop backend's key for signing logged-in shoppers' ids (the demo asks the worker's
# development-only /v1/dev/shopper-token instead of a backend).
[ -s "$state/shopper-signing-key" ] || od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$state/shopper-signing-key"
export VITRINE_PSEUDONYM_KEY=$(cat "$state/pseudonym-key") VITRINE_PII_KEY=$(cat "$state/pii-key")
export VITRINE_SHOPPER_SIGNING_KEY=$(cat "$state/shopper-signing-key")

step "building the worker (wasm32)"
bash scripts/build-edge.sh
step "building the trainer (profile local; the first build takes about six minutes on 2 cores)"
cargo build --profile local -p trainer --locked
trainer="${CARGO_TARGET_DIR:-$root/target}/local/trainer"

if [ ! -d "$state/lake/raw/events" ]; then
  step "simulating an electronics shop into $lake"
  "$trainer" simulate --lake "$lake" >/dev/null
fi

step "starting the worker on http://127.0.0.1:$port"
VITRINE_SKIP_BUILD=1 wrangler dev --local --ip 127.0.0.1 --port "$port" \
  --persist-to "$state/wrangler" --show-interactive-dev-session=false \
  --var "ADMIN_KEY:$VITRINE_ADMIN_KEY" --var "PSEUDONYM_KEY:$VITRINE_PSEUDONYM_KEY" \
  --var "SHOPPER_SIGNING_KEY:$VITRINE_SHOPPER_SIGNING_KEY" --var DEV_MODE:1 \
  --var MODEL_REFRESH_SECONDS:2 > "$state/worker.log" 2>&1 &
wrangler_pid=$!
trap 'kill $wrangler_pid 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 240); do
  curl -fsS "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1 && break
  kill -0 "$wrangler_pid" 2>/dev/null || fail "the worker exited while starting; its log: $state/worker.log"
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1 \
  || fail "the worker did not answer /v1/health within 120 s; its log: $state/worker.log"

step "nightly pipeline: pull → erasures → compact → KPIs → train → gate → publish (store + worker)"
"$trainer" run --lake "$lake" --models "$models" --out-dir "$state/artifacts" \
  --worker "http://127.0.0.1:$port" --admin-key "$VITRINE_ADMIN_KEY" > "$state/run.json"
version=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).published.version)' < "$state/run.json")
[ -n "$version" ] || fail "the pipeline reported no published version; see $state/run.json"
step "the dashboard's data"
"$trainer" kpis --lake "$lake" --models "$models" \
  --worker "http://127.0.0.1:$port" --admin-key "$VITRINE_ADMIN_KEY" >/dev/null

step "waiting for the worker to serve model $version"
served=""
for _ in $(seq 1 120); do
  served=$(curl -fsS "http://127.0.0.1:$port/v1/model" 2>/dev/null | sed -n 's/.*"version":"\([^"]*\)".*/\1/p')
  [ "$served" = "$version" ] && break
  sleep 0.5
done
[ "$served" = "$version" ] || fail "the worker still serves '${served:-no model}' 60 s after $version was published; \
its /v1/model says: $(curl -sS "http://127.0.0.1:$port/v1/model") — log: $state/worker.log"

item=$(curl -fsS "http://127.0.0.1:$port/v1/recommendations?k=1" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
now=$(date +%s000)
# Anonymous ids are bearer secrets: random, at least 16 characters.
anon="anon-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
step "ready"
cat <<MSG

Vitrine is running on http://127.0.0.1:$port  (model $version; admin key in $state/admin-key)
  demo shop:  http://127.0.0.1:$port/demo/   (as a logged-in customer: /demo/?user=customer-1)
  dashboard:  http://127.0.0.1:$port/admin/

  curl -s 'http://127.0.0.1:$port/v1/model'
  curl -s 'http://127.0.0.1:$port/v1/recommendations?anonymous_id=$anon&k=5'
  curl -s 'http://127.0.0.1:$port/v1/recommendations?category=electronics.smartphone&k=5'
  curl -s 'http://127.0.0.1:$port/v1/items/$item/similar?k=5'
  curl -s -X POST 'http://127.0.0.1:$port/v1/events' -H 'content-type: application/json' \\
    -d '{"events":[{"event_id":"demo-1","type":"view","anonymous_id":"$anon","session_id":"s1","timestamp":$now,"item_id":"$item"}]}'
  # a logged-in customer: the shop's backend signs the id (here: trainer sign-shopper)
  "$trainer" sign-shopper --user-id customer-1

Retrain from what the worker collected:  scripts/retrain.sh
Worker log: $state/worker.log
MSG
wait $wrangler_pid
