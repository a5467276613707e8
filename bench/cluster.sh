#!/usr/bin/env bash
# The lake's SQL on a Ballista cluster against the embedded engine, same lake, same run:
# simulate EVENTS events (default 10M; USERS 100k, ITEMS 20k, DAYS 60), compact, then time
# `trainer kpis` (every KPI table, the dashboard queries, segment and forecast inputs) with
# `--engine local`, and with `--engine ballista://…` on a scheduler plus 1 and then 2 executors
# (`trainer cluster …`, loopback, --concurrency 1 each: this machine has 2 cores). Checks that
# every table the cluster wrote equals the embedded engine's row for row. Prints a Markdown
# table (wall time, ratio to local); record it in docs/benchmarks.md.
#   CLUSTER_DIR=/path REUSE=1 bash bench/cluster.sh   # keep the dir; reuse its compacted lake
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
events=${EVENTS:-10000000}
users=${USERS:-100000}
items=${ITEMS:-20000}
days=${DAYS:-60}
if [ -n "${CLUSTER_DIR:-}" ]; then
  work=$CLUSTER_DIR; mkdir -p "$work"
else
  work=$(mktemp -d -p "$root/bench" cluster.XXXX); trap 'rm -rf "$work"' EXIT
fi
cargo build --release -p trainer --locked -q
trainer="${CARGO_TARGET_DIR:-$root/target}/release/trainer"
python=python3; [ -x "$root/.venv/bin/python" ] && python="$root/.venv/bin/python"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap 'cleanup; [ -z "${CLUSTER_DIR:-}" ] && rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

if [ "${REUSE:-0}" != 1 ] || [ ! -d "$work/lake/tables/events" ]; then
  rm -rf "$work/lake"
  "$trainer" simulate --lake "file://$work/lake" --events "$events" --users "$users" --items "$items" --days "$days" > /dev/null 2> "$work/simulate.log"
  "$trainer" compact --lake "file://$work/lake" > /dev/null 2> "$work/compact.log"
fi

run_kpis() { # name, lake dir, engine
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$trainer" kpis --lake "file://$2" --engine "$3" > "$work/$1.json" 2> "$work/$1.log" || {
    echo "kpis on $1 failed:" >&2; tail -20 "$work/$1.log" >&2; exit 1; }
  read -r secs kib < "$work/time.txt"
  echo "$secs $kib"
}

echo "| engine | kpis wall | ratio to local | trainer peak RSS | tables equal to local |" > "$work/table.md"
echo "|---|---|---|---|---|" >> "$work/table.md"
read -r local_s local_kib < <(run_kpis local "$work/lake" local)
printf '| local (embedded DataFusion, 2 cores) | %.1f s | 1.00 | %.2f GiB | - |\n' "$local_s" "$(echo "$local_kib / 1048576" | bc -l)" >> "$work/table.md"
"$python" tests/bi/table_rows.py "$work/lake" --ignore run_at > "$work/local-rows.json"

for n in 1 2; do
  cl="$work/lake-$n"; rm -rf "$cl"; cp -r "$work/lake" "$cl"; rm -rf "$cl/tables/kpi"
  sp=$(free_port)
  "$trainer" cluster scheduler --lake "file://$cl" --bind "127.0.0.1:$sp" > "$work/scheduler-$n.log" 2>&1 & pids+=($!)
  wait_port "$sp"
  for i in $(seq 1 "$n"); do
    fp=$(free_port); gp=$(free_port); mkdir -p "$work/shuffle-$n-$i"
    "$trainer" cluster executor --lake "file://$cl" --scheduler "127.0.0.1:$sp" --port "$fp" --grpc-port "$gp" \
      --concurrency 1 --work-dir "$work/shuffle-$n-$i" > "$work/executor-$n-$i.log" 2>&1 & pids+=($!)
    wait_port "$fp"
  done
  sleep 3
  read -r s kib < <(run_kpis "ballista-$n" "$cl" "ballista://127.0.0.1:$sp")
  "$python" tests/bi/table_rows.py "$cl" --ignore run_at > "$work/cluster-$n-rows.json"
  same=$(cmp -s "$work/local-rows.json" "$work/cluster-$n-rows.json" && echo yes || echo NO)
  shuffle=$(du -sb "$work"/shuffle-"$n"-* 2>/dev/null | awk '{s+=$1} END {print s+0}')
  printf '| ballista, %d executor(s) × 1 task slot | %.1f s | %.2f | %.2f GiB | %s |\n' "$n" "$s" "$(echo "$s / $local_s" | bc -l)" "$(echo "$kib / 1048576" | bc -l)" "$same" >> "$work/table.md"
  printf 'shuffle written with %d executor(s): %d bytes (%.1f bytes per event)\n' "$n" "$shuffle" "$(echo "$shuffle / $events" | bc -l)" >> "$work/notes.md"
  cleanup; pids=()
  sleep 1
done
events_n=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r.get("days"))' "$work/local.json")
echo "events: $events, users: $users, items: $items, days: $days (kpis over $events_n days)"
cat "$work/table.md"
cat "$work/notes.md" 2>/dev/null || true
