//! What the shop's own searches teach the index: the edge's search serve records joined (by serve
//! id) with the clicks and add-to-carts that followed, through DataFusion over the lake. Per
//! query (keyed as `shared::search::index::query_key` keys it) the products shoppers chose become
//! boosts, and a category that most of the choices went to becomes the query's learned category
//! intent. A search that found nothing useful and was followed, within
//! [`REFORMULATION_SECONDS`], by another search of the same shopper that led to a click lends
//! that click to the first query at half weight: that is how "gpu" learns "graphics card".
//!
//! Only queries that at least [`MIN_QUERY_SHOPPERS`] distinct shoppers chose from are kept (one
//! shopper's query never shapes another's results), at most [`MAX_LEARNED`] of them.

use std::collections::{BTreeMap, HashMap, HashSet};

use arrow_array::{Array, Int64Array, StringArray};
use datafusion::error::DataFusionError;
use shared::search::index::{Learned, query_key};

use crate::lake::engine::{Engine, EngineUrl};
use crate::lake::products::Product;
use crate::lake::store::Lake;

/// Fewest distinct shoppers behind a learned query.
pub const MIN_QUERY_SHOPPERS: usize = 3;
/// Most queries learned.
pub const MAX_LEARNED: usize = 5_000;
/// Most boosted products per query.
pub const MAX_BOOSTS: usize = 8;
/// A product's share of a query's choices needed for a boost.
pub const MIN_SHARE: f64 = 0.1;
/// Share of a query's choices one category needs to become its intent.
pub const CATEGORY_SHARE: f64 = 0.6;
/// How soon a second search counts as reformulating the first.
pub const REFORMULATION_SECONDS: i64 = 120;
/// How far back serves are read.
pub const DAYS: i64 = 30;

/// What was learned, for the artifact's meta.
#[derive(Debug, Clone, Default, serde::Serialize, PartialEq)]
pub struct LearningStats {
    pub searches: usize,
    pub choices: usize,
    pub reformulations: usize,
    pub queries: usize,
    pub boosts: usize,
    pub categories: usize,
}

/// One search and what its shopper chose from it.
struct Search {
    key: String,
    shopper: String,
    ts: i64,
    /// `(item, weight)`: a click 1, an add-to-cart 2.
    chose: Vec<(String, f64)>,
}

fn string(batch: &arrow_array::RecordBatch, name: &str) -> Option<StringArray> {
    let col = batch.column_by_name(name)?;
    datafusion::arrow::compute::cast(col, &arrow_schema::DataType::Utf8)
        .ok()?
        .as_any()
        .downcast_ref::<StringArray>()
        .cloned()
}

/// Reads the last [`DAYS`] of search serves and the choices that followed them.
async fn searches(
    lake: &Lake,
    now_ms: i64,
    engine: &EngineUrl,
) -> Result<Vec<Search>, DataFusionError> {
    let oldest = chrono::DateTime::from_timestamp_millis(now_ms - DAYS * 86_400_000)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string();
    let engine = Engine::connect(lake, engine).await?;
    let sql = format!(
        "WITH s AS (
            SELECT serve_id, query, COALESCE(user_id, anonymous_id) AS shopper, timestamp AS ts
            FROM serves
            WHERE placement = 'search' AND query IS NOT NULL AND serve_id IS NOT NULL
              AND dt >= '{oldest}'
        ),
        c AS (
            SELECT serve_id, item_id, event_type FROM events
            WHERE serve_id IS NOT NULL AND item_id IS NOT NULL
              AND event_type IN ('view', 'rec_click', 'add_to_cart')
        )
        SELECT s.serve_id, s.query, s.shopper, s.ts, c.item_id, c.event_type
        FROM s LEFT JOIN c ON c.serve_id = s.serve_id
        WHERE s.shopper IS NOT NULL"
    );
    let (_, batches) = engine.query(&sql).await?;
    let mut by_serve: BTreeMap<String, Search> = BTreeMap::new();
    for b in &batches {
        let (Some(serve), Some(query), Some(shopper), Some(item), Some(kind)) = (
            string(b, "serve_id"),
            string(b, "query"),
            string(b, "shopper"),
            string(b, "item_id"),
            string(b, "event_type"),
        ) else {
            continue;
        };
        let Some(ts) = b
            .column_by_name("ts")
            .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
        else {
            continue;
        };
        for r in 0..b.num_rows() {
            let s = by_serve
                .entry(serve.value(r).to_owned())
                .or_insert_with(|| Search {
                    key: query_key(query.value(r)),
                    shopper: shopper.value(r).to_owned(),
                    ts: ts.value(r),
                    chose: Vec::new(),
                });
            if !item.is_null(r) {
                let w = if kind.value(r) == "add_to_cart" {
                    2.0
                } else {
                    1.0
                };
                s.chose.push((item.value(r).to_owned(), w));
            }
        }
    }
    Ok(by_serve
        .into_values()
        .filter(|s| !s.key.is_empty())
        .collect())
}

