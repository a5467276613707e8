//! A simulated electronics shop: the embedded default data of the demo and the scale benchmark.
//!
//! A catalog of model-numbered products across categories and brands with log-normal prices and
//! Zipf popularity; shoppers with category and brand tastes; sessions that browse within one or
//! two categories (so co-views are related), add to cart and buy at realistic funnel rates, buy
//! accessories with phones, laptops and cameras, and come back for consumables (ink, batteries,
//! cables). Anonymous sessions sometimes log in. Deterministic for a seed; written day by day,
//! so memory stays flat whatever the number of events.

use std::collections::{BTreeMap, HashMap};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use shared::{Event, EventType, PurchaseLine, lake, time::DAY_MS};

use crate::lake::products::Product;
use crate::lake::store::{Lake, StoreError};

mod catalog;
pub mod searches;

use catalog::CATEGORIES;

/// Simulation size and seed.
#[derive(Debug, Clone, PartialEq)]
pub struct SimParams {
    pub events: usize,
    pub users: usize,
    pub items: usize,
    pub days: usize,
    pub seed: u64,
    /// Midnight UTC of the day after the last simulated day, epoch ms.
    pub end_ms: i64,
}

/// Why a simulation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{0}")]
    Params(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SimParams {
    /// Midnight UTC after the last simulated day: the day after `end_date` (`YYYY-MM-DD`), or
    /// today's midnight (so the last day is yesterday) when none is given.
    pub fn end_ms_of(end_date: Option<&str>, now_ms: i64) -> Result<i64, SimError> {
        match end_date {
            Some(d) => shared::time::parse_date(d)
                .map(|ms| ms + DAY_MS)
                .ok_or_else(|| SimError::Params(format!("--end-date `{d}` is not YYYY-MM-DD"))),
            None => Ok(now_ms - now_ms.rem_euclid(DAY_MS)),
        }
    }

    /// Checks sizes.
    pub fn check(&self) -> Result<(), SimError> {
        let bad = |m: &str| Err(SimError::Params(m.to_owned()));
        if self.users == 0 || self.items < CATEGORIES.len() || self.days == 0 || self.events == 0 {
            return Err(SimError::Params(format!(
                "need events ≥ 1, users ≥ 1, days ≥ 1 and at least one item per category (≥ {} items)",
                CATEGORIES.len()
            )));
        }
        if self.items > 10_000_000 || self.users > 100_000_000 || self.days > 3650 {
            return bad("items ≤ 10M, users ≤ 100M, days ≤ 3650");
        }
        Ok(())
    }
}

/// What a simulation wrote.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SimReport {
    pub seconds: f64,
    pub events: usize,
    pub products: usize,
    pub files: usize,
    pub by_type: BTreeMap<String, usize>,
    /// The search log written beside the events ([`searches`]); its clicks are counted in
    /// `events`.
    pub searches: searches::SearchLog,
}

/// The simulated catalog and per-category popularity samplers.
struct Shop {
    products: Vec<Product>,
    /// Item indices per category, most popular first.
    by_category: Vec<Vec<usize>>,
    /// Cumulative Zipf weights per category, for sampling.
    cumulative: Vec<Vec<f64>>,
    category_cumulative: Vec<f64>,
    category_index: HashMap<&'static str, usize>,
}

fn lognormal(rng: &mut StdRng, median: f64, sigma: f64) -> f64 {
    // Box–Muller.
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    median * (sigma * z).exp()
}

fn pick(rng: &mut StdRng, cumulative: &[f64]) -> usize {
    let total = cumulative.last().copied().unwrap_or(0.0);
    let x = rng.random::<f64>() * total;
    cumulative
        .partition_point(|&c| c < x)
        .min(cumulative.len().saturating_sub(1))
}

fn cumulate(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut acc = 0.0;
    weights
        .map(|w| {
            acc += w;
            acc
        })
        .collect()
}

