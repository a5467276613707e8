#!/usr/bin/env bash
# Edge latency in workerd (wrangler dev), Vitrine vs a hello-world worker in the same run:
#   - a synthetic 100k-item, 64-factor artifact (the scoring benchmark's generator) is published;
#   - wrk drives GET /v1/recommendations (a shopper with a 10-view session: Durable Object read,
#     fold-in, IVF, filters, response, serve record) and the hello worker, 1 connection for latency
#     and 8 for throughput;
#   - took_ms (the handler's own time) over 300 sequential requests;
#   - the same paths paired with the floor (bench/paired.py: hello, then each path, every round);
#   - the same for-you with the 10-view session carried by the request (`session=`, what the
#     snippet sends for anonymous shoppers: no Durable Object read), similar items, and a
#     5-widget batch (for-you, similar, bought together, trending, buy again) with that session;
#   - CPU per request: at saturation (8 connections) one isolate runs on one thread, so
#     1000 / (req/s) ms bounds a request's CPU (the hello worker's figure is the runtime's share);
#   - the cold model load in a fresh isolate (first request minus a warm one), once with the
#     artifact in the data center's Workers Cache and once from R2 (cache emptied), and wasm
#     memory at 100k and 200k items (/v1/model);
#   - time from an event POST to a changed recommendation.
# Repeated cold loads: bench/cold.sh. Needs wrk (apt-get install wrk). Prints Markdown; record it in docs/benchmarks.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/env.sh
command -v wrk >/dev/null || { echo "wrk is required: apt-get install -y wrk" >&2; exit 1; }
duration=${DURATION:-15s}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -- -"$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work" || true; }
trap cleanup EXIT

bash scripts/build-edge.sh >/dev/null
# The trainer only publishes here: any build of it will do.
[ -x "${CARGO_TARGET_DIR:-$root/target}/release/trainer" ] || cargo build --release -p trainer --locked -q
# The synthetic artifacts are cached in bench/out/edge (delete it to rebuild them).
arts="$root/bench/out/edge"
if [ ! -f "$arts/model-200000.bin" ]; then
  mkdir -p "$arts"
  SCORING_WRITE="$arts" SCORING_SIZES=100000,200000 cargo bench -p trainer --bench scoring --locked -q >/dev/null
fi

source bench/edge-lib.sh
start hello 8811 bench/hello
start_vitrine
until curl -sf http://127.0.0.1:8821/v1/health >/dev/null; do sleep 0.5; done

# The synthetic catalog's ids are fixed-width: sku-00007 at 100k items (trainer/benches/scoring.rs).
publish 100000
now=$(date +%s%3N)
events=$(python3 - "$now" <<'PY'
import json, sys
t = int(sys.argv[1])
print(json.dumps({"events": [{"event_id": f"bench-{i}", "type": "view", "anonymous_id": "bench-shopper-0f9a6c1e7b2d",
  "session_id": "bench", "timestamp": t - 1000 + i, "item_id": f"sku-{7 + 200 * i:05d}"} for i in range(10)]}))
PY
)
curl -sf -X POST -H 'content-type: application/json' -d "$events" http://127.0.0.1:8821/v1/events >/dev/null
rec="http://127.0.0.1:8821/v1/recommendations?anonymous_id=bench-shopper-0f9a6c1e7b2d&k=10"
# The same 10 views carried by the request, most recent first (what the snippet sends).
carried=$(python3 -c 'print(",".join(f"v.{9 - i}.sku-{7 + 200 * i:05d}" for i in reversed(range(10))))')
rec_carried="$rec&session=$carried"
for _ in $(seq 1 50); do curl -sf "$rec" >/dev/null; curl -sf "$rec_carried" >/dev/null; curl -sf http://127.0.0.1:8811/ >/dev/null; done

# The 5-widget page as one POST (a wrk script carries the body).
python3 - "$carried" >"$work/batch.lua" <<'PY'
import json, sys
body = json.dumps({"anonymous_id": "bench-shopper-0f9a6c1e7b2d", "session": sys.argv[1], "widgets": [
    {"id": "a", "type": "for_you", "k": 10}, {"id": "b", "type": "similar", "item_id": "sku-00007", "k": 10},
    {"id": "c", "type": "bought_together", "item_id": "sku-00007", "k": 10}, {"id": "d", "type": "trending", "k": 10},
    {"id": "e", "type": "buy_again", "k": 10}]})
