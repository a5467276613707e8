//! The recommendation API beyond the session reaction: the product endpoint, search, diversity,
//! merchandising rules, buy-again from the shopper's own purchases, serve records in the lake for
//! attribution, bad input on every new parameter, and the access layer (public keys, CORS
//! allow-list, rate limits) and OpenAPI document.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::{Value, json};
use tests::{ADMIN_KEY, Worker, now_ms, train_simulated, wait_for};

use crate::common::{item_ids, view};

fn categories_in(resp: &Value, cats: &HashMap<String, String>) -> usize {
    item_ids(resp)
        .iter()
        .filter_map(|id| cats.get(id))
        .collect::<HashSet<_>>()
        .len()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn purchase_at(id: &str, user: &str, item: &str, ts: i64) -> Value {
    json!({"event_id": id, "type": "purchase", "user_id": user, "session_id": format!("s-{id}"),
           "timestamp": ts, "order_id": format!("o-{id}"),
           "lines": [{"item_id": item, "quantity": 1, "price": 12.5, "currency": "EUR"}]})
}

/// The lake's serve record of `serve_id` (serve records are flushed within a second).
fn serve_record(w: &Worker, serve_id: &str) -> Value {
    wait_for(
        "the serve record in raw/serves/",
        std::time::Duration::from_secs(30),
        || {
            let keys = w.lake_keys("raw/serves/").ok()?;
            keys.iter().find_map(|k| {
                let (_, body) = w.admin_get(&format!("/v1/admin/lake/{k}")).ok()?;
                String::from_utf8_lossy(&body)
                    .lines()
                    .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                    .find(|v| v["serve_id"] == json!(serve_id))
            })
        },
    )
    .unwrap()
}

#[test]
fn widgets_honour_diversity_rules_and_buy_again_and_every_serve_lands_in_the_lake() {
    let t = train_simulated(40_000, 600, 300).unwrap();
    let cats = t.categories().unwrap();
    let w = Worker::start().unwrap();
    w.publish(&t).unwrap();

    // The product endpoint.
    let some_id = cats.keys().min().unwrap().clone();
    let (s, p) = w.get(&format!("/v1/items/{some_id}")).unwrap();
    assert_eq!((s, p["id"].as_str()), (200, Some(some_id.as_str())), "{p}");
    assert_eq!(
        p["category"].as_str(),
        cats.get(&some_id).map(String::as_str)
    );
    let (s, e) = w.get("/v1/items/no-such-item").unwrap();
    assert_eq!(
        (s, &e["error"]["code"]),
        (404, &json!("item_not_found")),
        "{e}"
    );

    // Diversity: after three laptop views the plain list is laptop-heavy; diversity=1 spreads it.
    let laptop = "computers.notebook";
    let mut laptops: Vec<&String> = cats
        .iter()
        .filter(|(_, c)| *c == laptop)
        .map(|(id, _)| id)
        .collect();
    laptops.sort();
    let t0 = now_ms();
    let events: Vec<Value> = laptops
        .iter()
        .take(3)
        .enumerate()
        .map(|(i, item)| {
            view(
                &format!("div-v{i}"),
                &tests::anon("div-shopper"),
                item,
                t0 + i as i64,
            )
        })
        .collect();
    let (s, _) = w.post("/v1/events", tests::events_body(&events)).unwrap();
    assert_eq!(s, 202);
    let (_, plain) = w
        .get(&format!(
            "/v1/recommendations?anonymous_id={}&k=10",
            tests::anon("div-shopper")
        ))
        .unwrap();
    let (s, spread) = w
        .get(&format!(
            "/v1/recommendations?anonymous_id={}&k=10&diversity=1",
            tests::anon("div-shopper")
        ))
        .unwrap();
    assert_eq!(s, 200, "{spread}");
    assert_eq!(item_ids(&spread).len(), 10, "{spread}");
    assert!(
        categories_in(&spread, &cats) > categories_in(&plain, &cats),
        "diversity=1 should span more categories: {} vs {}\n{plain}\n{spread}",
        categories_in(&spread, &cats),
        categories_in(&plain, &cats)
    );

    // Buy again: the shopper's own repeat purchase ranks first, with the reason.
    let ink = laptops[5].clone();
    let cable = laptops[6].clone();
    let day = 86_400_000;
    let orders = vec![
        purchase_at("ba-1", "ba-user", &ink, t0 - 3 * day),
        purchase_at("ba-2", "ba-user", &ink, t0 - 2 * day),
        purchase_at("ba-3", "ba-user", &cable, t0 - day),
    ];
    let (s, body) = w.post("/v1/events", tests::events_body(&orders)).unwrap();
    assert_eq!((s, body["accepted"].as_u64()), (202, Some(3)), "{body}");
    let (s, again) = w
        .get(&format!(
            "/v1/recommendations/buy-again?{}&k=5",
            tests::as_user("ba-user")
        ))
        .unwrap();
    assert_eq!(s, 200, "{again}");
    assert_eq!(item_ids(&again).first(), Some(&ink), "{again}");
    assert_eq!(again["items"][0]["reason"]["kind"], "buy_again", "{again}");
    assert_eq!(again["items"][0]["reason"]["item"], json!(ink), "{again}");
    let (_, without) = w
        .get(&format!(
            "/v1/recommendations/buy-again?{}&exclude={ink}",
            tests::as_user("ba-user")
        ))
        .unwrap();
    assert!(!item_ids(&without).contains(&ink), "{without}");
    let (s, none) = w
        .get(&format!(
            "/v1/recommendations/buy-again?{}",
            tests::as_user("never-bought")
        ))
        .unwrap();
    assert_eq!((s, item_ids(&none).len()), (200, 0), "{none}");

    // Rules: pin the 5th trending item first, hide the first; the reason names the rule.
    let (_, trending) = w.get("/v1/trending?k=10").unwrap();
    let top = item_ids(&trending);
    let (hero, hidden) = (top[4].clone(), top[0].clone());
    let rules = json!({"rules": [
        {"id": "hero", "action": "pin", "item": hero, "position": 1},
        {"id": "recall", "action": "hide", "item": hidden},
        {"id": "old-sale", "action": "boost", "category": laptop, "factor": 50, "ends_at": 1000}
    ]});
    let put = w
        .send(
            "PUT",
            "/v1/admin/rules",
            &[("authorization", &format!("Bearer {ADMIN_KEY}"))],
            Some(rules.to_string()),
        )
        .unwrap();
    assert_eq!(put.status, 200, "{}", put.body);
    let (_, ruled) = w.get("/v1/trending?k=10").unwrap();
    let ids = item_ids(&ruled);
    assert_eq!(ids[0], hero, "{ruled}");
    assert_eq!(
        ruled["items"][0]["reason"],
        json!({"kind": "rule", "rule": "hero"})
    );
    assert!(!ids.contains(&hidden), "hidden item shown: {ruled}");
    let (_, stored) = w.admin_get("/v1/admin/rules").unwrap();
    let stored: Value = serde_json::from_slice(&stored).unwrap();
    assert_eq!(stored["rules"].as_array().map(Vec::len), Some(3));
    let bad = w
        .send(
            "PUT",
            "/v1/admin/rules",
            &[("authorization", &format!("Bearer {ADMIN_KEY}"))],
            Some(r#"{"rules":[{"id":"x","action":"pin","item":"a"}]}"#.into()),
        )
        .unwrap();
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("rules[0]"),
        "{}",
        bad.body
    );
    let (_, still) = w.get("/v1/trending?k=10").unwrap();
    assert_eq!(
        item_ids(&still)[0],
        hero,
        "a rejected document changes nothing"
    );

    // Every response is recorded in the lake with its serve id, placement, variant and model.
    let serve_id = ruled["serve_id"].as_str().unwrap().to_owned();
    let record = serve_record(&w, &serve_id);
    assert_eq!(record["placement"], "trending", "{record}");
    assert_eq!(record["model_version"], ruled["model_version"], "{record}");
    assert_eq!(record["variant"], ruled["variant"], "{record}");
    assert_eq!(record["items"], json!(ids), "{record}");

    // Search: an exact title finds its product first; a typo still finds the brand; filters never
    // leak and the brand facet counts what the filters (other than brand) leave.
    let products: Vec<Value> =
        std::fs::read_to_string(t.lake_dir.join("raw/products/simulated.ndjson"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    let target = products
        .iter()
        .find(|p| p["title"].as_str().unwrap().ends_with(')'))
        .unwrap();
    let title = target["title"].as_str().unwrap();
    let (s, found) = w
        .get(&format!("/v1/search?q={}&k=5", urlencode(title)))
        .unwrap();
    assert_eq!(s, 200, "{found}");
    assert_eq!(found["items"][0]["id"], target["id"], "{found}");
    assert!(
        found["items"][0]["highlight"]
            .as_str()
            .unwrap()
            .contains("<em>")
    );
    let brand = target["brand"].as_str().unwrap();
    let long_brand = products
        .iter()
        .map(|p| p["brand"].as_str().unwrap())
        .find(|b| b.len() >= 6 && b.chars().all(char::is_alphabetic))
        .unwrap();
    let typo: String = long_brand
        .chars()
        .take(2)
        .chain(long_brand.chars().skip(3))
        .collect();
    let (_, fuzzy) = w.get(&format!("/v1/search?q={typo}&k=10")).unwrap();
    assert!(fuzzy["total"].as_u64().unwrap() > 0, "{typo}: {fuzzy}");
    assert_eq!(
        fuzzy["items"][0]["brand"],
        json!(long_brand),
        "{typo}: {fuzzy}"
    );
    let (s, filtered) = w
        .get(&format!(
            "/v1/search?brand={brand}&max_price=500&in_stock=true&facets=brand,price&k=100"
        ))
        .unwrap();
    assert_eq!(s, 200, "{filtered}");
    for it in filtered["items"].as_array().unwrap() {
        assert_eq!(it["brand"], json!(brand), "{filtered}");
        assert!(it["price"].as_f64().unwrap() <= 500.0 && it["in_stock"] == json!(true));
    }
    // Brute force over the catalog the model holds (products never seen in events are not in it).
    let cheap_in_stock: Vec<&Value> = products
        .iter()
        .filter(|p| p["price"].as_f64().unwrap() <= 500.0 && p["in_stock"] == json!(true))
        .filter(|p| {
            w.get(&format!("/v1/items/{}", p["id"].as_str().unwrap()))
                .unwrap()
                .0
                == 200
        })
        .collect();
    let brute = |b: &str| {
        cheap_in_stock
            .iter()
            .filter(|p| p["brand"] == json!(b))
            .count()
    };
    for fv in filtered["facets"]["brand"].as_array().unwrap() {
        let b = fv["value"].as_str().unwrap();
        assert_eq!(
            fv["count"].as_u64().unwrap() as usize,
            brute(b),
            "{b}: {filtered}"
        );
    }
    assert_eq!(filtered["total"].as_u64().unwrap() as usize, brute(brand));
    let (_, none) = w.get("/v1/search?q=zzqqxxyy").unwrap();
    assert_eq!(none["total"], 0, "{none}");
    let zero = serve_record(&w, none["serve_id"].as_str().unwrap());
    assert_eq!(
        (zero["placement"].as_str(), zero["query"].as_str()),
        (Some("search"), Some("zzqqxxyy"))
    );
    assert_eq!(zero["total"], 0, "{zero}");

    // The trainer's index ships in the artifact: attribute values ("2 years" warranty) are
    // searchable though no title carries them.
    let (_, warranty) = w.get("/v1/search?q=years&k=5").unwrap();
    assert!(warranty["total"].as_u64().unwrap() > 0, "{warranty}");
    for it in warranty["items"].as_array().unwrap() {
        assert!(!it["title"].as_str().unwrap().contains("years"), "{it}");
    }
    // Shoppers' words: category and attribute words, price words applied as a removable filter,
    // relaxation instead of a dead end.
    let (s, wireless) = w.get("/v1/search?q=wireless%20headphones&k=5").unwrap();
    assert_eq!(s, 200, "{wireless}");
    assert!(
        !wireless["items"].as_array().unwrap().is_empty(),
        "{wireless}"
    );
    for it in wireless["items"].as_array().unwrap() {
        assert_eq!(it["category"], "electronics.audio.headphone", "{wireless}");
    }
    let (_, under) = w.get("/v1/search?q=laptop%20under%20800&k=50").unwrap();
    assert_eq!(under["intents"][0]["max_price"], json!(800.0), "{under}");
    assert_eq!(under["intents"][0]["without"], "laptop", "{under}");
    for it in under["items"].as_array().unwrap() {
        assert!(it["price"].as_f64().unwrap() <= 800.0, "{under}");
    }
    let (_, off) = w
        .get("/v1/search?q=laptop%20under%20800&k=50&intents=off")
        .unwrap();
    assert!(off.get("intents").is_none(), "{off}");
    let (_, relaxed) = w.get("/v1/search?q=headphones%20zzqqxx&k=5").unwrap();
    assert_eq!(
        relaxed["relaxed"],
        json!({"required": 1, "of": 2}),
        "{relaxed}"
    );
    assert!(relaxed["total"].as_u64().unwrap() > 0, "{relaxed}");
    let (s, bad) = w.get("/v1/search?q=tv&intents=maybe").unwrap();
    assert_eq!(
        (s, bad["error"]["code"].as_str()),
        (400, Some("invalid_parameter"))
    );
    // rating_min never leaks; sort=newest orders by listing date.
    let (s, rated) = w.get("/v1/search?rating_min=4.5&k=100").unwrap();
    assert_eq!(s, 200, "{rated}");
    assert!(rated["total"].as_u64().unwrap() > 0, "{rated}");
    for it in rated["items"].as_array().unwrap() {
        assert!(it["rating"].as_f64().unwrap() >= 4.5, "{it}");
    }
    let created: HashMap<&str, i64> = products
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["created_at"].as_i64().unwrap()))
        .collect();
    let (_, newest) = w
        .get(&format!("/v1/search?brand={brand}&sort=newest&k=50"))
        .unwrap();
    let dates: Vec<i64> = newest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|it| created[it["id"].as_str().unwrap()])
        .collect();
    assert!(
        dates.len() > 1 && dates.is_sorted_by(|a, b| a >= b),
        "{dates:?}"
    );
    // A shopper who viewed laptops browses with laptops lifted.
    let laptops_in = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|it| it["category"] == json!(laptop))
            .count()
    };
    let (_, plain_browse) = w.get("/v1/search?k=10").unwrap();
    let (_, their_browse) = w
        .get(&format!(
            "/v1/search?k=10&anonymous_id={}",
            tests::anon("div-shopper")
        ))
        .unwrap();
    let (mine, theirs) = (laptops_in(&plain_browse), laptops_in(&their_browse));
    assert!(
        theirs > mine || theirs == 10,
        "{mine} → {theirs}: {their_browse}"
    );
    let (s, sug) = w
        .get(&format!("/v1/search/suggest?q={}", &long_brand[..3]))
        .unwrap();
    assert_eq!(s, 200, "{sug}");
    assert!(!sug["queries"].as_array().unwrap().is_empty(), "{sug}");
    for (path, needle) in [
        ("/v1/search?sort=newest-first", "sort"),
        ("/v1/search?rating_min=9", "rating_min"),
        ("/v1/search?facets=colour", "colour"),
        ("/v1/search?min_price=9&max_price=1", "min_price"),
        ("/v1/search/suggest", "`q`"),
    ] {
        let (s, e) = w.get(path).unwrap();
        assert_eq!(s, 400, "{path}: {e}");
        assert!(
            e["error"]["message"].as_str().unwrap().contains(needle),
            "{path}: {e}"
        );
    }

    // Bad input on the new parameters: 400 naming the parameter.
    for (path, needle) in [
        ("/v1/recommendations?diversity=2", "diversity"),
        ("/v1/items/x/similar?diversity=-1", "diversity"),
        ("/v1/recommendations/buy-again?context=a", "context"),
        ("/v1/trending?diversity=lots", "diversity"),
    ] {
        let (s, e) = w.get(path).unwrap();
        assert_eq!(s, 400, "{path}: {e}");
        assert!(
            e["error"]["message"].as_str().unwrap().contains(needle),
            "{path}: {e}"
        );
    }
    let (s, e) = w
        .post(
            "/v1/cart/recommendations",
            json!({"items": [some_id], "diversity": 3}).to_string(),
        )
        .unwrap();
    assert_eq!(s, 400, "{e}");
    let (s, e) = w
        .post(
            "/v1/recommendations/batch",
            json!({"user_id": "ba-user", "user_token": tests::user_token("ba-user"), "widgets": [
                {"id": "again", "type": "buy_again", "k": 3},
                {"id": "home", "type": "for_you", "diversity": 0.5}
            ]})
            .to_string(),
        )
        .unwrap();
    assert_eq!(s, 200, "{e}");
    assert_eq!(e["widgets"][0]["items"][0]["id"], json!(ink), "{e}");
}

