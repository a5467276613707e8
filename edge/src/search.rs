//! Search endpoints: the index comes with the model (the trainer's section, or built from the
//! model for older artifacts) once per model version in the isolate; each query is answered
//! in-process by `shared::search`, personalised by the shopper's session when they name
//! themselves, and its serve recorded for search analytics.

use std::cell::RefCell;
use std::rc::Rc;

use shared::Model;
use shared::carried::use_carried;
use shared::ingest::Serve;
use shared::search::answer;
use shared::search::index::SearchIndex;
use shared::search::query::{SearchQuery, SearchResponse, SuggestQuery, SuggestResponse};
use shared::{ab, personal, session};
use worker::{Request, console_warn};

use crate::http::{HandlerResult, json, query_pairs};
use crate::sessions;
use crate::widgets::{self, Call};

thread_local! {
    static INDEX: RefCell<Option<(String, Rc<SearchIndex>)>> = const { RefCell::new(None) };
}

/// The index of `model`, loaded on first use after each model change.
fn index_for(model: &Model) -> Rc<SearchIndex> {
    INDEX.with(|c| {
        let mut c = c.borrow_mut();
        match c.as_ref() {
            Some((v, ix)) if v == model.version() => Rc::clone(ix),
            _ => {
                let (ix, problem) = SearchIndex::for_model(model);
                if let Some(e) = problem {
                    console_warn!(
                        "model {}: search section unusable ({e}); indexing the model instead",
                        model.version()
                    );
                }
                let ix = Rc::new(ix);
                *c = Some((model.version().to_owned(), Rc::clone(&ix)));
                ix
            }
        }
    })
}

/// `GET /v1/search`
pub async fn search(call: &Call<'_>, req: &Request) -> HandlerResult {
    let q = SearchQuery::parse(query_pairs(req))?;
    crate::http::authorize_shopper(
        req,
        call.env,
        q.user_id.as_deref(),
        q.anonymous_id.as_deref(),
        q.user_token.as_deref(),
    )?;
    let model = widgets::require_model(call.env).await?;
    let ix = index_for(&model);
    let key = session::shopper_key(q.user_id.as_deref(), q.anonymous_id.as_deref());
    let carried = use_carried(q.user_id.as_deref(), q.session.clone());
    let taste = match (&key, carried) {
        (Some(_), Some(carried)) if model.factors().is_some() => {
            let state = carried.state(call.started);
            personal::taste(&model, &state.history(&model), &personal::Blend::of(&model))
        }
        (Some(key), None) if model.factors().is_some() => {
            let state = sessions::load(call.env, key).await?;
            personal::taste(&model, &state.history(&model), &personal::Blend::of(&model))
        }
        _ => None,
    };
    let found = answer::search(&ix, &model, &q, taste.as_deref());
    let serve_id = widgets::serve_id();
    let took_ms = widgets::took(call.started);
    widgets::record_serve(
        call,
        Serve {
            serve_id: serve_id.clone(),
            timestamp: call.started,
            placement: "search".into(),
            variant: ab::DEFAULT_VARIANT.into(),
            model_version: model.version().to_owned(),
            user_id: q.user_id.clone(),
            anonymous_id: q.anonymous_id.clone(),
            item_id: None,
            items: found.items.iter().map(|h| h.id.clone()).collect(),
            took_ms,
            query: Some(q.q.clone()),
            total: Some(found.total),
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
            items: found.items,
            facets: found.facets,
            did_you_mean: found.did_you_mean,
            intents: found.intents,
            relaxed: found.relaxed,
        },
    )
}

/// `GET /v1/search/suggest`: query completions and the best matching products.
pub async fn suggest(call: &Call<'_>, req: &Request) -> HandlerResult {
    let q = SuggestQuery::parse(query_pairs(req))?;
    let model = widgets::require_model(call.env).await?;
    let ix = index_for(&model);
    let (queries, products) = answer::suggest(&ix, &model, &q);
    json(200, &SuggestResponse { queries, products })
}
