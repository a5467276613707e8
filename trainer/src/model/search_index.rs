//! The search index the trainer ships inside the artifact: every product's title, brand, category
//! and attribute values; the shop's synonyms (`config/synonyms.json` in the lake, else the
//! built-in electronics list); and, for suggestions, the queries shoppers asked in the last
//! [`QUERY_DAYS`] days that found something and that at least [`MIN_QUERY_SHOPPERS`] different
//! shoppers asked (so one shopper's query is never suggested to another); and what those searches
//! taught ([`crate::model::search_learning`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use shared::artifact::{ModelData, NONE};
use shared::ingest::Serve;
use shared::search::index::{Doc, SearchIndex};
use shared::search::synonyms::Synonyms;
use shared::search::text;

use crate::lake::products::Product;
use crate::lake::store::{Lake, StoreError};

/// Where a shop keeps its synonyms.
pub const SYNONYMS_KEY: &str = shared::lake::CONFIG_SYNONYMS;
/// Attributes naming the products an accessory is made for: indexed at the "fits" weight.
pub const FITS_KEYS: &[&str] = &["compatible_with", "compatibility", "fits", "for"];
/// How far back past queries are read.
pub const QUERY_DAYS: i64 = 30;
/// Fewest distinct shoppers behind a suggested query.
pub const MIN_QUERY_SHOPPERS: usize = 3;
/// Most past queries kept.
pub const MAX_QUERIES: usize = 5_000;
const DAY_MS: i64 = 86_400_000;

/// Why the index could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SearchBuildError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{SYNONYMS_KEY}: {0}")]
    Synonyms(String),
    #[error("mining the search log: {0}")]
    Learning(#[from] datafusion::error::DataFusionError),
}

/// What went into the index, for the artifact's meta.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SearchStats {
    pub terms: usize,
    pub postings: usize,
    pub synonyms: usize,
    pub synonyms_source: &'static str,
    pub past_queries: usize,
    pub serve_lines_skipped: usize,
    /// What the shop's searches and the choices after them taught.
    pub learned: crate::model::search_learning::LearningStats,
    pub bytes: usize,
}

impl SearchStats {
    pub fn source_label(&self) -> &'static str {
        self.synonyms_source
    }
}

/// The shop's synonyms, or the built-in list when the lake has none.
pub async fn synonyms(lake: &Lake) -> Result<(Synonyms, &'static str), SearchBuildError> {
    match lake.get_opt(SYNONYMS_KEY).await? {
        None => Ok((Synonyms::electronics(), "built-in")),
        Some(bytes) => Synonyms::from_json(&bytes)
            .map(|s| (s, "lake"))
            .map_err(SearchBuildError::Synonyms),
    }
}

/// Normalised queries of the last [`QUERY_DAYS`] days that found products, with how many distinct
/// shoppers asked each; and how many serve lines could not be read.
pub async fn past_queries(
    lake: &Lake,
    now_ms: i64,
) -> Result<(Vec<(String, u32)>, usize), SearchBuildError> {
    let oldest = chrono::DateTime::from_timestamp_millis(now_ms - QUERY_DAYS * DAY_MS)
        .unwrap_or_default()
        .format("dt=%Y-%m-%d")
        .to_string();
    let mut askers: HashMap<String, HashSet<String>> = HashMap::new();
    let mut skipped = 0;
    for (key, _) in lake.list(shared::lake::RAW_SERVES).await? {
        let recent = key
            .split('/')
            .find(|p| p.starts_with("dt="))
            .is_some_and(|dt| dt >= oldest.as_str());
        if !recent {
            continue;
        }
        let bytes = lake.get(&key).await?;
        for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let Ok(serve) = serde_json::from_slice::<Serve>(line) else {
                skipped += 1;
                continue;
            };
            let (Some(q), Some(who)) = (
                serve.query.as_deref(),
                serve.user_id.as_ref().or(serve.anonymous_id.as_ref()),
            ) else {
                continue;
            };
            let found = serve.total.map_or(!serve.items.is_empty(), |t| t > 0);
            let q = text::query_terms(q).join(" ");
            if found && !q.is_empty() {
                askers.entry(q).or_default().insert(who.clone());
            }
        }
    }
    let mut queries: Vec<(String, u32)> = askers
        .into_iter()
        .filter(|(_, who)| who.len() >= MIN_QUERY_SHOPPERS)
        .map(|(q, who)| (q, u32::try_from(who.len()).unwrap_or(u32::MAX)))
        .collect();
    queries.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    queries.truncate(MAX_QUERIES);
    Ok((queries, skipped))
}

