// Orama (@orama/orama, pinned in package-lock) as a Worker: the index is built from the bundled
// catalog on the first request, then each GET /?q= is answered like Vitrine's /v1/search (title,
// brand, category and attributes, typo tolerance 1, brand and category facets, 10 hits).
import { create, insertMultiple, search } from "@orama/orama";
import catalog from "../../out/search/catalog.json";

let db;

async function index() {
  if (!db) {
    const fresh = create({
      schema: { id: "string", title: "string", brand: "string", category: "string", attributes: "string", price: "number", in_stock: "boolean" },
    });
    await insertMultiple(fresh, catalog, 1000);
    db = fresh;
  }
  return db;
}

export default {
  async fetch(request) {
    const q = new URL(request.url).searchParams.get("q") ?? "";
    const r = await search(await index(), {
      term: q,
      properties: ["title", "brand", "category", "attributes"],
      boost: { title: 3, brand: 2, category: 1.5, attributes: 1 },
      tolerance: 1,
      limit: 10,
      facets: { brand: {}, category: {} },
    });
    return Response.json({
      total: r.count,
      items: r.hits.map((h) => ({ id: h.document.id, title: h.document.title })),
      facets: r.facets,
    });
  },
};
