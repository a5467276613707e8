#!/usr/bin/env bash
# Scale: the nightly pipeline end to end on a simulated shop of EVENTS events (default 100M),
# USERS shoppers (1M) and ITEMS products (200k): simulate → compact → train (with the holdout
# evaluation and, at this catalog size, the IVF index) → publish. Prints wall time and peak RSS
# of each step (GNU time) as a Markdown table; the goal is < 15 min and < 8 GiB for
# compact + train + publish on a 2-core machine.
#   EVENTS=10000000 USERS=100000 ITEMS=50000 bash bench/scale.sh   # a smaller run
#   SCALE_DIR=/path REUSE_RAW=1 bash bench/scale.sh                 # keep the dir, skip simulate
#   ENGINE=ballista://127.0.0.1:50050 bash bench/scale.sh           # lake jobs on a cluster
# Then, unless NIGHTLY=0, the next night: one more simulated day (`simulate --from-date`),
# compacted, trained against the published model (the holdout starts where it ended and its
# item vectors start the holdout fit) and published; the goal is < 3 min.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
events=${EVENTS:-100000000}
users=${USERS:-1000000}
items=${ITEMS:-200000}
days=${DAYS:-30}
if [ -n "${SCALE_DIR:-}" ]; then
  work=$SCALE_DIR; mkdir -p "$work"   # kept for inspection
else
  work=$(mktemp -d -p "$root/bench" scale.XXXX); trap 'rm -rf "$work"' EXIT
fi
cargo build --release -p trainer --locked -q
trainer="${CARGO_TARGET_DIR:-$root/target}/release/trainer"
lake="file://$work/lake"
models="file://$work/models"

step() { # name, command...
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" > "$work/$name.json" 2> "$work/$name.log" || {
    echo "step $name failed:" >&2; tail -20 "$work/$name.log" >&2; exit 1; }
  read -r secs kib < "$work/time.txt"
  printf '| %s | %.1f s | %.2f GiB |\n' "$name" "$secs" "$(echo "$kib / 1048576" | bc -l)" >> "$work/table.md"
  echo "$name: $secs s, $kib KiB" >&2
}

: > "$work/table.md"
if [ "${REUSE_RAW:-0}" = 1 ] && [ -d "$work/lake/raw/events" ]; then
  # Re-measure compact + train + publish on the same simulated raw events (without a night
  # simulated by an earlier run).
  rm -rf "$work/lake/tables" "$work/models"
  while [ "$(ls "$work/lake/raw/events" | wc -l)" -gt "$days" ]; do
    newest=$(ls "$work/lake/raw/events" | sort | tail -1)
    rm -rf "$work/lake/raw/events/$newest" "$work/lake/raw/serves/$newest"
  done
else
  step simulate "$trainer" simulate --lake "$lake" --events "$events" --users "$users" --items "$items" --days "$days"
fi
engine=(--engine "${ENGINE:-local}")
step compact "$trainer" compact --lake "$lake" "${engine[@]}"
step train "$trainer" train --lake "$lake" --models "$models" --out "$work/model.bin" "${engine[@]}"
step publish "$trainer" publish --artifact "$work/model.bin" --models "$models"
if [ "${NIGHTLY:-1}" = 1 ]; then
  # The day after the last simulated one, as a nightly run sees it.
  last=$(ls "$work/lake/raw/events" | sed -n 's/^dt=//p' | sort | tail -1)
  next=$(date -u -d "$last + 1 day" +%F)
  rm -rf "$work/lake/raw/events/dt=$next" "$work/lake/raw/serves/dt=$next"
  "$trainer" simulate --lake "$lake" --events $((events * (days + 1) / days)) --users "$users" \
    --items "$items" --days $((days + 1)) --end-date "$next" --from-date "$next" > "$work/night-simulate.json"
  step night-compact "$trainer" compact --lake "$lake" "${engine[@]}"
  step night-train "$trainer" train --lake "$lake" --models "$models" --out "$work/night.bin" "${engine[@]}"
  step night-publish "$trainer" publish --artifact "$work/night.bin" --models "$models"
fi

echo "Scale run: $events events, $users shoppers, $items products, $days days ($(nproc) cores, engine ${ENGINE:-local})"
echo
echo "| step | wall time | peak RSS |"
echo "|---|---|---|"
cat "$work/table.md"
python3 - "$work" <<'PY'
import json, sys, os
w = sys.argv[1]
total, night = 0.0, 0.0
for line in open(os.path.join(w, "table.md")):
    name, secs = line.split("|")[1].strip(), float(line.split("|")[2].split()[0])
    if name.startswith("night-"):
        night += secs
    elif name != "simulate":
        total += secs
print(f"\ncompact + train + publish: {total / 60:.1f} min")
if night:
    print(f"the next night, compact + train + publish: {night / 60:.1f} min")
keys = ('ndcg@10', 'baseline_popularity_ndcg@10', 'baseline_item_knn_ndcg@10', 'live_ndcg@10', 'test_shoppers',
        'session_hr@20', 'session_mrr@20')
for run in ("train", "night-train"):
    path = os.path.join(w, f"{run}.json")
    if not os.path.exists(path):
        continue
    t = json.load(open(path))
    m = t["manifest"]
    print(f"{run}: artifact {m['size'] / 1e6:.1f} MB ({m['size'] / max(1, m['counts']['items']):.0f} bytes/item), "
          f"holdout started from: {t.get('holdout_started_from')}, "
          f"live model stood in for the holdout model: {t.get('holdout_model_reused')}, holdout: "
          + json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in m['metrics'].items() if k in keys}))
    if isinstance(t.get("factors"), dict) and "ivf" in t["factors"]:
        print(f"{run} IVF: " + json.dumps(t["factors"]["ivf"]))
PY
