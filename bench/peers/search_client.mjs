// Sequential HTTP client for bench/search.sh: sends every (stride-th) query of queries.json to a URL prefix
// (the query is appended, URL-encoded) over one keep-alive connection, after a warm-up, and prints
// {first_ms, p50_ms, p99_ms, errors, top3_pass} as JSON. Queries without `words` (the shopper-style
// set) are not judged here: their answers go to `results` for the Rust side to grade. The first request's time includes the
// index load (Vitrine: decoding the artifact's search section; Orama: building its index).
// FLOOR=<url prefix>: before each timed query, the same query to the floor (the hello-world worker),
// so both see the same moment of the machine; adds floor_p50_ms / floor_p99_ms.
import { readFileSync } from "node:fs";

const [prefix, queriesPath, stride = "1", warmup = "20"] = process.argv.slice(2);
// Every `stride`-th query (the cases cycle through the query kinds, so each kind keeps its share).
const cases = JSON.parse(readFileSync(queriesPath, "utf8")).filter((_, i) => i % Number(stride) === 0);

async function ask(q) {
  const t = performance.now();
  const res = await fetch(prefix + encodeURIComponent(q));
  const body = await res.json();
  return { ms: performance.now() - t, ok: res.ok, body };
}

const first = await ask(cases[0].q);
for (const c of cases.slice(0, Number(warmup))) await ask(c.q);
const floor = process.env.FLOOR;
const floorTimes = [];
const times = [];
const results = [];
let errors = 0;
let pass = 0;
for (const c of cases) {
  if (floor) {
    const t = performance.now();
    await (await fetch(floor + encodeURIComponent(c.q))).arrayBuffer();
    floorTimes.push(performance.now() - t);
  }
  const r = await ask(c.q);
  times.push(r.ms);
  if (!r.ok) errors += 1;
  const items = r.body.items ?? [];
  results.push({ q: c.q, ids: items.map((h) => h.id), total: r.body.total ?? items.length });
  const ok = c.words !== undefined && items.slice(0, 3).some((h) => {
    const words = h.title.toLowerCase().split(" ");
    return c.words.every((w) => words.includes(w));
  });
  if (ok) pass += 1;
}
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.round((s.length - 1) * p))];
};
const paired = floor ? { floor_p50_ms: pct(floorTimes, 0.5), floor_p99_ms: pct(floorTimes, 0.99) } : {};
console.log(JSON.stringify({ queries: cases.length, first_ms: first.ms, p50_ms: pct(times, 0.5), p99_ms: pct(times, 0.99), ...paired, errors, top3_pass: pass / cases.length, results }));
