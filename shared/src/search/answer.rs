//! A search or suggest request answered from an index: price intents read from the words and
//! applied as filters, the hits with product fields and highlights, facets (at most
//! [`MAX_FACET_VALUES`] values each), whether the query was relaxed, and "did you mean" when it
//! clearly helps. The edge adds serve id and timing; everything decided here is tested natively.

use std::collections::BTreeMap;

use crate::artifact::Model;
use crate::search::index::SearchIndex;
use crate::search::intents::{self, Price};
use crate::search::query::{
    AppliedIntent, FacetValue, Relaxed, SearchHit, SearchQuery, SuggestQuery, highlight,
};
use crate::search::spec::{Search, SearchFilter, Sort};

/// Most values returned per facet.
pub const MAX_FACET_VALUES: usize = 50;

/// What a search found, before the edge's envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub total: usize,
    pub items: Vec<SearchHit>,
    pub facets: BTreeMap<String, Vec<FacetValue>>,
    pub did_you_mean: Option<String>,
    pub intents: Vec<AppliedIntent>,
    pub relaxed: Option<Relaxed>,
}

/// One hit with its product fields.
pub fn hit(model: &Model, idx: u32, score: f32, q: &str) -> SearchHit {
    let title = model.item_title(idx).to_owned();
    SearchHit {
        id: model.item_id(idx).to_owned(),
        score,
        highlight: highlight(&title, q),
        title,
        category: model.item_category_name(idx).to_owned(),
        brand: model.item_brand(idx).to_owned(),
        price: model.item_price(idx),
        in_stock: model.item_in_stock(idx),
        rating: model.item_rating(idx),
    }
}

/// Answers `q`; `taste` is the shopper's folded-in history, when they have one.
pub fn search(ix: &SearchIndex, model: &Model, q: &SearchQuery, taste: Option<&[f32]>) -> Answer {
    let parsed = if q.intents {
        intents::parse(&q.q)
    } else {
        intents::Parsed {
            rest: q.q.clone(),
            intents: Vec::new(),
        }
    };
    // A price the shopper set explicitly wins over one read from the words.
    let explicit = q.filter.min_price.is_some() || q.filter.max_price.is_some();
    let mut filter = q.filter.clone();
    let mut cheap = false;
    let mut applied = Vec::new();
    for intent in parsed.intents.iter().filter(|_| !explicit) {
        let (lo, hi) = match intent.price {
            Price::Max(v) => (None, Some(v)),
            Price::Min(v) => (Some(v), None),
            Price::Range(a, b) => (Some(a), Some(b)),
            Price::Cheap => {
                cheap = true;
                (None, None)
            }
        };
        filter.min_price = lo.or(filter.min_price);
        filter.max_price = hi.or(filter.max_price);
        applied.push((intent, lo, hi));
    }
    let spec = Search {
        q: &parsed.rest,
        cheap,
        filter: &filter,
        ..q.spec()
    };
    let found = ix.search(model, &spec, taste);
    let intents = applied
        .into_iter()
        .map(|(intent, lo, hi)| AppliedIntent {
            text: intent.text.clone(),
            min_price: lo,
            max_price: if intent.price == Price::Cheap {
                found.cheap_max
            } else {
                hi
            },
            without: intents::without(&q.q, intent),
        })
        .collect();
    let did_you_mean = if found.full_matches < spec.offset + spec.k && !parsed.rest.is_empty() {
        ix.did_you_mean(&parsed.rest)
    } else {
        None
    };
    let items = found
        .hits
        .iter()
        .map(|&(i, s)| hit(model, i, s, &parsed.rest))
        .collect();
    let facets = found
        .facets
        .into_iter()
        .map(|(f, values)| {
            let values = values
                .into_iter()
                .take(MAX_FACET_VALUES)
                .map(|(value, count)| FacetValue { value, count })
                .collect();
            (f.name().to_owned(), values)
        })
        .collect();
    Answer {
        total: found.total,
        items,
        facets,
        did_you_mean,
        intents,
        relaxed: (found.required < found.units).then_some(Relaxed {
            required: found.required,
            of: found.units,
        }),
    }
}

/// Query completions (past queries first) and the best matching products.
pub fn suggest(ix: &SearchIndex, model: &Model, q: &SuggestQuery) -> (Vec<String>, Vec<SearchHit>) {
    let ask = Search {
        q: &q.q,
        filter: &SearchFilter::default(),
        sort: Sort::Relevance,
        facets: &[],
        k: q.k,
        offset: 0,
        cheap: false,
    };
    let found = ix.search(model, &ask, None);
    let products = found
        .hits
        .iter()
        .map(|&(i, s)| hit(model, i, s, &q.q))
        .collect();
    (ix.complete(&q.q, q.k), products)
}
