// Client for bench/sources.sh: the same view events as Vitrine batches (POST /v1/events) and as
// signed Segment batches (POST /v1/sources/segment), alternating, `conc` requests in flight.
import { createHmac } from "node:crypto";

const [base, requests = "300", batch = "50", conc = "4"] = process.argv.slice(2);
const secret = process.env.SECRET;
const n = Number(requests), size = Number(batch);
const now = Date.now();
const anon = (i) => `anon-bench-${String(i).padStart(4, "0")}-5f3c2a1b9d8e7f60`;

function vitrine(r) {
  const events = Array.from({ length: size }, (_, j) => ({
    event_id: `v-${r}-${j}`, type: "view", anonymous_id: anon(r % 200), session_id: `s-${r % 200}`,
    timestamp: now - 60000 + j, item_id: `sku-${(r * 7 + j) % 1000}`,
  }));
  return { path: "/v1/events", body: JSON.stringify({ events }), headers: {} };
}

function segment(r) {
  const batchMsgs = Array.from({ length: size }, (_, j) => ({
    type: "track", event: "Product Viewed", messageId: `m-${r}-${j}`, anonymousId: anon(r % 200),
    timestamp: new Date(now - 60000 + j).toISOString(), properties: { product_id: `sku-${(r * 7 + j) % 1000}` },
  }));
  const body = JSON.stringify({ batch: batchMsgs });
  const sig = createHmac("sha1", secret).update(body).digest("hex");
  return { path: "/v1/sources/segment", body, headers: { "x-signature": sig } };
}

const runs = { events: [], segment: [] };
let accepted = { events: 0, segment: 0 };
let errors = { events: 0, segment: 0 };
const started = { events: 0, segment: 0 };
const busy = { events: 0, segment: 0 };
let next = 0;
async function worker() {
  while (next < 2 * n) {
    const i = next++;
    const kind = i % 2 === 0 ? "events" : "segment";
    const req = kind === "events" ? vitrine(i >> 1) : segment(i >> 1);
    const t = performance.now();
    const res = await fetch(base + req.path, { method: "POST", body: req.body, headers: { "content-type": "application/json", ...req.headers } });
    const json = await res.json();
    const ms = performance.now() - t;
    runs[kind].push(ms);
    busy[kind] += ms;
    if (res.status !== 202) errors[kind] += 1; else accepted[kind] += json.accepted;
  }
}
const t0 = performance.now();
await Promise.all(Array.from({ length: Number(conc) }, worker));
const wall = (performance.now() - t0) / 1000;
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.round((s.length - 1) * p))]; };
const out = {};
for (const k of ["events", "segment"]) {
  // Each endpoint had half the wall time's connections on average; its rate is its events over
  // the time its requests were in flight, divided by the concurrency.
  const share = busy[k] / (busy.events + busy.segment);
  out[k] = {
    requests: runs[k].length, accepted: accepted[k], errors: errors[k],
    p50_ms: pct(runs[k], 0.5), p99_ms: pct(runs[k], 0.99),
    events_per_s: accepted[k] / (wall * share),
  };
}
out.segment_vs_events = out.segment.events_per_s / out.events.events_per_s;
console.log(JSON.stringify({ batch: size, concurrency: Number(conc), wall_s: wall, ...out }, null, 1));
