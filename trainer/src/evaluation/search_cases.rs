//! Search relevance cases generated from the simulated catalog: each query is made from one
//! product's title (brand + model number, a typo, a truncated last word, brand + category word)
//! and passes when a top-3 result's title contains every word of that product — the intended
//! product or an identical variant. Shared by the relevance tests and `bench/search.sh`.

use std::collections::HashMap;

use rand::Rng;
use rand::rngs::StdRng;
use shared::artifact::{ItemRecord, NONE};
use shared::search::rank::Found;
use shared::{Model, ModelData};

use crate::lake::products::Product;

/// Queries in the benchmark.
pub const QUERIES: usize = 1_000;

/// A query, how it was made, and the words a relevant title must contain.
pub struct Case {
    pub q: String,
    pub kind: &'static str,
    pub words: Vec<String>,
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

/// `count` cases from `titles` (with their `categories`).
pub fn cases(
    titles: &[String],
    categories: &[String],
    count: usize,
    rng: &mut StdRng,
) -> Vec<Case> {
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
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

impl Case {
    /// Whether a top-3 title carries every word of the product the query came from.
    pub fn passes(&self, model: &Model, found: &Found) -> bool {
        found.hits.iter().take(3).any(|&(i, _)| {
            let title = model.item_title(i).to_lowercase();
            self.words.iter().all(|w| title.split(' ').any(|t| t == w))
        })
    }
}

/// A model holding just the catalog (random popularity), for search.
pub fn catalog_model(products: &[Product], rng: &mut StdRng) -> Model {
    #[expect(
        clippy::expect_used,
        reason = "a catalog built here always encodes and loads"
    )]
    Model::load(catalog_data(products, rng).encode().expect("encode")).expect("load")
}

/// The data of [`catalog_model`], before encoding (to attach a search index to).
pub fn catalog_data(products: &[Product], rng: &mut StdRng) -> ModelData {
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
            u32::try_from(list.len() - 1).unwrap_or(NONE)
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
            rating: p.rating,
            created_at: p.created_at,
        })
        .collect();
    let n = items.len();
    ModelData {
        version: "search-catalog".into(),
        items,
        category_popular: vec![Vec::new(); categories.len()],
        categories,
        brands,
        popularity: (0..n).map(|_| rng.random_range(0.0f32..100.0)).collect(),
        co_view: vec![Vec::new(); n],
        co_buy: vec![Vec::new(); n],
        ..ModelData::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::simulate::{SimParams, catalog};
    use rand::SeedableRng;
    use shared::search::index::SearchIndex;
    use shared::search::query::SearchQuery;
    use shared::search::spec::{Facet, SearchFilter, Sort};
    use shared::search::synonyms::Synonyms;

    fn ask(q: &str, filter: SearchFilter, facets: Vec<Facet>, k: usize) -> SearchQuery {
        SearchQuery {
            q: q.into(),
            filter,
            sort: Sort::Relevance,
            facets,
            page: 1,
            k,
            user_id: None,
            anonymous_id: None,
            user_token: None,
            session: None,
            intents: true,
        }
    }

    fn setup() -> (Vec<Product>, Model, SearchIndex) {
        let products = catalog(&SimParams {
            events: 1,
            users: 1,
            items: 5_000,
            days: 1,
            seed: 3,
            end_ms: 1_790_000_000_000,
        });
        // The index the trainer ships: attributes and the built-in synonyms included.
        let data = catalog_data(&products, &mut StdRng::seed_from_u64(5));
        let index =
            crate::model::search_index::index(&data, &products, Synonyms::electronics(), vec![]);
        let model = Model::load(data.encode().unwrap()).unwrap();
        (products, model, index)
    }

    #[test]
    fn judged_queries_find_the_intended_product_in_the_top_3() {
        let (products, model, index) = setup();
        let titles: Vec<String> = products.iter().map(|p| p.title.clone()).collect();
        let cats: Vec<String> = products.iter().map(|p| p.category.clone()).collect();
        let judged = cases(&titles, &cats, 120, &mut StdRng::seed_from_u64(9));
        let mut by_kind: HashMap<&str, (usize, usize)> = HashMap::new();
        let mut model_misses: Vec<(String, Option<String>)> = Vec::new();
        for c in &judged {
            let found = index.search(
                &model,
                &ask(&c.q, SearchFilter::default(), vec![], 10).spec(),
                None,
            );
            let e = by_kind.entry(c.kind).or_default();
            e.0 += usize::from(c.passes(&model, &found));
            e.1 += 1;
            if c.kind == "model number" {
                let first = found
                    .hits
                    .first()
                    .map(|h| model.item_title(h.0).to_lowercase());
                let number = &c.words[1];
                let ok = first
                    .as_deref()
                    .is_some_and(|t| t.split(' ').any(|w| w == number.as_str()));
                if !ok {
                    model_misses.push((c.q.clone(), first));
                }
            }
        }
        for (kind, (pass, of)) in &by_kind {
            assert!(*pass * 10 >= *of * 9, "{kind}: {pass}/{of} in the top 3");
        }
        assert!(
            model_misses.is_empty(),
            "model-number queries whose first hit lacks the number: {model_misses:?}"
        );
    }

    #[test]
    fn filters_never_leak_and_facets_equal_a_brute_force_count() {
        let (products, model, index) = setup();
        let brand = products[17].brand.clone();
        let filter = SearchFilter {
            brands: vec![brand.clone()],
            max_price: Some(400.0),
            in_stock: true,
            ..SearchFilter::default()
        };
        let found = index.search(
            &model,
            &ask("", filter, vec![Facet::Brand, Facet::Category], 100).spec(),
            None,
        );
        for &(i, _) in &found.hits {
            assert_eq!(model.item_brand(i), brand);
            assert!(model.item_price(i) <= 400.0 && model.item_in_stock(i));
        }
        let cheap = |p: &&Product| p.price as f32 <= 400.0 && p.in_stock;
        let mut brute: HashMap<String, usize> = HashMap::new();
        for p in products.iter().filter(cheap) {
            *brute.entry(p.brand.clone()).or_default() += 1;
        }
        let counted: HashMap<String, usize> = found.facets[0].1.iter().cloned().collect();
        assert_eq!(counted, brute, "brand facet ignores the brand filter only");
        assert_eq!(found.total, brute.get(&brand).copied().unwrap_or(0));
        let mut by_cat: HashMap<String, usize> = HashMap::new();
        for p in products.iter().filter(cheap).filter(|p| p.brand == brand) {
            *by_cat.entry(p.category.clone()).or_default() += 1;
        }
        let counted: HashMap<String, usize> = found.facets[1].1.iter().cloned().collect();
        assert_eq!(counted, by_cat);
    }
}
