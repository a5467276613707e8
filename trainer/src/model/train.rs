//! Training: the lake's tables in, a `shared::ModelData` out.
//!
//! Popularity with time decay (global and per category), item-to-item co-visitation lists
//! (viewed together within sessions, bought together by the same shopper) and implicit-ALS item
//! embeddings (with cold-start content vectors and, for large catalogs, an IVF index), all with
//! configurable event-type weights. Everything is ordered deterministically, so the same lake and
//! seed give the same artifact bytes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde_json::{Map, Value, json};
use shared::artifact::{ItemRecord, NONE};
use shared::{EventType, ModelData};

use crate::lake::products::Product;
use crate::model::co_view_plan::CoViews;
use crate::model::covisit::{self, Groups};
use crate::model::csr::Csr;
use crate::model::embed;
use crate::model::ials::IalsValidParams;
use crate::model::interactions::Interactions;
use crate::parallel;

/// Why training parameters were refused or training could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    #[error("{0}")]
    Params(String),
    #[error("the lake has no events to train on (run `trainer compact` first)")]
    NoEvents,
    #[error("IVF index: {0}")]
    Ivf(String),
}

/// Checked training parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainValidParams {
    pub half_life_days: f64,
    pub view_weight: f32,
    pub cart_weight: f32,
    pub purchase_weight: f32,
    /// Neighbours kept per item in each co-visitation list.
    pub neighbors: usize,
    /// How many following events in a session count as viewed together.
    pub session_window: usize,
    /// Days within which one shopper's purchases count as bought together.
    pub cobuy_days: i64,
    /// Implicit-ALS embeddings; `None` trains popularity and co-visitation only.
    #[serde(skip)]
    pub ials: Option<IalsValidParams>,
    /// Catalogs at least this large get an IVF candidate index.
    pub ivf_min_items: usize,
    /// Above this many interactions, the embeddings are trained on a deterministic sample of
    /// shoppers (by id hash) holding about this many: item vectors need enough shoppers per
    /// item, not all of them, and training time grows with every one.
    pub max_embedding_interactions: usize,
    /// The session model (`shared::session_model`) learns from at most this many of the most
    /// recent sessions; 0 trains none.
    pub session_model_sessions: usize,
}

/// Unchecked training parameters with defaults; call [`TrainParams::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrainParams(pub TrainValidParams);

impl Default for TrainParams {
    fn default() -> Self {
        Self(TrainValidParams {
            half_life_days: 7.0,
            view_weight: 1.0,
            cart_weight: 3.0,
            purchase_weight: 5.0,
            neighbors: 50,
            session_window: 10,
            cobuy_days: 7,
            ials: crate::model::ials::IalsParams::default().check().ok(),
            ivf_min_items: 50_000,
            max_embedding_interactions: 30_000_000,
            session_model_sessions: 1_000_000,
        })
    }
}

impl TrainParams {
    pub fn check(self) -> Result<TrainValidParams, TrainError> {
        let p = self.0;
        let bad = |m: String| Err(TrainError::Params(m));
        if !(p.half_life_days.is_finite() && p.half_life_days > 0.0) {
            return bad(format!(
                "half-life must be > 0 days, got {}",
                p.half_life_days
            ));
        }
        for (name, w) in [
            ("view", p.view_weight),
            ("cart", p.cart_weight),
            ("purchase", p.purchase_weight),
        ] {
            if !(w.is_finite() && w >= 0.0) {
                return bad(format!("{name} weight must be ≥ 0, got {w}"));
            }
        }
        if p.view_weight + p.cart_weight + p.purchase_weight <= 0.0 {
            return bad("at least one event weight must be > 0".into());
        }
        if !(1..=1000).contains(&p.neighbors) {
            return bad(format!(
                "neighbors must be between 1 and 1000, got {}",
                p.neighbors
            ));
        }
        if !(1..=100).contains(&p.session_window) {
            return bad(format!(
                "session window must be between 1 and 100, got {}",
                p.session_window
            ));
        }
        if p.max_embedding_interactions < 1_000 {
            return bad(format!(
                "max embedding interactions must be at least 1000, got {}",
                p.max_embedding_interactions
            ));
        }
        if !(0..=365).contains(&p.cobuy_days) {
            return bad(format!(
                "co-buy days must be between 0 and 365, got {}",
                p.cobuy_days
            ));
        }
        Ok(p)
    }
}

