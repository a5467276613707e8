//! The binary model artifact: what the trainer publishes and the edge loads into its isolate.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! 0   magic "VITRINE\0"                 8 bytes
//! 8   format version                     u32
//! 12  section count                      u32
//! 16  CRC-32 of the file with this field zeroed   u32
//! 20  reserved (0)                       u32
//! 24  created_at, epoch ms               i64
//! 32  model version, UTF-8, 0-padded     32 bytes
//! 64  section table: count × { id u32, reserved u32, offset u64, len u64 }
//! ..  sections, each 8-byte aligned
//! ```
//!
//! Sections are read in place from the one buffer the edge holds: string tables and numeric
//! arrays are decoded on access, never copied out. Since format v4 a load builds nothing per
//! item: the id → index permutation is a section, and neighbour lists ([`crate::lists`]) are
//! checked per row at load and per entry when read (older formats sort the permutation and check
//! every entry at load).
//! Unknown section ids are skipped, so newer writers can add sections without breaking readers of
//! the same format version. Every offset is checked at load, so accessors never panic.

use std::collections::HashMap;
use std::ops::Range;

use serde_json::{Map, Value};

pub use crate::ivf::IvfData;
use crate::ivf::LoadedIvf;
use items::{Attrs, Column};

mod items;

/// File magic.
pub const MAGIC: &[u8; 8] = b"VITRINE\0";
/// The format version this code writes and the newest it reads (v1: popularity and
/// co-visitation; v2 adds int8 item factors, their scales and the Gram matrix for fold-in; v3 stores
/// co-visitation scores as one byte relative to each row's maximum: 5 instead of 8 bytes per
/// neighbour, the largest part of a big catalog's artifact; v4 packs every neighbour list as
/// varint index gaps (`shared::lists`) and stores the id order; v5 changes only the artifact's own
/// checksum, from CRC-32 to xxHash64, which a cold wasm isolate computes several times faster; v6
/// stores the lists compact: Rice-coded gaps, 4-bit learned score levels for the session lists,
/// blocked offsets, no maxima where every row's is 1 — `shared::lists::compact`; v7 stores 4-bit
/// scores for co-view and bought together too, narrow item attributes, bf16 popularity and
/// factor scales (`items`), and no id order when the ids are already sorted, as the trainer
/// writes them).
pub const FORMAT_VERSION: u32 = 7;
/// The first format whose own checksum is xxHash64 ([`checksum`]).
const XXHASH_FROM: u32 = 5;
/// Bytes of an item's factor scale (bf16 since v7): with `k` int8 values, the factor part of an
/// item costs `k + SCALE_BYTES`.
pub const SCALE_BYTES: usize = 2;
/// Size of the fixed header.
pub const HEADER_LEN: usize = 64;
const SECTION_ENTRY_LEN: usize = 24;
const MAX_VERSION_LEN: usize = 32;
/// Sentinel for "no category/brand".
pub const NONE: u32 = u32::MAX;

/// Section ids. Never reuse a number.
mod sec {
    pub const META: u32 = 1;
    pub const ITEM_IDS: u32 = 2;
    pub const ITEM_TITLES: u32 = 3;
    pub const CATEGORIES: u32 = 4;
    pub const BRANDS: u32 = 5;
    pub const ITEM_ATTRS: u32 = 6;
    pub const POPULARITY: u32 = 7;
    pub const POPULAR: u32 = 8;
    pub const CATEGORY_POPULAR: u32 = 9;
    pub const CO_VIEW: u32 = 10;
    pub const CO_BUY: u32 = 11;
    pub const FACTOR_PARAMS: u32 = 12;
    pub const ITEM_FACTORS: u32 = 13;
    pub const ITEM_SCALES: u32 = 14;
    pub const GRAM: u32 = 15;
    pub const IVF_CENTROIDS: u32 = 16;
    pub const IVF_LISTS: u32 = 17;
    pub const REPURCHASE: u32 = 18;
    pub const CO_VIEW_Q: u32 = 19;
    pub const CO_BUY_Q: u32 = 20;
    pub const ITEM_EXTRA: u32 = 21;
    pub const SEARCH: u32 = 22;
    pub const SESSION_KNN: u32 = 23;
    pub const SESSION_COVISIT: u32 = 24;
    pub const SESSION_RULES: u32 = 25;
    pub const SESSION_POPULARITY: u32 = 26;
    /// v4: the lists above packed by [`crate::lists`] (index gaps as varints, one score byte).
    pub const CO_VIEW_P: u32 = 27;
    pub const CO_BUY_P: u32 = 28;
    pub const SESSION_KNN_P: u32 = 29;
    pub const SESSION_COVISIT_P: u32 = 30;
    pub const SESSION_RULES_P: u32 = 31;
    /// v4: item indices sorted by id (4 bytes per item), so a load sorts nothing.
    pub const ITEM_ORDER: u32 = 32;
    /// v6: the lists above stored compact by [`crate::lists::compact`].
    pub const CO_VIEW_C: u32 = 33;
    pub const CO_BUY_C: u32 = 34;
    pub const SESSION_KNN_C: u32 = 35;
    pub const SESSION_COVISIT_C: u32 = 36;
    pub const SESSION_RULES_C: u32 = 37;
    /// v7: narrow item attributes, bf16 popularity and bf16 factor scales ([`super::items`]).
    pub const ITEM_ATTRS_N: u32 = 38;
    pub const POPULARITY_H: u32 = 39;
    pub const ITEM_SCALES_H: u32 = 40;
}

/// Why an artifact can't be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArtifactError {
    #[error("artifact is truncated: {len} bytes, need at least {need}")]
    Truncated { len: usize, need: usize },
    #[error("not a Vitrine artifact (bad magic)")]
    BadMagic,
    #[error(
        "artifact format version {found} is not supported (this build reads up to {supported})"
    )]
    UnsupportedVersion { found: u32, supported: u32 },
    #[error("artifact checksum mismatch: header says {expected:08x}, content is {actual:08x}")]
    ChecksumMismatch { expected: u32, actual: u32 },
    #[error("artifact section {id} is missing")]
    MissingSection { id: u32 },
    #[error("artifact section {id} is malformed: {why}")]
    Malformed { id: u32, why: &'static str },
    #[error("cannot write artifact: {0}")]
    Invalid(String),
}

impl From<crate::lists::ListError> for ArtifactError {
    fn from(e: crate::lists::ListError) -> Self {
        match e {
            crate::lists::ListError::Invalid(m) => Self::Invalid(m),
            crate::lists::ListError::Malformed { id, why } => Self::Malformed { id, why },
        }
    }
}

impl From<crate::ivf::IvfError> for ArtifactError {
    fn from(e: crate::ivf::IvfError) -> Self {
        match e {
            crate::ivf::IvfError::Invalid(m) => Self::Invalid(m),
            crate::ivf::IvfError::Malformed { id, why } => Self::Malformed { id, why },
        }
    }
}

/// How shoppers buy one item again, learned from the lake.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Repeat {
    /// Median days between two purchases of the item by the same shopper; 0 when unknown.
    pub interval_days: f32,
    /// Share of the item's buyers who bought it more than once (smoothed towards its category).
    pub share: f32,
}

/// One catalog item as the trainer describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRecord {
    pub id: String,
    pub title: String,
    /// Index into [`ModelData::categories`], or [`NONE`].
    pub category: u32,
    /// Index into [`ModelData::brands`], or [`NONE`].
    pub brand: u32,
    pub price: f32,
    pub in_stock: bool,
    /// Average review rating (0–5), when the catalog has one.
    pub rating: Option<f32>,
    /// When the product was listed, epoch ms (0: unknown).
    pub created_at: i64,
}

impl Default for ItemRecord {
    fn default() -> Self {
        Self {
            id: String::new(),
            title: String::new(),
            category: NONE,
            brand: NONE,
            price: 0.0,
            in_stock: true,
            rating: None,
            created_at: 0,
        }
    }
}

/// Everything a model holds, owned: the trainer fills it, [`ModelData::encode`] writes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelData {
    pub version: String,
    pub created_at: i64,
    /// Free-form facts (parameters, counts), stored as JSON.
    pub meta: Map<String, Value>,
    pub items: Vec<ItemRecord>,
    pub categories: Vec<String>,
    pub brands: Vec<String>,
    /// Decayed popularity score per item.
    pub popularity: Vec<f32>,
    /// Item indices, most popular first.
    pub popular: Vec<u32>,
    /// Per category index: its items, most popular first, with scores.
    pub category_popular: Vec<Vec<(u32, f32)>>,
    /// Per item: items viewed in the same sessions, best first.
    pub co_view: Vec<Vec<(u32, f32)>>,
    /// Per item: items bought together, best first.
    pub co_buy: Vec<Vec<(u32, f32)>>,
    /// Item embeddings for fold-in scoring (format v2), when the model has them.
    pub factors: Option<FactorData>,
    /// Per item: how shoppers buy it again (empty: no purchase history to learn from). An
    /// optional section, so readers that predate it skip it.
    pub repurchase: Vec<Repeat>,
    /// The search index the trainer built (`shared::search::SearchIndex::encode`); without it the
    /// edge indexes titles, brands and categories itself.
    pub search: Option<Vec<u8>>,
    /// The session model's lists and popularity (`crate::session_model`, rows scaled to a
    /// maximum of 1; its weights live in the meta under `"session_model"`). Optional sections.
    pub session: Option<crate::session_model::OwnedLists>,
}

