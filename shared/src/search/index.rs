//! The search index over a model's catalog: an inverted index of field-weighted terms (title >
//! brand > category > attributes) in their analysed form ([`text::analyse`]: units, stems), with
//! the synonym groups' concept terms ([`Synonyms`]) indexed beside the words they stand for, the
//! past queries behind suggestions and what the shop's clicks taught ([`Learned`]). Ranking lives
//! in [`super::rank`], suggestions in [`super::suggest`].

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::artifact::Model;
use crate::search::fuzzy::Fuzzy;
use crate::search::synonyms::{CATEGORY_NAMES, Synonyms};
use crate::search::text;

/// Field weights of a term occurrence (multiples of 0.5: postings store them in half units).
pub(crate) const TITLE: f32 = 3.0;
pub(crate) const BRAND: f32 = 2.0;
pub(crate) const CATEGORY: f32 = 1.5;
pub(crate) const ATTRIBUTE: f32 = 1.0;
/// What a product is made for ("Case for *iPhone 15*", `compatible_with`): it should find the case
/// for "iphone 15 case" without outranking the iPhone for "iphone".
pub(crate) const FITS: f32 = 0.5;
/// BM25's length normalisation `b`, on title length: mild, so "Pixel 8" beats "Pixel 8 Pro" for
/// "pixel 8" without short titles outranking popular ones.
pub(crate) const LENGTH_NORM: f32 = 0.3;

/// One product as the index sees it.
#[derive(Debug, Clone, Default)]
pub struct Doc<'a> {
    pub title: &'a str,
    pub brand: &'a str,
    /// Dotted category path; its parts are indexed.
    pub category: &'a str,
    /// Attribute values ("256GB", "OLED").
    pub attributes: Vec<&'a str>,
    /// Products this one is made for ("Apple iPhone 15" for a case).
    pub fits: Vec<&'a str>,
}

/// A title split at a standalone "for": what the product is, and what it is for.
pub(crate) fn title_parts(title: &str) -> (&str, &str) {
    let lower = title.to_ascii_lowercase();
    match lower.find(" for ") {
        Some(at) => (&title[..at], &title[at + 5..]),
        None => (title, ""),
    }
}

/// What the shop's own searches taught about one query (mined by the trainer from search serves
/// and the clicks and purchases that followed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Learned {
    /// The category shoppers who asked this went to, when one clearly dominates.
    pub category: Option<String>,
    /// Products shoppers chose for this query, with strength 1–255.
    pub boosts: Vec<(u32, u8)>,
}

/// An inverted index: a sorted vocabulary, and per term its postings `(doc, weighted term
/// frequency)` in one flat array. Built by the trainer into the artifact (see [`codec`]) or, for
/// artifacts without one, by the edge from the model's titles, brands and categories.
///
/// [`codec`]: crate::search::codec
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchIndex {
    /// Every term, sorted; concept terms start with [`crate::search::synonyms::CONCEPT`].
    pub(crate) vocabulary: Vec<String>,
    /// Term `t`'s postings are `starts[t]..starts[t + 1]`.
    pub(crate) starts: Vec<u32>,
    pub(crate) docs: Vec<u32>,
    /// Weighted term frequency in half units.
    pub(crate) weights: Vec<u8>,
    pub(crate) synonyms: Synonyms,
    /// Past queries that found something, normalised, sorted, with how often they were asked.
    pub(crate) queries: Vec<(String, u32)>,
    /// Learned per-query signals, keyed by [`query_key`], sorted.
    pub(crate) learned: Vec<(String, Learned)>,
    pub(crate) n_docs: u32,
    /// Per product: words in the title before any "for" (length normalisation), at most 255.
    pub(crate) lengths: Vec<u8>,
    /// Per category of the model searched: the term ids its name carries (derived on first use).
    pub(crate) category_terms: OnceLock<Vec<Vec<u32>>>,
    /// Per product: BM25's length normalisation of its term frequencies (derived on first use).
    pub(crate) norms: OnceLock<Vec<f32>>,
    /// The words a typo may reach, by length (derived on first use).
    pub(crate) fuzzy: OnceLock<Fuzzy>,
    /// Per product of the model searched: `ln(1 + popularity)`, the tie-breaker relevance is
    /// raised by (derived on first use: a logarithm per candidate per query is slow in wasm).
    pub(crate) log_popularity: OnceLock<Vec<f32>>,
}

/// How a query term matched an indexed term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Match {
    Typo,
    NumberPrefix,
    Prefix,
    Synonym,
    Exact,
}