impl TrainValidParams {
    /// The interaction weight of a purchase line or cart event's quantity.
    pub fn weight_of(&self, t: EventType, quantity: u32) -> f32 {
        self.weight(t) * quantity_weight(quantity)
    }

    /// The weight of one event type (0 for types that say nothing about preference).
    pub fn weight(&self, t: EventType) -> f32 {
        match t {
            EventType::View | EventType::RecClick => self.view_weight,
            EventType::AddToCart => self.cart_weight,
            EventType::Purchase => self.purchase_weight,
            _ => 0.0,
        }
    }
}

/// A quantity as a weight multiplier (1 to 1000).
pub fn quantity_weight(quantity: u32) -> f32 {
    f32::from(u16::try_from(quantity.clamp(1, 1000)).unwrap_or(1000))
}

/// Resolution of the shopper sample.
const SAMPLE_SCALE: u64 = 1 << 20;

/// Share of the hash range (out of [`SAMPLE_SCALE`]) that keeps about `cap` of `total`.
fn sample_share(total: usize, cap: usize) -> u64 {
    if total <= cap {
        return SAMPLE_SCALE;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "a fraction of 2^20"
    )]
    let share = (cap as f64 / total as f64 * SAMPLE_SCALE as f64).ceil() as u64;
    share.clamp(1, SAMPLE_SCALE)
}

/// Items, categories and brands with stable indices.
pub struct Catalog {
    pub ids: Vec<String>,
    pub index: HashMap<String, u32>,
    pub records: Vec<ItemRecord>,
    pub categories: Vec<String>,
    pub brands: Vec<String>,
}

/// Builds the item dictionary: catalog products plus items seen in `seen` interned items,
/// sorted by id; also maps interned item indices to catalog indices.
pub fn catalog(products: &[Product], ix: &Interactions, seen: &[bool]) -> (Catalog, Vec<u32>) {
    let by_id: BTreeMap<&str, &Product> = products.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut ids: BTreeSet<&str> = by_id.keys().copied().collect();
    for (i, id) in ix.items.iter().enumerate() {
        if seen.get(i).copied().unwrap_or(false) {
            ids.insert(id);
        }
    }
    let categories: Vec<String> = products
        .iter()
        .map(|p| p.category.clone())
        .filter(|c| !c.is_empty())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let brands: Vec<String> = products
        .iter()
        .map(|p| p.brand.clone())
        .filter(|b| !b.is_empty())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let cat_idx: HashMap<&str, u32> = categories
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i as u32))
        .collect();
    let brand_idx: HashMap<&str, u32> = brands
        .iter()
        .enumerate()
        .map(|(i, b)| (b.as_str(), i as u32))
        .collect();
    let ids: Vec<String> = ids.into_iter().map(str::to_owned).collect();
    let records = ids
        .iter()
        .map(|id| match by_id.get(id.as_str()) {
            Some(p) => ItemRecord {
                id: id.clone(),
                title: p.title.clone(),
                category: cat_idx.get(p.category.as_str()).copied().unwrap_or(NONE),
                brand: brand_idx.get(p.brand.as_str()).copied().unwrap_or(NONE),
                #[expect(clippy::cast_possible_truncation, reason = "prices are stored as f32")]
                price: p.price as f32,
                in_stock: p.in_stock,
                rating: p.rating,
                created_at: p.created_at,
            },
            None => ItemRecord {
                id: id.clone(),
                ..ItemRecord::default()
            },
        })
        .collect();
    let index: HashMap<String, u32> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), i as u32))
        .collect();
    let remap = ix
        .items
        .iter()
        .map(|id| index.get(id).copied().unwrap_or(u32::MAX))
        .collect();
    (
        Catalog {
            ids,
            index,
            records,
            categories,
            brands,
        },
        remap,
    )
}

