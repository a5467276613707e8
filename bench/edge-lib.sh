# Helpers shared by bench/edge.sh, bench/cold.sh and bench/search.sh (sourced, not run): start workers under
# `wrangler dev`, publish a synthetic artifact, time a fresh isolate's first request.
# Expects $root, $work and the array pids=() from the sourcing script ($arts for publish).

wrangler=node_modules/.bin/wrangler
export VITRINE_SKIP_BUILD=1 WRANGLER_SEND_METRICS=false CI=true NO_COLOR=1
admin_key=bench-admin-key-0123456789abcdef-0123

start() { # name port dir args...
  local name=$1 port=$2 dir=$3; shift 3
  setsid bash -c 'cd "$0" && exec "$@"' "$dir" "$root/$wrangler" dev --local --ip 127.0.0.1 --port "$port" \
    --inspector-port $((port + 1)) --show-interactive-dev-session=false "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 240); do curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0; sleep 0.5; done
  echo "$name did not start" >&2; cat "$work/$name.log" >&2; exit 1
}

start_vitrine() { # (re)starts Vitrine on 8821 with the bench settings and state in $work/state
  start vitrine 8821 . --persist-to "$work/state" --var ADMIN_KEY:$admin_key --var DEV_MODE:1 \
    --var GLOBAL_RATE_LIMITS:off --var PSEUDONYM_KEY:bench-pseudonym-key-0123 \
    --var MODEL_REFRESH_SECONDS:1 --var RATE_LIMIT_PER_IP:1000000000
}

stop_vitrine() { kill -- -"${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; sleep 1; }

publish() { # n
  "${CARGO_TARGET_DIR:-$root/target}/release/trainer" publish --artifact "$arts/model-$1.bin" --models "file://$work/models" \
    --worker http://127.0.0.1:8821 --admin-key $admin_key --force >/dev/null 2>&1
  until curl -s http://127.0.0.1:8821/v1/model | grep -q "\"bench-$1\""; do sleep 0.3; done
  # The copy for the next isolate goes into the Workers Cache after the loading response.
  until curl -s http://127.0.0.1:8821/v1/model | grep -q '"in_cache":true'; do sleep 0.3; done
}

cold_once() { # -> "first warm load" in ms: a fresh isolate's first /v1/model against a warm one
  python3 - <<'PY'
import time, urllib.request
def t(p):
    s = time.perf_counter(); urllib.request.urlopen("http://127.0.0.1:8821" + p).read(); return (time.perf_counter() - s) * 1000
first = t("/v1/model")
warm = sorted(t("/v1/model") for _ in range(20))[10]
print(f"{first:.1f} {warm:.1f} {first - warm:.1f}")
PY
}

fetched_from() { curl -s http://127.0.0.1:8821/v1/model | python3 -c 'import json,sys; print(json.load(sys.stdin).get("fetched_from"))'; }
