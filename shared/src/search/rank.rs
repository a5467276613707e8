//! Ranking a search. The query's words become *units* (a word, or a phrase of a synonym group
//! standing for its concept); every product matching at least one unit is a candidate. When the
//! products matching every unit fill less than the requested page, the query is relaxed: products
//! matching fewer units are let in, the most units first, down to one (so a query finds nothing
//! only when no word matches anything). Candidates are ordered by, in turn:
//!
//! 1. **words matched** — how many of the query's units the product matches;
//! 2. **category intent** — whether the product is in a category the query names (the last
//!    unit naming one: "iphone 15 *case*" asks for cases), or the category shoppers chose for
//!    this query ([`Learned`]);
//! 3. **typos** — fewer units matched only through a typo first;
//! 4. **learned** — products the shop's shoppers chose for this query;
//! 5. **proximity** — the units close together and in order in the title (over the best
//!    [`PROXIMITY_WINDOW`] of a tie);
//! 6. **relevance** — BM25 over field-weighted terms (title > brand > category > attributes),
//!    raised by popularity (at most [`POPULARITY`]) and the shopper's taste (at most
//!    [`PERSONAL`]).
//!
//! Filters apply to every candidate; facets are counted over the candidates let in, each as if
//! its own filter were not applied.
//!
//! [`Learned`]: crate::search::index::Learned

use std::cell::RefCell;
use std::collections::HashMap;

use crate::artifact::Model;
use crate::search::index::{Match, SearchIndex, query_key};
use crate::search::spec::{Facet, Search, SearchFilter, Sort};
use crate::search::synonyms::CONCEPT;
use crate::search::text;

/// BM25 saturation.
const K1: f32 = 1.2;
/// Popularity raises a relevance score by at most this share (a tie-breaker, never a match).
pub const POPULARITY: f32 = 0.1;
/// The shopper's taste (their session folded into the embedding space) raises a relevance score
/// by at most this share; when browsing without a query it is half the ranking.
pub const PERSONAL: f32 = 0.15;
const PERSONAL_BROWSE: f32 = 0.5;
/// How many of a tie's best products proximity is computed for.
pub const PROXIMITY_WINDOW: usize = 100;
/// Proximity of two units farther apart than this (or missing from the title) is this.
const FAR: usize = 8;
/// "cheap": the price ceiling is this quantile of the candidates' prices.
pub const CHEAP_QUANTILE: f32 = 0.25;

/// Upper bounds of the price facet's bands.
const PRICE_BANDS: [(f32, &str); 7] = [
    (50.0, "0-50"),
    (100.0, "50-100"),
    (250.0, "100-250"),
    (500.0, "250-500"),
    (1000.0, "500-1000"),
    (2000.0, "1000-2000"),
    (f32::INFINITY, "2000+"),
];

/// Index of the price band `p` falls in.
fn price_band(p: f32) -> usize {
    PRICE_BANDS
        .iter()
        .position(|(hi, _)| p < *hi)
        .unwrap_or(PRICE_BANDS.len() - 1)
}

fn in_category(name: &str, c: &str) -> bool {
    name == c
        || name
            .strip_prefix(c)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// One search answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Found {
    /// `(item, score)`, best first, the requested page only.
    pub hits: Vec<(u32, f32)>,
    /// Matching items with every filter applied.
    pub total: usize,
    /// Per facet, value → count with every other filter applied, most frequent first.
    pub facets: Vec<(Facet, Vec<(String, usize)>)>,
    /// Query units, and how many a product had to match (fewer than all: relaxed).
    pub units: usize,
    pub required: usize,
    /// Products matching every unit, before filters.
    pub full_matches: usize,
    /// The ceiling a "cheap" intent resolved to.
    pub cheap_max: Option<f32>,
}

/// A query unit: a word or a synonym phrase, and the indexed terms it matches.
pub(crate) struct Unit {
    pub expansions: Vec<(usize, Match)>,
    /// After a "for" ("bag *for macbook air*"): ranks, but is not required.
    pub optional: bool,
}

/// Per candidate: required and optional units matched, typos, relevance.
#[derive(Clone, Copy, Default)]
struct Acc {
    matched: u8,
    optional: u8,
    typos: u8,
    score: f32,
}

