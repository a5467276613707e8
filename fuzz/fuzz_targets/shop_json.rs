//! Shop API pages as the connector receives them (Shopify Admin REST shape): any body either
//! fails cleanly or yields records that are validated one by one (kept or quarantined with a
//! reason), normalised for matching, and `Link` headers parse without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use trainer::customers::records::normalize;
use trainer::customers::connector::client::next_link;
use trainer::customers::connector::shopify;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = next_link(text);
    }
    let Ok(Value::Object(page)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    for (resource, records) in &page {
        let Value::Array(records) = records else {
            continue;
        };
        for rec in records {
            let _ = shopify::id_and_updated(rec);
            match resource.as_str() {
                "products" => {
                    if let Ok(p) = shopify::product(rec) {
                        serde_json::to_string(&p).expect("a product always encodes");
                    }
                }
                "customers" => {
                    if let Ok(c) = shopify::customer(rec) {
                        let _ = normalize::normalize(&c, "US");
                    }
                }
                "orders" => {
                    if let Ok((order, lines)) = shopify::order(rec, |id| format!("p_{id}")) {
                        assert!(!lines.is_empty(), "an accepted order has lines");
                        let _ = order;
                    }
                }
                _ => {}
            }
        }
    }
});
