//! The search index over a model's catalog: an inverted index of field-weighted terms (title >
//! brand > category), BM25 scoring blended with popularity, prefix matching on the last query
//! word, typo tolerance, filters, and disjunctive facet counts (each facet counted as if its own
//! filter were not applied), all in one pass over the matching documents.

use std::collections::{BTreeMap, HashMap};

use crate::artifact::Model;
use crate::search::spec::{Facet, Search, Sort};
use crate::search::synonyms::Synonyms;
use crate::search::text;

/// Field weights of a term occurrence (multiples of 0.5: postings store them in half units).
const TITLE: f32 = 3.0;
const BRAND: f32 = 2.0;
const CATEGORY: f32 = 1.5;
const ATTRIBUTE: f32 = 1.0;
/// BM25 saturation.
const K1: f32 = 1.2;
/// How much a prefix, synonym or typo match counts against an exact one (a number's prefix counts
/// least: "13" should find the "XPS 13", not item "139").
const PREFIX: f32 = 0.5;
const NUMBER_PREFIX: f32 = 0.2;
const SYNONYM: f32 = 0.9;
const TYPO: f32 = 0.6;
/// Popularity raises a relevance score by at most this share (a tie-breaker, never a match).
const POPULARITY: f32 = 0.1;
/// The shopper's taste (their session folded into the embedding space) raises a relevance score
/// by at most this share; when browsing without a query it is half the ranking.
const PERSONAL: f32 = 0.15;
const PERSONAL_BROWSE: f32 = 0.5;

/// One product as the index sees it.
#[derive(Debug, Clone, Default)]
pub struct Doc<'a> {
    pub title: &'a str,
    pub brand: &'a str,
    /// Dotted category path; its parts are indexed.
    pub category: &'a str,
    /// Attribute values ("256GB", "OLED").
    pub attributes: Vec<&'a str>,
}

/// An inverted index: a sorted vocabulary, and per term its postings `(doc, weighted term
/// frequency)` in one flat array. Built by the trainer into the artifact (see [`codec`]) or, for
/// artifacts without one, by the edge from the model's titles, brands and categories.
///
/// [`codec`]: crate::search::codec
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchIndex {
    /// Every term, sorted.
    pub(crate) vocabulary: Vec<String>,
    /// Term `t`'s postings are `starts[t]..starts[t + 1]`.
    pub(crate) starts: Vec<u32>,
    pub(crate) docs: Vec<u32>,
    /// Weighted term frequency in half units.
    pub(crate) weights: Vec<u8>,
    pub(crate) synonyms: Synonyms,
    /// Past queries that found something, normalised, sorted, with how often they were asked.
    pub(crate) queries: Vec<(String, u32)>,
    pub(crate) n_docs: u32,
}

/// How a query term matched an indexed term.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Match {
    Exact,
    Prefix,
    NumberPrefix,
    Synonym,
    Typo,
}

impl Match {
    fn weight(self) -> f32 {
        match self {
            Match::Exact => 1.0,
            Match::Prefix => PREFIX,
            Match::NumberPrefix => NUMBER_PREFIX,
            Match::Synonym => SYNONYM,
            Match::Typo => TYPO,
        }
    }
}

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

fn price_band(p: f32) -> &'static str {
    PRICE_BANDS
        .iter()
        .find(|(hi, _)| p < *hi)
        .map_or("2000+", |b| b.1)
}

/// One search answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// `(item, score)`, best first, the requested page only.
    pub hits: Vec<(u32, f32)>,
    /// Matching items with every filter applied.
    pub total: usize,
    /// Per facet, value → count with every other filter applied, most frequent first.
    pub facets: Vec<(Facet, Vec<(String, usize)>)>,
}

