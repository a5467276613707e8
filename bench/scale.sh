#!/usr/bin/env bash
# Scale: the nightly pipeline end to end on a simulated shop of EVENTS events (default 100M),
# USERS shoppers (1M) and ITEMS products (200k): simulate → compact → train (with the holdout
# evaluation and, at this catalog size, the IVF index) → publish. Prints wall time and peak RSS
# of each step (GNU time) as a Markdown table; the goal is < 15 min and < 8 GiB for
# compact + train + publish on a 2-core machine.
#   EVENTS=10000000 USERS=100000 ITEMS=50000 bash bench/scale.sh   # a smaller run
#   SCALE_DIR=/path REUSE_RAW=1 bash bench/scale.sh                 # keep the dir, skip simulate
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
  # Re-measure compact + train + publish on the same simulated raw events.
  rm -rf "$work/lake/tables" "$work/models"
else
  step simulate "$trainer" simulate --lake "$lake" --events "$events" --users "$users" --items "$items" --days "$days"
fi
step compact "$trainer" compact --lake "$lake"
step train "$trainer" train --lake "$lake" --models "$models" --out "$work/model.bin"
step publish "$trainer" publish --artifact "$work/model.bin" --models "$models"

echo "Scale run: $events events, $users shoppers, $items products, $days days ($(nproc) cores)"
echo
echo "| step | wall time | peak RSS |"
echo "|---|---|---|"
cat "$work/table.md"
python3 - "$work" <<'PY'
import json, sys, os
w = sys.argv[1]
total = 0.0
for line in open(os.path.join(w, "table.md")):
    name, secs = line.split("|")[1].strip(), float(line.split("|")[2].split()[0])
    if name != "simulate":
        total += secs
print(f"\ncompact + train + publish: {total / 60:.1f} min")
t = json.load(open(os.path.join(w, "train.json")))
m = t["manifest"]
print(f"artifact: {m['size'] / 1e6:.1f} MB ({m['size'] / max(1, m['counts']['items']):.0f} bytes/item), "
      f"holdout: " + json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in m['metrics'].items()
                                 if k in ('ndcg@10', 'baseline_popularity_ndcg@10', 'baseline_item_knn_ndcg@10', 'test_shoppers')}))
if isinstance(t.get("factors"), dict) and "ivf" in t["factors"]:
    print("IVF: " + json.dumps(t["factors"]["ivf"]))
PY
