//! The access-control sweep: every documented route × {no key, public key, admin key, wrong key}
//! against the real worker with public keys required, asserting the documented outcome, plus body
//! limits, and that no error body leaks a stack trace or an internal path.

use shared::route::ENDPOINTS;
use tests::{ADMIN_KEY, Reply, Worker};

const PUBLIC: &str = "pk_sweep";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Nobody,
    Public,
    Admin,
    Wrong,
}

fn headers(who: Who) -> Vec<(&'static str, String)> {
    let key = match who {
        Who::Nobody => return Vec::new(),
        Who::Public => PUBLIC,
        Who::Admin => ADMIN_KEY,
        Who::Wrong => "not-a-key",
    };
    vec![
        ("x-vitrine-key", key.to_owned()),
        ("authorization", format!("Bearer {key}")),
    ]
}

/// Error bodies are the envelope, with nothing from the inside.
fn clean_error(what: &str, r: &Reply) {
    if r.status < 400 {
        return;
    }
    let code = r.body["error"]["code"].as_str();
    let message = r.body["error"]["message"].as_str();
    assert!(
        code.is_some() && message.is_some(),
        "{what}: {} {}",
        r.status,
        r.body
    );
    let text = r.body.to_string();
    for leak in [
        "panicked",
        ".rs:",
        "/root/",
        "/home/",
        "src/",
        "RuntimeError",
        "wasm-function",
        "stack",
    ] {
        assert!(!text.contains(leak), "{what}: `{leak}` in {text}");
    }
}

#[test]
fn every_route_answers_each_credential_as_documented() {
    let w = Worker::start_with(&[
        ("PUBLIC_KEYS", PUBLIC),
        ("RATE_LIMIT_PER_IP", "100000"),
        ("SEGMENT_SHARED_SECRET", "access-sweep-segment-secret-01"),
        (
            "RUDDERSTACK_SHARED_SECRET",
            "access-sweep-rudder-secret-012",
        ),
        ("GA4_API_SECRET", "access-sweep-ga4-secret-0123456"),
        ("SHOPIFY_WEBHOOK_SECRET", "access-sweep-shopify-secret-0123"),
    ])
    .unwrap();
    let mut checked = 0;
    for (method, template) in ENDPOINTS {
        let path = template
            .replace("{id}", "sku-1")
            .replace("{key}", "raw/x.ndjson");
        let route = shared::route::route(method, &path).unwrap();
        let open = !route.requires_admin() && !route.is_public_api();
        for who in [Who::Nobody, Who::Public, Who::Admin, Who::Wrong] {
            let h = headers(who);
            let hs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let body = matches!(*method, "POST" | "PUT").then(|| "{}".to_owned());
            let r = w.send(method, &path, &hs, body).unwrap();
            let what = format!("{method} {path} as {who:?}");
            clean_error(&what, &r);
            let code = r.body["error"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if matches!(route, shared::route::Route::Source { .. }) {
                // Only the source's own secret opens it: no key the shop holds for anything else.
                assert_eq!((r.status, code.as_str()), (401, "unauthorized"), "{what}");
            } else if route == shared::route::Route::DevShopperToken {
                // Open under DEV_MODE (the tests' mode), but it needs the user id to sign.
                assert_eq!(
                    (r.status, code.as_str()),
                    (400, "missing_parameter"),
                    "{what}"
                );
            } else if open {
                assert_eq!(r.status, 200, "{what}: {}", r.body);
            } else if route.requires_admin() {
                match who {
                    Who::Nobody | Who::Wrong => {
                        assert_eq!((r.status, code.as_str()), (401, "unauthorized"), "{what}")
                    }
                    Who::Public => {
                        assert_eq!((r.status, code.as_str()), (403, "forbidden"), "{what}")
                    }
                    Who::Admin => assert!(
                        ![401, 403].contains(&r.status),
                        "{what}: {} {}",
                        r.status,
                        r.body
                    ),
                }
            } else {
                match who {
                    // The admin key is never a public key: it would sit in every page.
                    Who::Nobody | Who::Wrong | Who::Admin => {
                        assert_eq!((r.status, code.as_str()), (401, "unauthorized"), "{what}")
                    }
                    Who::Public => {
                        assert!(
                            ![401, 403].contains(&r.status),
                            "{what}: {} {}",
                            r.status,
                            r.body
                        );
                    }
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ENDPOINTS.len() * 4);

    // Wrong methods, unknown routes and oversized bodies get the envelope too.
    let public = [("x-vitrine-key", PUBLIC)];
    let r = w
        .send("PATCH", "/v1/recommendations", &public, None)
        .unwrap();
    assert_eq!(r.status, 405);
    clean_error("PATCH", &r);
    let r = w
        .send("GET", "/v1/../../etc/passwd", &public, None)
        .unwrap();
    assert!([400, 404].contains(&r.status), "{}", r.status);
    clean_error("traversal", &r);
    let big = format!("{{\"events\": [\"{}\"]}}", "x".repeat(1_100_000));
    let r = w.send("POST", "/v1/events", &public, Some(big)).unwrap();
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    clean_error("big body", &r);
    let r = w
        .send(
            "POST",
            "/v1/events",
            &public,
            Some("{\"events\": [1,".into()),
        )
        .unwrap();
    assert_eq!(r.status, 400);
    clean_error("broken json", &r);
    let r: Reply = w
        .send(
            "GET",
            "/v1/admin/lake/..%2F..%2Fsecret",
            &[("authorization", &format!("Bearer {ADMIN_KEY}"))],
            None,
        )
        .unwrap();
    assert!([400, 404].contains(&r.status), "{} {}", r.status, r.body);
    clean_error("admin traversal", &r);
}