/// Per-product working arrays of a query, kept between queries so that a query neither allocates
/// nor zeroes arrays of the catalog's size: between queries `acc` and `best` are all default and
/// `touched` and `in_unit` are empty.
#[derive(Default)]
struct Scratch {
    acc: Vec<Acc>,
    /// The best expansion of the unit being accumulated, per product.
    best: Vec<(f32, bool)>,
    /// Products with an entry in `acc`.
    touched: Vec<u32>,
    /// Products matched by the unit being accumulated.
    in_unit: Vec<u32>,
}

impl Scratch {
    /// Counts a unit's match of `doc` with its best `(score, typo)`.
    fn add(&mut self, doc: u32, optional: bool, (score, typo): (f32, bool)) {
        let a = &mut self.acc[doc as usize];
        if a.matched == 0 && a.optional == 0 {
            self.touched.push(doc);
        }
        if optional {
            a.optional = a.optional.saturating_add(1);
        } else {
            a.matched = a.matched.saturating_add(1);
            a.typos = a.typos.saturating_add(u8::from(typo));
        }
        a.score += score;
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with the scratch arrays sized for `n` products, then clears what it touched. A query
/// that panics drops them (the next one starts afresh) rather than leave them dirty.
fn with_scratch<R>(n: u32, f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut s = SCRATCH.with(|c| std::mem::take(&mut *c.borrow_mut()));
    let n = n as usize;
    if s.acc.len() < n {
        s.acc.resize(n, Acc::default());
        s.best.resize(n, (0.0, false));
    }
    let out = f(&mut s);
    for &d in &s.touched {
        s.acc[d as usize] = Acc::default();
    }
    s.touched.clear();
    s.in_unit.clear();
    SCRATCH.with(|c| *c.borrow_mut() = s);
    out
}

/// A candidate that passed the filters.
#[derive(Clone, Copy)]
struct Hit {
    doc: u32,
    matched: u8,
    head: bool,
    optional: u8,
    typos: u8,
    learned: u8,
    proximity: u16,
    score: f32,
}

impl Hit {
    /// The criteria before proximity, for ties.
    fn bucket(&self) -> (u8, bool, u8, std::cmp::Reverse<u8>, u8) {
        (
            self.matched,
            self.head,
            self.optional,
            std::cmp::Reverse(self.typos),
            self.learned,
        )
    }
}

impl SearchIndex {
    /// The query's units: synonym phrases of more than one word first (longest, found after
    /// correcting typos), then words; stopwords are left out unless nothing else is left; what
    /// follows a "for" is optional.
    pub(crate) fn units(&self, q: &str) -> Vec<Unit> {
        let words = text::analyse(q);
        let fixed: Vec<(&str, bool)> = words.iter().map(|w| self.corrected(w)).collect();
        let plain: Vec<String> = fixed.iter().map(|f| f.0.to_owned()).collect();
        let meaningful = words.iter().any(|x| !text::is_stopword(x));
        let for_at = words
            .iter()
            .position(|w| w == "for")
            .filter(|&f| words[..f].iter().any(|w| !text::is_stopword(w)));
        let mut out = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let optional = for_at.is_some_and(|f| i > f);
            if let Some((len, groups)) = self.synonyms.longest_at(&plain, i)
                && len > 1
            {
                let how = if fixed[i..i + len].iter().any(|f| f.1) {
                    Match::Typo
                } else {
                    Match::Exact
                };
                let expansions: Vec<(usize, Match)> = groups
                    .iter()
                    .filter_map(|&g| self.term_id(&self.synonyms.concept(g)))
                    .map(|t| (t, how))
                    .collect();
                if !expansions.is_empty() {
                    out.push(Unit {
                        expansions,
                        optional,
                    });
                    i += len;
                    continue;
                }
            }
            let w = &words[i];
            if !(text::is_stopword(w) && meaningful) {
                out.push(Unit {
                    expansions: self.expand(w, i + 1 == words.len()),
                    optional,
                });
            }
            i += 1;
        }
        if out.iter().all(|u| u.optional) {
            for u in &mut out {
                u.optional = false;
            }
        }
        out
    }

    /// Candidates of `units` into `s`: per product, units matched, typos and BM25 relevance;
    /// `s.touched` lists the products with any.
    fn accumulate(&self, units: &[Unit], s: &mut Scratch) {
        let norms = self.norms();
        for unit in units {
            if let [(t, how)] = unit.expansions[..] {
                // One expansion: each product appears once in its postings, so it is its best.
                let idf = self.idf(self.df(t));
                let typo = how == Match::Typo;
                for (doc, w) in self.list(t) {
                    let norm = norms.get(doc as usize).copied().unwrap_or(1.0);
                    let score = idf * w * (K1 + 1.0) / (w + K1 * norm) * how.weight();
                    let best = if score > 0.0 {
                        (score, typo)
                    } else {
                        (0.0, false)
                    };
                    s.add(doc, unit.optional, best);
                }
                continue;
            }
            for &(t, how) in &unit.expansions {
                let idf = self.idf(self.df(t));
                let typo = how == Match::Typo;
                for (doc, w) in self.list(t) {
                    let norm = norms.get(doc as usize).copied().unwrap_or(1.0);
                    let score = idf * w * (K1 + 1.0) / (w + K1 * norm) * how.weight();
                    let b = &mut s.best[doc as usize];
                    if b.0 == 0.0 {
                        s.in_unit.push(doc);
                    }
                    if score > b.0 || (score == b.0 && b.1 && !typo) {
                        *b = (score, typo);
                    }
                }
            }
            for i in 0..s.in_unit.len() {
                let doc = s.in_unit[i];
                let best = std::mem::take(&mut s.best[doc as usize]);
                s.add(doc, unit.optional, best);
            }
            s.in_unit.clear();
        }
    }

    /// Products matching every unit of `q` (no filters): how a "did you mean" is judged.
    pub(crate) fn full_matches(&self, q: &str) -> usize {
        let units = self.units(q);
        if units.is_empty() {
            return 0;
        }
        let required = units.iter().filter(|u| !u.optional).count();
        with_scratch(self.n_docs, |s| {
            self.accumulate(&units, s);
            s.touched
                .iter()
                .filter(|&&d| s.acc[d as usize].matched as usize == required)
                .count()
        })
    }

    /// The categories (by model index) the query names: the last required unit naming any
    /// (then the last optional one).
    fn head_categories(&self, model: &Model, units: &[Unit]) -> Vec<bool> {
        let terms = self.category_terms(model);
        let required = units.iter().rev().filter(|u| !u.optional);
        for unit in required.chain(units.iter().rev().filter(|u| u.optional)) {
            let names: Vec<bool> = terms
                .iter()
                .map(|cat| {
                    unit.expansions.iter().any(|&(t, _)| {
                        u32::try_from(t).is_ok_and(|t| cat.binary_search(&t).is_ok())
                    })
                })
                .collect();
            if names.iter().any(|&b| b) {
                return names;
            }
        }
        vec![false; terms.len()]
    }

    /// Searches: relaxed when needed, ranked by the criteria above, filtered, one page, with
    /// disjunctive facets. `taste` is the shopper's folded-in history, when they have one.
    pub fn search(&self, model: &Model, req: &Search<'_>, taste: Option<&[f32]>) -> Found {
        with_scratch(self.n_docs, |s| self.search_in(s, model, req, taste))
    }

    fn search_in(
        &self,
        s: &mut Scratch,
        model: &Model,
        req: &Search<'_>,
        taste: Option<&[f32]>,
    ) -> Found {
        let units = self.units(req.q);
        let browse = req.q.trim().is_empty() || units.is_empty() && text::analyse(req.q).is_empty();
        if browse {
            s.touched.extend(0..self.n_docs);
        } else {
            self.accumulate(&units, s);
        }
        let Scratch { acc, touched, .. } = s;
        let n_units = units.iter().filter(|u| !u.optional).count();
        let mut head = self.head_categories(model, &units);
        let learned = (!browse)
            .then(|| self.learned_for(&query_key(req.q)))
            .flatten();
        let mut boosts: HashMap<u32, u8> = HashMap::new();
        if let Some(l) = learned {
            for &(d, s) in &l.boosts {
                boosts.insert(d, 1 + s / 86);
            }
            // The category shoppers chose stands for the whole query.
            if let Some(c) = l.category.as_deref().and_then(|c| model.category_index(c)) {
                if let Some(h) = head.get_mut(c as usize) {
                    *h = true;
                }
                for d in 0..self.n_docs {
                    if model.item_category(d) == Some(c) {
                        let a = &mut acc[d as usize];
                        if a.matched == 0 && a.optional == 0 {
                            touched.push(d);
                        }
                        let full = u8::try_from(n_units).unwrap_or(u8::MAX);
                        a.matched = a.matched.max(full);
                    }
                }
            }
        }
        let touched: &[u32] = touched;
        let full_matches = touched
            .iter()
            .filter(|&&d| browse || acc[d as usize].matched as usize >= n_units)
            .count();
        let is_head = |d: u32| {
            model
                .item_category(d)
                .and_then(|c| head.get(c as usize))
                .copied()
                .unwrap_or(false)
        };
        let mut filter = req.filter.clone();
        let mut cheap_max = None;
        let need = req.offset + req.k;
        let mut required = if browse { 0 } else { n_units };
        for round in 0..2 {
            // How many units a product must match: all, unless that fills less than the page.
            let mut hist = vec![0usize; n_units + 1];
            let open = filter == SearchFilter::default();
            for &d in touched {
                if open || passes(model, &filter, d).all() {
                    hist[(acc[d as usize].matched as usize).min(n_units)] += 1;
                }
            }
            if !browse {
                required = n_units;
                let mut have = hist[n_units];
                while required > 1 && have < need {
                    required -= 1;
                    have += hist[required];
                }
            }
            if round == 1 || !req.cheap {
                break;
            }
            // "cheap": a ceiling at the cheaper quarter of what would be shown.
            let mut prices: Vec<f32> = touched
                .iter()
                .filter(|&&d| acc[d as usize].matched as usize >= required)
                .filter(|&&d| passes(model, &filter, d).all())
                .filter(|&&d| is_head(d) || !head.iter().any(|&h| h))
                .map(|&d| model.item_price(d))
                .filter(|p| *p > 0.0)
                .collect();
            if prices.is_empty() {
                break;
            }
            prices.sort_by(f32::total_cmp);
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss,
                reason = "an index into a short list"
            )]
            let at = ((prices.len() - 1) as f32 * CHEAP_QUANTILE).round() as usize;
            let ceiling = (prices[at] * 100.0).round() / 100.0;
            filter.max_price = Some(filter.max_price.map_or(ceiling, |m| m.min(ceiling)));
            cheap_max = Some(ceiling);
        }
        let log_popularity = self.log_popularity(model);
        let log_pop = |d: u32| log_popularity.get(d as usize).copied().unwrap_or(0.0);
        let top_popularity = touched
            .iter()
            .map(|&d| log_pop(d))
            .fold(0.0f32, f32::max)
            .max(f32::EPSILON);
        let mut hits: Vec<Hit> = Vec::new();
        let mut counts: Vec<Vec<u32>> = req
            .facets
            .iter()
            .map(|f| vec![0; facet_values(model, *f)])
            .collect();
        for &doc in touched {
            let a = acc[doc as usize];
            if (a.matched as usize) < required {
                continue;
            }
            let ok = passes(model, &filter, doc);
            count_facets(model, doc, &ok, req.facets, &mut counts);
            if ok.all() {
                let pop = log_pop(doc) / top_popularity;
                hits.push(Hit {
                    doc,
                    matched: a.matched,
                    head: is_head(doc),
                    optional: a.optional,
                    typos: a.typos,
                    learned: if boosts.is_empty() {
                        0
                    } else {
                        boosts.get(&doc).copied().unwrap_or(0)
                    },
                    proximity: 0,
                    score: if browse {
                        pop
                    } else {
                        a.score * (1.0 + POPULARITY * pop)
                    },
                });
            }
        }
        if let (Some(x), Some(f), Sort::Relevance) = (taste, model.factors(), req.sort) {
            // Affinity, scaled to 0..1 by the best matching item, lifts what this shopper likes.
            let affinity: Vec<f32> = hits.iter().map(|h| f.score(x, h.doc).max(0.0)).collect();
            let top = affinity.iter().copied().fold(0.0f32, f32::max);
            if top > 0.0 {
                for (h, a) in hits.iter_mut().zip(affinity) {
                    let a = a / top;
                    if browse {
                        h.score = h.score * (1.0 - PERSONAL_BROWSE) + a * PERSONAL_BROWSE;
                    } else {
                        h.score *= 1.0 + PERSONAL * a;
                    }
                }
            }
        }
        let total = hits.len();
        self.order(model, &mut hits, req, &units, need);
        let hits = hits
            .into_iter()
            .skip(req.offset)
            .take(req.k)
            .map(|h| (h.doc, h.score))
            .collect();
        let facets = req
            .facets
            .iter()
            .zip(counts)
            .map(|(f, c)| (*f, facet_counts(model, *f, &c)))
            .collect();
        Found {
            hits,
            total,
            facets,
            units: n_units,
            required,
            full_matches,
            cheap_max,
        }
    }

    /// Orders hits by the request's sort; for relevance, by the criteria, with proximity worked
    /// out for the best of each tie that reaches into the page.
    fn order(
        &self,
        model: &Model,
        hits: &mut [Hit],
        req: &Search<'_>,
        units: &[Unit],
        need: usize,
    ) {
        let by_id = |a: &Hit, b: &Hit| a.doc.cmp(&b.doc);
        match req.sort {
            Sort::Relevance => {
                let key = |a: &Hit, b: &Hit| {
                    b.bucket()
                        .cmp(&a.bucket())
                        .then(b.score.total_cmp(&a.score))
                        .then(by_id(a, b))
                };
                // Only the page and the proximity window after it need ordering.
                let head = (need + PROXIMITY_WINDOW).min(hits.len());
                if head < hits.len() && head > 0 {
                    hits.select_nth_unstable_by(head - 1, key);
                    hits[..head].sort_unstable_by(key);
                } else {
                    hits.sort_unstable_by(key);
                }
                if units.len() < 2 {
                    return;
                }
                let near = Near::new(self, units);
                let best = near.best();
                let mut start = 0;
                while start < head && start < need {
                    let b = hits[start].bucket();
                    let end = start
                        + hits[start..head]
                            .iter()
                            .take_while(|h| h.bucket() == b)
                            .count();
                    let window = end.min(start + PROXIMITY_WINDOW);
                    // The tie is in relevance order: once the page's rest is filled with hits as
                    // close as can be, no later one can come before them.
                    let (mut seen, mut closest) = (start, 0);
                    for h in &mut hits[start..window] {
                        h.proximity = near.of(model.item_title(h.doc));
                        seen += 1;
                        closest += usize::from(h.proximity == best);
                        if closest >= need - start {
                            break;
                        }
                    }
                    hits[start..seen].sort_by(|a, b| {
                        a.proximity
                            .cmp(&b.proximity)
                            .then(b.score.total_cmp(&a.score))
                            .then(by_id(a, b))
                    });
                    start = end;
                }
            }
            Sort::PriceAsc => hits.sort_by(|a, b| {
                model
                    .item_price(a.doc)
                    .total_cmp(&model.item_price(b.doc))
                    .then(by_id(a, b))
            }),
            Sort::PriceDesc => hits.sort_by(|a, b| {
                model
                    .item_price(b.doc)
                    .total_cmp(&model.item_price(a.doc))
                    .then(by_id(a, b))
            }),
            Sort::Popularity => hits.sort_by(|a, b| {
                model
                    .popularity(b.doc)
                    .total_cmp(&model.popularity(a.doc))
                    .then(by_id(a, b))
            }),
            Sort::Newest => hits.sort_by(|a, b| {
                model
                    .item_created_at(b.doc)
                    .cmp(&model.item_created_at(a.doc))
                    .then(by_id(a, b))
            }),
        }
    }
}