/// Co-visitation lists (kept here for callers that group items as vectors).
pub fn cooccurrence(
    groups: &[Vec<u32>],
    window: usize,
    n_items: usize,
    keep: usize,
) -> Vec<Vec<(u32, f32)>> {
    covisit::cooccurrence(&Groups::from_vecs(groups), window, n_items, keep)
}

/// The model from the lake's interactions (those before `until`, when given) and products.
pub fn build(
    ix: &Interactions,
    until: Option<i64>,
    products: &[Product],
    p: &TrainValidParams,
    version: &str,
    created_at: i64,
) -> Result<ModelData, TrainError> {
    build_from(
        ix,
        until,
        products,
        p,
        version,
        created_at,
        Prepared::default(),
    )
}

/// Item vectors of an earlier model to start the embeddings from, and how many iterations then.
#[derive(Debug, Clone)]
pub struct Warm {
    index: HashMap<String, usize>,
    rows: Vec<f32>,
    k: usize,
    pub iterations: usize,
}

impl Warm {
    /// The (dequantised) item vectors of a model built by [`build`]; `None` without embeddings.
    pub fn of(data: &ModelData, iterations: usize) -> Option<Self> {
        let f = data.factors.as_ref()?;
        let rows = f
            .quantized
            .chunks(f.k.max(1))
            .zip(&f.scales)
            .flat_map(|(q, &scale)| q.iter().map(move |&v| f32::from(v) * scale))
            .collect();
        let index = data
            .items
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        Some(Self {
            index,
            rows,
            k: f.k,
            iterations: iterations.max(1),
        })
    }

    /// The item vectors of a published model (the live one), so a night starts from where the
    /// last one ended; `None` without embeddings.
    pub fn of_model(model: &shared::Model, iterations: usize) -> Option<Self> {
        let f = model.factors()?;
        let n = u32::try_from(model.n_items()).ok()?;
        Some(Self {
            index: (0..n)
                .map(|i| (model.item_id(i).to_owned(), i as usize))
                .collect(),
            rows: (0..n).flat_map(|i| f.item_vector(i)).collect(),
            k: f.k(),
            iterations: iterations.max(1),
        })
    }

    /// Start matrix for a catalog: known items keep their vector, new ones start random.
    fn start(&self, records: &[ItemRecord], ip: &IalsValidParams) -> Option<ndarray::Array2<f32>> {
        if self.k != ip.factors {
            return None;
        }
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(ip.seed);
        let mut m = crate::model::ials::init(records.len(), self.k, &mut rng);
        for (i, r) in records.iter().enumerate() {
            if let Some(&j) = self.index.get(&r.id) {
                m.row_mut(i)
                    .iter_mut()
                    .zip(&self.rows[j * self.k..(j + 1) * self.k])
                    .for_each(|(a, &b)| *a = b);
            }
        }
        Some(m)
    }
}

/// A click for grouping sessions: (session hash, row, item index); 16 bytes.
type SessionKey = (u64, u32, u32);

/// What a caller prepared for [`build_from`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Prepared<'a> {
    /// An earlier model's item vectors to warm-start the embeddings from.
    pub warm: Option<&'a Warm>,
    /// The co-view lists counted on the lake's engine (`co_view_plan`), for the same `until`;
    /// counted here when absent.
    pub co_views: Option<&'a CoViews>,
    /// Session model weights already learned (the holdout model's, on the sessions before the
    /// cutoff): the lists are built and these weights ship instead of a second fit.
    pub session_weights: Option<&'a shared::session_model::Weights>,
}

