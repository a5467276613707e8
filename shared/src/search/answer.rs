//! A search or suggest request answered from an index: the hits with product fields and
//! highlights, facets (at most [`MAX_FACET_VALUES`] values each), "did you mean" when nothing
//! matched. The edge adds serve id and timing; everything decided here is tested natively.

use std::collections::BTreeMap;

use crate::artifact::Model;
use crate::search::index::SearchIndex;
use crate::search::query::{FacetValue, SearchHit, SearchQuery, SuggestQuery, highlight};
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
    let found = ix.search(model, &q.spec(), taste);
    let did_you_mean = if found.total == 0 && !q.q.is_empty() {
        ix.did_you_mean(&q.q)
    } else {
        None
    };
    let items = found
        .hits
        .iter()
        .map(|&(i, s)| hit(model, i, s, &q.q))
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
    };
    let found = ix.search(model, &ask, None);
    let products = found
        .hits
        .iter()
        .map(|&(i, s)| hit(model, i, s, &q.q))
        .collect();
    (ix.complete(&q.q, q.k), products)
}