/// The index over `data`'s items (in their artifact order), with attributes from `products`.
pub fn index(
    data: &ModelData,
    products: &[Product],
    synonyms: Synonyms,
    queries: Vec<(String, u32)>,
) -> SearchIndex {
    let by_id: BTreeMap<&str, &Product> = products.iter().map(|p| (p.id.as_str(), p)).collect();
    let name = |names: &[String], i: u32| -> String {
        if i == NONE {
            String::new()
        } else {
            names.get(i as usize).cloned().unwrap_or_default()
        }
    };
    let fields: Vec<(String, String)> = data
        .items
        .iter()
        .map(|it| {
            (
                name(&data.brands, it.brand),
                name(&data.categories, it.category),
            )
        })
        .collect();
    SearchIndex::from_docs(
        data.items
            .iter()
            .zip(&fields)
            .map(|(it, (brand, category))| Doc {
                title: &it.title,
                brand,
                category,
                attributes: by_id
                    .get(it.id.as_str())
                    .map(|p| {
                        p.attributes
                            .iter()
                            .filter(|(k, _)| !FITS_KEYS.contains(&k.as_str()))
                            .map(|(_, v)| v.as_str())
                            .collect()
                    })
                    .unwrap_or_default(),
                fits: by_id
                    .get(it.id.as_str())
                    .map(|p| {
                        p.attributes
                            .iter()
                            .filter(|(k, _)| FITS_KEYS.contains(&k.as_str()))
                            .map(|(_, v)| v.as_str())
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
        synonyms,
        queries,
    )
}

/// Builds the index for `data` and stores it in `data.search`.
pub async fn attach(
    lake: &Lake,
    data: &mut ModelData,
    products: &[Product],
    now_ms: i64,
    engine: &crate::lake::engine::EngineUrl,
) -> Result<SearchStats, SearchBuildError> {
    let (synonyms, source) = synonyms(lake).await?;
    let (queries, skipped) = past_queries(lake, now_ms).await?;
    let ids: Vec<String> = data.items.iter().map(|it| it.id.clone()).collect();
    let (learned, learned_stats) =
        crate::model::search_learning::mine(lake, &ids, products, now_ms, engine).await?;
    let ix = index(data, products, synonyms, queries).with_learned(learned);
    let bytes = ix.encode();
    let stats = SearchStats {
        terms: ix.terms(),
        postings: ix.postings(),
        synonyms: ix.synonym_words(),
        synonyms_source: source,
        past_queries: ix.past_queries(),
        serve_lines_skipped: skipped,
        learned: learned_stats,
        bytes: bytes.len(),
    };
    data.search = Some(bytes);
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::Model;
    use shared::search::query::SearchQuery;
    use shared::search::spec::SearchFilter;

    fn serve(q: &str, who: &str, total: usize, dt_ms: i64) -> String {
        serde_json::to_string(&Serve {
            serve_id: "s".into(),
            timestamp: dt_ms,
            placement: "search".into(),
            variant: "default".into(),
            model_version: "m".into(),
            user_id: None,
            anonymous_id: Some(who.into()),
            item_id: None,
            items: Vec::new(),
            took_ms: 1.0,
            query: Some(q.into()),
            total: Some(total),
        })
        .unwrap()
    }

    #[tokio::test]
    async fn past_queries_need_results_several_shoppers_and_recency() {
        let lake = Lake::open("memory://").unwrap();
        let now = 1_790_000_000_000;
        let mut lines = Vec::new();
        for who in ["a", "b", "c", "c"] {
            lines.push(serve("Galaxy  S24", who, 5, now));
        }
        for who in ["a", "b"] {
            lines.push(serve("pixel 9", who, 3, now));
        }
        for who in ["a", "b", "c"] {
            lines.push(serve("nothing here", who, 0, now));
        }
        lines.push("{broken".into());
        lake.put("raw/serves/dt=2026-09-21/b1.ndjson", lines.join("\n"))
            .await
            .unwrap();
        let old: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|w| serve("old query", w, 1, now))
            .collect();
        lake.put("raw/serves/dt=2026-01-01/b0.ndjson", old.join("\n"))
            .await
            .unwrap();
        let (queries, skipped) = past_queries(&lake, now).await.unwrap();
        assert_eq!(queries, [("galaxy s24".to_owned(), 3)]);
        assert_eq!(skipped, 1);
    }

    #[tokio::test]
    async fn lake_synonyms_replace_the_built_in_list_and_bad_ones_fail() {
        let lake = Lake::open("memory://").unwrap();
        assert_eq!(synonyms(&lake).await.unwrap().1, "built-in");
        lake.put(SYNONYMS_KEY, r#"{"synonyms": [["telly", "tv"]]}"#)
            .await
            .unwrap();
        let (s, source) = synonyms(&lake).await.unwrap();
        assert_eq!(source, "lake");
        assert_eq!((s.len(), s.groups_of_word("telly").count()), (1, 1));
        lake.put(
            SYNONYMS_KEY,
            r#"{"synonyms": [["solid state drive", "ssd"], ["a b c d e", "x"]]}"#,
        )
        .await
        .unwrap();
        let e = synonyms(&lake).await.unwrap_err().to_string();
        assert!(e.contains("synonyms[1]") && e.contains("a b c d e"), "{e}");
    }

    #[tokio::test]
    async fn attached_index_finds_attributes_and_synonyms_through_the_artifact() {
        let products = crate::lake::simulate::catalog(&crate::lake::simulate::SimParams {
            events: 1,
            users: 1,
            items: 400,
            days: 1,
            seed: 3,
            end_ms: 1_790_000_000_000,
        });
        let mut rng: rand::rngs::StdRng = rand::SeedableRng::seed_from_u64(1);
        let mut data = crate::evaluation::search_cases::catalog_data(&products, &mut rng);
        let model = Model::load(data.encode().unwrap()).unwrap();
        let lake = Lake::open("memory://").unwrap();
        let stats = attach(
            &lake,
            &mut data,
            &products,
            0,
            &crate::lake::engine::EngineUrl::Local,
        )
        .await
        .unwrap();
        assert!(stats.terms > 0 && stats.bytes > 0);
        let with = Model::load(data.encode().unwrap()).unwrap();
        let (ix, problem) = SearchIndex::for_model(&with);
        assert!(problem.is_none());
        let ask = |q: &str| SearchQuery {
            q: q.into(),
            filter: SearchFilter::default(),
            sort: shared::search::spec::Sort::Relevance,
            facets: Vec::new(),
            page: 1,
            k: 1_000,
            user_id: None,
            anonymous_id: None,
            user_token: None,
            session: None,
            intents: true,
        };
        // Colours live only in attributes: the trainer's index finds them, the model's does not.
        let red = ix.search(&with, &ask("red").spec(), None);
        assert!(red.total > 0);
        for &(i, _) in &red.hits {
            let id = with.item_id(i);
            let p = products.iter().find(|p| p.id == id).unwrap();
            assert!(
                p.attributes.values().any(|v| v.eq_ignore_ascii_case("red"))
                    || p.title.to_lowercase().contains("red"),
                "{id}"
            );
        }
        let fallback = SearchIndex::build(&model);
        assert!(fallback.search(&model, &ask("red").spec(), None).total < red.total);
        // "television" finds the TVs through the built-in synonyms.
        let tv = ix.search(&with, &ask("television").spec(), None);
        assert!(tv.total > 0);
        assert!(
            tv.hits
                .iter()
                .take(5)
                .all(|&(i, _)| with.item_category_name(i) == "electronics.video.tv"),
            "{:?}",
            tv.hits
                .iter()
                .take(5)
                .map(|h| with.item_title(h.0))
                .collect::<Vec<_>>()
        );
    }
}
