#!/usr/bin/env bash
# BI tables at scale: simulate EVENTS events (default 10M; USERS 100k shoppers, ITEMS 20k
# products, DAYS 60), compact, then time `trainer kpis` over every day (all KPI tables, customer
# segments and forecasts) and a nightly-style re-run of the last 8 days. Prints wall time and peak
# RSS (GNU time) and the segment / forecast figures as Markdown; record it in docs/benchmarks.md.
#   KPI_DIR=/path REUSE=1 bash bench/kpis.sh   # keep the dir; reuse its compacted lake
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
events=${EVENTS:-10000000}
users=${USERS:-100000}
items=${ITEMS:-20000}
days=${DAYS:-60}
if [ -n "${KPI_DIR:-}" ]; then
  work=$KPI_DIR; mkdir -p "$work"
else
  work=$(mktemp -d -p "$root/bench" kpis.XXXX); trap 'rm -rf "$work"' EXIT
fi
cargo build --release -p trainer --locked -q
trainer="${CARGO_TARGET_DIR:-$root/target}/release/trainer"
lake="file://$work/lake"

step() { # name, command...
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" > "$work/$name.json" 2> "$work/$name.log" || {
    echo "step $name failed:" >&2; tail -20 "$work/$name.log" >&2; exit 1; }
  read -r secs kib < "$work/time.txt"
  printf '| %s | %.1f s | %.2f GiB |\n' "$name" "$secs" "$(echo "$kib / 1048576" | bc -l)" >> "$work/table.md"
  echo "$name: $secs s, $kib KiB" >&2
}

: > "$work/table.md"
if [ "${REUSE:-0}" != 1 ] || [ ! -d "$work/lake/tables/events" ]; then
  step simulate "$trainer" simulate --lake "$lake" --events "$events" --users "$users" --items "$items" --days "$days"
  step compact "$trainer" compact --lake "$lake"
fi
step "kpis (all $days days)" "$trainer" kpis --lake "$lake"
cp "$work/kpis (all $days days).json" "$work/kpis-all.json"
last=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["to"])' "$work/kpis-all.json")
from=$(python3 -c 'import datetime,sys; print((datetime.date.fromisoformat(sys.argv[1]) - datetime.timedelta(days=7)).isoformat())' "$last")
step "kpis (last 8 days, nightly)" "$trainer" kpis --lake "$lake" --from "$from" --to "$last"

echo "| $events events, $users shoppers, $items products, $days days | wall | peak RSS |"
echo "|---|---|---|"
cat "$work/table.md"
python3 - "$work/kpis-all.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
m = r["models"]
rows = {t["table"]: t["rows"] for t in r["tables"]}
print()
print("Rows: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()))
print(f"Segments: {m['segments']} over {m['buyers']:,} buyers, silhouette {m['silhouette']:.3f}")
print(f"Forecasts: {m['categories']} categories; backtest MAPE (last 14 days) regression {m['model_mape']:.3f} vs "
      f"seasonal-naive {m['naive_mape']:.3f}; regression used for {m['regression_used']} of {m['categories']}, "
      f"MAPE of what is used {m['chosen_mape']:.3f}")
PY
