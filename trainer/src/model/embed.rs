//! Item embeddings for the artifact: implicit ALS over the lake's shopper × item interactions
//! (weighted per event type), content-based vectors for cold-start items nobody has touched yet,
//! and the int8 quantisation the edge serves.

use std::collections::HashMap;

use shared::artifact::{FactorData, ItemRecord, NONE};

use crate::model::csr::Csr;
use ndarray::Array2;

use crate::model::ials::{IalsValidParams, fit_from};

/// How much a cold item's borrowed vector is shrunk, so real evidence outranks it.
const COLD_SHRINK: f32 = 0.5;

/// What embedding training produced.
#[derive(Debug, Clone)]
pub struct Embeddings {
    /// `n × k` float factors, row-major.
    pub rows: Vec<f32>,
    pub k: usize,
    /// Items with interactions (their own trained vector).
    pub trained: usize,
    /// Cold items given a content vector (category/brand/price neighbours).
    pub cold_filled: usize,
    /// Up to [`USER_SAMPLE`] trained user vectors, evenly spaced: realistic queries for tuning
    /// the IVF index.
    pub user_sample: Vec<Vec<f32>>,
}

/// Trained user vectors kept as IVF tuning queries.
pub const USER_SAMPLE: usize = 500;

/// Trains item factors on a shopper × item matrix and fills in cold items from their content.
pub fn item_embeddings(
    matrix: &Csr,
    p: &IalsValidParams,
    records: &[ItemRecord],
    start: Option<Array2<f32>>,
) -> Embeddings {
    let model = fit_from(p, matrix, start);
    let k = p.factors;
    let mut rows: Vec<f32> = model.item_factors.iter().copied().collect();
    let mut warm = vec![false; records.len()];
    for r in 0..matrix.rows() {
        for &c in matrix.row(r).0 {
            if let Some(w) = warm.get_mut(c as usize) {
                *w = true;
            }
        }
    }
    let cold_filled = fill_cold(&mut rows, k, records, &warm);
    let users = model.user_factors.nrows();
    let step = users.div_ceil(USER_SAMPLE).max(1);
    let user_sample = model
        .user_factors
        .outer_iter()
        .step_by(step)
        .map(|r| r.to_vec())
        .filter(|v| v.iter().any(|x| *x != 0.0))
        .collect();
    Embeddings {
        rows,
        k,
        trained: warm.iter().filter(|&&w| w).count(),
        cold_filled,
        user_sample,
    }
}

/// Price band: a factor-of-two bucket, so "similar price" means within about ×2.
fn price_band(price: f32) -> i32 {
    if price > 0.0 && price.is_finite() {
        #[expect(clippy::cast_possible_truncation, reason = "log2 of a price is small")]
        let band = price.log2().floor() as i32;
        band
    } else {
        i32::MIN
    }
}

/// Content-based vectors for cold items: the mean vector of warm items sharing category, brand
/// and price band, else category and brand, else category, else brand; shrunk by
/// [`COLD_SHRINK`]. Returns how many cold items got one.
pub fn fill_cold(rows: &mut [f32], k: usize, records: &[ItemRecord], warm: &[bool]) -> usize {
    type Key = (u32, u32, i32);
    let keys = |r: &ItemRecord| -> [Option<Key>; 4] {
        let (c, b, p) = (r.category, r.brand, price_band(r.price));
        [
            (c != NONE && b != NONE && p != i32::MIN).then_some((c, b, p)),
            (c != NONE && b != NONE).then_some((c, b, i32::MIN)),
            (c != NONE).then_some((c, NONE, i32::MIN)),
            (b != NONE).then_some((NONE, b, i32::MIN)),
        ]
    };
    let mut sums: HashMap<Key, (Vec<f32>, u32)> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        if !warm.get(i).copied().unwrap_or(false) {
            continue;
        }
        let row = &rows[i * k..(i + 1) * k];
        for key in keys(r).into_iter().flatten() {
            let (sum, count) = sums.entry(key).or_insert_with(|| (vec![0.0; k], 0));
            for (s, v) in sum.iter_mut().zip(row) {
                *s += v;
            }
            *count += 1;
        }
    }
    let mut filled = 0;
    for (i, r) in records.iter().enumerate() {
        if warm.get(i).copied().unwrap_or(false) {
            continue;
        }
        let Some((sum, count)) = keys(r).into_iter().flatten().find_map(|key| sums.get(&key))
        else {
            continue;
        };
        #[expect(clippy::cast_precision_loss, reason = "small counts")]
        let scale = COLD_SHRINK / *count as f32;
        for (v, s) in rows[i * k..(i + 1) * k].iter_mut().zip(sum) {
            *v = s * scale;
        }
        filled += 1;
    }
    filled
}

/// Quantises embeddings for the artifact.
pub fn to_factor_data(e: &Embeddings, p: &IalsValidParams) -> FactorData {
    FactorData::quantize(e.k, &e.rows, p.regularization, p.alpha)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ials::IalsParams;

    fn rec(category: u32, brand: u32, price: f32) -> ItemRecord {
        ItemRecord {
            id: String::new(),
            title: String::new(),
            category,
            brand,
            price,
            in_stock: true,
            ..ItemRecord::default()
        }
    }

    #[test]
    fn cold_items_borrow_their_neighbours_vectors() {
        let records = vec![
            rec(0, 0, 1000.0),
            rec(0, 0, 1100.0),
            rec(1, 1, 10.0),
            rec(0, 0, 1200.0), // cold laptop: same category, brand and band
            rec(1, NONE, 0.0), // cold accessory: category only
            rec(NONE, NONE, 0.0),
        ];
        let mut rows = vec![
            1.0, 0.0, //
            3.0, 0.0, //
            0.0, 2.0, //
            0.0, 0.0, //
            0.0, 0.0, //
            0.0, 0.0,
        ];
        let warm = [true, true, true, false, false, false];
        assert_eq!(fill_cold(&mut rows, 2, &records, &warm), 2);
        assert_eq!(&rows[6..8], &[1.5, 0.0]); // same price band as item 1 only: (3, 0) × 0.5
        assert_eq!(&rows[8..10], &[0.0, 1.0]);
        assert_eq!(&rows[10..12], &[0.0, 0.0]); // nothing to borrow from
    }

    #[test]
    fn a_cold_item_ranks_with_its_category_after_training() {
        // Two groups of users; item 4 is a cold item in group A's category.
        let mut triples = Vec::new();
        for u in 0..40u32 {
            let items: &[u32] = if u % 2 == 0 { &[0, 1] } else { &[2, 3] };
            for &i in items {
                triples.push((u, i, 1.0));
            }
        }
        let m = Csr::from_triples(40, 5, triples);
        let records = vec![
            rec(0, 0, 100.0),
            rec(0, 0, 120.0),
            rec(1, 1, 100.0),
            rec(1, 1, 120.0),
            rec(0, 0, 110.0),
        ];
        let p = IalsParams::default()
            .factors(4)
            .iterations(10)
            .check()
            .unwrap();
        let e = item_embeddings(&m, &p, &records, None);
        assert_eq!((e.trained, e.cold_filled), (4, 1));
        let dot = |a: usize, b: usize| -> f32 {
            (0..4).map(|d| e.rows[a * 4 + d] * e.rows[b * 4 + d]).sum()
        };
        assert!(dot(4, 0) > dot(4, 2), "cold item sits with its category");
    }
}