/// Quantised item factors and what fold-in needs with them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FactorData {
    /// Dimensions per item.
    pub k: usize,
    /// Fold-in's L2 regularisation λ.
    pub regularization: f32,
    /// Fold-in's confidence scale α.
    pub alpha: f32,
    /// Per item scale: the item's factors are `scale · q`.
    pub scales: Vec<f32>,
    /// `n × k` int8 factors, row-major.
    pub quantized: Vec<i8>,
    /// `YᵀY` over the dequantised factors, `k × k` row-major.
    pub gram: Vec<f32>,
    /// Candidate index for large catalogs.
    pub ivf: Option<IvfData>,
}

impl FactorData {
    /// Quantises float factors (`n × k`, row-major) and computes the Gram matrix of what the edge
    /// will actually use (the dequantised rows).
    pub fn quantize(k: usize, rows: &[f32], regularization: f32, alpha: f32) -> Self {
        let mut scales = Vec::with_capacity(rows.len() / k.max(1));
        let mut quantized = Vec::with_capacity(rows.len());
        let mut gram = vec![0.0f64; k * k];
        for row in rows.chunks_exact(k.max(1)) {
            let (scale, q) = crate::factors::quantize(row);
            let deq = crate::factors::dequantize(scale, &q);
            for r in 0..k {
                for c in 0..k {
                    gram[r * k + c] += f64::from(deq[r]) * f64::from(deq[c]);
                }
            }
            scales.push(scale);
            quantized.extend(q);
        }
        #[expect(clippy::cast_possible_truncation, reason = "stored as f32")]
        let gram = gram.into_iter().map(|g| g as f32).collect();
        Self {
            k,
            regularization,
            alpha,
            scales,
            quantized,
            gram,
            ivf: None,
        }
    }
}

struct Writer {
    sections: Vec<(u32, Vec<u8>)>,
}

fn put_u32(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_le_bytes());
}

fn put_f32(buf: &mut Vec<u8>, v: f32) {
    buf.extend_from_slice(&v.to_le_bytes());
}

fn len_u32(n: usize, what: &str) -> Result<u32, ArtifactError> {
    u32::try_from(n).map_err(|_| ArtifactError::Invalid(format!("too many {what}: {n}")))
}

fn string_table<'a>(
    strings: impl ExactSizeIterator<Item = &'a str>,
) -> Result<Vec<u8>, ArtifactError> {
    let n = strings.len();
    let mut offsets = Vec::with_capacity(n + 1);
    let mut data = Vec::new();
    offsets.push(0u32);
    for s in strings {
        data.extend_from_slice(s.as_bytes());
        offsets.push(len_u32(data.len(), "string bytes")?);
    }
    let mut buf = Vec::with_capacity(4 + offsets.len() * 4 + data.len());
    put_u32(&mut buf, len_u32(n, "strings")?);
    for o in offsets {
        put_u32(&mut buf, o);
    }
    buf.extend_from_slice(&data);
    Ok(buf)
}

fn csr(rows: &[Vec<(u32, f32)>], n_targets: usize) -> Result<Vec<u8>, ArtifactError> {
    let nnz: usize = rows.iter().map(Vec::len).sum();
    let mut buf = Vec::with_capacity(8 + (rows.len() + 1) * 4 + nnz * 8);
    put_u32(&mut buf, len_u32(rows.len(), "rows")?);
    put_u32(&mut buf, len_u32(nnz, "entries")?);
    let mut at = 0usize;
    put_u32(&mut buf, 0);
    for r in rows {
        at += r.len();
        put_u32(&mut buf, len_u32(at, "entries")?);
    }
    for &(idx, _) in rows.iter().flatten() {
        if idx as usize >= n_targets {
            return Err(ArtifactError::Invalid(format!(
                "index {idx} out of range {n_targets}"
            )));
        }
        put_u32(&mut buf, idx);
    }
    for &(_, score) in rows.iter().flatten() {
        put_f32(&mut buf, score);
    }
    Ok(buf)
}

impl ModelData {
    /// Writes the artifact bytes.
    pub fn encode(&self) -> Result<Vec<u8>, ArtifactError> {
        let n = self.items.len();
        if self.version.len() > MAX_VERSION_LEN || !crate::lake::is_safe_segment(&self.version) {
            return Err(ArtifactError::Invalid(format!(
                "bad model version `{}`",
                self.version
            )));
        }
        if self.popularity.len() != n || self.co_view.len() != n || self.co_buy.len() != n {
            return Err(ArtifactError::Invalid(
                "per-item arrays differ in length from items".into(),
            ));
        }
        if self.category_popular.len() != self.categories.len() {
            return Err(ArtifactError::Invalid(
                "category_popular must have one row per category".into(),
            ));
        }
        let mut w = Writer {
            sections: Vec::new(),
        };
        w.sections.push((
            sec::META,
            serde_json::to_vec(&self.meta).map_err(|e| ArtifactError::Invalid(e.to_string()))?,
        ));
        w.sections.push((
            sec::ITEM_IDS,
            string_table(self.items.iter().map(|i| i.id.as_str()))?,
        ));
        // The trainer writes items sorted by id, which needs no order section (v7).
        if !self.items.windows(2).all(|p| p[0].id < p[1].id) {
            let mut order: Vec<u32> = (0..len_u32(n, "items")?).collect();
            order.sort_unstable_by(|&x, &y| {
                self.items[x as usize].id.cmp(&self.items[y as usize].id)
            });
            let mut order_bytes = Vec::with_capacity(n * 4);
            for i in order {
                put_u32(&mut order_bytes, i);
            }
            w.sections.push((sec::ITEM_ORDER, order_bytes));
        }
        w.sections.push((
            sec::ITEM_TITLES,
            string_table(self.items.iter().map(|i| i.title.as_str()))?,
        ));
        w.sections.push((
            sec::CATEGORIES,
            string_table(self.categories.iter().map(String::as_str))?,
        ));
        w.sections.push((
            sec::BRANDS,
            string_table(self.brands.iter().map(String::as_str))?,
        ));
        for it in &self.items {
            let bad_cat = it.category != NONE && it.category as usize >= self.categories.len();
            let bad_brand = it.brand != NONE && it.brand as usize >= self.brands.len();
            if bad_cat || bad_brand {
                return Err(ArtifactError::Invalid(format!(
                    "item {} has a bad category or brand index",
                    it.id
                )));
            }
        }
        w.sections.push(items::encode_attrs(
            &self.items,
            self.categories.len(),
            self.brands.len(),
        ));
        w.sections
            .push((sec::POPULARITY_H, Column::encode(&self.popularity)));
        let mut popular = Vec::with_capacity(4 + self.popular.len() * 4);
        put_u32(&mut popular, len_u32(self.popular.len(), "popular items")?);
        for &i in &self.popular {
            if i as usize >= n {
                return Err(ArtifactError::Invalid(format!(
                    "popular index {i} out of range"
                )));
            }
            put_u32(&mut popular, i);
        }
        w.sections.push((sec::POPULAR, popular));
        w.sections
            .push((sec::CATEGORY_POPULAR, csr(&self.category_popular, n)?));
        let wide = crate::lists::NEIGHBOUR_BITS;
        w.sections.push((
            sec::CO_VIEW_C,
            crate::lists::encode(&self.co_view, n, wide)?,
        ));
        w.sections
            .push((sec::CO_BUY_C, crate::lists::encode(&self.co_buy, n, wide)?));
        if let Some(f) = &self.factors {
            if f.k == 0
                || f.scales.len() != n
                || f.quantized.len() != n * f.k
                || f.gram.len() != f.k * f.k
            {
                return Err(ArtifactError::Invalid(
                    "factor arrays do not match items × k".into(),
                ));
            }
            let mut params = Vec::with_capacity(16);
            put_u32(&mut params, len_u32(f.k, "factors")?);
            put_f32(&mut params, f.regularization);
            put_f32(&mut params, f.alpha);
            put_u32(&mut params, 0);
            w.sections.push((sec::FACTOR_PARAMS, params));
            w.sections.push((
                sec::ITEM_FACTORS,
                f.quantized.iter().map(|&q| q.to_le_bytes()[0]).collect(),
            ));
            w.sections
                .push((sec::ITEM_SCALES_H, Column::encode(&f.scales)));
            let mut gram = Vec::with_capacity(f.gram.len() * 4);
            for &g in &f.gram {
                put_f32(&mut gram, g);
            }
            w.sections.push((sec::GRAM, gram));
            if let Some(ivf) = &f.ivf {
                w.sections
                    .push((sec::IVF_CENTROIDS, ivf.encode_centroids(f.k)?));
                w.sections.push((sec::IVF_LISTS, ivf.encode_lists(n)?));
            }
        }
        if !self.repurchase.is_empty() {
            if self.repurchase.len() != n {
                return Err(ArtifactError::Invalid(
                    "repurchase stats do not match items".into(),
                ));
            }
            let mut rep = Vec::with_capacity(n * 8);
            for r in &self.repurchase {
                put_f32(&mut rep, r.interval_days);
                put_f32(&mut rep, r.share);
            }
            w.sections.push((sec::REPURCHASE, rep));
        }
        // Ratings and listing dates: an optional section, written only when the catalog has them
        // (older readers skip it; artifacts without it read as "no rating, unknown date").
        if self
            .items
            .iter()
            .any(|it| it.rating.is_some() || it.created_at != 0)
        {
            let mut extra = Vec::with_capacity(n * 12);
            for it in &self.items {
                put_f32(&mut extra, it.rating.unwrap_or(f32::NAN));
                extra.extend_from_slice(&it.created_at.to_le_bytes());
            }
            w.sections.push((sec::ITEM_EXTRA, extra));
        }
        if let Some(search) = &self.search {
            w.sections.push((sec::SEARCH, search.clone()));
        }
        if let Some(s) = &self.session {
            let rows_ok = [&s.knn, &s.covisit, &s.rules].iter().all(|r| r.len() == n);
            if !rows_ok || s.popularity.len() != n {
                return Err(ArtifactError::Invalid(
                    "session lists do not match items".into(),
                ));
            }
            let narrow = crate::lists::SESSION_BITS;
            for (id, rows) in [
                (sec::SESSION_KNN_C, &s.knn),
                (sec::SESSION_COVISIT_C, &s.covisit),
                (sec::SESSION_RULES_C, &s.rules),
            ] {
                w.sections
                    .push((id, crate::lists::encode(rows, n, narrow)?));
            }
            let byte = crate::session_model::popularity_byte;
            w.sections.push((
                sec::SESSION_POPULARITY,
                s.popularity
                    .iter()
                    .flat_map(|&(a, b)| [byte(a), byte(b)])
                    .collect(),
            ));
        }
        w.finish(FORMAT_VERSION, self.created_at, &self.version)
    }
}

