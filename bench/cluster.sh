#!/usr/bin/env bash
# The lake's SQL on a Ballista cluster against the embedded engine, same lake, same run:
# simulate EVENTS events (default 10M; USERS 100k, ITEMS 20k, DAYS 60), compact, then time
# `trainer kpis` (every KPI table, the dashboard queries, segment and forecast inputs) with
# `--engine local`, and with `--engine ballista://…` on a scheduler plus 1 and then 2 executors
# (`trainer cluster …` on loopback, --concurrency 1 each: this machine has 2 cores). Checks that
# every KPI table the cluster wrote equals the embedded engine's row for row (DuckDB), and samples the
# executors' shuffle directories during the run (Ballista deletes a job's shuffle files once it
# succeeds) for the peak shuffle bytes. Before that, compaction of the same raw files: the
# hand-written path, the DataFusion plan on the embedded engine (`--plan`) and on each cluster,
# each into a fresh lake, its events table compared with the hand-written one row for row. After
# it, `trainer train` on each (co-view pairs counted on the cluster), with per-stage seconds.
# Prints three Markdown tables; record them in docs/benchmarks.md.
#   CLUSTER_DIR=/path REUSE=1 bash bench/cluster.sh   # keep the dir; reuse its compacted lake
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
events=${EVENTS:-10000000}
users=${USERS:-100000}
items=${ITEMS:-20000}
days=${DAYS:-60}
mkdir -p "$root/bench/out"
if [ -n "${CLUSTER_DIR:-}" ]; then
  work=$CLUSTER_DIR; mkdir -p "$work"
else
  work=$(mktemp -d -p "$root/bench/out" cluster.XXXX)
fi
[ "${VITRINE_SKIP_BUILD:-0}" = 1 ] || cargo build --release -p trainer --locked -q
trainer="${CARGO_TARGET_DIR:-$root/target}/release/trainer"
python=python3; [ -x "$root/.venv/bin/python" ] && python="$root/.venv/bin/python"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'cleanup; if [ -z "${CLUSTER_DIR:-}" ]; then rm -rf "$work"; fi' EXIT

