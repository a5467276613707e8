//! Real-time personalisation: the shopper's events go into their Durable Object on ingest, and
//! the very next recommendation request folds them in, with no retraining. A login merges the
//! anonymous history into the user.

use std::collections::HashMap;

use serde_json::{Value, json};
use tests::{Worker, now_ms, train_simulated};

use crate::common::{items_in, view};

fn share_in(resp: &Value, cats: &HashMap<String, String>, category: &str) -> usize {
    resp["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| cats.get(i["id"].as_str().unwrap()).map(String::as_str) == Some(category))
        .count()
}

/// Half the shoppers rank with the tuned blend, half see popular items (the control arm).
const AB_TEST: &str = "e2e:blend=1,popular=1";

/// The first `<prefix>-N` whose session key lands in `arm`.
fn shopper_in(arm: &str, prefix: &str, key: &str) -> String {
    let test = shared::ab::AbTest::parse(AB_TEST).unwrap().unwrap();
    (0..)
        .map(|i| tests::anon(&format!("{prefix}-{i}")))
        .find(|id| test.assign(&format!("{key}:{id}")).name == arm)
        .unwrap()
}

#[test]
fn the_request_after_three_laptop_views_is_laptop_heavy_and_widgets_filter() {
    let t = train_simulated(60_000, 800, 400).unwrap();
    let w = Worker::start_with(&[("AB_TEST", AB_TEST)]).unwrap();
    w.publish(&t).unwrap();

    let cats = t.categories().unwrap();
    let fresh = shopper_in("blend", "fresh", "a");
    let member = shopper_in("blend", "member", "u");
    let control = shopper_in("popular", "fresh", "a");
    let laptop = "computers.notebook";
    let (s, before) = w
        .get(&format!("/v1/recommendations?anonymous_id={fresh}&k=10"))
        .unwrap();
    assert_eq!(s, 200, "{before}");
    let laptops_before = share_in(&before, &cats, laptop);

    let laptops = items_in(&cats, laptop);
    let viewed: Vec<String> = laptops.iter().take(3).map(|s| (*s).clone()).collect();
    let t = now_ms();
    let events: Vec<Value> = viewed
        .iter()
        .enumerate()
        .map(|(i, item)| view(&format!("sess-v{i}"), &fresh, item, t + i as i64))
        .collect();
    let (s, body) = w.post("/v1/events", tests::events_body(&events)).unwrap();
    assert_eq!((s, body["accepted"].as_u64()), (202, Some(3)), "{body}");

    let (s, after) = w
        .get(&format!("/v1/recommendations?anonymous_id={fresh}&k=10"))
        .unwrap();
    assert_eq!(s, 200, "{after}");
    let laptops_after = share_in(&after, &cats, laptop);
    assert!(
        laptops_after >= 5 && laptops_after > laptops_before,
        "laptops in for-you: {laptops_before} before, {laptops_after} after the views: {after}"
    );
    assert_eq!(after["items"][0]["reason"]["kind"], "session", "{after}");
    let ids: Vec<&str> = after["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    // Viewed items may come back (the session model ranks returns to a product, about a third of
    // next clicks), but the page also brings laptops the shopper has not seen.
    let unseen_laptops = ids
        .iter()
        .filter(|i| !viewed.iter().any(|v| v == *i))
        .filter(|i| cats.get(**i).map(String::as_str) == Some(laptop))
        .count();
    assert!(unseen_laptops >= 3, "{after}");

    assert_eq!(after["variant"], "e2e:blend", "{after}");

    // The control arm sees popular items whatever it viewed, on every request.
    let events: Vec<Value> = viewed
        .iter()
        .enumerate()
        .map(|(i, item)| view(&format!("ctl-v{i}"), &control, item, t + i as i64))
        .collect();
    let (s, _) = w.post("/v1/events", tests::events_body(&events)).unwrap();
    assert_eq!(s, 202);
    for _ in 0..2 {
        let (s, ctl) = w
            .get(&format!("/v1/recommendations?anonymous_id={control}&k=10"))
            .unwrap();
        assert_eq!(
            (s, ctl["variant"].as_str()),
            (200, Some("e2e:popular")),
            "{ctl}"
        );
        assert!(
            ctl["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["reason"]["kind"] == "popular"),
            "{ctl}"
        );
    }

    // Login: the anonymous history now belongs to the user.
    let login = json!({"event_id": "sess-login", "type": "login", "user_id": member,
        "anonymous_id": fresh, "session_id": format!("s-{fresh}"), "timestamp": t + 10});
    let (s, body) = w.post("/v1/events", tests::events_body(&[login])).unwrap();
    assert_eq!(s, 202, "{body}");
    let (s, as_member) = w
        .get(&format!(
            "/v1/recommendations?{}&k=10",
            tests::as_user(&member)
        ))
        .unwrap();
    assert_eq!(s, 200, "{as_member}");
    assert!(share_in(&as_member, &cats, laptop) >= 5, "{as_member}");
    assert_eq!(
        as_member["items"][0]["reason"]["kind"], "session",
        "{as_member}"
    );

    // Filters hold on the personal list too: only that category, within the price range.
    let (s, filtered) = w
        .get(&format!(
            "/v1/recommendations?{}&k=10&category=electronics&max_price=300",
            tests::as_user(&member)
        ))
        .unwrap();
    assert_eq!(s, 200, "{filtered}");
    for item in filtered["items"].as_array().unwrap() {
        assert!(
            item["category"]
                .as_str()
                .unwrap()
                .starts_with("electronics."),
            "{item}"
        );
        assert!(item["price"].as_f64().unwrap() <= 300.0, "{item}");
    }

    // The other widgets answer from the same model.
    let (s, trending) = w
        .get(&format!("/v1/trending?category={laptop}&k=5"))
        .unwrap();
    assert_eq!(s, 200, "{trending}");
    assert_eq!(share_in(&trending, &cats, laptop), 5, "{trending}");
    assert_eq!(
        trending["items"][0]["reason"]["kind"], "trending",
        "{trending}"
    );
    let (s, together) = w
        .get(&format!("/v1/items/{}/bought-together?k=5", viewed[0]))
        .unwrap();
    assert_eq!(s, 200, "{together}");
    assert_eq!(together["items"].as_array().unwrap().len(), 5, "{together}");
    let cart = json!({"items": [viewed[0]], "k": 4, "user_id": member,
        "user_token": tests::user_token(&member)});
    let (s, completed) = w
        .post("/v1/cart/recommendations", cart.to_string())
        .unwrap();
    assert_eq!(s, 200, "{completed}");
    let ids: Vec<&str> = completed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 4, "{completed}");
    assert!(!ids.contains(&viewed[0].as_str()), "{completed}");

    // A whole page in one call: the session is read once, every widget answered.
    let page = json!({"user_id": member, "user_token": tests::user_token(&member), "widgets": [
        {"id": "home", "type": "for_you", "k": 6},
        {"id": "pdp-similar", "type": "similar", "item_id": viewed[0], "k": 3},
        {"id": "pdp-together", "type": "bought_together", "item_id": viewed[0], "k": 3},
        {"id": "cart", "type": "cart", "items": [viewed[1]], "k": 3},
        {"id": "top-laptops", "type": "trending", "category": laptop, "k": 3}
    ]});
    let (s, batch) = w
        .post("/v1/recommendations/batch", page.to_string())
        .unwrap();
    assert_eq!(s, 200, "{batch}");
    assert_eq!(batch["variant"], "e2e:blend", "{batch}");
    let widgets = batch["widgets"].as_array().unwrap();
    let names: Vec<&str> = widgets.iter().map(|w| w["id"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["home", "pdp-similar", "pdp-together", "cart", "top-laptops"]
    );
    assert!(share_in(&widgets[0], &cats, laptop) >= 3, "{batch}");
    assert_eq!(share_in(&widgets[4], &cats, laptop), 3, "{batch}");
    let bad = json!({"widgets": [{"id": "x", "type": "similar", "item_id": "no-such"}]});
    let (s, body) = w
        .post("/v1/recommendations/batch", bad.to_string())
        .unwrap();
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (404, Some("item_not_found")),
        "{body}"
    );

    // Bad input names the parameter.
    for (path, code) in [
        ("/v1/trending?min_price=9&max_price=1", "invalid_parameter"),
        ("/v1/recommendations?in_stock=maybe", "invalid_parameter"),
        ("/v1/items/no-such/bought-together", "item_not_found"),
        ("/v1/trending?sort=price", "unknown_parameter"),
    ] {
        let (s, body) = w.get(path).unwrap();
        assert_eq!(body["error"]["code"], code, "{path}: {s} {body}");
    }
    let (s, body) = w
        .post("/v1/cart/recommendations", r#"{"items": []}"#)
        .unwrap();
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (400, Some("invalid_parameter"))
    );
}
