//! Search endpoints: the catalog index is built once per model version in the isolate
//! (`shared::search`), then each query is answered in-process and its serve recorded.

use std::cell::RefCell;
use std::rc::Rc;

use shared::Model;
use shared::ingest::Serve;
use shared::search::index::SearchIndex;
use shared::search::index::{SearchFilter, Sort};
use shared::search::query::{
    FacetValue, SearchHit, SearchQuery, SearchResponse, SuggestQuery, SuggestResponse, highlight,
};
use worker::Request;

use crate::http::{HandlerResult, json, query_pairs};
use crate::widgets::{self, Call};

thread_local! {
    static INDEX: RefCell<Option<(String, Rc<SearchIndex>)>> = const { RefCell::new(None) };
}

/// The index of `model`, built on first use after each model change.
fn index_for(model: &Model) -> Rc<SearchIndex> {
    INDEX.with(|c| {
        let mut c = c.borrow_mut();
        match c.as_ref() {
            Some((v, ix)) if v == model.version() => Rc::clone(ix),
            _ => {
                let ix = Rc::new(SearchIndex::build(model));
                *c = Some((model.version().to_owned(), Rc::clone(&ix)));
                ix
            }
        }
    })
}

fn hit(model: &Model, idx: u32, score: f32, q: &str) -> SearchHit {
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
    }
}

/// `GET /v1/search`
pub async fn search(call: &Call<'_>, req: &Request) -> HandlerResult {
    let q = SearchQuery::parse(query_pairs(req))?;
    let model = widgets::require_model(call.env).await?;
    let ix = index_for(&model);
    let found = ix.search(&model, &q);
    let did_you_mean = if found.total == 0 && !q.q.is_empty() {
        ix.did_you_mean(&q.q)
    } else {
        None
    };
    let items: Vec<SearchHit> = found
        .hits
        .iter()
        .map(|&(i, s)| hit(&model, i, s, &q.q))
        .collect();
    let facets = found
        .facets
        .into_iter()
        .map(|(f, values)| {
            let values = values
                .into_iter()
                .take(50)
                .map(|(value, count)| FacetValue { value, count })
                .collect();
            (f.name().to_owned(), values)
        })
        .collect();
    let serve_id = widgets::serve_id();
    let took_ms = widgets::took(call.started);
    widgets::record_serve(
        call,
        Serve {
            serve_id: serve_id.clone(),
            timestamp: call.started,
            placement: "search".into(),
            variant: shared::ab::DEFAULT_VARIANT.into(),
            model_version: model.version().to_owned(),
            user_id: q.user_id.clone(),
            anonymous_id: q.anonymous_id.clone(),
            item_id: None,
            items: items.iter().map(|h| h.id.clone()).collect(),
            took_ms,
            query: Some(q.q.clone()),
        },
    );
    json(
        200,
        &SearchResponse {
            serve_id,
            model_version: model.version().to_owned(),
            took_ms,
            query: q.q,
            total: found.total,
            page: q.page,
            k: q.k,
            items,
            facets,
            did_you_mean,
        },
    )
}

/// `GET /v1/search/suggest`: query completions and the best matching products.
pub async fn suggest(call: &Call<'_>, req: &Request) -> HandlerResult {
    let q = SuggestQuery::parse(query_pairs(req))?;
    let model = widgets::require_model(call.env).await?;
    let ix = index_for(&model);
    let ask = SearchQuery {
        q: q.q.clone(),
        filter: SearchFilter::default(),
        sort: Sort::Relevance,
        facets: Vec::new(),
        page: 1,
        k: q.k,
        user_id: None,
        anonymous_id: None,
    };
    let found = ix.search(&model, &ask);
    json(
        200,
        &SuggestResponse {
            queries: ix.complete(&q.q, q.k),
            products: found
                .hits
                .iter()
                .map(|&(i, s)| hit(&model, i, s, &q.q))
                .collect(),
        },
    )
}
