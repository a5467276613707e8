#!/usr/bin/env bash
# What checking a shopper's identity costs per request in workerd (wrangler dev): the same
# request named by a strong anonymous id, and by a user id with its signed token, 3,000 times each
# in turn on one connection. Without a model both end at the same 503 right after the check, so
# the difference is the check itself (token: HMAC-SHA256 + compare; anonymous: the id rule).
# Prints Markdown; the native figures are `cargo bench -p shared --bench identity`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/env.sh
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && { kill -- -"$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }; rm -rf "$work" || true; }
trap cleanup EXIT
bash scripts/build-edge.sh >/dev/null
key=bench-shopper-signing-key-0123456789abcdef
export VITRINE_SKIP_BUILD=1 WRANGLER_SEND_METRICS=false CI=true NO_COLOR=1
setsid node_modules/.bin/wrangler dev --local --ip 127.0.0.1 --port 8831 --inspector-port 8832 \
  --show-interactive-dev-session=false --persist-to "$work/state" --var DEV_MODE:1 --var GLOBAL_RATE_LIMITS:off \
  --var "SHOPPER_SIGNING_KEY:$key" --var PSEUDONYM_KEY:bench-pseudonym-key-0123 \
  --var RATE_LIMIT_PER_IP:1000000000 >"$work/wrangler.log" 2>&1 &
pid=$!
until curl -sf http://127.0.0.1:8831/v1/health >/dev/null; do sleep 0.5; done
token=$(curl -sf "http://127.0.0.1:8831/v1/dev/shopper-token?user_id=customer-1234567&ttl=86400" \
  | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).user_token)')
node - "$token" <<'JS'
const token = process.argv[2];
const base = 'http://127.0.0.1:8831/v1/recommendations?k=1&';
const variants = {
  'anonymous id (rule check)': 'anonymous_id=0f9a6c1e-7b2d-4e3f-9a8b-1c2d3e4f5a6b',
  'user id + signed token (HMAC check)': `user_id=customer-1234567&user_token=${token}`,
};
const N = 3000;
const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let round = 0; round < N; round++) {
  for (const [name, q] of Object.entries(variants)) {
    const t = process.hrtime.bigint();
    const r = await fetch(base + q);
    await r.arrayBuffer();
    if (r.status !== 503) throw new Error(`${name}: HTTP ${r.status}`);
    if (round >= 200) times[name].push(Number(process.hrtime.bigint() - t) / 1e6);
  }
}
const pct = (a, p) => a.slice().sort((x, y) => x - y)[Math.floor(a.length * p)];
console.log('| request (workerd, wrangler dev, 1 connection) | p50 ms | p90 ms | mean ms |');
console.log('|---|---|---|---|');
const rows = {};
for (const [name, a] of Object.entries(times)) {
  const mean = a.reduce((s, x) => s + x, 0) / a.length;
  rows[name] = { p50: pct(a, 0.5), mean };
  console.log(`| ${name} | ${pct(a, 0.5).toFixed(3)} | ${pct(a, 0.9).toFixed(3)} | ${mean.toFixed(3)} |`);
}
const [anon, user] = Object.values(rows);
console.log(`\nToken verification costs ${(user.p50 - anon.p50).toFixed(3)} ms at p50 ` +
  `(${(user.mean - anon.mean).toFixed(3)} ms mean) over the anonymous request.`);
JS
