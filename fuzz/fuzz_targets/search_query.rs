//! Search and suggest query strings, as the worker receives them in the URL: parsing never
//! panics, and every query that parses is answered (ranking, facets, filters, highlighting,
//! did-you-mean, completion) against the golden model without panicking.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use shared::artifact::Model;
use shared::search::answer;
use shared::search::index::SearchIndex;
use shared::search::query::{SearchQuery, SuggestQuery};

static GOLDEN: &[u8] = include_bytes!("../../shared/tests/golden/model-v3.bin");

fn catalog() -> &'static (Model, SearchIndex) {
    static CELL: OnceLock<(Model, SearchIndex)> = OnceLock::new();
    CELL.get_or_init(|| {
        let model = Model::load(GOLDEN.to_vec()).expect("the golden model loads");
        let ix = SearchIndex::build(&model);
        (model, ix)
    })
}

fuzz_target!(|data: &[u8]| {
    let (model, ix) = catalog();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(data)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if let Ok(q) = SearchQuery::parse(pairs.clone()) {
        let _ = answer::search(ix, model, &q, None);
        let taste = vec![0.25_f32; 8];
        let _ = answer::search(ix, model, &q, Some(&taste));
    }
    if let Ok(q) = SuggestQuery::parse(pairs) {
        let _ = answer::suggest(ix, model, &q);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ix.did_you_mean(text);
        let _ = ix.complete(text, 8);
    }
});
