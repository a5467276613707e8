//! Search benchmark: the simulated electronics catalog (100k products by default, realistic
//! brand / series / variant titles) and 1,000 generated queries — model numbers, typos, prefixes,
//! brand + category words — answered by `shared::search` natively (the code the worker runs),
//! with brand and category facets. Writes the catalog and queries for the Orama peer
//! (`bench/peers/orama_search.mjs`, run by `bash bench/search.sh` in the same run).
//!
//! Relevance is judged per query: a query was made from one product's title (then typo'd or
//! truncated); it passes when a top-3 result's title contains every original word — the intended
//! product or an identical variant of it.

#![expect(
    clippy::expect_used,
    reason = "a benchmark: a failed setup step should stop it loudly"
)]

use std::collections::HashMap;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use shared::artifact::{ItemRecord, NONE};
use shared::search::index::{Facet, SearchFilter, SearchIndex, Sort};
use shared::search::query::SearchQuery;
use shared::{Model, ModelData};
use trainer::simulate::{SimParams, catalog};

const QUERIES: usize = 1_000;

/// A query, how it was made, and the words a relevant title must contain.
struct Case {
    q: String,
    kind: &'static str,
    words: Vec<String>,
}

fn typo(word: &str, rng: &mut StdRng) -> String {
    let chars: Vec<char> = word.chars().collect();
    let at = rng.random_range(1..chars.len() - 1);
    let mut out = chars.clone();
    match rng.random_range(0..3) {
        0 => {
            out.remove(at);
        }
        1 => out.swap(at, at + 1),
        _ => out[at] = if chars[at] == 'e' { 'a' } else { 'e' },
    }
    out.into_iter().collect()
}

fn cases(titles: &[String], categories: &[String], rng: &mut StdRng) -> Vec<Case> {
    let mut out = Vec::with_capacity(QUERIES);
    while out.len() < QUERIES {
        let i = rng.random_range(0..titles.len());
        let words: Vec<String> = titles[i]
            .split(' ')
            .filter(|w| !w.starts_with('('))
            .map(str::to_lowercase)
            .collect();
        let case = match out.len() % 4 {
            0 => {
                // Model number or series with digits, with its brand.
                let Some(model) = words.iter().find(|w| w.chars().any(|c| c.is_ascii_digit()))
                else {
                    continue;
                };
                let q = format!("{} {model}", words[0]);
                Case {
                    q,
                    kind: "model number",
                    words: vec![words[0].clone(), model.clone()],
                }
            }
            1 => {
                // A typo in the longest letters-only word.
                let Some(long) = words
                    .iter()
                    .filter(|w| w.len() >= 5 && w.chars().all(char::is_alphabetic))
                    .max_by_key(|w| w.len())
                else {
                    continue;
                };
                let q = words
                    .iter()
                    .map(|w| if w == long { typo(w, rng) } else { w.clone() })
                    .collect::<Vec<_>>()
                    .join(" ");
                Case {
                    q,
                    kind: "typo",
                    words: words.clone(),
                }
            }
            2 => {
                // Typing: all words but the last, which is cut to 3 letters.
                let last = &words[words.len() - 1];
                if last.len() < 4 {
                    continue;
                }
                let mut q = words[..words.len() - 1].join(" ");
                q.push(' ');
                q.push_str(&last[..3]);
                Case {
                    q,
                    kind: "prefix",
                    words: words.clone(),
                }
            }
            _ => {
                // Brand + the category's last word ("samsung smartphone").
                let cat = categories[i]
                    .rsplit('.')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                Case {
                    q: format!("{} {cat}", words[0]),
                    kind: "brand + category",
                    words: vec![words[0].clone()],
                }
            }
        };
        out.push(case);
    }
    out
}

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
    let mut categories: Vec<String> = Vec::new();
    let mut brands: Vec<String> = Vec::new();
    let mut cat_ix: HashMap<String, u32> = HashMap::new();
    let mut brand_ix: HashMap<String, u32> = HashMap::new();
    let intern = |v: &str, list: &mut Vec<String>, ix: &mut HashMap<String, u32>| {
        if v.is_empty() {
            return NONE;
        }
        *ix.entry(v.to_owned()).or_insert_with(|| {
            list.push(v.to_owned());
            u32::try_from(list.len() - 1).expect("small")
        })
    };
    #[expect(clippy::cast_possible_truncation, reason = "prices fit f32")]
    let items: Vec<ItemRecord> = products
        .iter()
        .map(|p| ItemRecord {
            id: p.id.clone(),
            title: p.title.clone(),
            category: intern(&p.category, &mut categories, &mut cat_ix),
            brand: intern(&p.brand, &mut brands, &mut brand_ix),
            price: p.price as f32,
            in_stock: p.in_stock,
        })
        .collect();
    let popularity: Vec<f32> = (0..n).map(|_| rng.random_range(0.0f32..100.0)).collect();
    let data = ModelData {
        version: "search-bench".into(),
        items,
        category_popular: vec![Vec::new(); categories.len()],
        categories,
        brands,
        popularity,
        popular: Vec::new(),
        co_view: vec![Vec::new(); n],
        co_buy: vec![Vec::new(); n],
        ..ModelData::default()
    };
    let model = Model::load(data.encode().expect("encode")).expect("load");
    let t = Instant::now();
    let index = SearchIndex::build(&model);
    let build_ms = t.elapsed().as_secs_f64() * 1e3;
    let titles: Vec<String> = products.iter().map(|p| p.title.clone()).collect();
    let cats: Vec<String> = products.iter().map(|p| p.category.clone()).collect();
    let cases = cases(&titles, &cats, &mut rng);

    let mut times = Vec::with_capacity(cases.len());
    let mut passed: HashMap<&str, (usize, usize)> = HashMap::new();
    for c in &cases {
        let q = SearchQuery {
            q: c.q.clone(),
            filter: SearchFilter::default(),
            sort: Sort::Relevance,
            facets: vec![Facet::Brand, Facet::Category],
            page: 1,
            k: 10,
            user_id: None,
            anonymous_id: None,
        };
        let t = Instant::now();
        let found = index.search(&model, &q);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        let ok = found.hits.iter().take(3).any(|&(i, _)| {
            let title = model.item_title(i).to_lowercase();
            c.words.iter().all(|w| title.split(' ').any(|t| t == w))
        });
        let e = passed.entry(c.kind).or_default();
        e.0 += usize::from(ok);
        e.1 += 1;
    }
    times.sort_by(f64::total_cmp);
    let total_pass: usize = passed.values().map(|v| v.0).sum();
    std::fs::create_dir_all(&out_dir).expect("out dir");
    let docs: Vec<_> = products
        .iter()
        .map(|p| json!({"id": p.id, "title": p.title, "brand": p.brand, "category": p.category, "price": p.price, "in_stock": p.in_stock}))
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
    let mut kinds: Vec<_> = passed.into_iter().collect();
    kinds.sort();
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    let summary = json!({
        "engine": "vitrine",
        "products": n,
        "queries": cases.len(),
        "build_ms": build_ms,
        "p50_ms": percentile(&times, 0.5),
        "p99_ms": percentile(&times, 0.99),
        "bytes_per_product": index.approx_bytes() as f64 / n as f64,
        "top3_pass": total_pass as f64 / cases.len() as f64,
        "by_kind": kinds.iter().map(|(k, (p, t))| json!({"kind": k, "pass": p, "of": t})).collect::<Vec<_>>(),
    });
    println!("{summary}");
}