fn align8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

impl Writer {
    fn finish(self, format: u32, created_at: i64, version: &str) -> Result<Vec<u8>, ArtifactError> {
        let count = self.sections.len();
        let mut at = align8(HEADER_LEN + count * SECTION_ENTRY_LEN);
        let mut table = Vec::with_capacity(count);
        for (id, data) in &self.sections {
            table.push((*id, at, data.len()));
            at = align8(at + data.len());
        }
        let mut out = vec![0u8; at];
        out[..8].copy_from_slice(MAGIC);
        out[8..12].copy_from_slice(&format.to_le_bytes());
        out[12..16].copy_from_slice(&len_u32(count, "sections")?.to_le_bytes());
        out[24..32].copy_from_slice(&created_at.to_le_bytes());
        out[32..32 + version.len()].copy_from_slice(version.as_bytes());
        for (i, &(id, offset, len)) in table.iter().enumerate() {
            let e = HEADER_LEN + i * SECTION_ENTRY_LEN;
            out[e..e + 4].copy_from_slice(&id.to_le_bytes());
            out[e + 8..e + 16].copy_from_slice(&(offset as u64).to_le_bytes());
            out[e + 16..e + 24].copy_from_slice(&(len as u64).to_le_bytes());
        }
        for ((_, data), &(_, offset, len)) in self.sections.iter().zip(&table) {
            out[offset..offset + len].copy_from_slice(data);
        }
        let crc = checksum(&out);
        out[16..20].copy_from_slice(&crc.to_le_bytes());
        Ok(out)
    }
}

/// Writes `version` into an encoded artifact's header and fixes its checksum: the trainer names a
/// model after a hash of its content without encoding it twice.
pub fn stamp_version(bytes: &mut [u8], version: &str) -> Result<(), ArtifactError> {
    if version.len() > MAX_VERSION_LEN || !crate::lake::is_safe_segment(version) {
        return Err(ArtifactError::Invalid(format!(
            "bad model version `{version}`"
        )));
    }
    if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
        return Err(ArtifactError::BadMagic);
    }
    bytes[32..64].fill(0);
    bytes[32..32 + version.len()].copy_from_slice(version.as_bytes());
    let crc = checksum(bytes);
    bytes[16..20].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// Bytes per call of a checksum loop. In chunks: a fresh wasm isolate runs each function in its
/// baseline tier until the engine has optimised it, and the optimised code is used from the next
/// call on; one call over the whole artifact would run entirely in the slow tier.
const CHECKSUM_CHUNK: usize = 256 << 10;

fn in_chunks(bytes: &[u8], mut feed: impl FnMut(&[u8])) {
    for chunk in bytes.chunks(CHECKSUM_CHUNK) {
        feed(chunk);
    }
}

/// CRC-32 of `bytes`, fed in chunks.
fn crc32(bytes: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    in_chunks(bytes, |c| h.update(c));
    h.finalize()
}

/// The two checks of an artifact against its manifest, in as few passes as its format allows:
/// its own checksum ([`checksum`]) and the CRC-32 of the whole file (what a manifest records).
/// Up to v4 both are CRC-32s that differ only in 4 bytes, so the tail's CRC is computed once and
/// combined twice; from v5 they are two passes (native code, where both are fast).
pub fn checksums(bytes: &[u8]) -> (u32, u32) {
    if bytes.len() <= 20 || format_of(bytes) >= XXHASH_FROM {
        return (checksum(bytes), crc32(bytes));
    }
    let mut tail = crc32fast::Hasher::new();
    in_chunks(&bytes[20..], |c| tail.update(c));
    let with = |field: &[u8]| {
        let mut h = crc32fast::Hasher::new();
        h.update(&bytes[..16]);
        h.update(field);
        h.combine(&tail);
        h.finalize()
    };
    (with(&[0; 4]), with(&bytes[16..20]))
}

fn format_of(bytes: &[u8]) -> u32 {
    read_u32(bytes, 8).unwrap_or(0)
}

/// An artifact's own checksum, with its field (bytes 16..20) taken as zero: CRC-32 up to format
/// v4; from v5 the low 32 bits of xxHash64 (seed 0), which a cold isolate computes over the whole
/// artifact before its first answer.
pub fn checksum(bytes: &[u8]) -> u32 {
    let head = &bytes[..16.min(bytes.len())];
    let tail = bytes.get(20..).unwrap_or_default();
    if format_of(bytes) >= XXHASH_FROM {
        use std::hash::Hasher;
        let mut h = twox_hash::XxHash64::with_seed(0);
        h.write(head);
        h.write(&[0; 4]);
        in_chunks(tail, |c| h.write(c));
        let [a, b, c, d, ..] = h.finish().to_le_bytes();
        return u32::from_le_bytes([a, b, c, d]);
    }
    let mut h = crc32fast::Hasher::new();
    h.update(head);
    h.update(&[0; 4]);
    in_chunks(tail, |c| h.update(c));
    h.finalize()
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn read_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn read_f32(b: &[u8], at: usize) -> Option<f32> {
    Some(f32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// A string table checked at load: `count` strings, offsets at `offsets`, bytes at `data`.
#[derive(Debug, Clone, Default)]
struct StrTable {
    count: usize,
    offsets: usize,
    data: usize,
}

impl StrTable {
    fn load(b: &[u8], r: Range<usize>, id: u32) -> Result<Self, ArtifactError> {
        let bad = |why| ArtifactError::Malformed { id, why };
        let count = read_u32(b, r.start).ok_or(bad("no count"))? as usize;
        let offsets = r.start + 4;
        let data = offsets + (count + 1) * 4;
        if data > r.end {
            return Err(bad("offsets run past the section"));
        }
        let mut prev = 0;
        for i in 0..=count {
            let o = read_u32(b, offsets + i * 4).ok_or(bad("offset out of bounds"))? as usize;
            if o < prev || data + o > r.end {
                return Err(bad(
                    "string offsets are not increasing or run past the section",
                ));
            }
            prev = o;
        }
        if std::str::from_utf8(&b[data..data + prev]).is_err() {
            return Err(bad("strings are not UTF-8"));
        }
        Ok(Self {
            count,
            offsets,
            data,
        })
    }

    fn get<'a>(&self, b: &'a [u8], i: usize) -> &'a str {
        if i >= self.count {
            return "";
        }
        let (Some(s), Some(e)) = (
            read_u32(b, self.offsets + i * 4),
            read_u32(b, self.offsets + i * 4 + 4),
        ) else {
            return "";
        };
        b.get(self.data + s as usize..self.data + e as usize)
            .and_then(|x| std::str::from_utf8(x).ok())
            .unwrap_or_default()
    }
}

/// A weighted CSR matrix checked at load.
#[derive(Debug, Clone, Default)]
struct Csr {
    rows: usize,
    offsets: usize,
    idx: usize,
    scores: usize,
    /// One-byte scores (v3): where the per-row maxima start.
    maxima: Option<usize>,
}

impl Csr {
    fn load(b: &[u8], r: Range<usize>, id: u32, n_targets: usize) -> Result<Self, ArtifactError> {
        let bad = |why| ArtifactError::Malformed { id, why };
        let rows = read_u32(b, r.start).ok_or(bad("no row count"))? as usize;
        let nnz = read_u32(b, r.start + 4).ok_or(bad("no entry count"))? as usize;
        let offsets = r.start + 8;
        let idx = offsets + (rows + 1) * 4;
        let scores = idx + nnz * 4;
        if scores + nnz * 4 > r.end {
            return Err(bad("entries run past the section"));
        }
        let mut prev = 0;
        for i in 0..=rows {
            let o = read_u32(b, offsets + i * 4).ok_or(bad("offset out of bounds"))? as usize;
            if o < prev || o > nnz {
                return Err(bad("row offsets are not increasing"));
            }
            prev = o;
        }
        for k in 0..nnz {
            if read_u32(b, idx + k * 4).is_none_or(|t| t as usize >= n_targets) {
                return Err(bad("entry index out of range"));
            }
        }
        Ok(Self {
            rows,
            offsets,
            idx,
            scores,
            maxima: None,
        })
    }

    /// A one-byte-score section (format v3: 4-byte indices, one score byte per entry).
    fn load_q(b: &[u8], r: Range<usize>, id: u32, n_targets: usize) -> Result<Self, ArtifactError> {
        let bad = |why| ArtifactError::Malformed { id, why };
        let h = crate::lists::Heads::read(b, &r, id)?;
        let (rows, nnz, offsets, maxima, idx) = (h.rows, h.count, h.offsets, h.maxima, h.after);
        let scores = nnz
            .checked_mul(4)
            .and_then(|x| x.checked_add(idx))
            .ok_or(bad("entries run past the section"))?;
        if scores.checked_add(nnz).is_none_or(|end| end > r.end) {
            return Err(bad("entries run past the section"));
        }
        h.check(b, id, nnz)?;
        for k in 0..nnz {
            if read_u32(b, idx + k * 4).is_none_or(|t| t as usize >= n_targets) {
                return Err(bad("entry index out of range"));
            }
        }
        Ok(Self {
            rows,
            offsets,
            idx,
            scores,
            maxima: Some(maxima),
        })
    }

    fn row<'a>(&self, b: &'a [u8], r: usize) -> impl Iterator<Item = (u32, f32)> + 'a {
        let (s, e) = if r < self.rows {
            (
                read_u32(b, self.offsets + r * 4).unwrap_or(0) as usize,
                read_u32(b, self.offsets + r * 4 + 4).unwrap_or(0) as usize,
            )
        } else {
            (0, 0)
        };
        let (idx, scores) = (self.idx, self.scores);
        let max = self
            .maxima
            .map(|m| read_f32(b, m + r * 4).unwrap_or(0.0) / 255.0);
        (s..e).filter_map(move |k| {
            let score = match max {
                Some(unit) => unit * f32::from(*b.get(scores + k)?),
                None => read_f32(b, scores + k * 4)?,
            };
            Some((read_u32(b, idx + k * 4)?, score))
        })
    }
}

