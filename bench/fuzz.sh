#!/usr/bin/env bash
# Fuzzing (not in CI): runs every cargo-fuzz target for FUZZ_SECONDS (default 600) each, two at a
# time (2 cores), starting from the committed seed corpora in fuzz/corpus/<target> and growing a
# working corpus in fuzz/work/<target>. Prints executions, exec/s, corpus size, coverage and
# crashes per target; a crash leaves its input under fuzz/artifacts/<target>/ and fails the run.
# Needs the nightly toolchain (`rustup toolchain install nightly`) and cargo-fuzz
# (`cargo install cargo-fuzz --locked`); both are installed here if missing.
# FUZZ_TARGETS="event_batch artifact" limits the set.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${FUZZ_SECONDS:-600}
targets=${FUZZ_TARGETS:-"event_batch artifact search_query shop_json"}
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
out="$root/bench/out/fuzz"
mkdir -p "$out"

features() { [ "$1" = shop_json ] && echo "--features shop" || true; }
for t in $targets; do
  # shellcheck disable=SC2046
  cargo +nightly fuzz build -O $(features "$t") "$t" >&2
done

run() {
  local t=$1
  mkdir -p "fuzz/work/$t" "fuzz/artifacts/$t"
  # shellcheck disable=SC2046
  cargo +nightly fuzz run -O $(features "$t") "$t" "fuzz/work/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=4096 \
    >"$out/$t.log" 2>&1 && echo 0 >"$out/$t.rc" || echo $? >"$out/$t.rc"
}

set -- $targets
while [ $# -gt 0 ]; do
  run "$1" &
  a=$!
  if [ $# -gt 1 ]; then run "$2" & b=$!; wait "$b"; shift; fi
  wait "$a"
  shift
done

status=0
printf '| target | seconds | executions | exec/s | corpus | coverage (edges) | crashes |\n|---|---|---|---|---|---|---|\n'
for t in $targets; do
  log="$out/$t.log"
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{print $2}' | tail -1)
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | awk '{print $2}' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  corpus=$(find "fuzz/work/$t" -type f | wc -l)
  crashes=$(find "fuzz/artifacts/$t" -type f | wc -l)
  [ "$(cat "$out/$t.rc")" = 0 ] && [ "$crashes" = 0 ] || status=1
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$seconds" "${runs:-?}" "${speed:-?}" "$corpus" "${cov:-?}" "$crashes"
done
exit "$status"