/// What proximity looks for in a title, worked out once per query: the units each indexed word,
/// and each synonym concept, stands for.
struct Near<'a> {
    index: &'a SearchIndex,
    n_units: usize,
    words: HashMap<&'a str, Vec<usize>>,
    concepts: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Near<'a> {
    fn new(index: &'a SearchIndex, units: &[Unit]) -> Self {
        let mut words: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut concepts: HashMap<&str, Vec<usize>> = HashMap::new();
        for (u, unit) in units.iter().enumerate() {
            for &(t, _) in &unit.expansions {
                let Some(term) = index.vocabulary.get(t) else {
                    continue;
                };
                let map = if term.starts_with(CONCEPT) {
                    &mut concepts
                } else {
                    &mut words
                };
                let list = map.entry(term.as_str()).or_default();
                if list.last() != Some(&u) {
                    list.push(u);
                }
            }
        }
        Near {
            index,
            n_units: units.len(),
            words,
            concepts,
        }
    }

    /// The closest `title` can be: every unit next to the one before it.
    fn best(&self) -> u16 {
        u16::try_from(self.n_units.saturating_sub(1)).unwrap_or(u16::MAX)
    }

    /// How far apart consecutive units are in `title` (sum of the closest distances, each at
    /// most [`FAR`]; lower is closer).
    fn of(&self, title: &str) -> u16 {
        let words = text::analyse(title);
        let mut positions: Vec<Vec<usize>> = vec![Vec::new(); self.n_units];
        for (i, w) in words.iter().enumerate() {
            for &u in self.words.get(w.as_str()).into_iter().flatten() {
                positions[u].push(i);
            }
        }
        if !self.concepts.is_empty() {
            let synonyms = &self.index.synonyms;
            for (start, _, g) in synonyms.phrases_in(&words) {
                for &u in self
                    .concepts
                    .get(synonyms.concept(g).as_str())
                    .into_iter()
                    .flatten()
                {
                    positions[u].push(start);
                }
            }
            for p in &mut positions {
                p.sort_unstable();
                p.dedup();
            }
        }
        let mut total = 0usize;
        for pair in positions.windows(2) {
            let d = pair[0]
                .iter()
                .flat_map(|&a| {
                    pair[1]
                        .iter()
                        .map(move |&b| if b > a { b - a } else { a - b + 1 })
                })
                .min()
                .unwrap_or(FAR)
                .min(FAR);
            total += d;
        }
        u16::try_from(total).unwrap_or(u16::MAX)
    }
}

