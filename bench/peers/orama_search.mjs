// The Orama peer for bench/search.sh: the same catalog and queries as `cargo bench --bench search`,
// in @orama/orama (pinned in package-lock), title/brand/category/attributes with typo tolerance 1 and brand
// and category facets. Prints one JSON line like the Vitrine side.
import { readFileSync, writeFileSync } from "node:fs";
import { create, insertMultiple, search } from "@orama/orama";

const dir = process.argv[2];
const docs = JSON.parse(readFileSync(`${dir}/catalog.json`, "utf8"));
const cases = JSON.parse(readFileSync(`${dir}/queries.json`, "utf8"));

const t0 = performance.now();
const db = create({
  schema: { id: "string", title: "string", brand: "string", category: "string", attributes: "string", price: "number", in_stock: "boolean" },
});
await insertMultiple(db, docs, 1000);
const buildMs = performance.now() - t0;
const heapBefore = process.memoryUsage().heapUsed;

const times = [];
const byKind = {};
let pass = 0;
for (const c of cases) {
  const t = performance.now();
  const r = await search(db, {
    term: c.q,
    properties: ["title", "brand", "category", "attributes"],
    boost: { title: 3, brand: 2, category: 1.5, attributes: 1 },
    tolerance: 1,
    limit: 10,
    facets: { brand: {}, category: {} },
  });
  times.push(performance.now() - t);
  const ok = r.hits.slice(0, 3).some((h) => {
    const words = h.document.title.toLowerCase().split(" ");
    return c.words.every((w) => words.includes(w));
  });
  byKind[c.kind] ??= { kind: c.kind, pass: 0, of: 0 };
  byKind[c.kind].pass += ok ? 1 : 0;
  byKind[c.kind].of += 1;
  if (ok) pass += 1;
}
// The shopper-style set: same configuration; answers written for the Rust side to grade.
const shopper = JSON.parse(readFileSync(`${dir}/shopper_queries.json`, "utf8"));
const shopperTimes = [];
const results = [];
for (const c of shopper) {
  const t = performance.now();
  const r = await search(db, {
    term: c.q,
    properties: ["title", "brand", "category", "attributes"],
    boost: { title: 3, brand: 2, category: 1.5, attributes: 1 },
    tolerance: 1,
    limit: 10,
    facets: { brand: {}, category: {} },
  });
  shopperTimes.push(performance.now() - t);
  results.push({ q: c.q, ids: r.hits.map((h) => h.document.id), total: r.count });
}
shopperTimes.sort((a, b) => a - b);
writeFileSync(`${dir}/orama-shopper-results.json`, JSON.stringify({ results }));
times.sort((a, b) => a - b);
const pct = (p) => times[Math.min(times.length - 1, Math.round((times.length - 1) * p))];
const spct = (p) => shopperTimes[Math.min(shopperTimes.length - 1, Math.round((shopperTimes.length - 1) * p))];
globalThis.gc?.();
console.log(JSON.stringify({
  engine: "orama",
  products: docs.length,
  queries: cases.length,
  build_ms: buildMs,
  p50_ms: pct(0.5),
  p99_ms: pct(0.99),
  heap_bytes_per_product: heapBefore / docs.length,
  top3_pass: pass / cases.length,
  by_kind: Object.values(byKind).sort((a, b) => a.kind.localeCompare(b.kind)),
  shopper: { queries: shopper.length, p50_ms: spct(0.5), p99_ms: spct(0.99) },
}));