/// Per product of one query: its weight and who chose it; and everyone who chose.
type QueryChoices<'a> = (HashMap<&'a str, (f64, HashSet<&'a str>)>, HashSet<&'a str>);

/// Learns per-query boosts and category intents from `searches`; `ids` maps a product id to its
/// index in the model, `products` gives categories.
fn learn(
    mut searches: Vec<Search>,
    ids: &HashMap<&str, u32>,
    products: &[Product],
) -> (Vec<(String, Learned)>, LearningStats) {
    let category: HashMap<&str, &str> = products
        .iter()
        .map(|p| (p.id.as_str(), p.category.as_str()))
        .collect();
    let mut stats = LearningStats {
        searches: searches.len(),
        ..LearningStats::default()
    };
    // Reformulations: an unchosen search, then one of the same shopper soon after that was.
    searches.sort_by(|a, b| a.shopper.cmp(&b.shopper).then(a.ts.cmp(&b.ts)));
    let mut lent: Vec<(usize, Vec<(String, f64)>)> = Vec::new();
    for (i, pair) in searches.windows(2).enumerate() {
        let (a, b) = (&pair[0], &pair[1]);
        if a.shopper == b.shopper
            && a.chose.is_empty()
            && !b.chose.is_empty()
            && a.key != b.key
            && b.ts - a.ts <= REFORMULATION_SECONDS * 1000
        {
            lent.push((
                i,
                b.chose.iter().map(|(x, w)| (x.clone(), w / 2.0)).collect(),
            ));
        }
    }
    stats.reformulations = lent.len();
    for (i, chose) in lent {
        searches[i].chose = chose;
    }
    // Per query: weight per product, and who chose.
    let mut per: HashMap<&str, QueryChoices<'_>> = HashMap::new();
    for s in &searches {
        for (item, w) in &s.chose {
            stats.choices += 1;
            let q = per.entry(s.key.as_str()).or_default();
            q.1.insert(s.shopper.as_str());
            let e = q.0.entry(item.as_str()).or_default();
            e.0 += w;
            e.1.insert(s.shopper.as_str());
        }
    }
    let mut learned: Vec<(usize, String, Learned)> = Vec::new();
    for (key, (items, shoppers)) in per {
        if shoppers.len() < MIN_QUERY_SHOPPERS {
            continue;
        }
        let total: f64 = items.values().map(|v| v.0).sum();
        let mut by_category: HashMap<&str, f64> = HashMap::new();
        for (item, (w, _)) in &items {
            if let Some(c) = category.get(item) {
                *by_category.entry(c).or_default() += w;
            }
        }
        let top_category = by_category
            .into_iter()
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(a.0)))
            .filter(|(_, w)| *w >= CATEGORY_SHARE * total)
            .map(|(c, _)| c.to_owned());
        let mut chosen: Vec<(&str, f64)> = items
            .iter()
            .filter(|(_, (w, who))| who.len() >= 2 && *w >= MIN_SHARE * total)
            .map(|(i, (w, _))| (*i, *w))
            .collect();
        chosen.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        chosen.truncate(MAX_BOOSTS);
        let top = chosen.first().map_or(1.0, |c| c.1);
        let boosts: Vec<(u32, u8)> = chosen
            .into_iter()
            .filter_map(|(id, w)| {
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "a share scaled to 1..=255"
                )]
                let strength = (255.0 * w / top).round().clamp(1.0, 255.0) as u8;
                ids.get(id).map(|&i| (i, strength))
            })
            .collect();
        if boosts.is_empty() && top_category.is_none() {
            continue;
        }
        stats.boosts += boosts.len();
        stats.categories += usize::from(top_category.is_some());
        learned.push((
            shoppers.len(),
            key.to_owned(),
            Learned {
                category: top_category,
                boosts,
            },
        ));
    }
    learned.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    learned.truncate(MAX_LEARNED);
    stats.queries = learned.len();
    (learned.into_iter().map(|(_, k, l)| (k, l)).collect(), stats)
}