/// Which filters a product passes.
struct Passes {
    category: bool,
    brand: bool,
    price: bool,
    rest: bool,
}

impl Passes {
    fn all(&self) -> bool {
        self.category && self.brand && self.price && self.rest
    }
}

fn passes(model: &Model, filter: &SearchFilter, doc: u32) -> Passes {
    let price = || model.item_price(doc);
    Passes {
        category: filter
            .category
            .as_deref()
            .is_none_or(|c| in_category(model.item_category_name(doc), c)),
        brand: filter.brands.is_empty() || {
            let brand = model.item_brand(doc);
            filter.brands.iter().any(|b| b.eq_ignore_ascii_case(brand))
        },
        price: filter.min_price.is_none_or(|p| price() >= p)
            && filter.max_price.is_none_or(|p| price() <= p),
        rest: (!filter.in_stock || model.item_in_stock(doc))
            && filter
                .rating_min
                .is_none_or(|r| model.item_rating(doc).is_some_and(|x| x >= r)),
    }
}

/// How many values facet `f` can take: brands and categories by index, price bands.
fn facet_values(model: &Model, f: Facet) -> usize {
    match f {
        Facet::Brand => model.n_brands(),
        Facet::Category => model.n_categories(),
        Facet::Price => PRICE_BANDS.len(),
    }
}

