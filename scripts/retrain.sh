#!/usr/bin/env bash
# The nightly job, locally (`trainer run`, the library's pipeline::nightly): pull raw events from
# the running worker's R2 lake into the local lake, carry out pending erasures, compact, refresh
# the KPI tables, train, gate, publish to the local models store and to the worker's R2.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/env.sh
port=${VITRINE_PORT:-8787}
state=${VITRINE_STATE:-$root/.vitrine}
export VITRINE_ADMIN_KEY=$(cat "$state/admin-key")
export VITRINE_PSEUDONYM_KEY=$(cat "$state/pseudonym-key") VITRINE_PII_KEY=$(cat "$state/pii-key")
"${CARGO_TARGET_DIR:-$root/target}/local/trainer" run --lake "file://$state/lake" \
  --models "file://$state/models" --out-dir "$state/artifacts" --worker "http://127.0.0.1:$port"