# three distinct free loopback ports
ports() { python3 -c 'import socket
ss=[socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1",0))
print(*[s.getsockname()[1] for s in ss])'; }
wait_port() { for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

if [ "${REUSE:-0}" != 1 ] || [ ! -d "$work/lake/tables/events" ]; then
  rm -rf "$work/lake"
  "$trainer" simulate --lake "file://$work/lake" --events "$events" --users "$users" --items "$items" --days "$days" > "$work/simulate.json" 2> "$work/simulate.log"
  "$trainer" compact --lake "file://$work/lake" > "$work/compact.json" 2> "$work/compact.log"
fi
rows=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["events_out"])' "$work/compact.json")

run_kpis() { # name, lake dir, engine → "seconds kib"
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$trainer" kpis --lake "file://$2" --engine "$3" > "$work/$1.json" 2> "$work/$1.log" || {
    echo "kpis on $1 failed:" >&2; tail -20 "$work/$1.log" >&2; return 1; }
  cat "$work/time.txt"
}
gib() { echo "$1 / 1048576" | bc -l; }

# Peak bytes in the executors' shuffle directories, sampled every 0.5 s while a job runs
# (Ballista deletes a job's shuffle files after it succeeds).
sample_shuffle() { # cluster size, name
  ( peak=0; while :; do b=$( (du -sb "$work"/shuffle-"$1"-* 2>/dev/null || true) | awk '{s+=$1} END {print s+0}')
      [ "$b" -gt "$peak" ] && peak=$b; echo "$peak" > "$work/shuffle-peak-$2"; sleep 0.5; done ) & sampler=$!
}
stop_sampling() { kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true; }

# Compaction: a fresh lake per run with the same raw files (hard links), timed end to end.
fresh_raw() { rm -rf "$1"; mkdir -p "$1"; cp -al "$work/lake/raw" "$1/raw"; }
run_compact() { # name, lake dir, args… → "seconds kib"
  local name=$1 dir=$2; shift 2
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$trainer" compact --lake "file://$dir" "$@" > "$work/compact-$name.json" 2> "$work/compact-$name.log" || {
    echo "compact on $name failed:" >&2; tail -20 "$work/compact-$name.log" >&2; return 1; }
  cat "$work/time.txt"
}
same_events() { # lake dir → "yes (n rows)" | "NO: …"
  "$python" tests/bi/table_rows.py "$work/c-native" --inputs yes --compare "$1" > "$1.compare.json"
  python3 -c 'import json,sys
r=json.load(open(sys.argv[1]))
e=r.get("events",{})
print("yes (%d rows)" % e["rows"] if e.get("differing") == 0 else "NO: %s" % r)' "$1.compare.json"
}
compact_row() { # label, seconds, kib, same, [shuffle bytes]
  local shuffle=-
  [ -n "${5:-}" ] && shuffle=$(printf '%.0f MB (%.1f B/event)' "$(echo "$5 / 1000000" | bc -l)" "$(echo "$5 / $rows" | bc -l)")
  printf '| %s | %.1f s | %.0f | %.0f | %.2f | %.2f GiB | %s | %s |\n' "$1" "$2" "$(echo "$rows / $2" | bc -l)" \
    "$(echo "$rows / $2 / 2" | bc -l)" "$(echo "$2 / $native_s" | bc -l)" "$(gib "$3")" "$shuffle" "$4" >> "$work/compact.md"
}
{
  echo "| compaction of $rows events | wall | events/s | events/s per core (2 cores) | vs hand-written | trainer peak RSS | peak shuffle on disk | events table equal to hand-written |"
  echo "|---|---|---|---|---|---|---|---|"
} > "$work/compact.md"
fresh_raw "$work/c-native"
read -r native_s native_kib <<< "$(run_compact native "$work/c-native")"
compact_row "hand-written (in the trainer)" "$native_s" "$native_kib" "-"
fresh_raw "$work/c-plan"
read -r s kib <<< "$(run_compact plan "$work/c-plan" --plan)"
compact_row "DataFusion plan, embedded engine" "$s" "$kib" "$(same_events "$work/c-plan")"

# Training: `trainer train` on the compacted lake with the embedded engine and on each cluster
# (co-view pairs counted on the executors); per-stage seconds from the run's log.
stages() { # log → "read holdout final coviews"
  python3 - "$1" <<'PY'
import re, sys
t = {"read the lake": 0.0, "holdout model built": 0.0, "final model built": 0.0, "co-views": 0.0}
for line in open(sys.argv[1], errors="replace"):
    line = re.sub(r"\x1b\[[0-9;]*m", "", line)  # the log's colours
    m = re.search(r"seconds=([0-9.]+)", line)
    if not m:
        continue
    s = float(m.group(1))
    if "co-views counted" in line:
        t["co-views"] += s
    for k in ("read the lake", "holdout model built", "final model built"):
        if k in line:
            t[k] += s
print(" ".join("%.1f" % v for v in t.values()))
PY
}
run_train() { # name, lake dir, engine → "seconds kib"
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$trainer" train --lake "file://$2" --models "file://$work/models-$1" --out "$work/model-$1.bin" --engine "$3" > "$work/train-$1.json" 2> "$work/train-$1.log" || {
    echo "train on $1 failed:" >&2; tail -20 "$work/train-$1.log" >&2; return 1; }
  cat "$work/time.txt"
}
train_row() { # label, name, seconds, kib
  read -r rd ho fi cv <<< "$(stages "$work/train-$2.log")"
  local on; on=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("co_views_on_engine"))' "$work/train-$2.json")
  printf '| %s | %.1f s | %.2f GiB | %s s | %s s | %s s | %s s (on the engine: %s) |\n' "$1" "$3" "$(gib "$4")" "$rd" "$ho" "$fi" "$cv" "$on" >> "$work/train.md"
}
{
  echo "| training (\`trainer train\`) | wall | trainer peak RSS | read the lake | holdout model | final model | co-view counting |"
  echo "|---|---|---|---|---|---|---|"
} > "$work/train.md"
read -r s kib <<< "$(run_train local "$work/lake" local)"
train_row "local (embedded DataFusion)" local "$s" "$kib"

