//! Native scoring benchmark (the code the worker runs, compiled natively): per-request time of
//! the for-you ranking — the session model for a shopper in an active 10-click session, and the
//! history fold-in (IVF candidates + co-visitation + popularity) for one without — with filters,
//! and the artifact's load time and size, at 10k / 100k / 1M items with 64 factors and full
//! session lists (30 + 30 + 20 neighbours per item).
//!
//! `cargo bench -p trainer --bench scoring` (sizes: `SCORING_SIZES=10000,100000`).
//! Items are drawn around 200 taste clusters, so the IVF index has real structure to find.

#![expect(
    clippy::expect_used,
    reason = "a benchmark: a failed setup step should stop it loudly"
)]

use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Map;
use shared::artifact::{FactorData, ItemRecord};
use shared::filter::FilterSpec;
use shared::personal::{Blend, ForYou, for_you_with};
use shared::session::{SessionState, Touch};
use shared::{EventType, Model, ModelData};

const K: usize = 64;
const CLUSTERS: usize = 200;
const REQUESTS: usize = 2_000;

/// `len` distinct neighbours of item `i` drawn at random from its taste cluster (scores 1/rank):
/// their indices spread over the whole catalog, as a real catalog's do, so the packed lists are
/// not flattered by regular gaps.
fn neighbours(n: usize, i: usize, len: usize, rng: &mut StdRng) -> Vec<(u32, f32)> {
    let per_cluster = n.div_ceil(CLUSTERS);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(len);
    for _ in 0..len * 4 {
        let j = i % CLUSTERS + CLUSTERS * rng.random_range(0..per_cluster);
        if j != i && j < n && seen.insert(j) {
            out.push((u32::try_from(j).unwrap_or(0), 1.0 / (out.len() + 1) as f32));
            if out.len() == len {
                break;
            }
        }
    }
    out
}

/// Item `i`'s id: fixed-width, so ids sort in index order as the trainer writes them (sorted by
/// id, which needs no id-order section in the artifact).
fn sku(i: usize, n: usize) -> String {
    let width = n.saturating_sub(1).max(1).ilog10() as usize + 1;
    format!("sku-{i:0width$}")
}