print('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ' + json.dumps(body))
PY
similar_url="http://127.0.0.1:8821/v1/items/sku-00007/similar?k=10"
batch_url="http://127.0.0.1:8821/v1/recommendations/batch"
curl -sf -X POST -H 'content-type: application/json' -d "$(python3 -c 'import json,sys; t=open(sys.argv[1]).read(); print(json.loads(t.split("wrk.body = ",1)[1]))' "$work/batch.lua")" "$batch_url" >/dev/null

run_wrk() { # url connections [script] -> "p50 p99 rps" in ms
  wrk -t1 -c"$2" -d"$duration" --latency ${3:+-s "$3"} "$1" | python3 -c '
import re, sys
t = sys.stdin.read()
def ms(v, u): return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[u]
p = {k: ms(v, u) for k, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)$", t, re.M)}
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
errs = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print(p["50"], p["99"], rps, errs.group(1) if errs else 0)'
}
read -r h50 h99 _ _ <<<"$(run_wrk http://127.0.0.1:8811/ 1)"
read -r v50 v99 _ verr1 <<<"$(run_wrk "$rec" 1)"
read -r _ _ hrps _ <<<"$(run_wrk http://127.0.0.1:8811/ 8)"
read -r _ hp99c _ _ <<<"$(run_wrk http://127.0.0.1:8811/ 8)"
read -r _ vp99c vrps verr8 <<<"$(run_wrk "$rec" 8)"
read -r c50 c99 _ cerr1 <<<"$(run_wrk "$rec_carried" 1)"
read -r _ cp99c crps cerr8 <<<"$(run_wrk "$rec_carried" 8)"
read -r s50 s99 _ serr1 <<<"$(run_wrk "$similar_url" 1)"
read -r b50 b99 _ berr1 <<<"$(run_wrk "$batch_url" 1 "$work/batch.lua")"

took=$(python3 - "$rec" <<'PY'
import json, sys, urllib.request, statistics
xs = []
for _ in range(300):
    with urllib.request.urlopen(sys.argv[1]) as r:
        xs.append(json.load(r)["took_ms"])
xs.sort()
print(statistics.median(xs), xs[int(len(xs) * 0.99) - 1])
PY
)
read -r took50 took99 <<<"$took"

# The same paths paired with the floor (each round asks hello, then each path), so machine drift
# between the wrk runs above does not count against either: p50 above the floor, ms.
paired=$(python3 bench/paired.py "${PAIRED_ROUNDS:-600}" http://127.0.0.1:8811/ http://127.0.0.1:8821/v1/nope \
  "$similar_url" "$rec_carried" "$rec" | awk '{print $9}' | tail -n +2 | tr '\n' ' ')
read -r p404 psim pcar pdo <<<"$paired"

# Event → changed recommendation: a new shopper's for-you, three views, the next for-you.
react=$(python3 - "$now" <<'PY'
import json, sys, time, urllib.request
base = "http://127.0.0.1:8821"
def get(p):
    with urllib.request.urlopen(base + p) as r: return json.load(r)
before = [i["id"] for i in get("/v1/recommendations?anonymous_id=react-shopper-4e3f9a8b1c2d&k=10")["items"]]
body = json.dumps({"events": [{"event_id": f"react-{i}", "type": "view", "anonymous_id": "react-shopper-4e3f9a8b1c2d",
  "session_id": "react", "timestamp": int(time.time() * 1000) - 10 + i, "item_id": f"sku-{31 + 200 * i:05d}"}
  for i in range(3)]}).encode()
t = time.perf_counter()
urllib.request.urlopen(urllib.request.Request(base + "/v1/events", body, {"content-type": "application/json"}))
after = [i["id"] for i in get("/v1/recommendations?anonymous_id=react-shopper-4e3f9a8b1c2d&k=10")["items"]]
ms = (time.perf_counter() - t) * 1000
print(f"{ms:.1f}", "changed" if after != before else "UNCHANGED")
PY
)

