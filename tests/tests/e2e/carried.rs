//! The session the storefront carries (`session=v.0.sku,…`): an anonymous shopper's next answer
//! reflects the last click without a Durable Object read, and carrying a session never reads or
//! writes anyone else's state.

use std::collections::HashMap;

use serde_json::Value;
use tests::{Worker, now_ms, train_simulated};

use crate::common::{code, items_in, view};

fn ids(resp: &Value) -> Vec<String> {
    resp["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

fn share(resp: &Value, cats: &HashMap<String, String>, category: &str) -> usize {
    ids(resp)
        .iter()
        .filter(|i| cats.get(*i).map(String::as_str) == Some(category))
        .count()
}

#[test]
fn a_carried_session_personalises_without_a_stored_one_and_reads_no_one_elses() {
    let t = train_simulated(60_000, 800, 400).unwrap();
    let w = Worker::start().unwrap();
    w.publish(&t).unwrap();
    let cats = t.categories().unwrap();
    let laptop = "computers.notebook";
    let laptops = items_in(&cats, laptop);
    let session = laptops
        .iter()
        .take(3)
        .enumerate()
        .map(|(i, id)| format!("v.{}.{id}", 10 * i))
        .collect::<Vec<_>>()
        .join(",");

    // A shopper the edge has never heard of: no event was sent, yet the answer follows the
    // carried views.
    let fresh = tests::anon("carried-fresh");
    let (s, plain) = w
        .get(&format!("/v1/recommendations?anonymous_id={fresh}&k=10"))
        .unwrap();
    assert_eq!(s, 200, "{plain}");
    let (s, carried) = w
        .get(&format!(
            "/v1/recommendations?anonymous_id={fresh}&k=10&session={session}"
        ))
        .unwrap();
    assert_eq!(s, 200, "{carried}");
    assert!(
        share(&carried, &cats, laptop) >= 5
            && share(&carried, &cats, laptop) > share(&plain, &cats, laptop),
        "laptops: {} without, {} with the carried session: {carried}",
        share(&plain, &cats, laptop),
        share(&carried, &cats, laptop)
    );
    assert_eq!(
        carried["items"][0]["reason"]["kind"], "session",
        "{carried}"
    );

    // The attack: a victim with a stored history of other things; the attacker names the
    // victim's anonymous id and carries a session. The answer is exactly the one any stranger
    // carrying that session gets: nothing of the victim's history shows.
    let victim = tests::anon("carried-victim");
    let others: Vec<&String> = cats
        .iter()
        .filter(|(_, c)| *c != laptop)
        .map(|(id, _)| id)
        .take(5)
        .collect();
    let now = now_ms();
    let events: Vec<Value> = others
        .iter()
        .enumerate()
        .map(|(i, item)| view(&format!("victim-{i}"), &victim, item, now + i as i64))
        .collect();
    let (s, _) = w.post("/v1/events", tests::events_body(&events)).unwrap();
    assert_eq!(s, 202);
    let (_, victims_own) = w
        .get(&format!("/v1/recommendations?anonymous_id={victim}&k=10"))
        .unwrap();
    assert_ne!(
        ids(&victims_own),
        ids(&plain),
        "the victim's history shapes their own list"
    );
    let (s, attack) = w
        .get(&format!(
            "/v1/recommendations?anonymous_id={victim}&k=10&session={session}"
        ))
        .unwrap();
    assert_eq!(s, 200, "{attack}");
    assert_eq!(
        ids(&attack),
        ids(&carried),
        "the victim's stored history leaked into a carried-session answer"
    );
    // …and the victim's stored state is unchanged by it.
    let (_, still) = w
        .get(&format!("/v1/recommendations?anonymous_id={victim}&k=10"))
        .unwrap();
    assert_eq!(ids(&still), ids(&victims_own));

    // Search takes the same parameter.
    let (s, found) = w
        .get(&format!(
            "/v1/search?q=laptop&anonymous_id={fresh}&session={session}"
        ))
        .unwrap();
    assert_eq!(s, 200, "{found}");

    // Malformed or oversized sessions: a clear 400 naming the parameter.
    let too_many = vec!["v.1.x"; 31].join(",");
    for bad in [
        "x.0.sku",
        "v.-5.sku",
        "v.0.",
        "v.9999999999.sku",
        too_many.as_str(),
    ] {
        let (s, body) = w
            .get(&format!(
                "/v1/recommendations?anonymous_id={fresh}&session={bad}"
            ))
            .unwrap();
        assert_eq!(
            (s, code(&body)),
            (400, "invalid_parameter"),
            "{bad}: {body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("`session`"),
            "{body}"
        );
    }
    // In a batch body too.
    let (s, body) = w
        .post(
            "/v1/recommendations/batch",
            format!(
                r#"{{"anonymous_id": "{fresh}", "session": "v.0.{}", "widgets": [{{"id": "a", "type": "for_you", "k": 10}}]}}"#,
                laptops[0]
            ),
        )
        .unwrap();
    assert_eq!(s, 200, "{body}");
    let (s, body) = w
        .post(
            "/v1/recommendations/batch",
            format!(
                r#"{{"anonymous_id": "{fresh}", "session": "zz", "widgets": [{{"id": "a", "type": "for_you"}}]}}"#
            ),
        )
        .unwrap();
    assert_eq!(s, 400, "{body}");
}
