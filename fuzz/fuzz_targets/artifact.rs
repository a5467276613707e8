//! Model artifacts: any bytes either fail to load with a typed error or load into a model whose
//! every accessor answers without panicking. The CRC is recomputed over the input so the fuzzer
//! reaches the section parsing behind it (seeds: the golden artifacts of each format version).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::artifact::{Model, checksum};
use std::collections::HashSet;

use shared::search::index::SearchIndex;

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    if bytes.len() >= 20 {
        let crc = checksum(&bytes);
        bytes[16..20].copy_from_slice(&crc.to_le_bytes());
    }
    let Ok(model) = Model::load(bytes) else {
        return;
    };
    let _ = (model.version(), model.meta(), model.created_at());
    let none: HashSet<u32> = HashSet::new();
    let n = u32::try_from(model.n_items()).unwrap_or(u32::MAX);
    for i in (0..n).take(64).chain([n, n.saturating_add(1), u32::MAX]) {
        let _ = (
            model.item_id(i),
            model.item_title(i),
            model.item_category(i),
            model.item_category_name(i),
            model.item_brand(i),
            model.item_price(i),
            model.item_in_stock(i),
            model.item_rating(i),
            model.item_created_at(i),
            model.popularity(i),
            model.repeat(i),
        );
        let _ = model.co_view(i).take(16).count() + model.co_buy(i).take(16).count();
        if let Some(id) = Some(model.item_id(i)).filter(|s| !s.is_empty()) {
            let _ = model.item_index(id);
        }
        let _ = shared::recommend::similar(&model, i, 10, &none);
        let _ = shared::recommend::bought_together(&model, i, 10, &none);
    }
    for c in 0..u32::try_from(model.n_categories()).unwrap_or(0).min(16) {
        let _ = model.category_name(c);
        let _ = model.category_popular(c).take(16).count();
    }
    let _ = model.popular().take(64).count();
    if let Some(f) = model.factors() {
        let k = f.k();
        let x = vec![0.5_f32; k];
        for i in (0..n).take(16) {
            let _ = f.score(&x, i);
            let _ = f.item_vector(i);
        }
    }
    let (ix, _) = SearchIndex::for_model(&model);
    let _ = ix.complete("a", 5);
});
