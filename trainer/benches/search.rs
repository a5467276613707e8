//! Search benchmark: the simulated electronics catalog (100k products by default, realistic
//! brand / series / variant titles) and 1,000 generated queries — model numbers, typos, prefixes,
//! brand + category words — answered by `shared::search` natively (the code the worker runs),
//! with brand and category facets. Writes the catalog and queries for the Orama peer
//! (`bench/peers/orama_search.mjs`, run by `bash bench/search.sh` in the same run).
//!
//! Relevance is judged per query: a query was made from one product's title (then typo'd or
//! truncated); it passes when a top-3 result's title contains every original word — the intended
//! product or an identical variant of it.
//!
//! Then the hand-judged shopper-style set (`trainer/fixtures/shopper_queries.jsonl`, through
//! `shared::search::answer::search` as the worker answers, price intents included): per kind the
//! zero-result rate, NDCG@10 and top-3 pass, and p50 / p99. `SEARCH_GRADE=<file>` instead grades
//! another engine's answers to that set (`{"results": [{"q", "ids", "total"}]}`, as
//! `bench/peers/orama_search.mjs` and `bench/peers/search_client.mjs` write them) on the same
//! catalog and prints the same figures.

#![expect(
    clippy::expect_used,
    reason = "a benchmark: a failed setup step should stop it loudly"
)]