impl Shop {
    fn new(p: &SimParams, rng: &mut StdRng, start_ms: i64) -> Self {
        let total_weight: f64 = CATEGORIES.iter().map(|c| c.weight).sum();
        let mut products = Vec::with_capacity(p.items);
        let mut by_category = vec![Vec::new(); CATEGORIES.len()];
        let mut counts: Vec<usize> = CATEGORIES
            .iter()
            .map(|c| {
                ((c.weight / total_weight) * p.items as f64)
                    .floor()
                    .max(1.0) as usize
            })
            .collect();
        let mut assigned: usize = counts.iter().sum();
        let mut ci = 0;
        while assigned < p.items {
            let n = counts.len();
            counts[ci % n] += 1;
            assigned += 1;
            ci += 1;
        }
        for (c, (cat, &count)) in CATEGORIES.iter().zip(&counts).enumerate() {
            for n in 0..count {
                let (brand, series) = cat.brands[rng.random_range(0..cat.brands.len())];
                let model = series[rng.random_range(0..series.len())];
                let id = format!("{}", 100_000 + products.len());
                let suffix = if n >= cat.brands.len() * 3 {
                    format!(" ({})", &id[id.len() - 3..])
                } else {
                    String::new()
                };
                let (title, attributes) = catalog::describe(cat, c, n, brand, model, &suffix);
                let created = start_ms - rng.random_range(0..365) * DAY_MS;
                by_category[c].push(products.len());
                products.push(Product {
                    title,
                    id,
                    brand: brand.to_lowercase(),
                    category: cat.code.to_owned(),
                    price: (lognormal(rng, cat.price, 0.35) * 100.0).round() / 100.0,
                    currency: "EUR".into(),
                    in_stock: rng.random::<f64>() > 0.05,
                    rating: Some(((3.0 + rng.random::<f32>() * 2.0) * 10.0).round() / 10.0),
                    created_at: created,
                    updated_at: created,
                    attributes,
                });
            }
        }
        let cumulative = by_category
            .iter()
            .map(|items| cumulate((0..items.len()).map(|r| 1.0 / (r as f64 + 1.0).powf(0.9))))
            .collect();
        let category_cumulative = cumulate(CATEGORIES.iter().map(|c| c.weight));
        let category_index = CATEGORIES
            .iter()
            .enumerate()
            .map(|(i, c)| (c.code, i))
            .collect();
        Self {
            products,
            by_category,
            cumulative,
            category_cumulative,
            category_index,
        }
    }

    fn item_in(&self, rng: &mut StdRng, category: usize, brand: Option<&str>) -> usize {
        let items = &self.by_category[category];
        for _ in 0..3 {
            let i = items[pick(rng, &self.cumulative[category])];
            if brand.is_none_or(|b| self.products[i].brand == b) || rng.random::<f64>() < 0.5 {
                return i;
            }
        }
        items[pick(rng, &self.cumulative[category])]
    }
}

/// A shopper's stable tastes, derived from the seed and the user number.
struct Taste {
    categories: Vec<usize>,
    brands: Vec<&'static str>,
}

fn taste(seed: u64, user: usize, shop: &Shop) -> Taste {
    let mut rng = StdRng::seed_from_u64(seed ^ (user as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let n = 1 + rng.random_range(0..3);
    let categories: Vec<usize> = (0..n)
        .map(|_| pick(&mut rng, &shop.category_cumulative))
        .collect();
    let brands = categories
        .iter()
        .map(|&c| {
            let b = CATEGORIES[c].brands;
            b[rng.random_range(0..b.len())].0
        })
        .collect();
    Taste { categories, brands }
}

struct DayWriter<'a> {
    lake: &'a Lake,
    seed: u64,
    dt: String,
    buf: String,
    part: usize,
    files: usize,
}

impl DayWriter<'_> {
    async fn push(&mut self, e: &Event) -> Result<(), StoreError> {
        if let Ok(line) = serde_json::to_string(e) {
            self.buf.push_str(&line);
            self.buf.push('\n');
        }
        if self.buf.len() > 64 * 1024 * 1024 {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), StoreError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let key = lake::raw_events_key(&self.dt, &format!("sim-{}-{:04}", self.seed, self.part));
        self.lake.put(&key, std::mem::take(&mut self.buf)).await?;
        self.part += 1;
        self.files += 1;
        Ok(())
    }
}

/// The simulated catalog alone (the same products `simulate` writes for these parameters).
pub fn catalog(p: &SimParams) -> Vec<Product> {
    let start_ms = p.end_ms - p.days as i64 * DAY_MS;
    let mut rng = StdRng::seed_from_u64(p.seed);
    Shop::new(p, &mut rng, start_ms).products
}

/// Generates the shop into the lake: products to `raw/products/simulated.ndjson`, events to
/// `raw/events/dt=…/sim-<seed>-<part>.ndjson`.
pub async fn simulate(lake: &Lake, p: &SimParams) -> Result<SimReport, SimError> {
    simulate_from(lake, p, None).await
}