fn model(n: usize, rng: &mut StdRng) -> (ModelData, Vec<Vec<f32>>) {
    let centers: Vec<Vec<f32>> = (0..CLUSTERS)
        .map(|_| (0..K).map(|_| rng.random::<f32>() - 0.5).collect())
        .collect();
    let mut rows = Vec::with_capacity(n * K);
    let mut items = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % CLUSTERS;
        rows.extend(
            centers[c]
                .iter()
                .map(|x| x + 0.15 * (rng.random::<f32>() - 0.5)),
        );
        items.push(ItemRecord {
            id: sku(i, n),
            title: format!("Product {i}"),
            category: u32::try_from(c % 40).unwrap_or(0),
            brand: u32::try_from(i % 300).unwrap_or(0),
            price: 5.0 + (i % 2000) as f32,
            in_stock: i % 10 != 0,
            ..ItemRecord::default()
        });
    }
    let popularity: Vec<f32> = (0..n).map(|i| 1.0 / (1.0 + i as f32)).collect();
    let users: Vec<Vec<f32>> = (0..500)
        .map(|u| centers[u % CLUSTERS].iter().map(|x| x * 3.0).collect())
        .collect();
    let mut factors = FactorData::quantize(K, &rows, 0.1, 10.0);
    if n >= 50_000 {
        let (ivf, report) = trainer::model::ivf::build(&rows, K, &users).expect("ivf");
        eprintln!(
            "  IVF: {} lists, nprobe {}, recall@10 {:.3}",
            report.lists, report.nprobe, report.recall_at_10
        );
        factors.ivf = Some(ivf);
    }
    let data = ModelData {
        version: format!("bench-{n}"),
        created_at: 0,
        meta: Map::new(),
        items,
        categories: (0..40).map(|c| format!("cat.{c}")).collect(),
        brands: (0..300).map(|b| format!("brand-{b}")).collect(),
        popularity,
        popular: (0..u32::try_from(n.min(1000)).unwrap_or(0)).collect(),
        category_popular: (0..40)
            .map(|c| {
                (0..200)
                    .map(|j| {
                        (
                            u32::try_from(c + 40 * j).unwrap_or(0),
                            1.0 / (1.0 + j as f32),
                        )
                    })
                    .collect()
            })
            .collect(),
        co_view: (0..n).map(|i| neighbours(n, i, 30, rng)).collect(),
        co_buy: (0..n).map(|i| neighbours(n, i, 10, rng)).collect(),
        factors: Some(factors),
        repurchase: Vec::new(),
        search: None,
        session: Some(shared::session_model::OwnedLists {
            knn: (0..n).map(|i| neighbours(n, i, 30, rng)).collect(),
            covisit: (0..n).map(|i| neighbours(n, i, 30, rng)).collect(),
            rules: (0..n).map(|i| neighbours(n, i, 20, rng)).collect(),
            popularity: (0..n).map(|i| (1.0 / (1.0 + i as f32), 0.5)).collect(),
        }),
    };
    (data, users)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let sizes: Vec<usize> = std::env::var("SCORING_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000]);
    println!(
        "| items | artifact | load | session model p50 (10 clicks) | p99 | fold-in p50 (no active session) | p99 | filtered p50 | req/s (1 core) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    // `SCORING_WRITE=<dir>`: write each size's artifact and manifest (for bench/edge.sh) instead.
    let write_dir = std::env::var("SCORING_WRITE").ok();
    for n in sizes {
        let mut rng = StdRng::seed_from_u64(7);
        eprintln!("building a {n}-item model…");
        let (data, _) = model(n, &mut rng);
        let bytes = data.encode().expect("encode");
        if let Some(dir) = &write_dir {
            let path = std::path::Path::new(dir).join(format!("model-{n}.bin"));
            let m = Model::load(bytes.clone()).expect("load");
            let manifest = shared::Manifest::describe(&bytes, &m);
            std::fs::write(&path, &bytes).expect("write artifact");
            std::fs::write(
                format!("{}.manifest.json", path.display()),
                manifest.to_json(),
            )
            .expect("write manifest");
            eprintln!("wrote {}", path.display());
            continue;
        }
        let size = bytes.len();
        let t = Instant::now();
        let m = Model::load(bytes).expect("load");
        let load_ms = t.elapsed().as_secs_f64() * 1e3;
        let blend = Blend::default();
        let mut times = Vec::with_capacity(REQUESTS);
        let mut folded = Vec::with_capacity(REQUESTS);
        let mut filtered = Vec::with_capacity(REQUESTS);
        for r in 0..REQUESTS {
            // A session of 10 recent views around one taste cluster.
            let c = rng.random_range(0..CLUSTERS);
            let len: i32 = 10;
            let mut state = SessionState::default();
            state.add((0..len).map(|j| Touch {
                event_id: format!("e{r}-{j}"),
                kind: EventType::View,
                item_id: sku((c + CLUSTERS * rng.random_range(0..n / CLUSTERS)) % n, n),
                ts: i64::from(j),
                quantity: 1,
            }));
            let any = FilterSpec::default();
            let cheap = FilterSpec {
                max_price: Some(500.0),
                in_stock: true,
                ..FilterSpec::default()
            };
            // The session is read inside the timed region, as the edge does per request.
            let now = i64::from(len);
            let input = |filter, active: bool| ForYou {
                context: &[],
                history: state.history(&m),
                session: if active {
                    state.current_session(&m, now)
                } else {
                    Vec::new()
                },
                session_bought: Vec::new(),
                purchased: Vec::new(),
                filter,
                exclude_purchased: false,
                k: 10,
                offset: 0,
                breadth: false,
            };
            let t = Instant::now();
            let out = for_you_with(&m, &input(&any, true), Some(&blend), None);
            times.push(t.elapsed().as_secs_f64() * 1e3);
            assert_eq!(out.len(), 10);
            let t = Instant::now();
            let out = for_you_with(&m, &input(&any, false), Some(&blend), None);
            folded.push(t.elapsed().as_secs_f64() * 1e3);
            assert_eq!(out.len(), 10);
            let t = Instant::now();
            let out = for_you_with(&m, &input(&cheap, true), Some(&blend), None);
            filtered.push(t.elapsed().as_secs_f64() * 1e3);
            assert!(out.iter().all(|s| m.item_price(s.idx) <= 500.0));
        }
        times.sort_by(f64::total_cmp);
        folded.sort_by(f64::total_cmp);
        filtered.sort_by(f64::total_cmp);
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        println!(
            "| {n} | {:.1} MB | {load_ms:.1} ms | {:.3} ms | {:.3} ms | {:.3} ms | {:.3} ms | {:.3} ms | {:.0} |",
            size as f64 / 1e6,
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            percentile(&folded, 0.5),
            percentile(&folded, 0.99),
            percentile(&filtered, 0.5),
            1e3 / mean
        );
    }
}