/// Counts `doc` in each facet whose other filters it passes, by value index: no string is
/// hashed per product (the counts run over every candidate let in).
fn count_facets(model: &Model, doc: u32, ok: &Passes, facets: &[Facet], counts: &mut [Vec<u32>]) {
    for (f, c) in facets.iter().zip(counts) {
        let value = match f {
            Facet::Brand if ok.category && ok.price && ok.rest => model.item_brand_index(doc),
            Facet::Category if ok.brand && ok.price && ok.rest => model.item_category(doc),
            Facet::Price if ok.category && ok.brand && ok.rest => {
                u32::try_from(price_band(model.item_price(doc))).ok()
            }
            _ => continue,
        };
        if let Some(n) = value.and_then(|v| c.get_mut(v as usize)) {
            *n += 1;
        }
    }
}

/// A facet's counts by value name, most frequent first (ties by name).
fn facet_counts(model: &Model, f: Facet, counts: &[u32]) -> Vec<(String, usize)> {
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    for (v, &n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
        let v = u32::try_from(v).unwrap_or(u32::MAX);
        let name = match f {
            Facet::Brand => model.brand_name(v),
            Facet::Category => model.category_name(v),
            Facet::Price => PRICE_BANDS.get(v as usize).map_or("", |b| b.1),
        };
        if !name.is_empty() {
            *by_name.entry(name).or_default() += n as usize;
        }
    }
    let mut out: Vec<(String, usize)> = by_name
        .into_iter()
        .map(|(k, n)| (k.to_owned(), n))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}