fn in_category(name: &str, c: &str) -> bool {
    name == c
        || name
            .strip_prefix(c)
            .is_some_and(|rest| rest.starts_with('.'))
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
        for (i, d) in docs.into_iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            n_docs = i.saturating_add(1);
            let mut doc: BTreeMap<String, f32> = BTreeMap::new();
            let category_words = d.category.replace(['.', '_'], " ");
            let fields = [
                (d.title, TITLE),
                (d.brand, BRAND),
                (category_words.as_str(), CATEGORY),
            ];
            let attributes = d.attributes.iter().map(|a| (*a, ATTRIBUTE));
            for (text, w) in fields.into_iter().chain(attributes) {
                for t in text::terms(text) {
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

    /// Indexes the titles, brands and categories of `model` with the built-in synonyms: what the
    /// edge does for an artifact without a search section.
    pub fn build(model: &Model) -> Self {
        let n = u32::try_from(model.n_items()).unwrap_or(u32::MAX);
        Self::from_docs(
            (0..n).map(|i| Doc {
                title: model.item_title(i),
                brand: model.item_brand(i),
                category: model.item_category_name(i),
                attributes: Vec::new(),
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

    /// Number of words with synonyms.
    pub fn synonym_words(&self) -> usize {
        self.synonyms.len()
    }

    /// Number of past queries kept for suggestions.
    pub fn past_queries(&self) -> usize {
        self.queries.len()
    }

    /// Approximate heap size of the index, bytes.
    pub fn approx_bytes(&self) -> usize {
        let vocabulary: usize = self.vocabulary.iter().map(|t| t.len() + 24).sum();
        let queries: usize = self.queries.iter().map(|q| q.0.len() + 28).sum();
        vocabulary + self.starts.len() * 4 + self.docs.len() * 5 + queries
    }

    fn term_id(&self, term: &str) -> Option<usize> {
        self.vocabulary
            .binary_search_by(|v| v.as_str().cmp(term))
            .ok()
    }

    /// Postings of term `t`: `(doc, weight)`.
    fn list(&self, t: usize) -> impl Iterator<Item = (u32, f32)> + '_ {
        let (a, b) = (self.starts[t] as usize, self.starts[t + 1] as usize);
        self.docs[a..b]
            .iter()
            .zip(&self.weights[a..b])
            .map(|(&d, &w)| (d, f32::from(w) / 2.0))
    }

    fn df(&self, t: usize) -> usize {
        (self.starts[t + 1] - self.starts[t]) as usize
    }

    /// Indexed terms (by id) a query term matches, with how.
    fn expand(&self, term: &str, last: bool) -> Vec<(usize, Match)> {
        let mut out: Vec<(usize, Match)> = Vec::new();
        if let Some(t) = self.term_id(term) {
            out.push((t, Match::Exact));
        }
        for s in self.synonyms.of(term) {
            if let Some(t) = self.term_id(s) {
                out.push((t, Match::Synonym));
            }
        }
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
                }
            }
        }
        let k = text::max_edits(term);
        if k > 0 {
            for (t, v) in self.vocabulary.iter().enumerate() {
                if v != term && !text::is_exact_only(v) && text::within(term, v, k) {
                    out.push((t, Match::Typo));
                }
            }
        }
        out
    }

    fn idf(&self, df: usize) -> f32 {
        #[expect(clippy::cast_precision_loss, reason = "counts as f32")]
        let (n, df) = (self.n_docs as f32, df as f32);
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// Relevance of every item matching all query terms (empty query: every item, score 0).
    fn matching(&self, q: &str) -> HashMap<u32, f32> {
        let terms = text::query_terms(q);
        if terms.is_empty() {
            return (0..self.n_docs).map(|i| (i, 0.0)).collect();
        }
        let mut acc: Option<HashMap<u32, f32>> = None;
        for (at, term) in terms.iter().enumerate() {
            let mut best: HashMap<u32, f32> = HashMap::new();
            for (t, how) in self.expand(term, at + 1 == terms.len()) {
                let idf = self.idf(self.df(t));
                for (doc, w) in self.list(t) {
                    let s = idf * w * (K1 + 1.0) / (w + K1) * how.weight();
                    let e = best.entry(doc).or_default();
                    *e = e.max(s);
                }
            }
            acc = Some(match acc {
                None => best,
                Some(prev) => prev
                    .into_iter()
                    .filter_map(|(d, s)| best.get(&d).map(|b| (d, s + b)))
                    .collect(),
            });
            if acc.as_ref().is_some_and(HashMap::is_empty) {
                break;
            }
        }
        acc.unwrap_or_default()
    }

    /// Searches: relevance blended with popularity and, given the shopper's folded-in taste
    /// vector, their affinity; filtered, one page, with disjunctive facets.
    pub fn search(&self, model: &Model, req: &Search<'_>, taste: Option<&[f32]>) -> Found {
        let (filter, facets, sort) = (req.filter, req.facets, req.sort);
        let (k, offset) = (req.k, req.offset);
        let matched = self.matching(req.q);
        let top_popularity = matched
            .keys()
            .map(|&d| model.popularity(d).max(0.0))
            .fold(0.0f32, f32::max)
            .ln_1p()
            .max(f32::EPSILON);
        let mut hits: Vec<(u32, f32)> = Vec::new();
        let mut counts: Vec<HashMap<String, usize>> = vec![HashMap::new(); facets.len()];
        for (&doc, &rel) in &matched {
            let category = model.item_category_name(doc);
            let brand = model.item_brand(doc);
            let price = model.item_price(doc);
            let cat_ok = filter
                .category
                .as_deref()
                .is_none_or(|c| in_category(category, c));
            let brand_ok = filter.brands.is_empty()
                || filter.brands.iter().any(|b| b.eq_ignore_ascii_case(brand));
            let price_ok = filter.min_price.is_none_or(|p| price >= p)
                && filter.max_price.is_none_or(|p| price <= p);
            let stock_ok = !filter.in_stock || model.item_in_stock(doc);
            let rating_ok = filter
                .rating_min
                .is_none_or(|r| model.item_rating(doc).is_some_and(|x| x >= r));
            let rest_ok = price_ok && stock_ok && rating_ok;
            for (f, c) in facets.iter().zip(&mut counts) {
                match f {
                    Facet::Brand if cat_ok && rest_ok && !brand.is_empty() => {
                        *c.entry(brand.to_owned()).or_default() += 1;
                    }
                    Facet::Category if brand_ok && rest_ok && !category.is_empty() => {
                        *c.entry(category.to_owned()).or_default() += 1;
                    }
                    Facet::Price if cat_ok && brand_ok && stock_ok && rating_ok => {
                        *c.entry(price_band(price).to_owned()).or_default() += 1;
                    }
                    _ => {}
                }
            }
            if cat_ok && brand_ok && rest_ok {
                let pop = model.popularity(doc).max(0.0).ln_1p() / top_popularity;
                hits.push((
                    doc,
                    if rel > 0.0 {
                        rel * (1.0 + POPULARITY * pop)
                    } else {
                        pop
                    },
                ));
            }
        }
        if let (Some(x), Some(f), Sort::Relevance) = (taste, model.factors(), sort) {
            // Affinity, scaled to 0..1 by the best matching item, lifts what this shopper likes.
            let affinity: Vec<f32> = hits.iter().map(|h| f.score(x, h.0).max(0.0)).collect();
            let top = affinity.iter().copied().fold(0.0f32, f32::max);
            if top > 0.0 {
                for (h, a) in hits.iter_mut().zip(affinity) {
                    let a = a / top;
                    if matched.get(&h.0).is_some_and(|&rel| rel > 0.0) {
                        h.1 *= 1.0 + PERSONAL * a;
                    } else {
                        h.1 = h.1 * (1.0 - PERSONAL_BROWSE) + a * PERSONAL_BROWSE;
                    }
                }
            }
        }
        let total = hits.len();
        match sort {
            Sort::Relevance => hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))),
            Sort::PriceAsc => hits.sort_by(|a, b| {
                model
                    .item_price(a.0)
                    .total_cmp(&model.item_price(b.0))
                    .then(a.0.cmp(&b.0))
            }),
            Sort::PriceDesc => hits.sort_by(|a, b| {
                model
                    .item_price(b.0)
                    .total_cmp(&model.item_price(a.0))
                    .then(a.0.cmp(&b.0))
            }),
            Sort::Popularity => hits.sort_by(|a, b| {
                model
                    .popularity(b.0)
                    .total_cmp(&model.popularity(a.0))
                    .then(a.0.cmp(&b.0))
            }),
            Sort::Newest => hits.sort_by(|a, b| {
                model
                    .item_created_at(b.0)
                    .cmp(&model.item_created_at(a.0))
                    .then(a.0.cmp(&b.0))
            }),
        }
        let hits = hits.into_iter().skip(offset).take(k).collect();
        let facets = facets
            .iter()
            .zip(counts)
            .map(|(f, c)| {
                let mut v: Vec<(String, usize)> = c.into_iter().collect();
                v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                (*f, v)
            })
            .collect();
        Found {
            hits,
            total,
            facets,
        }
    }
}