#[test]
fn public_keys_cors_allow_list_and_rate_limits() {
    let w = Worker::start_with(&[
        ("PUBLIC_KEYS", "pk_e2e"),
        ("CORS_ORIGINS", "https://shop.example"),
        ("RATE_LIMIT_PER_IP", "12"),
    ])
    .unwrap();
    let get = |headers: &[(&str, &str)], path: &str| w.send("GET", path, headers, None).unwrap();

    let r = get(&[], "/v1/trending");
    assert_eq!(
        (r.status, &r.body["error"]["code"]),
        (401, &json!("unauthorized"))
    );
    let r = get(&[("x-vitrine-key", "wrong")], "/v1/trending");
    assert_eq!(r.status, 401);
    // A valid key passes; with no model yet the answer is 503 with Retry-After.
    let r = get(&[("x-vitrine-key", "pk_e2e")], "/v1/trending");
    assert_eq!(
        (r.status, &r.body["error"]["code"]),
        (503, &json!("model_unavailable"))
    );
    assert!(r.header("retry-after").is_some());
    let r = get(&[], "/v1/trending?key=pk_e2e");
    assert_eq!(
        r.status, 503,
        "the key also works as a parameter (sendBeacon)"
    );
    // Health and the API description are open; admin routes refuse public keys.
    assert_eq!(get(&[], "/v1/health").status, 200);
    let r = get(&[("authorization", "Bearer pk_e2e")], "/v1/admin/lake");
    assert_eq!(
        (r.status, &r.body["error"]["code"]),
        (403, &json!("forbidden"))
    );
    let bearer = format!("Bearer {ADMIN_KEY}");
    assert_eq!(
        get(&[("authorization", &bearer)], "/v1/admin/lake").status,
        200
    );

    // CORS: only the listed origin is reflected; other origins' preflights are refused.
    let r = get(&[("origin", "https://shop.example")], "/v1/health");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    let r = get(&[("origin", "https://evil.example")], "/v1/health");
    assert_eq!(r.header("access-control-allow-origin"), None);
    let pre = |origin: &str| {
        w.send("OPTIONS", "/v1/events", &[("origin", origin)], None)
            .unwrap()
    };
    assert_eq!(pre("https://shop.example").status, 204);
    assert_eq!(pre("https://evil.example").status, 403);

    // Rate limit: the client's budget runs out with 429 and Retry-After.
    let mut limited = None;
    for i in 0..30 {
        let r = get(&[("x-vitrine-key", "pk_e2e")], "/v1/trending");
        if r.status == 429 {
            limited = Some((i, r));
            break;
        }
    }
    let (i, r) = limited.expect("no 429 within 30 requests at 12 per minute");
    assert!(i <= 12, "limited only after {i} more requests");
    assert_eq!(r.body["error"]["code"], "rate_limited", "{}", r.body);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
}