{
  echo "| engine | kpis wall | vs local | events/s | job process peak RSS | peak shuffle on disk | tables equal to local |"
  echo "|---|---|---|---|---|---|---|"
} > "$work/table.md"
out=$(run_kpis local "$work/lake" local)
read -r local_s local_kib <<< "$out"
printf '| local (embedded DataFusion, 2 cores) | %.1f s | 1.00 | %.0f | %.2f GiB | - | - |\n' \
  "$local_s" "$(echo "$rows / $local_s" | bc -l)" "$(gib "$local_kib")" >> "$work/table.md"

for n in 1 2; do
  cl="$work/lake-$n"; fresh_raw "$cl"  # the cluster compacts it, then writes its KPI tables
  read -r sp _ _ <<< "$(ports)"
  "$trainer" cluster scheduler --lake "file://$cl" --bind "127.0.0.1:$sp" > "$work/scheduler-$n.log" 2>&1 & pids+=($!)
  wait_port "$sp"
  for i in $(seq 1 "$n"); do
    read -r fp gp _ <<< "$(ports)"
    mkdir -p "$work/shuffle-$n-$i"
    "$trainer" cluster executor --lake "file://$cl" --scheduler "127.0.0.1:$sp" --port "$fp" --grpc-port "$gp" \
      --concurrency 1 --work-dir "$work/shuffle-$n-$i" > "$work/executor-$n-$i.log" 2>&1 & pids+=($!)
    wait_port "$fp"
  done
  for _ in $(seq 1 100); do
    [ "$(grep -c 'Received register executor' "$work/scheduler-$n.log" || true)" -ge "$n" ] && break; sleep 0.1
  done
  sample_shuffle "$n" compact-$n
  read -r s kib <<< "$(run_compact "ballista-$n" "$cl" --engine "ballista://127.0.0.1:$sp")"
  stop_sampling
  compact_row "DataFusion plan, ballista, $n executor(s) × 1 task slot" "$s" "$kib" "$(same_events "$cl")" \
    "$(cat "$work/shuffle-peak-compact-$n")"
  # the finished jobs' shuffle files (Ballista removes them lazily) do not count for the next job
  rm -rf "$work"/shuffle-"$n"-*/*
  sample_shuffle "$n" "$n"
  out=$(run_kpis "ballista-$n" "$cl" "ballista://127.0.0.1:$sp")
  stop_sampling
  read -r s kib <<< "$out"
  "$python" tests/bi/table_rows.py "$work/lake" --ignore run_at --compare "$cl" > "$work/compare-$n.json"
  same=$(python3 -c 'import json,sys
r=json.load(open(sys.argv[1]))
bad=[t for t,v in r.items() if v["differing"] != 0]
print("yes (%d tables, %d rows)" % (len(r), sum(v["rows"] or 0 for v in r.values())) if not bad else "NO: " + ",".join(bad))' "$work/compare-$n.json")
  shuffle=$(cat "$work/shuffle-peak-$n" 2>/dev/null || echo 0)
  printf '| ballista, %d executor(s) × 1 task slot | %.1f s | %.2f | %.0f | %.2f GiB | %.0f MB (%.1f B/event) | %s |\n' \
    "$n" "$s" "$(echo "$s / $local_s" | bc -l)" "$(echo "$rows / $s" | bc -l)" "$(gib "$kib")" \
    "$(echo "$shuffle / 1000000" | bc -l)" "$(echo "$shuffle / $rows" | bc -l)" "$same" >> "$work/table.md"
  # after the compare: training adds its own table (model_evaluations, stamped with the run)
  read -r s2 kib2 <<< "$(run_train "ballista-$n" "$cl" "ballista://127.0.0.1:$sp")"
  train_row "ballista, $n executor(s) × 1 task slot" "ballista-$n" "$s2" "$kib2"
  cleanup
done
echo "lake: $rows events in tables/events (simulated: EVENTS=$events USERS=$users ITEMS=$items DAYS=$days unless REUSE=1)"
cat "$work/compact.md"
echo
cat "$work/table.md"
echo
cat "$work/train.md"