/// Learns from the lake's last [`DAYS`] of searches for a model whose items are `item_ids`.
pub async fn mine(
    lake: &Lake,
    item_ids: &[String],
    products: &[Product],
    now_ms: i64,
    engine: &EngineUrl,
) -> Result<(Vec<(String, Learned)>, LearningStats), DataFusionError> {
    // The search log is small next to the events: a cluster that is down must not stop the
    // night's model, so its query falls back to the embedded engine (same SQL, same rows).
    let searches = match searches(lake, now_ms, engine).await {
        Ok(s) => s,
        Err(e) if *engine != EngineUrl::Local => {
            tracing::warn!(%engine, "search log on the cluster failed ({e}); reading it locally");
            searches(lake, now_ms, &EngineUrl::Local).await?
        }
        Err(e) => return Err(e),
    };
    let ids: HashMap<&str, u32> = item_ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| u32::try_from(i).ok().map(|i| (id.as_str(), i)))
        .collect();
    Ok(learn(searches, &ids, products))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(key: &str, shopper: &str, ts: i64, chose: &[&str]) -> Search {
        Search {
            key: key.into(),
            shopper: shopper.into(),
            ts,
            chose: chose.iter().map(|c| ((*c).to_owned(), 1.0)).collect(),
        }
    }

    fn product(id: &str, category: &str) -> Product {
        Product {
            id: id.into(),
            category: category.into(),
            ..Product::default()
        }
    }

    #[test]
    fn choices_of_enough_shoppers_become_boosts_and_intents() {
        let products = [
            product("gpu1", "computers.components.videocards"),
            product("gpu2", "computers.components.videocards"),
            product("tv", "electronics.video.tv"),
        ];
        let ids: HashMap<&str, u32> = [("gpu1", 0), ("gpu2", 1), ("tv", 2)].into();
        let mut s = vec![
            search("graphic card", "a", 0, &["gpu1"]),
            search("graphic card", "b", 0, &["gpu1"]),
            search("graphic card", "c", 0, &["gpu2"]),
            // One shopper's habit teaches nothing.
            search("telly", "a", 0, &["tv"]),
            search("telly", "a", 5_000, &["tv"]),
        ];
        // "gpu" found nothing; each shopper then searched "graphic card" and chose.
        for (who, t) in [("d", 10_000), ("e", 20_000), ("f", 30_000)] {
            s.push(search("gpu", who, t, &[]));
            s.push(search("graphic card", who, t + 30_000, &["gpu2"]));
        }
        let (learned, stats) = learn(s, &ids, &products);
        let map: HashMap<String, Learned> = learned.into_iter().collect();
        assert_eq!(stats.reformulations, 3);
        assert!(!map.contains_key("telly"));
        let gc = &map["graphic card"];
        assert_eq!(
            gc.category.as_deref(),
            Some("computers.components.videocards")
        );
        assert_eq!(gc.boosts[0], (1, 255), "gpu2: chosen by 4 of 6");
        let gpu = &map["gpu"];
        assert_eq!(
            gpu.category.as_deref(),
            Some("computers.components.videocards")
        );
    }
}