/// A section of neighbour lists as any format wrote it: v1/v2 f32 scores, v3 one-byte scores,
/// v4/v5 packed ([`crate::lists`]), v6 compact ([`crate::lists::compact`]).
#[derive(Debug, Clone)]
enum Neighbours {
    Csr(Csr),
    Packed(crate::lists::Packed),
    Compact(crate::lists::Compact),
}

impl Neighbours {
    /// The section stored as `compact` (v6), else `packed` (v4/v5), else `q` (v3), else `f32`
    /// (v1/v2).
    fn load(
        b: &[u8],
        sections: &HashMap<u32, Range<usize>>,
        [compact, packed, q, f32_id]: [u32; 4],
        n: usize,
    ) -> Result<Self, ArtifactError> {
        let list = if let Some(r) = sections.get(&compact) {
            Self::Compact(crate::lists::Compact::load(b, r.clone(), compact, n)?)
        } else if let Some(r) = sections.get(&packed) {
            Self::Packed(crate::lists::Packed::load(b, r.clone(), packed, n)?)
        } else if let Some(r) = sections.get(&q) {
            Self::Csr(Csr::load_q(b, r.clone(), q, n)?)
        } else if let Some(r) = sections.get(&f32_id) {
            Self::Csr(Csr::load(b, r.clone(), f32_id, n)?)
        } else {
            return Err(ArtifactError::MissingSection { id: packed });
        };
        if list.rows() == n {
            Ok(list)
        } else {
            Err(ArtifactError::Malformed {
                id: packed,
                why: "one row per item expected",
            })
        }
    }

    fn rows(&self) -> usize {
        match self {
            Self::Csr(c) => c.rows,
            Self::Packed(p) => p.rows,
            Self::Compact(c) => c.rows,
        }
    }

    /// Every entry of row `r`, in stored order.
    fn for_each(&self, b: &[u8], r: usize, f: &mut dyn FnMut(u32, f32)) {
        match self {
            Self::Csr(c) => c.row(b, r).for_each(|(j, s)| f(j, s)),
            Self::Packed(p) => p.for_each(b, r, f),
            Self::Compact(c) => c.for_each(b, r, f),
        }
    }

    /// Row `r`, best first (ties by index).
    fn best_first(&self, b: &[u8], r: usize) -> std::vec::IntoIter<(u32, f32)> {
        let mut row = Vec::new();
        self.for_each(b, r, &mut |j, s| row.push((j, s)));
        if let Self::Packed(_) | Self::Compact(_) = self {
            row.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        }
        row.into_iter()
    }
}

/// The session model's lists, read in place from a loaded artifact.
#[derive(Debug, Clone, Copy)]
pub struct SessionLists<'a> {
    model: &'a Model,
}

impl crate::session_model::Lists for SessionLists<'_> {
    fn n_items(&self) -> usize {
        self.model.n_items
    }

    fn each(&self, list: crate::session_model::List, item: u32, f: &mut dyn FnMut(u32, f32)) {
        use crate::session_model::List;
        let Some((knn, cov, rules, _)) = &self.model.session else {
            return;
        };
        let rows = match list {
            List::Knn => knn,
            List::Covisit => cov,
            List::Rules => rules,
        };
        rows.for_each(&self.model.bytes, item as usize, f);
    }

    fn popularity(&self, item: u32) -> (f32, f32) {
        let Some((_, _, _, start)) = self.model.session else {
            return (0.0, 0.0);
        };
        let at = start + item as usize * 2;
        match self.model.bytes.get(at..at + 2) {
            Some(b) => (
                crate::session_model::popularity_of_byte(b[0]),
                crate::session_model::popularity_of_byte(b[1]),
            ),
            None => (0.0, 0.0),
        }
    }
}

/// Factor sections of a loaded artifact: the int8 rows stay in the buffer; the small Gram matrix
/// is decoded once.
#[derive(Debug, Clone)]
struct LoadedFactors {
    k: usize,
    regularization: f32,
    alpha: f32,
    rows: usize,
    scales: Column,
    gram: Vec<f32>,
    ivf: Option<LoadedIvf>,
}

impl LoadedFactors {
    fn load(
        b: &[u8],
        get: &dyn Fn(u32) -> Result<Range<usize>, ArtifactError>,
        n: usize,
    ) -> Result<Self, ArtifactError> {
        let bad = |id, why| ArtifactError::Malformed { id, why };
        let params = get(sec::FACTOR_PARAMS)?;
        let k = read_u32(b, params.start).ok_or(bad(sec::FACTOR_PARAMS, "no k"))? as usize;
        let regularization =
            read_f32(b, params.start + 4).ok_or(bad(sec::FACTOR_PARAMS, "no regularization"))?;
        let alpha = read_f32(b, params.start + 8).ok_or(bad(sec::FACTOR_PARAMS, "no alpha"))?;
        if k == 0 || k > 4096 || !regularization.is_finite() || !alpha.is_finite() {
            return Err(bad(sec::FACTOR_PARAMS, "bad factor parameters"));
        }
        let rows = get(sec::ITEM_FACTORS)?;
        if rows.len() != n * k {
            return Err(bad(sec::ITEM_FACTORS, "n × k bytes expected"));
        }
        let scales = Column::load(
            &|id| get(id).ok(),
            (sec::ITEM_SCALES_H, sec::ITEM_SCALES),
            n,
        )?;
        let gram_range = get(sec::GRAM)?;
        if gram_range.len() != k * k * 4 {
            return Err(bad(sec::GRAM, "k × k floats expected"));
        }
        let gram = (0..k * k)
            .filter_map(|i| read_f32(b, gram_range.start + i * 4))
            .collect();
        let ivf = match (get(sec::IVF_CENTROIDS), get(sec::IVF_LISTS)) {
            (Ok(c), Ok(l)) => Some(LoadedIvf::load(
                b,
                c,
                l,
                (sec::IVF_CENTROIDS, sec::IVF_LISTS),
                k,
                n,
            )?),
            (Err(_), Err(_)) => None,
            (Err(e), Ok(_)) | (Ok(_), Err(e)) => return Err(e),
        };
        Ok(Self {
            ivf,
            k,
            regularization,
            alpha,
            rows: rows.start,
            scales,
            gram,
        })
    }
}

/// Read access to a model's item factors.
#[derive(Debug, Clone, Copy)]
pub struct Factors<'a> {
    bytes: &'a [u8],
    f: &'a LoadedFactors,
    n: usize,
}

impl<'a> Factors<'a> {
    /// Dimensions per item.
    pub fn k(&self) -> usize {
        self.f.k
    }

    /// The fold-in hyperparameters the model was trained with.
    pub fn fold_in_params(&self) -> crate::factors::FoldIn {
        crate::factors::FoldIn {
            regularization: self.f.regularization,
            alpha: self.f.alpha,
        }
    }