/// How much a prefix, synonym or typo match counts against an exact one (a number's prefix counts
/// least: "13" should find the "XPS 13", not item "139").
impl Match {
    pub(crate) fn weight(self) -> f32 {
        match self {
            Match::Exact => 1.0,
            Match::Synonym => 0.9,
            Match::Prefix => 0.5,
            Match::NumberPrefix => 0.2,
            Match::Typo => 0.6,
        }
    }
}

/// The key learned signals are stored under: the query's analysed words without stopwords.
pub fn query_key(q: &str) -> String {
    text::analyse(q)
        .into_iter()
        .filter(|w| !text::is_stopword(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A text's indexed terms and concept terms.
fn doc_terms(s: &str, synonyms: &Synonyms) -> Vec<String> {
    let mut out = text::terms(s);
    let words = text::analyse(s);
    for (_, _, g) in synonyms.phrases_in(&words) {
        out.push(synonyms.concept(g));
    }
    out
}

impl SearchIndex {
    /// Indexes documents (doc `i` is item `i`) with synonyms and past queries.
    pub fn from_docs<'a>(
        docs: impl IntoIterator<Item = Doc<'a>>,
        synonyms: Synonyms,
        queries: Vec<(String, u32)>,
    ) -> Self {
        let mut tf: BTreeMap<String, Vec<(u32, u8)>> = BTreeMap::new();
        let mut n_docs = 0u32;
        let mut lengths: Vec<u8> = Vec::new();
        for (i, d) in docs.into_iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            n_docs = i.saturating_add(1);
            let mut doc: BTreeMap<String, f32> = BTreeMap::new();
            let category_words = d.category.replace(['.', '_'], " ");
            let (title, title_fits) = title_parts(d.title);
            lengths.push(u8::try_from(text::analyse(title).len()).unwrap_or(u8::MAX));
            let fields = [
                (title, TITLE),
                (title_fits, FITS),
                (d.brand, BRAND),
                (category_words.as_str(), CATEGORY),
            ];
            let attributes = d.attributes.iter().map(|a| (*a, ATTRIBUTE));
            let fits = d.fits.iter().map(|a| (*a, FITS));
            for (text, w) in fields.into_iter().chain(attributes).chain(fits) {
                for t in doc_terms(text, &synonyms) {
                    *doc.entry(t).or_default() += w;
                }
            }
            for (t, w) in doc {
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "half units, saturating at 127.5"
                )]
                let half = (w * 2.0).round().clamp(1.0, 255.0) as u8;
                tf.entry(t).or_default().push((i, half));
            }
        }
        let mut ix = Self {
            synonyms,
            n_docs,
            lengths,
            ..Self::default()
        };
        ix.starts.reserve(tf.len() + 1);
        ix.starts.push(0);
        for (term, list) in tf {
            ix.vocabulary.push(term);
            for (d, w) in list {
                ix.docs.push(d);
                ix.weights.push(w);
            }
            ix.starts
                .push(u32::try_from(ix.docs.len()).unwrap_or(u32::MAX));
        }
        ix.queries = queries;
        ix.queries.sort_unstable();
        ix.queries.dedup_by(|a, b| a.0 == b.0);
        ix
    }

    /// With learned per-query signals (keys as [`query_key`] makes them).
    #[must_use]
    pub fn with_learned(mut self, mut learned: Vec<(String, Learned)>) -> Self {
        learned.sort_by(|a, b| a.0.cmp(&b.0));
        learned.dedup_by(|a, b| a.0 == b.0);
        let n = self.n_docs;
        for (_, l) in &mut learned {
            l.boosts.retain(|&(d, s)| d < n && s > 0);
        }
        self.learned = learned;
        self
    }

    /// Indexes the titles, brands and categories of `model` with the built-in synonyms: what the
    /// edge does for an artifact without a (readable) search section.
    pub fn build(model: &Model) -> Self {
        let n = u32::try_from(model.n_items()).unwrap_or(u32::MAX);
        Self::from_docs(
            (0..n).map(|i| Doc {
                title: model.item_title(i),
                brand: model.item_brand(i),
                category: model.item_category_name(i),
                attributes: Vec::new(),
                fits: Vec::new(),
            }),
            Synonyms::electronics(),
            Vec::new(),
        )
    }

    /// Number of indexed terms.
    pub fn terms(&self) -> usize {
        self.vocabulary.len()
    }

    /// Number of postings.
    pub fn postings(&self) -> usize {
        self.docs.len()
    }

    /// Number of synonym groups.
    pub fn synonym_words(&self) -> usize {
        self.synonyms.len()
    }

    /// Number of past queries kept for suggestions.
    pub fn past_queries(&self) -> usize {
        self.queries.len()
    }

    /// Number of queries with learned signals.
    pub fn learned_queries(&self) -> usize {
        self.learned.len()
    }

    /// Approximate heap size of the index, bytes.
    pub fn approx_bytes(&self) -> usize {
        let vocabulary: usize = self.vocabulary.iter().map(|t| t.len() + 24).sum();
        let queries: usize = self.queries.iter().map(|q| q.0.len() + 28).sum();
        let learned: usize = self
            .learned
            .iter()
            .map(|(k, l)| k.len() + 48 + l.boosts.len() * 8)
            .sum();
        vocabulary
            + self.starts.len() * 4
            + self.docs.len() * 5
            + queries
            + learned
            + self.lengths.len()
    }

    pub(crate) fn term_id(&self, term: &str) -> Option<usize> {
        self.vocabulary
            .binary_search_by(|v| v.as_str().cmp(term))
            .ok()
    }

    /// Postings of term `t`: `(doc, weight)`.
    pub(crate) fn list(&self, t: usize) -> impl Iterator<Item = (u32, f32)> + '_ {
        let (a, b) = (self.starts[t] as usize, self.starts[t + 1] as usize);
        self.docs[a..b]
            .iter()
            .zip(&self.weights[a..b])
            .map(|(&d, &w)| (d, f32::from(w) / 2.0))
    }

    pub(crate) fn df(&self, t: usize) -> usize {
        (self.starts[t + 1] - self.starts[t]) as usize
    }

    /// BM25's `1 − b + b · length / average length` per product, `b` = [`LENGTH_NORM`].
    pub(crate) fn norms(&self) -> &[f32] {
        self.norms.get_or_init(|| {
            if self.lengths.len() != self.n_docs as usize || self.lengths.is_empty() {
                return vec![1.0; self.n_docs as usize];
            }
            let sum: u64 = self.lengths.iter().map(|&l| u64::from(l)).sum();
            #[expect(clippy::cast_precision_loss, reason = "averages")]
            let avg = (sum as f32 / self.lengths.len() as f32).max(1.0);
            self.lengths
                .iter()
                .map(|&l| 1.0 - LENGTH_NORM + LENGTH_NORM * f32::from(l) / avg)
                .collect()
        })
    }

    pub(crate) fn idf(&self, df: usize) -> f32 {
        #[expect(clippy::cast_precision_loss, reason = "counts as f32")]
        let (n, df) = (self.n_docs as f32, df as f32);
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// The concept terms (ids) of the groups `word` belongs to.
    fn concepts_of(&self, word: &str) -> impl Iterator<Item = usize> + '_ {
        self.synonyms
            .groups_of_word(word)
            .filter_map(|g| self.term_id(&self.synonyms.concept(g)))
    }

    /// Indexed terms (by id) a query word matches, with how: exactly, through a synonym group, as
    /// a prefix (the last word), within the typo budget — and the groups of what it matched.
    pub(crate) fn expand(&self, term: &str, last: bool) -> Vec<(usize, Match)> {
        let mut out: Vec<(usize, Match)> = Vec::new();
        if let Some(t) = self.term_id(term) {
            out.push((t, Match::Exact));
        }
        out.extend(self.concepts_of(term).map(|t| (t, Match::Synonym)));
        if last && term.chars().count() >= 2 {
            let start = self.vocabulary.partition_point(|v| v.as_str() < term);
            let how = if text::is_exact_only(term) {
                Match::NumberPrefix
            } else {
                Match::Prefix
            };
            for (t, v) in self.vocabulary[start..]
                .iter()
                .enumerate()
                .take_while(|(_, v)| v.starts_with(term))
                .take(50)
            {
                if v != term {
                    out.push((start + t, how));
                    out.extend(self.concepts_of(v).map(|c| (c, how)));
                }
            }
        }
        for t in self.typo_candidates(term) {
            out.push((t, Match::Typo));
            out.extend(
                self.concepts_of(&self.vocabulary[t])
                    .map(|c| (c, Match::Typo)),
            );
        }
        // Words only a synonym phrase knows ("harddrive") are corrected too.
        for v in self.synonym_typos(term) {
            out.extend(self.concepts_of(v).map(|c| (c, Match::Typo)));
        }
        out
    }

    /// Indexed words (term ids, sorted) `word` may be a typo of ([`text::typo_of`]): within its
    /// edit budget, and, when `word` itself is unknown, one swap away (a short word) or near the
    /// base of a misspelled plural.
    pub(crate) fn typo_candidates(&self, word: &str) -> Vec<usize> {
        let k = text::max_edits(word);
        let mut out: Vec<usize> = if k > 0 {
            self.typo_terms(word, k).collect()
        } else {
            Vec::new()
        };
        if self.term_id(word).is_none() && !self.synonyms.knows(word) {
            out.extend(text::swaps(word).iter().filter_map(|s| self.term_id(s)));
            if let Some(base) = text::misspelled_plural(word) {
                out.extend(self.term_id(base));
                let kb = text::max_edits(base);
                if kb > 0 {
                    out.extend(self.typo_terms(base, kb));
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Words only synonym phrases know (no product has them) that `word` may be a typo of
    /// ([`text::typo_of`]; lengths compared first, the vocabulary looked up last: this runs for
    /// every query word against every synonym word).
    fn synonym_typos<'s>(&'s self, word: &'s str) -> impl Iterator<Item = &'s str> + 's {
        let k = text::max_edits(word);
        let n = word.chars().count();
        let swaps = text::swaps(word);
        let base = text::misspelled_plural(word);
        self.synonyms
            .words()
            .iter()
            .filter(move |v| {
                let close =
                    (k > 0 && v.len().abs_diff(word.len()) <= k && text::within(word, v, k))
                        || swaps.iter().any(|s| s == *v)
                        || base.is_some_and(|b| {
                            v.chars().count().abs_diff(n - 1) <= text::max_edits(b)
                                && text::within(b, v, text::max_edits(b))
                        });
                close && v.as_str() != word && !text::is_exact_only(v) && self.term_id(v).is_none()
            })
            .map(String::as_str)
    }

    /// Indexed words (term ids) within `k` edits of `word`, other than itself: no concept terms,
    /// no numbers ([`Fuzzy`]).
    pub(crate) fn typo_terms<'a>(
        &'a self,
        word: &'a str,
        k: usize,
    ) -> impl Iterator<Item = usize> + 'a {
        self.fuzzy
            .get_or_init(|| Fuzzy::new(&self.vocabulary))
            .within(&self.vocabulary, word, k)
    }

    /// The word a query word most likely meant: itself when indexed (or a synonym word, or a
    /// number), else the most frequent indexed or synonym word it may be a typo of.
    pub(crate) fn corrected<'s>(&'s self, word: &'s str) -> (&'s str, bool) {
        if self.term_id(word).is_some() || self.synonyms.knows(word) || text::is_exact_only(word) {
            return (word, false);
        }
        let indexed = self
            .typo_candidates(word)
            .into_iter()
            .max_by_key(|&t| (self.df(t), t))
            .map(|t| self.vocabulary[t].as_str());
        match indexed.or_else(|| self.synonym_typos(word).next()) {
            Some(v) => (v, true),
            None => (word, false),
        }
    }

    /// Per category of `model`, the term ids its name carries (words and concepts, and the words
    /// that also name it, [`CATEGORY_NAMES`]), sorted.
    pub(crate) fn log_popularity(&self, model: &Model) -> &[f32] {
        self.log_popularity.get_or_init(|| {
            (0..self.n_docs)
                .map(|d| model.popularity(d).max(0.0).ln_1p())
                .collect()
        })
    }

    pub(crate) fn category_terms(&self, model: &Model) -> &[Vec<u32>] {
        self.category_terms.get_or_init(|| {
            let n = u32::try_from(model.n_categories()).unwrap_or(u32::MAX);
            (0..n)
                .map(|c| {
                    let mut name = model.category_name(c).replace(['.', '_'], " ");
                    for w in text::analyse(&name) {
                        for (word, names) in CATEGORY_NAMES {
                            if *word == w {
                                for n in *names {
                                    name.push(' ');
                                    name.push_str(n);
                                }
                            }
                        }
                    }
                    let mut ids: Vec<u32> = doc_terms(&name, &self.synonyms)
                        .iter()
                        .filter_map(|t| self.term_id(t))
                        .filter_map(|t| u32::try_from(t).ok())
                        .collect();
                    ids.sort_unstable();
                    ids.dedup();
                    ids
                })
                .collect()
        })
    }

    /// What was learned for `key` ([`query_key`]).
    pub(crate) fn learned_for(&self, key: &str) -> Option<&Learned> {
        self.learned
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| &self.learned[i].1)
    }
}