#[cfg(test)]
mod learned_from_a_simulated_log {
    use super::*;
    use crate::lake::simulate::{SimParams, searches, simulate};
    use shared::Model;
    use shared::ingest::Serve;
    use shared::search::answer;
    use shared::search::index::SearchIndex;
    use shared::search::synonyms::Synonyms;

    /// The simulated shop's shoppers prefer one product per query that the engine does not show
    /// first; after learning from the log it moves up for that query, and no other query moves.
    #[tokio::test]
    async fn the_clicked_product_moves_up_for_its_query_only() {
        let lake = Lake::open("memory://").unwrap();
        let end_ms = 1_790_000_000_000 - 1_790_000_000_000 % shared::time::DAY_MS;
        let p = SimParams {
            events: 60_000,
            users: 2_000,
            items: 400,
            days: 10,
            seed: 9,
            end_ms,
        };
        let report = simulate(&lake, &p).await.unwrap();
        assert!(report.searches.clicks > 300, "{:?}", report.searches);
        crate::lake::compact::compact(&lake).await.unwrap();
        let products = crate::lake::compact::read_products(&lake).await.unwrap();
        let mut rng: rand::rngs::StdRng = rand::SeedableRng::seed_from_u64(1);
        let data = crate::evaluation::search_cases::catalog_data(&products, &mut rng);
        let ids: Vec<String> = data.items.iter().map(|it| it.id.clone()).collect();
        let (learned, stats) = mine(&lake, &ids, &products, end_ms, &EngineUrl::Local)
            .await
            .unwrap();
        assert!(stats.queries >= 10 && stats.boosts >= 10, "{stats:?}");
        let model = Model::load(data.encode().unwrap()).unwrap();
        let plain =
            crate::model::search_index::index(&data, &products, Synonyms::electronics(), vec![]);
        let taught = plain.clone().with_learned(learned);
        // What the log showed for each query, to know its preferred product.
        let mut shown: HashMap<String, Vec<String>> = HashMap::new();
        for (key, _) in lake.list(shared::lake::RAW_SERVES).await.unwrap() {
            for line in lake
                .get(&key)
                .await
                .unwrap()
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
            {
                let s: Serve = serde_json::from_slice(line).unwrap();
                if !s.items.is_empty() {
                    shown.insert(s.query.unwrap(), s.items);
                }
            }
        }
        let rank = |ix: &SearchIndex, q: &str, id: &str| {
            let mut ask = crate::evaluation::search_judged::ask(q);
            ask.k = 100;
            answer::search(ix, &model, &ask, None)
                .items
                .iter()
                .position(|h| h.id == id)
        };
        let mut moved = 0;
        for (q, items) in &shown {
            let idx: Vec<usize> = (0..items.len()).collect();
            let Some(at) = searches::preferred(q, &idx) else {
                continue;
            };
            let favourite = &items[at];
            let (before, after) = (rank(&plain, q, favourite), rank(&taught, q, favourite));
            assert!(
                after <= before || before.is_none(),
                "{q}: {before:?} → {after:?}"
            );
            if after == Some(0) && before != Some(0) {
                moved += 1;
            }
        }
        assert!(
            moved * 2 >= shown.len(),
            "{moved} of {} queries",
            shown.len()
        );
        // Queries nobody searched are answered exactly as before.
        for q in ["samsung", "wireless mouse", "65 inch tv", "iphone 15 case"] {
            let ids = |ix: &SearchIndex| {
                answer::search(ix, &model, &crate::evaluation::search_judged::ask(q), None)
                    .items
                    .into_iter()
                    .map(|h| h.id)
                    .collect::<Vec<_>>()
            };
            assert_eq!(ids(&plain), ids(&taught), "{q}");
        }
    }
}