/// [`build`], with what the caller prepared.
pub fn build_from(
    ix: &Interactions,
    until: Option<i64>,
    products: &[Product],
    p: &TrainValidParams,
    version: &str,
    created_at: i64,
    prepared: Prepared<'_>,
) -> Result<ModelData, TrainError> {
    let warm = prepared.warm;
    let kept = |r: &usize| until.is_none_or(|u| ix.ts[*r] < u);
    let mut seen = vec![false; ix.items.len()];
    let mut t_ref = i64::MIN;
    let mut rows = 0usize;
    for r in (0..ix.len()).filter(kept) {
        seen[ix.item[r] as usize] = true;
        t_ref = t_ref.max(ix.ts[r]);
        rows += 1;
    }
    if rows == 0 {
        return Err(TrainError::NoEvents);
    }
    let scan = std::time::Instant::now();
    let (cat, remap) = catalog(products, ix, &seen);
    let n = cat.ids.len();
    let half_life_ms = p.half_life_days * 86_400_000.0;
    let mut decayed = vec![0.0f64; n];
    let mut raw = vec![0.0f64; n];
    let mut session_keys: Vec<SessionKey> = Vec::with_capacity(rows);
    let mut purchases: Vec<(u32, i64, u32)> = Vec::new();
    let mut shoppers_seen = vec![false; ix.shoppers()];
    for r in (0..ix.len()).filter(kept) {
        let i = remap[ix.item[r] as usize];
        let kind = ix.kind[r];
        let qty = u32::from(ix.quantity[r]);
        shoppers_seen[ix.shopper[r] as usize] = true;
        let w = f64::from(p.weight(kind));
        if w > 0.0 {
            #[expect(clippy::cast_precision_loss, reason = "age in ms fits f64")]
            let decay = 0.5f64.powf((t_ref - ix.ts[r]).max(0) as f64 / half_life_ms);
            let amount = w * f64::from(qty);
            decayed[i as usize] += amount * decay;
            raw[i as usize] += amount;
        }
        match kind {
            EventType::View | EventType::AddToCart | EventType::RecClick => {
                session_keys.push((ix.session[r], u32::try_from(r).unwrap_or(u32::MAX), i));
            }
            EventType::Purchase => purchases.push((ix.shopper[r], ix.ts[r], i)),
            _ => {}
        }
    }
    // Decayed score, with all-time volume as a vanishing tie-breaker so old catalogs keep an order.
    #[expect(clippy::cast_possible_truncation, reason = "scores are f32")]
    let popularity: Vec<f32> = decayed
        .iter()
        .zip(&raw)
        .map(|(d, r)| (d + 1e-9 * r) as f32)
        .collect();
    let rank = |items: &mut Vec<u32>| {
        items.sort_by(|&a, &b| {
            popularity[b as usize]
                .total_cmp(&popularity[a as usize])
                .then(a.cmp(&b))
        })
    };
    let mut popular: Vec<u32> = (0..n as u32)
        .filter(|&i| popularity[i as usize] > 0.0)
        .collect();
    rank(&mut popular);
    popular.truncate(1000);
    let mut by_cat: Vec<Vec<u32>> = vec![Vec::new(); cat.categories.len()];
    for (i, r) in cat.records.iter().enumerate() {
        if r.category != NONE && popularity[i] > 0.0 {
            by_cat[r.category as usize].push(i as u32);
        }
    }
    let category_popular = by_cat
        .into_iter()
        .map(|mut items| {
            rank(&mut items);
            items.truncate(200);
            items
                .into_iter()
                .map(|i| (i, popularity[i as usize]))
                .collect()
        })
        .collect();
    // Sessions: rows ordered by (session, time), cut where the session changes.
    // Sort small keys, not row numbers that the comparison would chase into three columns.
    // The events table is time-ordered (compaction writes it so), so row order within a session
    // is time order and (session, row) suffices; otherwise sort by (session, time, row).
    // Sorted on every core, in place (bucketed by the hash's top byte).
    let mut sessions = Groups::new();
    // When each session began (for the session model, which learns from them in time order).
    let mut began: Vec<i64> = Vec::new();
    // The keys carry the (remapped) item, so walking them in session order reads no column at
    // random but the first row's time of each session.
    let mut close_on_change = |keyed: &mut dyn Iterator<Item = SessionKey>| {
        let mut last: Option<u64> = None;
        for (s, r, item) in keyed {
            if last.is_some_and(|l| l != s) {
                sessions.close();
            }
            if last != Some(s) {
                began.push(ix.ts[r as usize]);
            }
            last = Some(s);
            sessions.items.push(item);
        }
        sessions.close();
    };
    if ix.ts.is_sorted() {
        parallel::sort_unstable_bucketed(&mut session_keys, |k| k.0.to_be_bytes()[0]);
        close_on_change(&mut session_keys.into_iter());
    } else {
        let mut keys: Vec<(u64, i64, u32, u32)> = session_keys
            .iter()
            .map(|&(s, r, i)| (s, ix.ts[r as usize], r, i))
            .collect();
        drop(session_keys);
        keys.sort_unstable();
        close_on_change(&mut keys.into_iter().map(|(s, _, r, i)| (s, r, i)));
    }
    tracing::debug!(
        rows,
        sessions = sessions.len(),
        seconds = scan.elapsed().as_secs_f64(),
        "rows scanned, popularity counted, sessions grouped"
    );
    let phase = std::time::Instant::now();
    let co_view = match prepared.co_views {
        Some(c) => c.lists(&cat.ids, p.neighbors),
        None => covisit::cooccurrence(&sessions, p.session_window, n, p.neighbors),
    };
    tracing::info!(
        on_engine = prepared.co_views.is_some(),
        sessions = sessions.len(),
        seconds = phase.elapsed().as_secs_f64(),
        "co-views counted"
    );
    let n_sessions = sessions.len();
    let mut meta = Map::new();
    let session = (p.session_model_sessions > 0 && began.len() == sessions.len()).then(|| {
        let reuse = prepared.session_weights;
        session_model(
            &sessions,
            &began,
            n,
            p.session_model_sessions,
            reuse,
            &mut meta,
        )
    });
    drop(sessions);
    let phase = std::time::Instant::now();
    // Baskets: one shopper's purchases no more than `cobuy_days` apart.
    purchases.sort_unstable();
    let window_ms = p.cobuy_days * 86_400_000;
    let mut baskets = Groups::new();
    let mut start: Option<(u32, i64)> = None;
    for &(shopper, ts, i) in &purchases {
        if start.is_some_and(|(s, t0)| s != shopper || ts - t0 > window_ms) {
            baskets.close();
            start = None;
        }
        start.get_or_insert((shopper, ts));
        baskets.items.push(i);
    }
    baskets.close();
    let co_buy = covisit::cooccurrence(&baskets, 100, n, p.neighbors);
    drop(baskets);
    let item_category: Vec<u32> = cat.records.iter().map(|r| r.category).collect();
    let repurchase = crate::model::repurchase::stats(&purchases, &item_category);
    drop(purchases);
    tracing::debug!(
        seconds = phase.elapsed().as_secs_f64(),
        "co-purchases and repurchase cycles counted"
    );
    let factors = match &p.ials {
        None => {
            meta.insert("kind".into(), Value::from("popularity+covisitation"));
            None
        }
        Some(ip) => {
            meta.insert("kind".into(), Value::from("ials+covisitation+popularity"));
            let phase = std::time::Instant::now();
            let weighted = (0..ix.len())
                .filter(kept)
                .filter(|&r| p.weight(ix.kind[r]) > 0.0)
                .count();
            // Shoppers whose id hash falls under `share` of the hash range are trained on.
            let share = sample_share(weighted, p.max_embedding_interactions);
            let sampled = |s: u32| {
                share >= SAMPLE_SCALE || ix.shopper_hash[s as usize] % SAMPLE_SCALE < share
            };
            let start = warm.and_then(|w| w.start(&cat.records, ip));
            let ip = &IalsValidParams {
                iterations: match (&start, warm) {
                    (Some(_), Some(w)) => w.iterations,
                    _ => ip.iterations,
                },
                ..ip.clone()
            };
            // One matrix row per sampled shopper with a weighted interaction, in first-seen
            // order: shoppers outside the sample cost no factor row.
            let mut row_of = vec![u32::MAX; ix.shoppers()];
            let mut trained_shoppers = 0u32;
            for r in (0..ix.len()).filter(kept) {
                let s = ix.shopper[r];
                if p.weight(ix.kind[r]) > 0.0 && sampled(s) && row_of[s as usize] == u32::MAX {
                    row_of[s as usize] = trained_shoppers;
                    trained_shoppers += 1;
                }
            }
            let matrix = Csr::from_entries(trained_shoppers as usize, n, |push| {
                for r in (0..ix.len()).filter(kept) {
                    let kind = ix.kind[r];
                    let row = row_of[ix.shopper[r] as usize];
                    if p.weight(kind) > 0.0 && row != u32::MAX {
                        let qty = u32::from(ix.quantity[r]);
                        push(row, remap[ix.item[r] as usize], p.weight_of(kind, qty));
                    }
                }
            });
            drop(row_of);
            let warm_started = start.is_some();
            let e = embed::item_embeddings(&matrix, ip, &cat.records, start);
            let matrix_nnz = matrix.nnz();
            tracing::info!(
                nnz = matrix_nnz,
                share = share as f64 / SAMPLE_SCALE as f64,
                warm_started,
                iterations = ip.iterations,
                seconds = phase.elapsed().as_secs_f64(),
                "item embeddings trained"
            );
            drop(matrix);
            let mut data = embed::to_factor_data(&e, ip);
            let mut info = json!({"k": ip.factors, "iterations": ip.iterations, "alpha": ip.alpha,
                "regularization": ip.regularization, "seed": ip.seed, "trained_items": e.trained,
                "cold_items_with_content_vectors": e.cold_filled, "bytes_per_item": ip.factors + shared::artifact::SCALE_BYTES,
                "warm_started": warm_started, "trained_interactions": matrix_nnz,
                "shopper_sample_share": share as f64 / SAMPLE_SCALE as f64});
            if n >= p.ivf_min_items {
                let phase = std::time::Instant::now();
                let (ivf, report) = crate::model::ivf::build(&e.rows, e.k, &e.user_sample)
                    .map_err(|err| TrainError::Ivf(err.to_string()))?;
                tracing::info!(seconds = phase.elapsed().as_secs_f64(), "IVF index built");
                info["ivf"] = serde_json::to_value(&report).unwrap_or(Value::Null);
                data.ivf = Some(ivf);
            }
            meta.insert("factors".into(), info);
            Some(data)
        }
    };
    let users = shoppers_seen.iter().filter(|&&s| s).count();
    meta.insert(
        "params".into(),
        serde_json::to_value(p).unwrap_or(Value::Null),
    );
    meta.insert(
        "counts".into(),
        json!({"items": n, "categories": cat.categories.len(), "brands": cat.brands.len(), "interactions": rows,
               "shoppers": users, "sessions": n_sessions, "trained_until": t_ref}),
    );
    Ok(ModelData {
        version: version.to_owned(),
        created_at,
        meta,
        items: cat.records,
        categories: cat.categories,
        brands: cat.brands,
        popularity,
        popular,
        category_popular,
        co_view,
        co_buy,
        factors,
        repurchase,
        search: None,
        session,
    })
}