    /// `YᵀY`, `k × k` row-major.
    pub fn gram(&self) -> &'a [f32] {
        &self.f.gram
    }

    /// Scale and int8 row of item `i` (empty for an unknown item).
    pub fn quantized(&self, i: u32) -> (f32, &'a [i8]) {
        let i = i as usize;
        if i >= self.n {
            return (0.0, &[]);
        }
        let scale = self.f.scales.get(self.bytes, i);
        let start = self.f.rows + i * self.f.k;
        let raw = self.bytes.get(start..start + self.f.k).unwrap_or_default();
        (scale, bytemuck::cast_slice(raw))
    }

    /// The dequantised factor row of item `i`.
    pub fn item_vector(&self, i: u32) -> Vec<f32> {
        let (scale, q) = self.quantized(i);
        crate::factors::dequantize(scale, q)
    }

    /// Score of item `i` for user vector `x`.
    pub fn score(&self, x: &[f32], i: u32) -> f32 {
        let (scale, q) = self.quantized(i);
        crate::factors::dot_i8(x, scale, q)
    }

    /// The IVF index's tuned probe count, when the artifact has an index.
    pub fn ivf_nprobe(&self) -> Option<usize> {
        self.f.ivf.as_ref().map(LoadedIvf::nprobe)
    }

    /// Candidate items for user vector `x` from the IVF index (`nprobe` clusters, default the
    /// tuned count), or `None` when the artifact has no index and every item is a candidate.
    pub fn candidates(&self, x: &[f32], nprobe: Option<usize>) -> Option<Vec<u32>> {
        let ivf = self.f.ivf.as_ref()?;
        Some(ivf.candidates(self.bytes, x, nprobe.unwrap_or(ivf.nprobe())))
    }
}

/// Where [`Model::item_index`] finds the items in id order.
#[derive(Debug, Clone)]
enum ItemOrder {
    /// v4: the writer's permutation, at this offset of the buffer.
    InPlace(usize),
    /// Older formats: sorted at load.
    Sorted(Vec<u32>),
    /// v7 without an order section: the ids are stored sorted.
    Identity,
}

/// A loaded artifact: one buffer plus checked section positions.
#[derive(Debug, Clone)]
pub struct Model {
    bytes: Vec<u8>,
    format_version: u32,
    version: String,
    created_at: i64,
    meta: Map<String, Value>,
    n_items: usize,
    ids: StrTable,
    titles: StrTable,
    categories: StrTable,
    brands: StrTable,
    attrs: Attrs,
    popularity: Column,
    popular: Range<usize>,
    category_popular: Csr,
    co_view: Neighbours,
    co_buy: Neighbours,
    factors: Option<LoadedFactors>,
    /// Start of the repurchase section (8 bytes per item), when present.
    repurchase: Option<usize>,
    /// Start of the ratings and listing dates (12 bytes per item), when present.
    extra: Option<usize>,
    /// The trainer-built search index section, when present.
    search: Option<Range<usize>>,
    /// The session model's lists (knn, covisit, rules) and popularity start, when present.
    session: Option<(Neighbours, Neighbours, Neighbours, usize)>,
    /// The session model's weights, from the meta.
    session_weights: crate::session_model::Weights,
    /// Item indices sorted by id: lookups binary-search the ids in the buffer, 4 bytes per item
    /// instead of a copied string map (which cost more than the factors on big catalogs). Read
    /// in place from v4's `ITEM_ORDER` section; older formats sort it at load.
    by_id: ItemOrder,
    category_index: HashMap<String, u32>,
}

impl Model {
    /// Checks and indexes an artifact. Fails with a typed error on any truncation or corruption.
    pub fn load(bytes: Vec<u8>) -> Result<Self, ArtifactError> {
        Self::load_with_checksum(bytes, None)
    }

    /// [`Self::load`] with the artifact's own checksum already computed over these very bytes
    /// (by [`checksums`]), so the one pass the manifest check made is not repeated.
    pub(crate) fn load_with_checksum(
        bytes: Vec<u8>,
        computed: Option<u32>,
    ) -> Result<Self, ArtifactError> {
        let b = &bytes;
        if b.len() < HEADER_LEN {
            return Err(ArtifactError::Truncated {
                len: b.len(),
                need: HEADER_LEN,
            });
        }
        if &b[..8] != MAGIC {
            return Err(ArtifactError::BadMagic);
        }
        let format_version = read_u32(b, 8).unwrap_or(0);
        if format_version == 0 || format_version > FORMAT_VERSION {
            return Err(ArtifactError::UnsupportedVersion {
                found: format_version,
                supported: FORMAT_VERSION,
            });
        }
        let count = read_u32(b, 12).unwrap_or(0) as usize;
        let table_end = HEADER_LEN.saturating_add(count.saturating_mul(SECTION_ENTRY_LEN));
        if b.len() < table_end {
            return Err(ArtifactError::Truncated {
                len: b.len(),
                need: table_end,
            });
        }
        let expected = read_u32(b, 16).unwrap_or(0);
        let actual = computed.unwrap_or_else(|| checksum(b));
        if expected != actual {
            return Err(ArtifactError::ChecksumMismatch { expected, actual });
        }
        let created_at =
            i64::from_le_bytes(b[24..32].try_into().map_err(|_| ArtifactError::BadMagic)?);
        let version_raw = &b[32..64];
        let vlen = version_raw
            .iter()
            .position(|&c| c == 0)
            .unwrap_or(MAX_VERSION_LEN);
        let version = std::str::from_utf8(&version_raw[..vlen])
            .map_err(|_| ArtifactError::Malformed {
                id: 0,
                why: "model version is not UTF-8",
            })?
            .to_owned();
        let mut sections: HashMap<u32, Range<usize>> = HashMap::new();
        for i in 0..count {
            let e = HEADER_LEN + i * SECTION_ENTRY_LEN;
            let id = read_u32(b, e).unwrap_or(0);
            let off = usize::try_from(read_u64(b, e + 8).unwrap_or(u64::MAX)).unwrap_or(usize::MAX);
            let len =
                usize::try_from(read_u64(b, e + 16).unwrap_or(u64::MAX)).unwrap_or(usize::MAX);
            let end = off
                .checked_add(len)
                .filter(|&end| end <= b.len() && off >= table_end);
            let Some(end) = end else {
                return Err(ArtifactError::Malformed {
                    id,
                    why: "section lies outside the file",
                });
            };
            sections.insert(id, off..end);
        }
        let get = |id: u32| {
            sections
                .get(&id)
                .cloned()
                .ok_or(ArtifactError::MissingSection { id })
        };
        let meta_range = get(sec::META)?;
        let meta: Map<String, Value> =
            serde_json::from_slice(&b[meta_range]).map_err(|_| ArtifactError::Malformed {
                id: sec::META,
                why: "meta is not a JSON object",
            })?;
        let ids = StrTable::load(b, get(sec::ITEM_IDS)?, sec::ITEM_IDS)?;
        let n = ids.count;
        let titles = StrTable::load(b, get(sec::ITEM_TITLES)?, sec::ITEM_TITLES)?;
        let categories = StrTable::load(b, get(sec::CATEGORIES)?, sec::CATEGORIES)?;
        let brands = StrTable::load(b, get(sec::BRANDS)?, sec::BRANDS)?;
        if titles.count != n {
            return Err(ArtifactError::Malformed {
                id: sec::ITEM_TITLES,
                why: "one title per item expected",
            });
        }
        let find = |id: u32| sections.get(&id).cloned();
        let attrs = Attrs::load(b, &find, n, categories.count, brands.count)?;
        let popularity = Column::load(&find, (sec::POPULARITY_H, sec::POPULARITY), n)?;
        let popular_sec = get(sec::POPULAR)?;
        let np = read_u32(b, popular_sec.start).unwrap_or(u32::MAX) as usize;
        let popular = popular_sec.start + 4..popular_sec.start + 4 + np.saturating_mul(4);
        if popular.end > popular_sec.end
            || (0..np).any(|k| read_u32(b, popular.start + k * 4).is_none_or(|i| i as usize >= n))
        {
            return Err(ArtifactError::Malformed {
                id: sec::POPULAR,
                why: "bad popular list",
            });
        }
        let category_popular = Csr::load(b, get(sec::CATEGORY_POPULAR)?, sec::CATEGORY_POPULAR, n)?;
        if category_popular.rows != categories.count {
            return Err(ArtifactError::Malformed {
                id: sec::CATEGORY_POPULAR,
                why: "one row per category expected",
            });
        }
        let co_view = Neighbours::load(
            b,
            &sections,
            [sec::CO_VIEW_C, sec::CO_VIEW_P, sec::CO_VIEW_Q, sec::CO_VIEW],
            n,
        )?;
        let co_buy = Neighbours::load(
            b,
            &sections,
            [sec::CO_BUY_C, sec::CO_BUY_P, sec::CO_BUY_Q, sec::CO_BUY],
            n,
        )?;
        let factors = if format_version >= 2 && sections.contains_key(&sec::FACTOR_PARAMS) {
            Some(LoadedFactors::load(b, &get, n)?)
        } else {
            None
        };
        let repurchase = match sections.get(&sec::REPURCHASE) {
            None => None,
            Some(_) => {
                let r = get(sec::REPURCHASE)?;
                if r.len() != n * 8 {
                    return Err(ArtifactError::Malformed {
                        id: sec::REPURCHASE,
                        why: "8 bytes per item expected",
                    });
                }
                Some(r.start)
            }
        };
        let extra = match sections.get(&sec::ITEM_EXTRA) {
            None => None,
            Some(_) => {
                let r = get(sec::ITEM_EXTRA)?;
                if r.len() != n * 12 {
                    return Err(ArtifactError::Malformed {
                        id: sec::ITEM_EXTRA,
                        why: "12 bytes per item expected",
                    });
                }
                Some(r.start)
            }
        };
        let search = match sections.get(&sec::SEARCH) {
            None => None,
            Some(_) => Some(get(sec::SEARCH)?),
        };
        let session = if [sec::SESSION_KNN_C, sec::SESSION_KNN_P, sec::SESSION_KNN]
            .iter()
            .any(|id| sections.contains_key(id))
        {
            let list =
                |[c, packed, q]: [u32; 3]| Neighbours::load(b, &sections, [c, packed, q, q], n);
            let pop = get(sec::SESSION_POPULARITY)?;
            if pop.len() != n * 2 {
                return Err(ArtifactError::Malformed {
                    id: sec::SESSION_POPULARITY,
                    why: "2 bytes per item expected",
                });
            }
            Some((
                list([sec::SESSION_KNN_C, sec::SESSION_KNN_P, sec::SESSION_KNN])?,
                list([
                    sec::SESSION_COVISIT_C,
                    sec::SESSION_COVISIT_P,
                    sec::SESSION_COVISIT,
                ])?,
                list([
                    sec::SESSION_RULES_C,
                    sec::SESSION_RULES_P,
                    sec::SESSION_RULES,
                ])?,
                pop.start,
            ))
        } else {
            None
        };
        let session_weights = meta
            .get("session_model")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .filter(crate::session_model::Weights::usable)
            .unwrap_or_default();
        let by_id = match sections.get(&sec::ITEM_ORDER) {
            Some(r) if r.len() == n * 4 => ItemOrder::InPlace(r.start),
            Some(_) => {
                return Err(ArtifactError::Malformed {
                    id: sec::ITEM_ORDER,
                    why: "4 bytes per item expected",
                });
            }
            // v7 writes no order when the ids are sorted already.
            None if format_version >= 7 => ItemOrder::Identity,
            None => {
                let mut by_id: Vec<u32> = (0..n as u32).collect();
                by_id.sort_unstable_by(|&x, &y| ids.get(b, x as usize).cmp(ids.get(b, y as usize)));
                ItemOrder::Sorted(by_id)
            }
        };
        let category_index = (0..categories.count)
            .map(|i| (categories.get(b, i).to_owned(), i as u32))
            .collect();
        Ok(Self {
            format_version,
            version,
            created_at,
            meta,
            n_items: n,
            ids,
            titles,
            categories,
            brands,
            attrs,
            popularity,
            popular,
            category_popular,
            co_view,
            co_buy,
            factors,
            repurchase,
            extra,
            search,
            session,
            session_weights,
            by_id,
            category_index,
            bytes,
        })
    }

