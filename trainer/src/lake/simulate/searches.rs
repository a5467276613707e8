//! The simulated shop's search log: shoppers type everyday queries ("headphones", "samsung tv"),
//! the shop shows the category's best sellers (what an engine without learning would show), and
//! shoppers click — more often on one product per query that the shop's customers prefer though
//! it is not shown first. That preference is the signal search learning must find. Some
//! shoppers first type a word the catalog does not use and then reformulate. Written as the edge
//! writes them: serve records under `raw/serves`, clicks (views carrying the serve id) under
//! `raw/events`.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shared::ingest::Serve;
use shared::{Event, EventType, lake, time::DAY_MS};

use super::{SimParams, base_event};
use crate::lake::products::Product;
use crate::lake::store::{Lake, StoreError};

/// One search per this many simulated events.
pub const EVENTS_PER_SEARCH: usize = 100;
/// Products a simulated search shows.
const SHOWN: usize = 10;
/// Chance a shopper clicks something.
const CLICK: f64 = 0.6;
/// Chance a click goes to the query's preferred product.
const PREFERRED: f64 = 0.6;
/// Chance a search starts with a word the catalog does not use.
const VAGUE: f64 = 0.1;

/// The query a shopper types for a category (its last path word, spaces for `_`), and the one a
/// shopper unsure of the word types first.
pub fn query_for(category: &str) -> (String, String) {
    let word = category
        .rsplit('.')
        .next()
        .unwrap_or(category)
        .replace('_', " ");
    (word.clone(), format!("best {word} deal"))
}

/// What the simulated log wrote.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SearchLog {
    pub searches: usize,
    pub clicks: usize,
}

/// The product of `shown` shoppers of this query prefer: fixed per query, never the first shown.
pub fn preferred(query: &str, shown: &[usize]) -> Option<usize> {
    if shown.len() < 2 {
        return shown.first().copied();
    }
    let h = shared::hash::fnv1a(query);
    #[expect(clippy::cast_possible_truncation, reason = "a small index")]
    let at = 1 + (h % (shown.len() as u64 - 1)) as usize;
    shown.get(at).copied()
}

/// Writes the search log for `p` over `products` grouped by category (`by_category`, most popular
/// first).
pub async fn write(
    lake: &Lake,
    p: &SimParams,
    products: &[Product],
    by_category: &[Vec<usize>],
    first_day_ms: Option<i64>,
) -> Result<SearchLog, StoreError> {
    let mut rng = StdRng::seed_from_u64(p.seed ^ 0x005E_A2C4);
    let start_ms = p.end_ms - p.days as i64 * DAY_MS;
    let per_day = (p.events / EVENTS_PER_SEARCH / p.days.max(1)).max(1);
    let mut log = SearchLog::default();
    let categories: Vec<&Vec<usize>> = by_category.iter().filter(|c| !c.is_empty()).collect();
    if categories.is_empty() {
        return Ok(log);
    }
    for day in 0..p.days {
        let day_start = start_ms + day as i64 * DAY_MS;
        let dt = shared::time::date_of(day_start);
        // A skipped day is still drawn, so the days written are those of the full run.
        let skipped = first_day_ms.is_some_and(|first| day_start < first);
        let before = log.clone();
        let (mut serves, mut events) = (String::new(), String::new());
        for n in 0..per_day {
            let items = categories[rng.random_range(0..categories.len())];
            let (query, vague) = query_for(&products[items[0]].category);
            let shown: Vec<usize> = items.iter().take(SHOWN).copied().collect();
            let who = format!(
                "sim-searcher-{}-{}",
                p.seed,
                rng.random_range(0..p.users.max(1))
            );
            let sid = format!("sq{day}-{n}");
            let mut ts = day_start + rng.random_range(8 * 3_600_000..22 * 3_600_000);
            let serve = |q: &str, shown: &[usize], ts: i64, id: String| Serve {
                serve_id: id,
                timestamp: ts,
                placement: "search".into(),
                variant: "default".into(),
                model_version: "simulated".into(),
                user_id: None,
                anonymous_id: Some(who.clone()),
                item_id: None,
                items: shown.iter().map(|&i| products[i].id.clone()).collect(),
                took_ms: 1.0,
                query: Some(q.to_owned()),
                total: Some(shown.len()),
            };
            let mut lines: Vec<Serve> = Vec::new();
            if rng.random::<f64>() < VAGUE {
                lines.push(serve(
                    &vague,
                    &[],
                    ts,
                    format!("sim-{}-{day}-{n}-v", p.seed),
                ));
                ts += rng.random_range(5_000..60_000);
            }
            let id = format!("sim-{}-{day}-{n}", p.seed);
            lines.push(serve(&query, &shown, ts, id.clone()));
            log.searches += lines.len();
            for l in &lines {
                if let Ok(line) = serde_json::to_string(l) {
                    serves.push_str(&line);
                    serves.push('\n');
                }
            }
            if rng.random::<f64>() < CLICK {
                let item = match preferred(&query, &shown) {
                    Some(i) if rng.random::<f64>() < PREFERRED => i,
                    _ => shown[rng.random_range(0..shown.len())],
                };
                let mut e = base_event(EventType::View, None, Some(who.clone()), &sid, ts + 4_000);
                e.event_id = format!("{id}-click");
                e.item_id = Some(products[item].id.clone());
                e.serve_id = Some(id);
                e.placement = Some("search".into());
                e.position = shown
                    .iter()
                    .position(|&s| s == item)
                    .and_then(|x| u32::try_from(x).ok());
                if let Ok(line) = serde_json::to_string::<Event>(&e) {
                    events.push_str(&line);
                    events.push('\n');
                }
                log.clicks += 1;
            }
        }
        if skipped {
            log = before;
            continue;
        }
        let batch = format!("sim-{}-search", p.seed);
        lake.put(&lake::raw_serves_key(&dt, &batch), serves).await?;
        lake.put(&lake::raw_events_key(&dt, &batch), events).await?;
    }
    Ok(log)
}