/// [`simulate`], writing only the days from `first_day_ms` (midnight UTC) on: the next night of
/// a shop simulated before with the same seed, sizes and one day fewer. Event ids and the
/// catalog are those of the full run; the skipped days are not generated, so repeat purchases
/// of consumables start afresh.
pub async fn simulate_from(
    lake: &Lake,
    p: &SimParams,
    first_day_ms: Option<i64>,
) -> Result<SimReport, SimError> {
    p.check()?;
    let started = std::time::Instant::now();
    let start_ms = p.end_ms - p.days as i64 * DAY_MS;
    let mut rng = StdRng::seed_from_u64(p.seed);
    let shop = Shop::new(p, &mut rng, start_ms);
    let mut report = SimReport {
        products: shop.products.len(),
        ..SimReport::default()
    };
    let body: String = shop
        .products
        .iter()
        .filter_map(|x| serde_json::to_string(x).ok())
        .map(|l| l + "\n")
        .collect();
    lake.put(&lake::raw_products_key("simulated"), body).await?;

    let mut consumables: HashMap<usize, usize> = HashMap::new();
    let mut counter = 0usize;
    let mut written = 0usize;
    let bar = crate::progress::bar(p.events as u64, "simulating events");
    for day in 0..p.days {
        let day_start = start_ms + day as i64 * DAY_MS;
        let target = (p.events * (day + 1)) / p.days;
        if first_day_ms.is_some_and(|first| day_start < first) {
            counter = target;
            continue;
        }
        let mut day_rng = StdRng::seed_from_u64(
            p.seed
                .wrapping_add(1 + day as u64)
                .wrapping_mul(0xA24B_AED4_963E_E407),
        );
        let mut out = DayWriter {
            lake,
            seed: p.seed,
            dt: shared::time::date_of(day_start),
            buf: String::new(),
            part: 0,
            files: 0,
        };
        let mut events: Vec<Event> = Vec::new();
        while counter < target {
            events.clear();
            session(
                &mut day_rng,
                &shop,
                p,
                day_start,
                &mut consumables,
                &mut events,
            );
            events.sort_by_key(|e| e.timestamp);
            for mut e in events.drain(..) {
                if counter >= target {
                    break;
                }
                e.event_id = format!("sim-{}-{counter}", p.seed);
                *report
                    .by_type
                    .entry(e.event_type.as_str().to_owned())
                    .or_default() += 1;
                out.push(&e).await?;
                counter += 1;
                written += 1;
            }
        }
        out.flush().await?;
        report.files += out.files;
        bar.set_position(counter as u64);
    }
    bar.finish_and_clear();
    report.searches =
        searches::write(lake, p, &shop.products, &shop.by_category, first_day_ms).await?;
    let written_days = (0..p.days)
        .filter(|&d| first_day_ms.is_none_or(|first| start_ms + d as i64 * DAY_MS >= first))
        .count();
    report.files += 2 * written_days;
    report.events = written + report.searches.clicks;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

fn base_event(
    kind: EventType,
    user: Option<String>,
    anon: Option<String>,
    session: &str,
    ts: i64,
) -> Event {
    Event {
        event_id: String::new(),
        event_type: kind,
        user_id: user,
        anonymous_id: anon,
        session_id: session.to_owned(),
        timestamp: ts,
        item_id: None,
        quantity: None,
        price: None,
        currency: None,
        query: None,
        results: Vec::new(),
        order_id: None,
        lines: Vec::new(),
        serve_id: None,
        placement: None,
        position: None,
        context: None,
        received_at: None,
    }
}

/// One shopping session appended to `out` (unsorted).
fn session(
    rng: &mut StdRng,
    shop: &Shop,
    p: &SimParams,
    day_start: i64,
    consumables: &mut HashMap<usize, usize>,
    out: &mut Vec<Event>,
) {
    // Shopper activity is skewed: a few shoppers come back often.
    let user = ((rng.random::<f64>().powf(2.0)) * p.users as f64) as usize % p.users;
    let taste = taste(p.seed, user, shop);
    let sid = format!("s{}-{}", day_start / DAY_MS, rng.random::<u32>());
    let logged_in = rng.random::<f64>() < 0.6;
    let uid = format!("u{user}");
    let anon = format!("a{user}-{}", rng.random_range(0..3));
    let (user_id, anonymous_id) = if logged_in {
        (Some(uid.clone()), None)
    } else {
        (None, Some(anon.clone()))
    };
    // Evening-heavy start time.
    let hour = (8.0 + 14.0 * rng.random::<f64>().powf(0.7)).min(23.9);
    let mut ts = day_start + (hour * 3_600_000.0) as i64;
    let step = |rng: &mut StdRng, ts: &mut i64| *ts += rng.random_range(5_000..180_000);
    let ev = |kind, ts| base_event(kind, user_id.clone(), anonymous_id.clone(), &sid, ts);

    // Consumable repeat purchase: come back for ink, batteries or cables.
    if let Some(&item) = consumables
        .get(&user)
        .filter(|_| rng.random::<f64>() < 0.15)
    {
        let mut e = ev(EventType::View, ts);
        e.item_id = Some(shop.products[item].id.clone());
        out.push(e);
        step(rng, &mut ts);
        out.push(purchase(
            rng,
            shop,
            &[item],
            ev(EventType::Purchase, ts),
            &sid,
        ));
        return;
    }
    let cat = if rng.random::<f64>() < 0.8 {
        taste.categories[rng.random_range(0..taste.categories.len())]
    } else {
        pick(rng, &shop.category_cumulative)
    };
    let brand = taste
        .categories
        .iter()
        .position(|&c| c == cat)
        .map(|i| taste.brands[i]);
    let n_views = 1 + (rng.random::<f64>().powf(1.5) * 10.0) as usize;
    let mut viewed = Vec::with_capacity(n_views);
    for _ in 0..n_views {
        let c = if rng.random::<f64>() < 0.85 {
            cat
        } else {
            pick(rng, &shop.category_cumulative)
        };
        viewed.push(shop.item_in(rng, c, brand));
    }
    if rng.random::<f64>() < 0.2 {
        let first = &shop.products[viewed[0]];
        let leaf = first
            .category
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .replace('_', " ");
        let mut e = ev(EventType::Search, ts);
        e.query = Some(format!("{} {leaf}", first.brand));
        e.results = viewed
            .iter()
            .take(5)
            .map(|&i| shop.products[i].id.clone())
            .collect();
        out.push(e);
        step(rng, &mut ts);
    }
    let mut cart = Vec::new();
    for &i in &viewed {
        let mut e = ev(EventType::View, ts);
        e.item_id = Some(shop.products[i].id.clone());
        e.price = Some(shop.products[i].price);
        e.currency = Some("EUR".into());
        out.push(e);
        step(rng, &mut ts);
        let affinity = if brand.is_some_and(|b| shop.products[i].brand == b) {
            0.14
        } else {
            0.07
        };
        if rng.random::<f64>() < affinity && !cart.contains(&i) {
            let mut e = ev(EventType::AddToCart, ts);
            e.item_id = Some(shop.products[i].id.clone());
            e.quantity = Some(1);
            e.price = Some(shop.products[i].price);
            e.currency = Some("EUR".into());
            out.push(e);
            cart.push(i);
            step(rng, &mut ts);
        }
    }
    if cart.is_empty() {
        return;
    }
    if rng.random::<f64>() < 0.12 {
        let removed = cart.pop().unwrap_or_default();
        let mut e = ev(EventType::RemoveFromCart, ts);
        e.item_id = Some(shop.products[removed].id.clone());
        e.quantity = Some(1);
        out.push(e);
        step(rng, &mut ts);
    }
    if cart.is_empty() || rng.random::<f64>() > 0.35 {
        return;
    }
    // Accessories bought with the main item.
    for &i in cart.clone().iter() {
        let cat_code = shop.products[i].category.as_str();
        let Some(def) = CATEGORIES.iter().find(|c| c.code == cat_code) else {
            continue;
        };
        for acc in def.accessories {
            if rng.random::<f64>() < 0.35
                && let Some(&ac) = shop.category_index.get(acc)
            {
                let item = shop.item_in(rng, ac, Some(shop.products[i].brand.as_str()));
                if !cart.contains(&item) {
                    cart.push(item);
                }
            }
        }
    }
    if !logged_in && rng.random::<f64>() < 0.5 {
        let mut e = base_event(EventType::Login, Some(uid.clone()), Some(anon), &sid, ts);
        e.event_id = String::new();
        out.push(e);
        step(rng, &mut ts);
    }
    let buyer = base_event(
        EventType::Purchase,
        Some(uid),
        anonymous_id.clone().filter(|_| logged_in),
        &sid,
        ts,
    );
    out.push(purchase(rng, shop, &cart, buyer, &sid));
    if let Some(&c) = cart.iter().find(|&&i| {
        CATEGORIES
            .iter()
            .any(|c| c.consumable && c.code == shop.products[i].category)
    }) {
        consumables.insert(user, c);
    }
}

fn purchase(rng: &mut StdRng, shop: &Shop, items: &[usize], mut e: Event, sid: &str) -> Event {
    e.order_id = Some(format!("o-{sid}-{}", rng.random::<u32>()));
    e.lines = items
        .iter()
        .map(|&i| {
            let consumable = CATEGORIES
                .iter()
                .any(|c| c.consumable && c.code == shop.products[i].category);
            PurchaseLine {
                item_id: shop.products[i].id.clone(),
                quantity: if consumable {
                    rng.random_range(1..4)
                } else {
                    1
                },
                price: shop.products[i].price,
                currency: "EUR".into(),
            }
        })
        .collect();
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::ValidationPolicy;

    fn params(events: usize, seed: u64) -> SimParams {
        SimParams {
            events,
            users: 300,
            items: 400,
            days: 3,
            seed,
            end_ms: 1_790_035_200_000,
        }
    }

    async fn run(p: &SimParams) -> (Lake, SimReport) {
        let lake = Lake::open("memory://").unwrap();
        let r = simulate(&lake, p).await.unwrap();
        (lake, r)
    }

    async fn all_events(lake: &Lake) -> Vec<Event> {
        let mut out = Vec::new();
        for (k, _) in lake.list("raw/events/").await.unwrap() {
            let body = lake.get(&k).await.unwrap();
            for l in String::from_utf8_lossy(&body).lines() {
                out.push(serde_json::from_str::<Event>(l).unwrap());
            }
        }
        out
    }

    #[tokio::test]
    async fn writes_valid_events_with_a_funnel() {
        let p = params(5000, 42);
        let (lake, r) = run(&p).await;
        assert_eq!(
            r.events,
            5000 + r.searches.clicks,
            "the search log's clicks on top"
        );
        assert_eq!(r.products, 400);
        let events = all_events(&lake).await;
        assert_eq!(events.len(), r.events);
        let now = p.end_ms;
        for e in &events {
            let v = serde_json::to_value(e).unwrap();
            shared::event::validate(&v, now, &ValidationPolicy::historical())
                .unwrap_or_else(|err| panic!("{err}: {v}"));
        }
        let count = |t: &str| r.by_type.get(t).copied().unwrap_or(0);
        assert!(
            count("view") > count("add_to_cart") && count("add_to_cart") > count("purchase"),
            "{:?}",
            r.by_type
        );
        assert!(
            count("purchase") > 10 && count("search") > 10 && count("login") > 0,
            "{:?}",
            r.by_type
        );
        assert!(
            events
                .iter()
                .filter(|e| e.event_type == EventType::Purchase)
                .all(|e| e.lines.iter().all(|l| l.price > 0.0))
        );
        let ids: std::collections::HashSet<&str> =
            events.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids.len(), events.len());
        assert!(
            events
                .iter()
                .all(|e| e.timestamp < p.end_ms && e.timestamp >= p.end_ms - 3 * DAY_MS)
        );
    }

    #[tokio::test]
    async fn deterministic_for_a_seed() {
        let (a, _) = run(&params(2000, 7)).await;
        let (b, _) = run(&params(2000, 7)).await;
        let (c, _) = run(&params(2000, 8)).await;
        assert_eq!(all_events(&a).await, all_events(&b).await);
        assert_ne!(all_events(&a).await, all_events(&c).await);
    }

    #[test]
    fn bad_params_are_refused() {
        let mut p = params(10, 1);
        p.items = 3;
        assert!(p.check().is_err());
        p.items = 100;
        p.days = 0;
        assert!(p.check().is_err());
    }

    #[tokio::test]
    async fn the_next_night_writes_only_its_day_with_the_full_runs_ids_and_catalog() {
        let full = params(3000, 5);
        let (all, _) = run(&full).await;
        let night = SimParams {
            events: 3000,
            ..full.clone()
        };
        let last_day = full.end_ms - DAY_MS;
        let lake = Lake::open("memory://").unwrap();
        let r = simulate_from(&lake, &night, Some(last_day)).await.unwrap();
        let got = all_events(&lake).await;
        assert_eq!(got.len(), r.events);
        assert!(r.events > 0 && got.iter().all(|e| e.timestamp >= last_day));
        let want: Vec<Event> = all_events(&all)
            .await
            .into_iter()
            .filter(|e| e.timestamp >= last_day)
            .collect();
        let ids = |v: &[Event]| {
            let mut ids: Vec<String> = v.iter().map(|e| e.event_id.clone()).collect();
            ids.sort();
            ids
        };
        assert_eq!(
            ids(&got),
            ids(&want),
            "the same event ids as the full run's last day"
        );
        let products =
            |l: Lake| async move { l.get(&lake::raw_products_key("simulated")).await.unwrap() };
        assert_eq!(
            products(lake).await,
            products(all).await,
            "the same catalog"
        );
    }
}