#[test]
fn openapi_document_is_valid_and_matches_the_router() {
    let w = Worker::start().unwrap();
    let r = w.send("GET", "/v1/openapi.json", &[], None).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body["openapi"].as_str().map(|v| &v[..2]), Some("3."));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, r.body.to_string()).unwrap();
    let root = tests::root();
    let out = tests::run(
        std::process::Command::new(tests::node())
            .current_dir(&root)
            .arg("scripts/validate-openapi.mjs")
            .arg(&file)
            .arg("--list"),
    )
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"valid\":true"), "{text}");
    let documented: BTreeSet<String> = text
        .lines()
        .filter(|l| !l.starts_with('{') && !l.trim().is_empty())
        .map(|l| l.trim().to_owned())
        .collect();
    let routed: BTreeSet<String> = shared::route::ENDPOINTS
        .iter()
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    assert_eq!(documented, routed, "documented vs routed operations differ");
}

#[test]
fn storefront_in_headless_chromium_reacts_to_clicks() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} is missing: scripts/setup.sh installs Debian's chromium"
    );
    let t = train_simulated(40_000, 600, 300).unwrap();
    let w = Worker::start().unwrap();
    w.publish(&t).unwrap();
    let root = tests::root();
    let out = tests::output(
        std::process::Command::new(tests::node())
            .current_dir(&root)
            .arg("tests/browser/storefront.mjs")
            .env("VITRINE_URL", &w.url)
            .env("CHROMIUM", &chromium),
    )
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser test failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- worker\n{}",
        w.log()
    );
    // The page's events reached the lake through the snippet, among them the search hit's click
    // with the search's serve id, and the search's serve record: the KPI tables join the two.
    let summary: Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_default();
    eprintln!("storefront: {summary}");
    let serve = summary["search"]["search_serve_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no search serve id in the summary: {stdout}"))
        .to_owned();
    let in_lake = |prefix: &str, needle: &str| {
        w.lake_texts(prefix)
            .ok()
            .is_some_and(|texts| texts.iter().any(|(_, t)| t.contains(needle)))
    };
    let click = format!("\"serve_id\":\"{serve}\"");
    wait_for(
        "the search click and the search's serve record in the lake",
        std::time::Duration::from_secs(30),
        || {
            (in_lake(shared::lake::RAW_EVENTS, &click) && in_lake(shared::lake::RAW_SERVES, &serve))
                .then_some(())
        },
    )
    .unwrap();
}