model100=$(curl -s http://127.0.0.1:8821/v1/model)
# Cold load: restart the worker (fresh isolate, model in local R2), time the first request.
stop_vitrine
start_vitrine
cold=$(cold_once)
read -r cold_first cold_warm cold_load <<<"$cold"
model100fresh=$(curl -s http://127.0.0.1:8821/v1/model)
cold_from=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("fetched_from"))' "$model100fresh")
# The same with the data center's cache emptied: the fresh isolate reads R2.
stop_vitrine
rm -rf "$work/state/v3/cache"
start_vitrine
read -r r2_first r2_warm r2_load <<<"$(cold_once)"
r2_from=$(fetched_from)
publish 200000
model200=$(curl -s http://127.0.0.1:8821/v1/model)
# Steady state at 200k: a fresh isolate that only ever loaded the 200k model.
stop_vitrine
start_vitrine
model200fresh=$(curl -s http://127.0.0.1:8821/v1/model)
mem() { python3 -c 'import json,sys; m=json.loads(sys.argv[1]); print("%.1f MiB (artifact %.1f MiB)" % (m["wasm_memory_bytes"] / 2**20, m["bytes"] / 2**20))' "$1"; }

cat <<MD
| workerd via wrangler dev (2 cores, wrk -t1) | p50 ms | p99 ms | req/s (8 conns) | p99 ms (8 conns) |
|---|---|---|---|---|
| hello-world worker (floor) | $h50 | $h99 | $hrps | $hp99c |
| Vitrine GET /v1/recommendations, 100k items, 64 f, 10-view session (Durable Object) | $v50 | $v99 | $vrps | $vp99c |
| the same, session carried by the request (\`session=\`, no Durable Object read) | $c50 | $c99 | $crps | $cp99c |

- Above the floor: p50 +$(python3 -c "print(round($v50 - $h50, 2))") ms, p99 +$(python3 -c "print(round($v99 - $h99, 2))") ms; non-2xx: $verr1 (1 conn), $verr8 (8 conns).
- Carried session above the floor: p50 +$(python3 -c "print(round($c50 - $h50, 2))") ms, p99 +$(python3 -c "print(round($c99 - $h99, 2))") ms; non-2xx: $cerr1 / $cerr8.
- Similar items (GET /v1/items/sku-00007/similar, 1 conn): p50 $s50 ms (+$(python3 -c "print(round($s50 - $h50, 2))")), p99 $s99 ms; 5-widget batch with the carried session (POST /v1/recommendations/batch, 1 conn): p50 $b50 ms (+$(python3 -c "print(round($b50 - $h50, 2))")), p99 $b99 ms; non-2xx: $serr1 / $berr1.
- Paired with the floor (\`bench/paired.py\`, ${PAIRED_ROUNDS:-600} rounds), p50 above hello: 404 (no model work) $p404 ms, similar items $psim ms, for-you with the carried session $pcar ms, with the Durable Object session $pdo ms.
- CPU per request bound (1000 / req/s at 8 connections, one isolate thread): hello $(python3 -c "print(round(1000 / $hrps, 3))") ms, Vitrine with the Durable Object $(python3 -c "print(round(1000 / $vrps, 3))") ms, carried session $(python3 -c "print(round(1000 / $crps, 3))") ms.
- Handler time took_ms over 300 requests: p50 $took50 ms, p99 $took99 ms (workerd's clock advances on I/O only, so this is the I/O part: Durable Object read, R2 checks).
- Cold start with the 100k model in a fresh isolate, artifact from the Workers Cache ($cold_from): first request $cold_first ms vs warm $cold_warm ms → load ≈ $cold_load ms; from R2 with the cache emptied ($r2_from): $r2_first vs $r2_warm ms → load ≈ $r2_load ms.
- Isolate wasm memory (linear memory, never shrinks): 100k items in a fresh isolate $(mem "$model100fresh"), in the isolate that also received the upload through the admin API (streamed to R2; it still reads the artifact once to check \`latest.json\`) $(mem "$model100"); 200k items in a fresh isolate $(mem "$model200fresh"); after swapping 100k → 200k in one isolate (both held while the new one loads) $(mem "$model200").
- Event POST → next for-you request (3 views, new shopper): $react ms.
MD
