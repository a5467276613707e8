#!/usr/bin/env bash
# Offline quality + training speed, Vitrine vs peers measured in the same run:
#  - Amazon-Beauty (leave-last-out, full ranking): Vitrine, most popular, item-kNN (in the trainer),
#    and the Python `implicit` library's ALS and BPR (bench/peers, pip-installed into bench/.venv).
#  - YooChoose clicks sample and RetailRocket sessions: every next click, full ranking — Vitrine's
#    session model (what the edge serves an anonymous session) vs session-kNN, co-visitation (the
#    model served before) and every other method tried, with HR@20, MRR@20, HR@10, NDCG@10, fit
#    seconds and bytes per item; ratios against session-kNN measured in the same run.
# Prints a Markdown table; record it in docs/benchmarks.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source bench/data.sh
need amazon-beauty.txt yoochoose-clicks-100k-train.txt yoochoose-clicks-100k-test.txt \
  retailrocket-sessions-train.tsv retailrocket-sessions-test.tsv
out=${BENCH_OUT:-$root/bench/out}
mkdir -p "$out"
factors=${FACTORS:-128}
iterations=${ITERATIONS:-15}

cargo build --release -p trainer --locked -q
trainer="${CARGO_TARGET_DIR:-$root/target}/release/trainer"

if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install -q -r bench/peers/requirements.txt
fi

# SKIP_BEAUTY=1 re-runs only the session benchmarks (the Beauty outputs of the last run are reused).
if [ -z "${SKIP_BEAUTY:-}" ]; then
  echo "== Vitrine on Amazon-Beauty ($factors factors, $iterations iterations)" >&2
  RUST_LOG=warn "$trainer" evaluate --sequences "$data/amazon-beauty.txt" --factors "$factors" --iterations "$iterations" > "$out/vitrine-beauty.json"
  echo "== implicit (ALS, BPR) on Amazon-Beauty" >&2
  OPENBLAS_NUM_THREADS=1 bench/.venv/bin/python bench/peers/implicit_beauty.py "$data/amazon-beauty.txt" \
    --factors "$factors" --iterations "$iterations" > "$out/implicit-beauty.jsonl"
fi
echo "== YooChoose next-click" >&2
RUST_LOG=warn "$trainer" evaluate --sessions "$data/yoochoose-clicks-100k-train.txt" \
  --test "$data/yoochoose-clicks-100k-test.txt" --factors 64 --iterations 15 > "$out/vitrine-yoochoose.json"
echo "== RetailRocket next-click" >&2
RUST_LOG=warn "$trainer" evaluate --sessions "$data/retailrocket-sessions-train.tsv" \
  --test "$data/retailrocket-sessions-test.tsv" --factors 64 --iterations 15 > "$out/vitrine-retailrocket.json"

bench/.venv/bin/python - "$out" <<'PY'
import json, sys, os
out = sys.argv[1]
v = json.load(open(os.path.join(out, "vitrine-beauty.json")))
peers = [json.loads(l) for l in open(os.path.join(out, "implicit-beauty.jsonl")) if l.strip()]
als = next(p for p in peers if p["model"] == "implicit-als")
vit = next(r for r in v["results"] if r["model"].startswith("vitrine (iALS"))
print("| Amazon-Beauty model | NDCG@10 | Recall@10 = HR@10 | HR@20 | MRR@10 | fit s |")
print("|---|---|---|---|---|---|")
for r in v["results"]:
    m = r["metrics"]
    print(f"| {r['model']} | {m['ndcg']:.4f} | {m['recall']:.4f} | {m['hit_rate_20']:.4f} | {m['mrr']:.4f} | {r['fit_seconds']:.1f} |")
for p in peers:
    print(f"| {p['model']} 0.7.3 | {p['ndcg@10']:.4f} | {p['recall@10']:.4f} | {p['hr@20']:.4f} | {p['mrr@10']:.4f} | {p['fit_seconds']:.1f} |")
print()
print(f"Vitrine / implicit ALS: NDCG@10 ×{vit['metrics']['ndcg'] / als['ndcg@10']:.2f}, "
      f"training time ×{vit['fit_seconds'] / als['fit_seconds']:.2f} (lower is faster); blend {json.dumps(v['blend'])}")
for name, file in (("YooChoose 100k", "vitrine-yoochoose.json"), ("RetailRocket", "vitrine-retailrocket.json")):
    y = json.load(open(os.path.join(out, file)))
    knn = next(r for r in y["results"] if r["model"] == "session-kNN")
    # Rows "as served" leave out the item on screen; they are compared with session-kNN served the same way.
    knn_served = next(r for r in y["results"] if r["model"].startswith("session-kNN as served"))
    print()
    print(f"| {name} next click ({y['results'][0]['predictions']} cases, {y['items']} items) | HR@20 | MRR@20 | HR@10 | NDCG@10 | ×sKNN HR@20 / MRR@20 (as served: ×sKNN as served) | fit s | bytes/item |")
    print("|---|---|---|---|---|---|---|---|")
    for r in y["results"]:
        b = r.get("bytes_per_item")
        base = knn_served if "as served" in r["model"] else knn
        print(f"| {r['model']} | {r['hr@20']:.4f} | {r['mrr@20']:.4f} | {r['hr@10']:.4f} | {r['ndcg@10']:.4f} | "
              f"×{r['hr@20'] / base['hr@20']:.3f} / ×{r['mrr@20'] / base['mrr@20']:.3f} | {r['fit_seconds']:.1f} | "
              f"{'–' if b is None else f'{b:.0f}'} |")
    sm = y["session_model"]
    print(f"Session model: weights learned on {sm['fit']['covered']} of {sm['fit']['cases']} next clicks of the last 10% of the "
          f"training sessions ({sm['fit']['iterations']} Newton steps); {sm['bytes_per_item']:.0f} bytes per item.")
PY