impl SearchIndex {
    /// "Did you mean": each query word that matches nothing replaced by the most frequent indexed
    /// term within two edits (`None` when nothing changes).
    pub fn did_you_mean(&self, q: &str) -> Option<String> {
        let terms = text::query_terms(q);
        let mut changed = false;
        let mut out = Vec::with_capacity(terms.len());
        for t in terms {
            if self.term_id(&t).is_some() || text::is_exact_only(&t) {
                out.push(t);
                continue;
            }
            let best = self
                .vocabulary
                .iter()
                .enumerate()
                .filter(|(_, v)| !text::is_exact_only(v) && text::within(&t, v, 2))
                .max_by_key(|(i, _)| self.df(*i));
            match best {
                Some((_, v)) => {
                    changed = true;
                    out.push(v.clone());
                }
                None => out.push(t),
            }
        }
        changed.then(|| out.join(" "))
    }

    /// Completions of `q`: past queries that start with it, most asked first, then the query with
    /// its last word completed by indexed terms, by how many products carry them.
    pub fn complete(&self, q: &str, k: usize) -> Vec<String> {
        let terms = text::query_terms(q);
        let Some((last, head)) = terms.split_last() else {
            return Vec::new();
        };
        let typed = terms.join(" ");
        let start = self
            .queries
            .partition_point(|p| p.0.as_str() < typed.as_str());
        let mut past: Vec<&(String, u32)> = self.queries[start..]
            .iter()
            .take_while(|p| p.0.starts_with(typed.as_str()))
            .collect();
        past.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut out: Vec<String> = past.into_iter().take(k).map(|p| p.0.clone()).collect();
        let start = self
            .vocabulary
            .partition_point(|v| v.as_str() < last.as_str());
        let mut found: Vec<(&String, usize)> = self.vocabulary[start..]
            .iter()
            .enumerate()
            .take_while(|(_, v)| v.starts_with(last.as_str()))
            .map(|(i, v)| (v, self.df(start + i)))
            .collect();
        found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        for (v, _) in found {
            if out.len() >= k {
                break;
            }
            let mut words = head.to_vec();
            words.push(v.clone());
            let c = words.join(" ");
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::{ItemRecord, ModelData, NONE};
    use crate::search::query::SearchQuery;
    use crate::search::spec::SearchFilter;
    use crate::search::synonyms::Synonyms;

    fn catalog() -> Model {
        let item = |id: &str, title: &str, category: u32, brand: u32, price: f32| ItemRecord {
            id: id.into(),
            title: title.into(),
            category,
            brand,
            price,
            in_stock: price < 2000.0,
            ..ItemRecord::default()
        };
        let items = vec![
            item("s24", "Samsung Galaxy S24 Ultra 256GB", 0, 0, 1299.0),
            item("a15", "Samsung Galaxy A15", 0, 0, 199.0),
            item("tv65", "Samsung 65QN90C Neo QLED TV", 1, 0, 2199.0),
            item("mba", "Apple MacBook Air 13 M3", 2, 1, 1199.0),
            item("mbp", "Apple MacBook Pro 14", 2, 1, 2499.0),
            item("xm5", "Sony WH-1000XM5 Headphones", 3, 2, 349.0),
            item(
                "rtx",
                "ASUS Dual GeForce RTX 4070 graphics card",
                4,
                3,
                599.0,
            ),
            item(
                "rtx80",
                "ASUS TUF GeForce RTX 4080 graphics card",
                4,
                3,
                1099.0,
            ),
            item("case", "Phone case for Galaxy S24", 0, NONE, 19.0),
        ];
        let n = items.len();
        let data = ModelData {
            version: "search-test".into(),
            items,
            categories: vec![
                "electronics.smartphone".into(),
                "electronics.video.tv".into(),
                "computers.notebook".into(),
                "electronics.audio.headphone".into(),
                "computers.components.videocards".into(),
            ],
            brands: vec![
                "samsung".into(),
                "apple".into(),
                "sony".into(),
                "asus".into(),
            ],
            popularity: (0..n).map(|i| (n - i) as f32).collect(),
            popular: (0..n as u32).collect(),
            category_popular: vec![Vec::new(); 5],
            co_view: vec![Vec::new(); n],
            co_buy: vec![Vec::new(); n],
            ..ModelData::default()
        };
        Model::load(data.encode().unwrap()).unwrap()
    }

    fn ids(m: &Model, f: &Found) -> Vec<String> {
        f.hits.iter().map(|h| m.item_id(h.0).to_owned()).collect()
    }

    fn ask(q: &str, f: &SearchFilter, facets: &[Facet], sort: Sort, k: usize) -> SearchQuery {
        SearchQuery {
            q: q.into(),
            filter: f.clone(),
            sort,
            facets: facets.to_vec(),
            page: 1,
            k,
            user_id: None,
            anonymous_id: None,
            user_token: None,
        }
    }

    fn search(m: &Model, ix: &SearchIndex, q: &str, f: &SearchFilter) -> Vec<String> {
        ids(
            m,
            &ix.search(m, &ask(q, f, &[], Sort::Relevance, 10).spec(), None),
        )
    }

    #[test]
    fn typos_prefixes_and_model_numbers() {
        let m = catalog();
        let ix = SearchIndex::build(&m);
        let none = SearchFilter::default();
        assert_eq!(search(&m, &ix, "samsng galaxy", &none)[..2], ["s24", "a15"]);
        assert_eq!(search(&m, &ix, "macbok air", &none)[0], "mba");
        assert_eq!(search(&m, &ix, "65QN90C", &none), ["tv65"]);
        assert_eq!(
            search(&m, &ix, "rtx 4070", &none),
            ["rtx"],
            "4070 never matches 4080"
        );
        assert_eq!(search(&m, &ix, "wh-1000xm5", &none), ["xm5"]);
        assert_eq!(
            search(&m, &ix, "headph", &none),
            ["xm5"],
            "the last word is a prefix"
        );
        assert!(search(&m, &ix, "4090", &none).is_empty());
        assert_eq!(
            ix.did_you_mean("samsnug galaxi").as_deref(),
            Some("samsung galaxy")
        );
        assert_eq!(ix.did_you_mean("galaxy"), None);
        assert_eq!(ix.complete("samsung gal", 3), ["samsung galaxy"]);
    }

    #[test]
    fn filters_never_leak_and_facets_are_disjunctive() {
        let m = catalog();
        let ix = SearchIndex::build(&m);
        let f = SearchFilter {
            brands: vec!["Samsung".into()],
            max_price: Some(1500.0),
            ..SearchFilter::default()
        };
        let found = ix.search(
            &m,
            &ask("", &f, &[Facet::Brand, Facet::Category], Sort::PriceAsc, 20).spec(),
            None,
        );
        let got = ids(&m, &found);
        assert_eq!(found.total, got.len());
        for id in &got {
            let i = m.item_index(id).unwrap();
            assert_eq!(m.item_brand(i), "samsung");
            assert!(m.item_price(i) <= 1500.0);
        }
        // Brand counts ignore the brand filter but keep the price filter: brute force agrees.
        let brute = |brand: &str| {
            (0..m.n_items() as u32)
                .filter(|&i| m.item_brand(i) == brand && m.item_price(i) <= 1500.0)
                .count()
        };
        let brands: HashMap<String, usize> = found.facets[0].1.iter().cloned().collect();
        for b in ["samsung", "apple", "sony", "asus"] {
            assert_eq!(brands.get(b).copied().unwrap_or(0), brute(b), "{b}");
        }
        let cats: HashMap<String, usize> = found.facets[1].1.iter().cloned().collect();
        assert_eq!(cats.get("electronics.smartphone"), Some(&2));
        assert_eq!(
            cats.get("computers.notebook"),
            None,
            "brand filter applies to categories"
        );
        let prices: Vec<f32> = found.hits.iter().map(|h| m.item_price(h.0)).collect();
        assert!(prices.is_sorted(), "{prices:?}");
        let c = SearchFilter {
            category: Some("computers".into()),
            ..SearchFilter::default()
        };
        assert_eq!(search(&m, &ix, "", &c).len(), 4);
    }

    #[test]
    fn synonyms_ratings_newest_and_past_queries() {
        let mut data = crate::artifact::tests::fixture();
        for (i, it) in data.items.iter_mut().enumerate() {
            it.rating = (i != 2).then_some(3.0 + i as f32 * 0.5);
            it.created_at = 1_000 * (5 - i as i64);
        }
        let m = Model::load(data.encode().unwrap()).unwrap();
        let ix = SearchIndex::from_docs(
            (0..m.n_items() as u32).map(|i| Doc {
                title: m.item_title(i),
                brand: m.item_brand(i),
                category: m.item_category_name(i),
                attributes: if i == 2 { vec!["Bluetooth"] } else { vec![] },
            }),
            Synonyms::from_groups(&[vec!["notebook", "laptop"]]).unwrap(),
            vec![("ultrabook 14".into(), 9), ("usb cable".into(), 4)],
        );
        let none = SearchFilter::default();
        // "notebook" is in no title: the synonym finds the laptops.
        let mut got = ids(
            &m,
            &ix.search(
                &m,
                &ask("notebook", &none, &[], Sort::Relevance, 10).spec(),
                None,
            ),
        );
        got.sort();
        assert_eq!(got, ["laptop-1", "laptop-2"]);
        assert_eq!(
            search(&m, &ix, "bluetooth", &none),
            ["mouse-1"],
            "attributes are searched"
        );
        let rated = SearchFilter {
            rating_min: Some(4.0),
            ..SearchFilter::default()
        };
        let found = ix.search(
            &m,
            &ask("", &rated, &[Facet::Brand], Sort::Newest, 10).spec(),
            None,
        );
        assert_eq!(
            ids(&m, &found),
            ["cable-1", "phone-1"],
            "rated ≥ 4, newest first"
        );
        assert_eq!(found.facets[0].1, [("acme".to_owned(), 1)]);
        assert_eq!(
            ix.complete("u", 3),
            ["ultrabook 14", "usb cable", "ultrabook"]
        );
        assert_eq!(ix.complete("usb c", 1), ["usb cable"]);
    }

    #[test]
    fn a_shoppers_taste_lifts_what_they_like() {
        let m = Model::load(crate::artifact::tests::fixture_v2().encode().unwrap()).unwrap();
        let ix = SearchIndex::build(&m);
        let browse = ask("", &SearchFilter::default(), &[], Sort::Relevance, 5);
        assert_eq!(
            ids(&m, &ix.search(&m, &browse.spec(), None))[0],
            "mouse-1",
            "most popular"
        );
        let history = [crate::personal::Interaction {
            idx: m.item_index("laptop-1").unwrap(),
            weight: 1.0,
        }];
        let blend = crate::personal::Blend::of(&m);
        let taste = crate::personal::taste(&m, &history, &blend).unwrap();
        let top = ids(&m, &ix.search(&m, &browse.spec(), Some(&taste)));
        assert!(top[0].starts_with("laptop"), "{top:?}");
    }
}