    /// The session model's lists, when the artifact has them.
    pub fn session_lists(&self) -> Option<SessionLists<'_>> {
        self.session.as_ref().map(|_| SessionLists { model: self })
    }

    /// The session model's weights (learned by the trainer, else the defaults).
    pub fn session_weights(&self) -> &crate::session_model::Weights {
        &self.session_weights
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn format_version(&self) -> u32 {
        self.format_version
    }

    pub fn created_at(&self) -> i64 {
        self.created_at
    }

    pub fn meta(&self) -> &Map<String, Value> {
        &self.meta
    }

    /// Size of the artifact in bytes.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// The artifact's bytes, as loaded.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn n_items(&self) -> usize {
        self.n_items
    }

    pub fn n_categories(&self) -> usize {
        self.categories.count
    }

    /// Index of an item id.
    pub fn item_index(&self, id: &str) -> Option<u32> {
        let at = |k: usize| match &self.by_id {
            ItemOrder::Sorted(v) => v.get(k).copied().unwrap_or(u32::MAX),
            ItemOrder::InPlace(start) => read_u32(&self.bytes, start + k * 4).unwrap_or(u32::MAX),
            ItemOrder::Identity => u32::try_from(k).unwrap_or(u32::MAX),
        };
        // A damaged order finds nothing rather than something wrong: a hit must equal `id`.
        let (mut lo, mut hi) = (0, self.n_items);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let i = at(mid);
            match self.ids.get(&self.bytes, i as usize).cmp(id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    return Some(i).filter(|&i| (i as usize) < self.n_items);
                }
            }
        }
        None
    }

    /// Index of a category name.
    pub fn category_index(&self, name: &str) -> Option<u32> {
        self.category_index.get(name).copied()
    }

    pub fn item_id(&self, i: u32) -> &str {
        self.ids.get(&self.bytes, i as usize)
    }

    pub fn item_title(&self, i: u32) -> &str {
        self.titles.get(&self.bytes, i as usize)
    }

    fn attr_u32(&self, i: u32, field: usize) -> u32 {
        if i as usize >= self.n_items {
            return NONE;
        }
        match field {
            0 => self.attrs.category(&self.bytes, i as usize),
            _ => self.attrs.brand(&self.bytes, i as usize),
        }
    }

    /// Category index of an item, if it has one.
    pub fn item_category(&self, i: u32) -> Option<u32> {
        Some(self.attr_u32(i, 0)).filter(|&c| c != NONE)
    }

    /// Category name of an item ("" when it has none).
    pub fn item_category_name(&self, i: u32) -> &str {
        self.item_category(i).map_or("", |c| self.category_name(c))
    }

    pub fn category_name(&self, c: u32) -> &str {
        self.categories.get(&self.bytes, c as usize)
    }

    /// Brand index of an item, if it has one.
    pub fn item_brand_index(&self, i: u32) -> Option<u32> {
        Some(self.attr_u32(i, 1)).filter(|&b| b != NONE)
    }

    /// Brand name by index ("" when out of range).
    pub fn brand_name(&self, b: u32) -> &str {
        self.brands.get(&self.bytes, b as usize)
    }

    /// Number of distinct brands.
    pub fn n_brands(&self) -> usize {
        self.brands.count
    }

    /// Brand name of an item ("" when it has none).
    pub fn item_brand(&self, i: u32) -> &str {
        match self.attr_u32(i, 1) {
            NONE => "",
            b => self.brands.get(&self.bytes, b as usize),
        }
    }

    pub fn item_price(&self, i: u32) -> f32 {
        if i as usize >= self.n_items {
            return 0.0;
        }
        self.attrs.price(&self.bytes, i as usize)
    }

    pub fn item_in_stock(&self, i: u32) -> bool {
        (i as usize) < self.n_items && self.attrs.in_stock(&self.bytes, i as usize)
    }

    /// Average review rating of an item, when known.
    pub fn item_rating(&self, i: u32) -> Option<f32> {
        if i as usize >= self.n_items {
            return None;
        }
        let r = read_f32(&self.bytes, self.extra? + i as usize * 12)?;
        (!r.is_nan()).then_some(r)
    }

    /// When an item was listed, epoch ms (0: unknown).
    pub fn item_created_at(&self, i: u32) -> i64 {
        let Some(at) = self.extra.filter(|_| (i as usize) < self.n_items) else {
            return 0;
        };
        let at = at + i as usize * 12 + 4;
        self.bytes
            .get(at..at + 8)
            .and_then(|s| s.try_into().ok())
            .map_or(0, i64::from_le_bytes)
    }

    /// The trainer-built search index, when the artifact carries one.
    pub fn search_section(&self) -> Option<&[u8]> {
        self.search.clone().and_then(|r| self.bytes.get(r))
    }

    /// Decayed popularity of an item.
    pub fn popularity(&self, i: u32) -> f32 {
        if i as usize >= self.n_items {
            return 0.0;
        }
        self.popularity.get(&self.bytes, i as usize)
    }

    /// Item indices, most popular first.
    pub fn popular(&self) -> impl Iterator<Item = u32> + '_ {
        self.popular
            .clone()
            .step_by(4)
            .filter_map(|at| read_u32(&self.bytes, at))
    }

    /// A category's items, most popular first.
    pub fn category_popular(&self, c: u32) -> impl Iterator<Item = (u32, f32)> + '_ {
        self.category_popular.row(&self.bytes, c as usize)
    }

    /// Items viewed in the same sessions as `i`, best first.
    pub fn co_view(&self, i: u32) -> impl Iterator<Item = (u32, f32)> + '_ {
        self.co_view.best_first(&self.bytes, i as usize)
    }

    /// Every item viewed or bought together with `i` (the co-view row, then the bought-together
    /// row), in stored order: for sums, which need no ranking.
    pub fn each_linked(&self, i: u32, f: &mut dyn FnMut(u32, f32)) {
        self.co_view.for_each(&self.bytes, i as usize, f);
        self.co_buy.for_each(&self.bytes, i as usize, f);
    }

    /// Items bought together with `i`, best first.
    pub fn co_buy(&self, i: u32) -> impl Iterator<Item = (u32, f32)> + '_ {
        self.co_buy.best_first(&self.bytes, i as usize)
    }

    /// How shoppers buy item `i` again, when the artifact learned it.
    pub fn repeat(&self, i: u32) -> Option<Repeat> {
        let start = self.repurchase? + (i as usize).checked_mul(8)?;
        if i as usize >= self.n_items {
            return None;
        }
        Some(Repeat {
            interval_days: read_f32(&self.bytes, start)?,
            share: read_f32(&self.bytes, start + 4)?,
        })
    }

    /// Item factors, when the artifact has them (format v2).
    pub fn factors(&self) -> Option<Factors<'_>> {
        self.factors.as_ref().map(|f| Factors {
            bytes: &self.bytes,
            f,
            n: self.n_items,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small, fixed model: also the source of the golden file.
    pub(crate) fn fixture() -> ModelData {
        let item = |id: &str, title: &str, category: u32, brand: u32, price: f32| ItemRecord {
            id: id.into(),
            title: title.into(),
            category,
            brand,
            price,
            in_stock: price < 1000.0,
            ..ItemRecord::default()
        };
        let mut meta = Map::new();
        meta.insert("kind".into(), Value::from("popularity+covisitation"));
        ModelData {
            version: "golden-v1".into(),
            created_at: 1_790_000_000_000,
            meta,
            items: vec![
                item("laptop-1", "Ultrabook 14", 0, 0, 1299.0),
                item("laptop-2", "Gaming Laptop 16", 0, 1, 1899.5),
                item("mouse-1", "Wireless Mouse", 1, 1, 29.99),
                item("cable-1", "USB-C Cable 2m", 1, NONE, 9.5),
                item("phone-1", "Smartphone X", NONE, 0, 799.0),
            ],
            categories: vec!["computers.notebook".into(), "computers.accessories".into()],
            brands: vec!["acme".into(), "zenit".into()],
            popularity: vec![5.0, 3.0, 9.0, 1.0, 7.0],
            popular: vec![2, 4, 0, 1, 3],
            category_popular: vec![vec![(0, 5.0), (1, 3.0)], vec![(2, 9.0), (3, 1.0)]],
            co_view: vec![
                vec![(1, 0.9), (2, 0.4)],
                vec![(0, 0.9)],
                vec![(3, 0.5)],
                vec![],
                vec![(2, 0.1)],
            ],
            co_buy: vec![
                vec![(2, 0.8)],
                vec![],
                vec![(0, 0.8), (3, 0.3)],
                vec![(2, 0.3)],
                vec![],
            ],
            factors: None,
            repurchase: Vec::new(),
            search: None,
            session: None,
        }
    }

    /// The fixture with 4-dimensional factors: laptops near each other, accessories near each other.
    pub(crate) fn fixture_v2() -> ModelData {
        let rows = [
            [1.0, 0.2, 0.0, 0.1],
            [0.9, 0.3, 0.1, 0.0],
            [0.1, 1.0, 0.2, 0.0],
            [0.0, 0.9, 0.3, 0.1],
            [0.2, 0.1, 1.0, 0.3],
        ];
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        ModelData {
            version: "golden-v2".into(),
            factors: Some(FactorData::quantize(4, &flat, 0.1, 10.0)),
            ..fixture()
        }
    }

    #[test]
    fn round_trip() {
        let data = fixture();
        let m = Model::load(data.encode().unwrap()).unwrap();
        assert_eq!(m.version(), "golden-v1");
        assert_eq!(m.n_items(), 5);
        assert_eq!(m.item_index("mouse-1"), Some(2));
        assert_eq!(m.item_id(1), "laptop-2");
        assert_eq!(m.item_title(3), "USB-C Cable 2m");
        assert_eq!(m.item_category_name(0), "computers.notebook");
        assert_eq!(m.item_category(4), None);
        assert_eq!(m.item_brand(3), "");
        assert_eq!(m.item_brand(1), "zenit");
        assert!((m.item_price(1) - 1899.5).abs() < 1e-3);
        assert!(!m.item_in_stock(0));
        assert!(m.item_in_stock(2));
        assert_eq!(m.popular().collect::<Vec<_>>(), vec![2, 4, 0, 1, 3]);
        assert_eq!(
            m.category_popular(1).map(|x| x.0).collect::<Vec<_>>(),
            vec![2, 3]
        );
        let near = |got: Vec<(u32, f32)>, want: &[(u32, f32)]| {
            got.len() == want.len()
                && got
                    .iter()
                    .zip(want)
                    .all(|(g, w)| g.0 == w.0 && (g.1 - w.1).abs() <= want[0].1 / 255.0)
        };
        assert!(near(m.co_view(0).collect(), &[(1, 0.9), (2, 0.4)]));
        assert_eq!(m.co_buy(3).collect::<Vec<_>>(), vec![(2, 0.3)]);
        assert_eq!(m.co_view(99).count(), 0);
        assert_eq!(m.meta()["kind"], "popularity+covisitation");
        assert_eq!(m.category_index("computers.accessories"), Some(1));
    }

    #[test]
    fn repurchase_stats_round_trip_and_are_optional() {
        let m = Model::load(fixture().encode().unwrap()).unwrap();
        assert_eq!(m.repeat(3), None);
        let mut data = fixture();
        data.repurchase = (0..5)
            .map(|i| Repeat {
                interval_days: i as f32 * 10.0,
                share: 0.1,
            })
            .collect();
        let m = Model::load(data.encode().unwrap()).unwrap();
        assert_eq!(m.repeat(3).map(|r| r.interval_days), Some(30.0));
        assert_eq!(m.repeat(5), None);
        data.repurchase.pop();
        assert!(data.encode().is_err());
    }

    #[test]
    fn ratings_dates_and_search_section_round_trip_and_are_optional() {
        let m = Model::load(fixture().encode().unwrap()).unwrap();
        assert_eq!((m.item_rating(0), m.item_created_at(0)), (None, 0));
        assert!(m.search_section().is_none());
        let mut data = fixture();
        data.items[1].rating = Some(4.5);
        data.items[3].created_at = 1_780_000_000_123;
        data.search = Some(b"index bytes".to_vec());
        let m = Model::load(data.encode().unwrap()).unwrap();
        assert_eq!(m.item_rating(1), Some(4.5));
        assert_eq!(m.item_rating(0), None, "no rating stays none");
        assert_eq!(m.item_created_at(3), 1_780_000_000_123);
        assert_eq!((m.item_rating(99), m.item_created_at(99)), (None, 0));
        assert_eq!(m.search_section(), Some(&b"index bytes"[..]));
    }

    #[test]
    fn every_truncation_is_a_typed_error() {
        let bytes = fixture().encode().unwrap();
        for len in [0, 7, 63, 64, 100, bytes.len() / 2, bytes.len() - 1] {
            let err = Model::load(bytes[..len].to_vec()).unwrap_err();
            assert!(
                matches!(
                    err,
                    ArtifactError::Truncated { .. }
                        | ArtifactError::ChecksumMismatch { .. }
                        | ArtifactError::Malformed { .. }
                ),
                "len {len}: {err}"
            );
        }
    }

    #[test]
    fn every_flipped_byte_is_detected() {
        let bytes = fixture().encode().unwrap();
        for at in (0..bytes.len()).step_by(7) {
            let mut bad = bytes.clone();
            bad[at] ^= 0x5a;
            assert!(Model::load(bad).is_err(), "flip at {at} went unnoticed");
        }
    }

    #[test]
    fn rejects_bad_magic_and_future_versions() {
        let mut bytes = fixture().encode().unwrap();
        bytes[0] = b'X';
        assert_eq!(Model::load(bytes).unwrap_err(), ArtifactError::BadMagic);
        let mut bytes = fixture().encode().unwrap();
        bytes[8..12].copy_from_slice(&99u32.to_le_bytes());
        assert_eq!(
            Model::load(bytes).unwrap_err(),
            ArtifactError::UnsupportedVersion {
                found: 99,
                supported: FORMAT_VERSION
            }
        );
    }

    #[test]
    fn writer_rejects_inconsistent_data() {
        let mut d = fixture();
        d.popularity.pop();
        assert!(matches!(d.encode(), Err(ArtifactError::Invalid(_))));
        let mut d = fixture();
        d.co_view[0].push((77, 1.0));
        assert!(matches!(d.encode(), Err(ArtifactError::Invalid(_))));
        let mut d = fixture();
        d.version = "../escape".into();
        assert!(matches!(d.encode(), Err(ArtifactError::Invalid(_))));
    }

    const GOLDEN_V1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/model-v1.bin");
    const GOLDEN_V2: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/model-v2.bin");
    const GOLDEN_V3: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/model-v3.bin");
    const GOLDEN_V4: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/model-v4.bin");
    const GOLDEN_V5: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/model-v5.bin");
    const GOLDEN_V6: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/model-v6.bin");
    const GOLDEN_V7: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/model-v7.bin");

    /// Committed artifacts of every format version must load forever; the newest golden also pins
    /// the writer. Regenerate it only with `VITRINE_BLESS=1`, when the writer is meant to change
    /// (then bump the format version and keep the old golden).
    #[test]
    fn golden_v1_artifact_loads() {
        let golden = std::fs::read(GOLDEN_V1).unwrap();
        let m = Model::load(golden).unwrap();
        assert_eq!(
            (m.format_version(), m.version(), m.n_items()),
            (1, "golden-v1", 5)
        );
        assert_eq!(m.item_id(4), "phone-1");
        assert_eq!(m.co_buy(2).collect::<Vec<_>>(), vec![(0, 0.8), (3, 0.3)]);
        assert!(m.factors().is_none());
    }

    /// The v2 fixture with session lists: what the v4 golden file holds.
    fn fixture_v4() -> ModelData {
        ModelData {
            version: "golden-v4".into(),
            session: Some(crate::session_model::OwnedLists {
                knn: vec![
                    vec![(1, 0.9), (4, 0.2)],
                    vec![],
                    vec![(3, 0.7)],
                    vec![],
                    vec![],
                ],
                covisit: vec![vec![], vec![(0, 0.5)], vec![], vec![(2, 1.0)], vec![]],
                rules: vec![vec![(2, 0.3)], vec![], vec![], vec![], vec![(0, 0.1)]],
                popularity: vec![(1.0, 0.5), (0.2, 0.0), (0.9, 1.0), (0.1, 0.1), (0.7, 0.3)],
            }),
            ..fixture_v2()
        }
    }

    /// What the v4 to v7 golden files hold (the same model in four encodings). v4–v6 store
    /// bought-together scores within 1/255 of the row maximum, v7 on 16 learned levels.
    fn assert_golden_v4_content(m: &Model) {
        assert!(matches!(m.by_id, ItemOrder::InPlace(_)));
        for (i, id) in ["laptop-1", "laptop-2", "mouse-1", "cable-1", "phone-1"]
            .iter()
            .enumerate()
        {
            assert_eq!(m.item_index(id), Some(i as u32), "{id}");
        }
        assert_eq!(m.item_index("nope"), None);
        // Best first: the row maximum exactly, the rest within 1/255 of it.
        let row: Vec<(u32, f32)> = m.co_buy(2).collect();
        assert_eq!(row[0], (0, 0.8));
        assert_eq!(row[1].0, 3);
        let step = if m.format_version() >= 7 {
            1e-6
        } else {
            0.8 / 255.0
        };
        assert!((row[1].1 - 0.3).abs() <= step, "{row:?}");
        let lists = m.session_lists().unwrap();
        let mut knn = Vec::new();
        crate::session_model::Lists::each(
            &lists,
            crate::session_model::List::Knn,
            0,
            &mut |j, v| {
                knn.push((j, v));
            },
        );
        assert_eq!(knn.len(), 2);
        assert_eq!(knn[0], (1, 0.9));
        assert!(m.factors().is_some());
    }

    #[test]
    fn golden_v7_artifact_pins_the_writer() {
        let data = ModelData {
            version: "golden-v7".into(),
            ..fixture_v4()
        };
        if std::env::var_os("VITRINE_BLESS").is_some() {
            std::fs::write(GOLDEN_V7, data.encode().unwrap()).unwrap();
        }
        let golden = std::fs::read(GOLDEN_V7).unwrap();
        assert_eq!(
            golden,
            data.encode().unwrap(),
            "the v7 writer's output drifted from the golden file"
        );
        let m = Model::load(golden.clone()).unwrap();
        assert_eq!((m.format_version(), m.version()), (7, "golden-v7"));
        assert!(matches!(m.co_view, Neighbours::Compact(_)));
        assert!(matches!(m.attrs, Attrs::Narrow { .. }));
        assert_golden_v4_content(&m);
        assert_eq!(
            (m.item_price(4), m.item_in_stock(4), m.item_brand(4)),
            (799.0, true, "acme")
        );
        assert_eq!((m.item_category(4), m.item_in_stock(0)), (None, false));
        assert_eq!(m.popularity(2), 9.0, "small counts are exact in bf16");
        for at in [0, 8, 16, 21, 40, 64, golden.len() / 2, golden.len() - 1] {
            let mut bad = golden.clone();
            bad[at] ^= 0x10;
            assert!(Model::load(bad).is_err(), "byte {at}");
        }
    }

    #[test]
    fn golden_v6_artifact_loads() {
        let golden = std::fs::read(GOLDEN_V6).unwrap();
        let m = Model::load(golden.clone()).unwrap();
        assert_eq!((m.format_version(), m.version()), (6, "golden-v6"));
        assert!(matches!(m.co_view, Neighbours::Compact(_)));
        assert!(matches!(m.attrs, Attrs::Wide(_)));
        assert_golden_v4_content(&m);
        for at in [0, 8, 16, 21, 40, 64, golden.len() / 2, golden.len() - 1] {
            let mut bad = golden.clone();
            bad[at] ^= 0x10;
            assert!(Model::load(bad).is_err(), "byte {at}");
        }
    }

    #[test]
    fn golden_v5_artifact_loads() {
        let golden = std::fs::read(GOLDEN_V5).unwrap();
        let m = Model::load(golden.clone()).unwrap();
        assert_eq!((m.format_version(), m.version()), (5, "golden-v5"));
        assert!(matches!(m.co_view, Neighbours::Packed(_)));
        assert_golden_v4_content(&m);
        // Its own checksum is xxHash64's, not CRC-32's.
        let mut crc = crc32fast::Hasher::new();
        crc.update(&golden[..16]);
        crc.update(&[0; 4]);
        crc.update(&golden[20..]);
        assert_ne!(checksum(&golden), crc.finalize());
    }

    #[test]
    fn golden_v4_artifact_loads() {
        let golden = std::fs::read(GOLDEN_V4).unwrap();
        let m = Model::load(golden).unwrap();
        assert_eq!((m.format_version(), m.version()), (4, "golden-v4"));
        assert_golden_v4_content(&m);
    }

    /// What an offline evaluation ranks on (`OwnedLists::as_stored`) is what the edge ranks on.
    #[test]
    fn stored_lists_rank_as_the_loaded_artifact_does() {
        let data = fixture_v4();
        let m = Model::load(data.encode().unwrap()).unwrap();
        let stored = data.session.as_ref().unwrap().as_stored().unwrap();
        let loaded = m.session_lists().unwrap();
        let w = crate::session_model::Weights::default();
        for prefix in [&[0u32][..], &[2, 0], &[4, 3, 0], &[1, 1, 2]] {
            assert_eq!(
                crate::session_model::rank(&loaded, prefix, &w, 5),
                crate::session_model::rank(&stored, prefix, &w, 5),
                "{prefix:?}"
            );
        }
        for i in 0..5 {
            assert_eq!(
                crate::session_model::Lists::popularity(&loaded, i),
                crate::session_model::Lists::popularity(&stored, i)
            );
        }
    }

    #[test]
    fn golden_v3_artifact_loads() {
        let golden = std::fs::read(GOLDEN_V3).unwrap();
        let m = Model::load(golden).unwrap();
        assert_eq!((m.format_version(), m.version()), (3, "golden-v2"));
        assert!(matches!(m.by_id, ItemOrder::Sorted(_)));
        assert_eq!(m.item_index("cable-1"), Some(3));
        let row: Vec<(u32, f32)> = m.co_buy(2).collect();
        assert_eq!(row[0], (0, 0.8));
        assert_eq!(row[1].0, 3);
        assert!((row[1].1 - 0.3).abs() <= 0.8 / 255.0, "{row:?}");
        assert!(m.factors().is_some());
    }

    #[test]
    fn golden_v2_artifact_loads() {
        let golden = std::fs::read(GOLDEN_V2).unwrap();
        let m = Model::load(golden).unwrap();
        assert_eq!((m.format_version(), m.version()), (2, "golden-v2"));
        let f = m.factors().unwrap();
        assert_eq!(f.k(), 4);
        assert!((f.fold_in_params().alpha - 10.0).abs() < f32::EPSILON);
        let v = f.item_vector(2);
        assert!(
            (v[1] - 1.0).abs() < 0.01 && (v[2] - 0.2).abs() < 0.01,
            "{v:?}"
        );
        assert!(f.score(&[1.0, 0.0, 0.0, 0.0], 0) > f.score(&[1.0, 0.0, 0.0, 0.0], 2));
        assert_eq!(f.gram().len(), 16);
        assert_eq!(f.quantized(99).1.len(), 0);
    }

    #[test]
    fn v2_is_compact() {
        let (n, k) = (1000usize, 64usize);
        #[expect(clippy::cast_precision_loss, reason = "test data")]
        let rows: Vec<f32> = (0..n * k)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
            .collect();
        let f = FactorData::quantize(k, &rows, 0.1, 1.0);
        let per_item = (f.quantized.len() + f.scales.len() * 4) / n;
        assert!(per_item <= 80, "{per_item} bytes per item");
    }

    #[test]
    fn v2_corruption_is_detected() {
        let bytes = fixture_v2().encode().unwrap();
        for at in (0..bytes.len()).step_by(11) {
            let mut bad = bytes.clone();
            bad[at] ^= 0x21;
            assert!(Model::load(bad).is_err(), "flip at {at} went unnoticed");
        }
        let mut d = fixture_v2();
        if let Some(f) = d.factors.as_mut() {
            f.scales.pop();
        }
        assert!(matches!(d.encode(), Err(ArtifactError::Invalid(_))));
    }

    #[test]
    fn encoding_is_deterministic() {
        assert_eq!(fixture().encode().unwrap(), fixture().encode().unwrap());
    }
}