use std::collections::HashMap;
use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;
use shared::Model;
use shared::search::index::SearchIndex;
use shared::search::query::SearchQuery;
use shared::search::spec::{Facet, SearchFilter, Sort};
use shared::search::synonyms::Synonyms;
use trainer::evaluation::search_cases::{QUERIES, cases, catalog_data};
use trainer::evaluation::search_judged::{self, Split};
use trainer::lake::simulate::{SimParams, catalog};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "index"
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let n: usize = std::env::var("SEARCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let out_dir = std::env::var("SEARCH_OUT")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/out/search").to_owned());
    let products = catalog(&SimParams {
        events: 1,
        users: 1,
        items: n,
        days: 1,
        seed: 7,
        end_ms: 1_790_000_000_000,
    });
    let mut rng = StdRng::seed_from_u64(11);
    let mut data = catalog_data(&products, &mut rng);
    // The index the trainer ships (attributes, built-in synonyms), then the edge's cold path:
    // decoding it from the artifact section.
    let t = Instant::now();
    let built =
        trainer::model::search_index::index(&data, &products, Synonyms::electronics(), vec![]);
    let build_ms = t.elapsed().as_secs_f64() * 1e3;
    let section = built.encode();
    data.search = Some(section.clone());
    data.version = format!("search-{n}");
    let bytes = data.encode().expect("encode");
    let model = Model::load(bytes.clone()).expect("load");
    let t = Instant::now();
    let (index, problem) = SearchIndex::for_model(&model);
    let decode_ms = t.elapsed().as_secs_f64() * 1e3;
    assert!(problem.is_none(), "{problem:?}");
    let shopper = search_judged::load(Split::All).expect("judged set");
    if let Ok(path) = std::env::var("SEARCH_GRADE") {
        // Another engine's answers to the shopper set, graded on this catalog.
        let answers: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("answers")).expect("json");
        let mut by_q: HashMap<String, (Vec<String>, usize)> = HashMap::new();
        for r in answers["results"].as_array().expect("results") {
            let ids = r["ids"]
                .as_array()
                .expect("ids")
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            let total = usize::try_from(r["total"].as_u64().unwrap_or(0)).unwrap_or(0);
            by_q.insert(r["q"].as_str().expect("q").to_owned(), (ids, total));
        }
        let asked: Vec<_> = shopper
            .into_iter()
            .filter(|j| by_q.contains_key(&j.q))
            .collect();
        let report = search_judged::score(&asked, &products, |q| {
            by_q.get(q).cloned().unwrap_or_default()
        });
        println!("{}", json!({"by_kind": report.by_kind, "all": report.all}));
        return;
    }
    let titles: Vec<String> = products.iter().map(|p| p.title.clone()).collect();
    let cats: Vec<String> = products.iter().map(|p| p.category.clone()).collect();
    let cases = cases(&titles, &cats, QUERIES, &mut rng);

    let mut times = Vec::with_capacity(cases.len());
    let mut passed: HashMap<&str, (usize, usize)> = HashMap::new();
    // `SEARCH_DUMP=<file>`: every answer (ids, total, facets), to check that a speed-up left the
    // ranking unchanged.
    let mut dump = Vec::new();
    let generated = |q: &str| SearchQuery {
        q: q.to_owned(),
        filter: SearchFilter::default(),
        sort: Sort::Relevance,
        facets: vec![Facet::Brand, Facet::Category],
        page: 1,
        k: 10,
        user_id: None,
        anonymous_id: None,
        user_token: None,
        session: None,
        intents: true,
    };
    // `SEARCH_REPEAT=<n>`: answer the generated set n more times first, as the worker does (for a
    // profiler).
    let repeat: usize = std::env::var("SEARCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    for c in cases.iter().cycle().take(cases.len() * repeat) {
        let q = generated(&c.q);
        std::hint::black_box(shared::search::answer::search(&index, &model, &q, None));
    }
    for c in &cases {
        let q = generated(&c.q);
        let t = Instant::now();
        let found = index.search(&model, &q.spec(), None);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        dump.push(json!({"q": c.q, "hits": found.hits, "total": found.total, "facets": format!("{:?}", found.facets)}));
        let ok = c.passes(&model, &found);
        let e = passed.entry(c.kind).or_default();
        e.0 += usize::from(ok);
        e.1 += 1;
    }
    times.sort_by(f64::total_cmp);
    let total_pass: usize = passed.values().map(|v| v.0).sum();
    // The shopper-style set: timed, then scored.
    let mut shopper_times = Vec::with_capacity(shopper.len());
    for j in &shopper {
        let mut q = search_judged::ask(&j.q);
        q.facets = vec![Facet::Brand, Facet::Category];
        let t = Instant::now();
        let a = shared::search::answer::search(&index, &model, &q, None);
        shopper_times.push(t.elapsed().as_secs_f64() * 1e3);
        let ids: Vec<&str> = a.items.iter().map(|h| h.id.as_str()).collect();
        dump.push(json!({"q": j.q, "ids": ids, "total": a.total, "dym": a.did_you_mean, "facets": format!("{:?}", a.facets)}));
    }
    if let Ok(path) = std::env::var("SEARCH_DUMP") {
        std::fs::write(path, serde_json::to_vec_pretty(&dump).expect("json")).expect("write dump");
    }
    shopper_times.sort_by(f64::total_cmp);
    let shopper_report = search_judged::evaluate(&shopper, &products, &model, &index);
    std::fs::create_dir_all(&out_dir).expect("out dir");
    let docs: Vec<_> = products
        .iter()
        .map(|p| json!({"id": p.id, "title": p.title, "brand": p.brand, "category": p.category, "attributes": p.attributes.values().cloned().collect::<Vec<_>>().join(" "), "price": p.price, "in_stock": p.in_stock}))
        .collect();
    std::fs::write(
        format!("{out_dir}/catalog.json"),
        serde_json::to_vec(&docs).expect("json"),
    )
    .expect("write catalog");
    let qs: Vec<_> = cases
        .iter()
        .map(|c| json!({"q": c.q, "kind": c.kind, "words": c.words}))
        .collect();
    std::fs::write(
        format!("{out_dir}/queries.json"),
        serde_json::to_vec(&qs).expect("json"),
    )
    .expect("write queries");
    let sq: Vec<_> = shopper
        .iter()
        .map(|j| json!({"q": j.q, "kind": j.kind}))
        .collect();
    std::fs::write(
        format!("{out_dir}/shopper_queries.json"),
        serde_json::to_vec(&sq).expect("json"),
    )
    .expect("write shopper queries");
    // The artifact the workerd run publishes.
    std::fs::write(format!("{out_dir}/model.bin"), &bytes).expect("write artifact");
    std::fs::write(
        format!("{out_dir}/model.bin.manifest.json"),
        shared::Manifest::describe(&bytes, &model).to_json(),
    )
    .expect("write manifest");
    let mut kinds: Vec<_> = passed.into_iter().collect();
    kinds.sort();
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    let summary = json!({
        "engine": "vitrine",
        "products": n,
        "queries": cases.len(),
        "build_ms": build_ms,
        "decode_ms": decode_ms,
        "section_bytes_per_product": section.len() as f64 / n as f64,
        "p50_ms": percentile(&times, 0.5),
        "p99_ms": percentile(&times, 0.99),
        "bytes_per_product": index.approx_bytes() as f64 / n as f64,
        "top3_pass": total_pass as f64 / cases.len() as f64,
        "by_kind": kinds.iter().map(|(k, (p, t))| json!({"kind": k, "pass": p, "of": t})).collect::<Vec<_>>(),
        "shopper": {
            "queries": shopper.len(),
            "p50_ms": percentile(&shopper_times, 0.5),
            "p99_ms": percentile(&shopper_times, 0.99),
            "by_kind": shopper_report.by_kind,
            "all": shopper_report.all,
        },
    });
    println!("{summary}");
}