/// The session model from the most recent `max` sessions (ordered by when they began): weights
/// learned on their last tenth (or `reuse`d from an earlier fit), lists built from all of them;
/// its weights and fit go to `meta`.
fn session_model(
    sessions: &Groups,
    began: &[i64],
    n: usize,
    max: usize,
    reuse: Option<&shared::session_model::Weights>,
    meta: &mut Map<String, Value>,
) -> shared::session_model::OwnedLists {
    use crate::model::{session_lists, session_weights};
    let phase = std::time::Instant::now();
    let all: Vec<&[u32]> = sessions.iter().collect();
    let mut order: Vec<(i64, usize)> = began.iter().copied().zip(0..all.len()).collect();
    order.sort_unstable();
    let recent = &order[order.len().saturating_sub(max)..];
    let seqs: Vec<Vec<u32>> = recent.iter().map(|&(_, g)| all[g].to_vec()).collect();
    let lp = session_lists::ListParams::default();
    let (weights, fit) = match reuse {
        Some(w) => (w.clone(), json!({"sessions": seqs.len(), "reused": true})),
        None => {
            let fit = session_weights::learn(&seqs, n, &lp, session_weights::FIT_CASES);
            let info = json!({"sessions": seqs.len(), "cases": fit.cases, "covered": fit.covered,
                "iterations": fit.iterations, "loss": fit.loss, "learned": fit.learned});
            (fit.weights, info)
        }
    };
    let lists = session_lists::build(&seqs, n, &lp);
    tracing::info!(
        sessions = seqs.len(),
        fit = %fit,
        seconds = phase.elapsed().as_secs_f64(),
        "session model built"
    );
    meta.insert(
        "session_model".into(),
        serde_json::to_value(&weights).unwrap_or(Value::Null),
    );
    meta.insert("session_model_fit".into(), fit);
    lists
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{Event, PurchaseLine};

    const T: i64 = 1_790_000_000_000;

    fn ev(id: &str, t: EventType, shopper: &str, session: &str, item: &str, ts: i64) -> Event {
        let mut e: Event = serde_json::from_value(serde_json::json!({
            "event_id": id, "type": t, "anonymous_id": shopper, "session_id": session, "timestamp": ts
        }))
        .unwrap();
        if t == EventType::Purchase {
            e.order_id = Some(format!("o-{id}"));
            e.lines = vec![PurchaseLine {
                item_id: item.into(),
                quantity: 1,
                price: 1.0,
                currency: "EUR".into(),
            }];
        } else {
            e.item_id = Some(item.into());
        }
        e
    }

    fn product(id: &str, category: &str) -> Product {
        Product {
            id: id.into(),
            title: format!("T{id}"),
            brand: "b".into(),
            category: category.into(),
            price: 10.0,
            currency: "EUR".into(),
            in_stock: true,
            rating: None,
            created_at: 0,
            updated_at: 0,
            attributes: BTreeMap::new(),
        }
    }

    fn params() -> TrainValidParams {
        TrainParams::default().check().unwrap()
    }

    #[test]
    fn popularity_and_co_views_by_hand() {
        use EventType::{AddToCart, View};
        let events = vec![
            ev("1", View, "a", "s1", "x", T),
            ev("2", View, "a", "s1", "y", T + 1),
            ev("3", AddToCart, "a", "s1", "y", T + 2),
            ev("4", View, "b", "s2", "x", T + 3),
            ev("5", View, "b", "s2", "y", T + 4),
            ev("6", View, "b", "s2", "z", T + 5),
        ];
        let products = vec![product("x", "c1"), product("y", "c1"), product("z", "c2")];
        let m = build(
            &Interactions::from_events(&events),
            None,
            &products,
            &params(),
            "v1",
            0,
        )
        .unwrap();
        let ids: Vec<&str> = m.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["x", "y", "z"]);
        // y: 1 + 3 + 1 = 5, x: 2, z: 1 (no decay within milliseconds).
        assert_eq!(m.popular, vec![1, 0, 2]);
        assert!((m.popularity[1] - 5.0).abs() < 1e-3);
        // x–y co-viewed in 2 sessions, each in 2 sessions: 2 / sqrt(2·2) = 1; y–z: 1 / sqrt(2·1).
        assert_eq!(m.co_view[0][0].0, 1);
        assert!((m.co_view[0][0].1 - 1.0).abs() < 1e-6);
        assert_eq!(
            m.co_view[2],
            vec![(0, 1.0 / 2f32.sqrt()), (1, 1.0 / 2f32.sqrt())]
        );
        assert_eq!(m.categories, ["c1", "c2"]);
        assert_eq!(
            m.category_popular[0]
                .iter()
                .map(|x| x.0)
                .collect::<Vec<_>>(),
            [1, 0]
        );
        shared::Model::load(m.encode().unwrap()).unwrap();
    }

    #[test]
    fn a_bought_item_moves_to_the_top() {
        let mut events: Vec<Event> = (0..20)
            .map(|i| {
                ev(
                    &format!("v{i}"),
                    EventType::View,
                    "a",
                    "s",
                    "old",
                    T - 30 * 86_400_000,
                )
            })
            .collect();
        let before = build(
            &Interactions::from_events(&events),
            None,
            &[],
            &params(),
            "v1",
            0,
        )
        .unwrap();
        assert_eq!(before.popular, vec![0]);
        for i in 0..50 {
            events.push(ev(
                &format!("p{i}"),
                EventType::Purchase,
                &format!("u{i}"),
                "s",
                "new",
                T,
            ));
        }
        let after = build(
            &Interactions::from_events(&events),
            None,
            &[],
            &params(),
            "v2",
            0,
        )
        .unwrap();
        assert_eq!(after.items[after.popular[0] as usize].id, "new");
        // Old history keeps a (tiny) score, so it stays recommendable behind the new item.
        assert_eq!(after.popular.len(), 2);
    }

    #[test]
    fn bought_together_within_the_window() {
        let events = vec![
            ev("1", EventType::Purchase, "a", "s1", "phone", T),
            ev("2", EventType::Purchase, "a", "s2", "case", T + 86_400_000),
            ev(
                "3",
                EventType::Purchase,
                "a",
                "s3",
                "tv",
                T + 30 * 86_400_000,
            ),
        ];
        let m = build(
            &Interactions::from_events(&events),
            None,
            &[],
            &params(),
            "v",
            0,
        )
        .unwrap();
        let idx = |id: &str| m.items.iter().position(|i| i.id == id).unwrap() as u32;
        assert_eq!(
            m.co_buy[idx("phone") as usize]
                .iter()
                .map(|x| x.0)
                .collect::<Vec<_>>(),
            [idx("case")]
        );
        assert!(m.co_buy[idx("tv") as usize].is_empty());
    }

    #[test]
    fn deterministic_and_checked() {
        let events = vec![
            ev("1", EventType::View, "a", "s", "x", T),
            ev("2", EventType::View, "a", "s", "y", T),
        ];
        let a = build(
            &Interactions::from_events(&events),
            None,
            &[],
            &params(),
            "v",
            1,
        )
        .unwrap()
        .encode()
        .unwrap();
        let b = build(
            &Interactions::from_events(&events),
            None,
            &[],
            &params(),
            "v",
            1,
        )
        .unwrap()
        .encode()
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(
            build(&Interactions::default(), None, &[], &params(), "v", 1).unwrap_err(),
            TrainError::NoEvents
        );
        let mut p = TrainParams::default();
        p.0.half_life_days = 0.0;
        assert!(p.check().is_err());
        let mut p = TrainParams::default();
        p.0.neighbors = 0;
        assert!(p.check().is_err());
    }
}