/// The snippet, the demo shop and the dashboard come from the worker itself (no asset router in
/// front of the API): the right types, an `ETag` a browser revalidates with a 304, folder pages
/// redirected to their slash, nothing but GET, and no key needed (the API's checks still apply
/// to `/v1/*`).
#[test]
fn static_files_come_from_the_worker_with_revalidation() {
    let w = Worker::start().unwrap();
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let root = tests::root();
    for (path, file, kind) in [
        ("/vitrine.js", "edge/assets/vitrine.js", "text/javascript"),
        ("/demo/", "edge/assets/demo/index.html", "text/html"),
        (
            "/demo/index.html",
            "edge/assets/demo/index.html",
            "text/html",
        ),
        ("/demo/app.js", "edge/assets/demo/app.js", "text/javascript"),
        ("/admin/", "edge/assets/admin/index.html", "text/html"),
        (
            "/admin/dashboard.css",
            "edge/assets/admin/dashboard.css",
            "text/css",
        ),
        (
            "/admin/vendor/chart.umd.min.js",
            "node_modules/chart.js/dist/chart.umd.min.js",
            "text/javascript",
        ),
    ] {
        let r = http.get(format!("{}{path}", w.url)).send().unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert!(header("content-type").starts_with(kind), "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        let etag = header("etag");
        assert!(etag.starts_with('"'), "{path}: etag {etag:?}");
        let body = r.bytes().unwrap();
        assert_eq!(
            body.as_ref(),
            std::fs::read(root.join(file)).unwrap(),
            "{path}"
        );
        let again = http
            .get(format!("{}{path}", w.url))
            .header("if-none-match", &etag)
            .send()
            .unwrap();
        assert_eq!(again.status().as_u16(), 304, "{path}");
        assert!(again.bytes().unwrap().is_empty(), "{path}");
        let stale = http
            .get(format!("{}{path}", w.url))
            .header("if-none-match", "\"0000000000000000\"")
            .send()
            .unwrap();
        assert_eq!(stale.status().as_u16(), 200, "{path}");
    }
    let snippet = http.get(format!("{}/vitrine.js", w.url)).send().unwrap();
    assert_eq!(
        snippet.headers()["cache-control"].to_str().unwrap(),
        "public, max-age=300"
    );
    for (dir, to) in [("/demo", "/demo/"), ("/admin", "/admin/")] {
        let r = http.get(format!("{}{dir}", w.url)).send().unwrap();
        assert_eq!(r.status().as_u16(), 307, "{dir}");
        assert_eq!(r.headers()["location"].to_str().unwrap(), to);
    }
    // Only GET and HEAD, and nothing outside the table: not the worker's own files.
    let put = w.send("PUT", "/vitrine.js", &[], Some("x".into())).unwrap();
    assert_eq!(put.status, 405);
    assert_eq!(put.body["error"]["code"], "method_not_allowed");
    for path in [
        "/wrangler.toml",
        "/edge/assets/vitrine.js",
        "/demo/missing.js",
        "/",
    ] {
        let (status, body) = w.get(path).unwrap();
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
}
