//! Every KPI table against a brute-force count from the raw NDJSON of a small fixture: a
//! simulated shop plus hand-made recommendation and search traffic (serves, clicks, carts, an
//! attributed purchase, one outside the attribution window, a duplicate and a late event).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use arrow_array::{Array, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use chrono::{DateTime, Datelike, Duration};
use serde_json::{Value, json};
use shared::Event;
use shared::ingest::Serve;

use super::*;
use crate::lake::simulate::{SimParams, simulate};

/// Midnight UTC, as the CLI's simulations end (raw partitions are then event dates).
const END: i64 = 1_789_948_800_000;
const DAY: i64 = 86_400_000;

fn date(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

#[derive(Debug, Clone, PartialEq)]
enum Cell {
    S(String),
    N(f64),
    Null,
}

type Row = BTreeMap<String, Cell>;

/// Views, carts, order ids, units, revenue of one product on one day.
type Perf = (f64, f64, BTreeSet<String>, f64, f64);

/// A Parquet object's rows, every column as text or number (and `dt` from the key).
async fn rows(lake: &Lake, key: &str) -> Vec<Row> {
    let mut batches: Vec<RecordBatch> = Vec::new();
    crate::lake::parquet_io::for_each_batch(lake, key, &[], |b| {
        batches.push(b);
        Ok(())
    })
    .await
    .unwrap();
    let dt = key.split('/').find_map(|p| p.strip_prefix("dt="));
    let mut out = Vec::new();
    for b in &batches {
        for r in 0..b.num_rows() {
            let mut row = Row::new();
            if let Some(dt) = dt {
                row.insert("dt".into(), Cell::S(dt.to_owned()));
            }
            for (f, c) in b.schema().fields().iter().zip(b.columns()) {
                let any = c.as_any();
                let cell = if c.is_null(r) {
                    Cell::Null
                } else if let Some(a) = any.downcast_ref::<StringArray>() {
                    Cell::S(a.value(r).to_owned())
                } else if let Some(a) = any.downcast_ref::<Int64Array>() {
                    Cell::N(a.value(r) as f64)
                } else if let Some(a) = any.downcast_ref::<Float64Array>() {
                    Cell::N(a.value(r))
                } else if let Some(a) = any.downcast_ref::<Date32Array>() {
                    Cell::N(f64::from(a.value(r)))
                } else {
                    continue;
                };
                row.insert(f.name().clone(), cell);
            }
            out.push(row);
        }
    }
    out
}

/// All rows of a table (every partition).
async fn table(lake: &Lake, name: &str) -> Vec<Row> {
    let mut out = Vec::new();
    for (key, _) in lake
        .list(&shared::lake::kpi_table_prefix(name))
        .await
        .unwrap()
    {
        out.extend(rows(lake, &key).await);
    }
    out
}

fn s(row: &Row, k: &str) -> String {
    match row.get(k) {
        Some(Cell::S(v)) => v.clone(),
        Some(Cell::N(v)) => v.to_string(),
        _ => String::new(),
    }
}

fn n(row: &Row, k: &str) -> f64 {
    match row.get(k) {
        Some(Cell::N(v)) => *v,
        _ => 0.0,
    }
}

/// `got` keyed by `keys` must equal `want` (numbers within 1e-9 relative).
fn same(name: &str, got: &[Row], keys: &[&str], want: &BTreeMap<Vec<String>, Vec<(&str, f64)>>) {
    let mut by_key: BTreeMap<Vec<String>, &Row> = BTreeMap::new();
    for r in got {
        let k = keys.iter().map(|k| s(r, k)).collect();
        assert!(by_key.insert(k, r).is_none(), "{name}: duplicate key");
    }
    assert_eq!(
        by_key.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{name}: keys"
    );
    for (k, values) in want {
        for (col, v) in values {
            if v.is_nan() {
                // An undefined rate (no denominator) is NULL, not a number.
                assert_eq!(by_key[k].get(*col), Some(&Cell::Null), "{name} {k:?} {col}");
                continue;
            }
            let g = n(by_key[k], col);
            assert!(
                (g - v).abs() <= 1e-9 * v.abs().max(1.0),
                "{name} {k:?} {col}: got {g}, want {v}"
            );
        }
    }
}

fn ev(id: &str, t: &str, who: &str, ts: i64, extra: Value) -> String {
    let mut e = json!({"event_id": id, "type": t, "anonymous_id": who, "session_id": format!("s-{who}"), "timestamp": ts});
    if let (Some(e), Some(x)) = (e.as_object_mut(), extra.as_object()) {
        e.extend(x.clone());
    }
    e.to_string()
}

fn serve(
    id: &str,
    placement: &str,
    variant: &str,
    ts: i64,
    items: &[&str],
    q: Option<(&str, usize)>,
) -> String {
    serde_json::to_string(&Serve {
        serve_id: id.into(),
        timestamp: ts,
        placement: placement.into(),
        variant: variant.into(),
        model_version: "m1".into(),
        user_id: None,
        anonymous_id: Some("kpi-a".into()),
        item_id: None,
        items: items.iter().map(|i| (*i).to_owned()).collect(),
        took_ms: 1.0,
        query: q.map(|q| q.0.to_owned()),
        total: q.map(|q| q.1),
    })
    .unwrap()
}

/// The fixture lake: simulated shop + hand-made recommendation and search traffic.
async fn fixture() -> Lake {
    let lake = Lake::open("memory://").unwrap();
    simulate(
        &lake,
        &SimParams {
            events: 6_000,
            users: 300,
            items: 150,
            days: 5,
            seed: 9,
            end_ms: END,
        },
    )
    .await
    .unwrap();
    let t0 = END - 2 * DAY + 3_600_000;
    let (i1, i2, i3) = ("100001", "100002", "100003");
    let serves = [
        serve("srv-1", "home_for_you", "ab:x", t0, &[i1, i2, i3], None),
        serve("srv-2", "pdp_similar", "ab:y", t0 + 1_000, &[i2], None),
        serve("srv-3", "home_for_you", "ab:y", t0 + 2_000, &[i3, i1], None),
        serve(
            "srv-s1",
            "search",
            "default",
            t0 + 3_000,
            &[i1],
            Some(("Galaxy ", 5)),
        ),
        serve(
            "srv-s2",
            "search",
            "default",
            t0 + 4_000,
            &[],
            Some(("galaxy", 0)),
        ),
        serve(
            "srv-s3",
            "search",
            "default",
            t0 + 5_000,
            &[],
            Some(("zzz", 0)),
        ),
    ];
    lake.put(
        &format!("raw/serves/dt={}/b1.ndjson", date(t0)),
        serves.join("\n"),
    )
    .await
    .unwrap();
    let line = |item: &str, q: u32, p: f64| json!({"item_id": item, "quantity": q, "price": p, "currency": "EUR"});
    let click = ev(
        "k1",
        "rec_click",
        "kpi-a",
        t0 + 10_000,
        json!({"item_id": i1, "serve_id": "srv-1"}),
    );
    let events = [
        click.clone(),
        click, // a redelivery: counted once
        ev(
            "k2",
            "add_to_cart",
            "kpi-a",
            t0 + 20_000,
            json!({"item_id": i1, "quantity": 2, "serve_id": "srv-1"}),
        ),
        ev(
            "k3",
            "rec_click",
            "kpi-a",
            t0 + 30_000,
            json!({"item_id": i1, "serve_id": "srv-3"}),
        ),
        ev(
            "k4",
            "purchase",
            "kpi-a",
            t0 + 3_600_000,
            json!({"order_id": "o-k4", "lines": [line(i1, 2, 10.0), line(i2, 1, 5.0)]}),
        ),
        ev(
            "k5",
            "rec_click",
            "kpi-a",
            t0 + 7_200_000,
            json!({"item_id": i2, "serve_id": "srv-2"}),
        ),
        ev(
            "k6",
            "view",
            "kpi-a",
            t0 + 3_100,
            json!({"item_id": i1, "serve_id": "srv-s1", "placement": "search"}),
        ),
        // Bought 8 days after the click: outside the attribution window.
        ev(
            "k7",
            "rec_click",
            "kpi-b",
            t0 - 8 * DAY / 2,
            json!({"item_id": i3, "serve_id": "srv-3"}),
        ),
        ev(
            "k8",
            "purchase",
            "kpi-b",
            t0 + 4 * DAY,
            json!({"order_id": "o-k8", "lines": [line(i3, 1, 99.5)]}),
        ),
        // Accepted the next day.
        ev(
            "k9",
            "view",
            "kpi-c",
            t0,
            json!({"item_id": i2, "received_at": t0 + DAY}),
        ),
    ];
    // Raw files are partitioned by event date, as the edge writes them.
    let mut by_day: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in events {
        let ts = serde_json::from_str::<Value>(&e).unwrap()["timestamp"]
            .as_i64()
            .unwrap();
        by_day.entry(date(ts)).or_default().push(e);
    }
    for (d, lines) in by_day {
        lake.put(&format!("raw/events/dt={d}/extra.ndjson"), lines.join("\n"))
            .await
            .unwrap();
    }
    crate::lake::compact::compact(&lake).await.unwrap();
    lake
}

async fn raw_events(lake: &Lake) -> Vec<Event> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (key, _) in lake.list("raw/events/").await.unwrap() {
        let bytes = lake.get(&key).await.unwrap();
        for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let e: Event = serde_json::from_slice(line).unwrap();
            if seen.insert(e.event_id.clone()) {
                out.push(e);
            }
        }
    }
    out
}

#[tokio::test]
async fn every_kpi_equals_a_brute_force_count_of_the_raw_events() {
    let lake = fixture().await;
    let report = run(&lake, &KpiOptions::default()).await.unwrap();
    // The late purchase (k8) leaves two empty days between the shop's last day and its own.
    assert_eq!(report.notes.len(), 2, "{:?}", report.notes);
    let events = raw_events(&lake).await;
    let products: HashMap<String, crate::lake::products::Product> = lake
        .get("raw/products/simulated.ndjson")
        .await
        .unwrap()
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice::<crate::lake::products::Product>(l).unwrap())
        .map(|p| (p.id.clone(), p))
        .collect();
    let of = |item: &str| -> (String, String) {
        products
            .get(item)
            .map_or(("unknown".into(), "unknown".into()), |p| {
                let or = |v: &str| {
                    if v.is_empty() {
                        "unknown".to_owned()
                    } else {
                        v.to_owned()
                    }
                };
                (or(&p.category), or(&p.brand))
            })
    };
    let shopper = |e: &Event| {
        e.user_id
            .clone()
            .or_else(|| e.anonymous_id.clone())
            .unwrap_or_default()
    };

    // daily_sales
    let mut sales: BTreeMap<Vec<String>, (f64, BTreeSet<String>, f64)> = BTreeMap::new();
    for e in events
        .iter()
        .filter(|e| e.event_type.as_str() == "purchase")
    {
        let d = date(e.timestamp);
        for l in &e.lines {
            let (c, b) = of(&l.item_id);
            let rev = l.price * f64::from(l.quantity);
            for key in [
                vec![d.clone(), "total".into(), String::new(), String::new()],
                vec![d.clone(), "category".into(), c.clone(), String::new()],
                vec![d.clone(), "brand".into(), c.clone(), b.clone()],
            ] {
                let x = sales.entry(key).or_default();
                x.0 += rev;
                x.1.insert(e.order_id.clone().unwrap_or_default());
                x.2 += f64::from(l.quantity);
            }
        }
    }
    let want = sales
        .into_iter()
        .map(|(k, (rev, orders, units))| {
            let o = orders.len() as f64;
            (
                k,
                vec![
                    ("revenue", rev),
                    ("orders", o),
                    ("units", units),
                    ("aov", rev / o),
                ],
            )
        })
        .collect();
    same(
        "daily_sales",
        &table(&lake, "daily_sales").await,
        &["dt", "level", "category", "brand"],
        &want,
    );

    // funnel
    let mut sessions: BTreeMap<(String, String), [bool; 3]> = BTreeMap::new();
    for e in &events {
        let f = sessions
            .entry((date(e.timestamp), e.session_id.clone()))
            .or_default();
        match e.event_type.as_str() {
            "view" => f[0] = true,
            "add_to_cart" => f[1] = true,
            "purchase" => f[2] = true,
            _ => {}
        }
    }
    let mut funnel: BTreeMap<Vec<String>, [f64; 5]> = BTreeMap::new();
    for ((d, _), f) in sessions {
        let x = funnel.entry(vec![d]).or_default();
        x[0] += 1.0;
        x[1] += f64::from(u8::from(f[0]));
        x[2] += f64::from(u8::from(f[1]));
        x[3] += f64::from(u8::from(f[2]));
        x[4] += f64::from(u8::from(f[1] && f[2]));
    }
    let want = funnel
        .into_iter()
        .map(|(k, x)| {
            (
                k,
                vec![
                    ("sessions", x[0]),
                    ("view_sessions", x[1]),
                    ("cart_sessions", x[2]),
                    ("purchase_sessions", x[3]),
                    ("cart_purchase_sessions", x[4]),
                    ("conversion_rate", x[3] / x[0]),
                    ("cart_abandonment_rate", 1.0 - x[4] / x[2]),
                ],
            )
        })
        .collect();
    same("funnel", &table(&lake, "funnel").await, &["dt"], &want);

    // product_performance
    let mut perf: BTreeMap<Vec<String>, Perf> = BTreeMap::new();
    for e in &events {
        let d = date(e.timestamp);
        match (e.event_type.as_str(), &e.item_id) {
            ("view", Some(i)) => perf.entry(vec![d, i.clone()]).or_default().0 += 1.0,
            ("add_to_cart", Some(i)) => perf.entry(vec![d, i.clone()]).or_default().1 += 1.0,
            ("purchase", _) => {
                for l in &e.lines {
                    let x = perf.entry(vec![d.clone(), l.item_id.clone()]).or_default();
                    x.2.insert(e.order_id.clone().unwrap_or_default());
                    x.3 += f64::from(l.quantity);
                    x.4 += l.price * f64::from(l.quantity);
                }
            }
            _ => {
                if let Some(i) = &e.item_id {
                    perf.entry(vec![d, i.clone()]).or_default();
                }
            }
        }
    }
    let want = perf
        .into_iter()
        .map(|(k, x)| {
            (
                k,
                vec![
                    ("views", x.0),
                    ("carts", x.1),
                    ("orders", x.2.len() as f64),
                    ("units", x.3),
                    ("revenue", x.4),
                ],
            )
        })
        .collect();
    same(
        "product_performance",
        &table(&lake, "product_performance").await,
        &["dt", "item_id"],
        &want,
    );

    // search_analytics and recommendation_performance, from the serve records
    let mut serves: Vec<(String, Serve)> = Vec::new();
    for (key, _) in lake.list("raw/serves/").await.unwrap() {
        let d = key
            .split('/')
            .find_map(|p| p.strip_prefix("dt="))
            .unwrap()
            .to_owned();
        for l in lake
            .get(&key)
            .await
            .unwrap()
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
        {
            serves.push((d.clone(), serde_json::from_slice(l).unwrap()));
        }
    }
    let followed: HashSet<&str> = events
        .iter()
        .filter(|e| matches!(e.event_type.as_str(), "view" | "rec_click" | "add_to_cart"))
        .filter_map(|e| e.serve_id.as_deref())
        .collect();
    let mut search: BTreeMap<Vec<String>, [f64; 5]> = BTreeMap::new();
    let who = |s: &Serve| s.user_id.clone().or_else(|| s.anonymous_id.clone());
    let mut searches: Vec<&(String, Serve)> = serves
        .iter()
        .filter(|(_, s)| s.placement == "search" && s.query.is_some())
        .collect();
    searches.sort_by(|a, b| {
        (who(&a.1), a.1.timestamp, &a.1.serve_id).cmp(&(who(&b.1), b.1.timestamp, &b.1.serve_id))
    });
    for (i, (d, sv)) in searches.iter().map(|x| (&x.0, &x.1)).enumerate() {
        let next = searches
            .get(i + 1)
            .filter(|n| who(&n.1) == who(sv))
            .map(|n| n.1.timestamp);
        let clicked = followed.contains(sv.serve_id.as_str());
        let refined = !clicked && next.is_some_and(|t| t - sv.timestamp <= queries::REFINE_MS);
        let x = search
            .entry(vec![
                d.clone(),
                sv.query.clone().unwrap_or_default().trim().to_lowercase(),
            ])
            .or_default();
        x[0] += 1.0;
        x[1] += f64::from(u8::from(sv.total == Some(0)));
        x[2] += f64::from(u8::from(clicked));
        x[3] += f64::from(u8::from(refined));
        x[4] += f64::from(u8::from(!clicked && !refined));
    }
    let want = search
        .into_iter()
        .map(|(k, x)| {
            (
                k,
                vec![
                    ("searches", x[0]),
                    ("zero_results", x[1]),
                    ("clicked_searches", x[2]),
                    ("ctr", x[2] / x[0]),
                    ("refined_searches", x[3]),
                    ("abandoned_searches", x[4]),
                ],
            )
        })
        .collect();
    same(
        "search_analytics",
        &table(&lake, "search_analytics").await,
        &["dt", "query"],
        &want,
    );

    let clicks: Vec<&Event> = events
        .iter()
        .filter(|e| e.event_type.as_str() == "rec_click")
        .collect();
    let mut credited: HashMap<&str, f64> = HashMap::new();
    for p in events
        .iter()
        .filter(|e| e.event_type.as_str() == "purchase")
    {
        for l in &p.lines {
            let last = clicks
                .iter()
                .filter(|c| {
                    shopper(c) == shopper(p) && c.item_id.as_deref() == Some(l.item_id.as_str())
                })
                .filter(|c| c.timestamp <= p.timestamp && p.timestamp < c.timestamp + 7 * DAY)
                .max_by_key(|c| c.timestamp);
            if let Some(c) = last.and_then(|c| c.serve_id.as_deref()) {
                *credited.entry(c).or_default() += l.price * f64::from(l.quantity);
            }
        }
    }
    assert_eq!(
        credited.get("srv-3"),
        Some(&20.0),
        "the latest click wins; k8 is out of window"
    );
    let mut recs: BTreeMap<Vec<String>, [f64; 5]> = BTreeMap::new();
    for (d, sv) in serves.iter().filter(|(_, s)| s.placement != "search") {
        let of_type = |t: &str| {
            events
                .iter()
                .filter(|e| {
                    e.event_type.as_str() == t
                        && e.serve_id.as_deref() == Some(sv.serve_id.as_str())
                })
                .count() as f64
        };
        let x = recs
            .entry(vec![
                d.clone(),
                sv.placement.clone(),
                sv.model_version.clone(),
                sv.variant.clone(),
            ])
            .or_default();
        x[0] += 1.0;
        x[1] += sv.items.len() as f64;
        x[2] += of_type("rec_click");
        x[3] += of_type("add_to_cart");
        x[4] += credited.get(sv.serve_id.as_str()).copied().unwrap_or(0.0);
    }
    let want = recs
        .into_iter()
        .map(|(k, x)| {
            (
                k,
                vec![
                    ("serves", x[0]),
                    ("impressions", x[1]),
                    ("clicks", x[2]),
                    ("add_to_carts", x[3]),
                    ("attributed_revenue", x[4]),
                ],
            )
        })
        .collect();
    same(
        "recommendation_performance",
        &table(&lake, "recommendation_performance").await,
        &["dt", "placement", "model_version", "variant"],
        &want,
    );

    // cohorts: weeks start on Monday (UTC)
    let monday = |ms: i64| {
        let d = DateTime::from_timestamp_millis(ms)
            .unwrap_or_default()
            .date_naive();
        d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
    };
    let mut weeks: BTreeMap<String, BTreeSet<NaiveDate>> = BTreeMap::new();
    for e in &events {
        weeks
            .entry(shopper(e))
            .or_default()
            .insert(monday(e.timestamp));
    }
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    let mut cohorts: BTreeMap<Vec<String>, (f64, f64)> = BTreeMap::new();
    let mut sizes: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    for w in weeks.values() {
        *sizes.entry(*w.first().unwrap()).or_default() += 1.0;
    }
    for w in weeks.values() {
        let first = *w.first().unwrap();
        for week in w {
            let k = vec![
                ((first - epoch).num_days() as f64).to_string(),
                ((*week - first).num_days() / 7).to_string(),
            ];
            let x = cohorts.entry(k).or_default();
            x.0 = sizes[&first];
            x.1 += 1.0;
        }
    }
    let want = cohorts
        .into_iter()
        .map(|(k, x)| {
            (
                k,
                vec![
                    ("cohort_size", x.0),
                    ("active_shoppers", x.1),
                    ("retention", x.1 / x.0),
                ],
            )
        })
        .collect();
    same(
        "cohorts",
        &table(&lake, "cohorts").await,
        &["cohort_week", "week_offset"],
        &want,
    );

    // customer_segments: every buyer once, with their orders and revenue; forecasts: 14 days for
    // every category that sold.
    let mut buyers: BTreeMap<Vec<String>, (BTreeSet<String>, f64)> = BTreeMap::new();
    let mut categories = BTreeSet::new();
    for e in events
        .iter()
        .filter(|e| e.event_type.as_str() == "purchase")
    {
        let x = buyers.entry(vec![shopper(e)]).or_default();
        x.0.insert(e.order_id.clone().unwrap_or_default());
        for l in &e.lines {
            x.1 += l.price * f64::from(l.quantity);
            categories.insert(of(&l.item_id).0);
        }
    }
    let want = buyers
        .into_iter()
        .map(|(k, x)| (k, vec![("orders", x.0.len() as f64), ("revenue", x.1)]))
        .collect();
    let segs = table(&lake, "customer_segments").await;
    same("customer_segments", &segs, &["shopper"], &want);
    assert!(segs.iter().all(|r| !s(r, "segment").is_empty()));
    let fc = table(&lake, "forecasts").await;
    assert_eq!(fc.len(), categories.len() * crate::bi::forecast::HORIZON);
    assert!(fc.iter().all(|r| n(r, "units") >= 0.0));

    // data_quality: the late event and the duplicate on the fixture's day
    let dq = table(&lake, "data_quality").await;
    let day = dq
        .iter()
        .find(|r| s(r, "dt") == date(END - 2 * DAY + 3_600_000))
        .unwrap();
    assert_eq!(
        (n(day, "late_events"), n(day, "duplicates_removed")),
        (1.0, 1.0),
        "{day:?}"
    );
}

#[tokio::test]
async fn rerunning_a_day_replaces_it_and_a_missing_day_is_empty_with_a_note() {
    let lake = fixture().await;
    run(&lake, &KpiOptions::default()).await.unwrap();
    let d = date(END - DAY);
    let key = shared::lake::kpi_partition_key("daily_sales", &d);
    let before = lake.get(&key).await.unwrap();
    let other = shared::lake::kpi_partition_key("funnel", &date(END - 3 * DAY));
    let other_before = lake.get(&other).await.unwrap();
    let one_day = KpiOptions {
        from: Some(d.clone()),
        to: Some(d.clone()),
        now_ms: 5,
        last_days: None,
        ..KpiOptions::default()
    };
    let r = run(&lake, &one_day).await.unwrap();
    assert_eq!(r.days, 1);
    assert_eq!(
        lake.get(&key).await.unwrap(),
        before,
        "same input, same bytes"
    );
    assert_eq!(
        lake.get(&other).await.unwrap(),
        other_before,
        "other days untouched"
    );
    // A day after the data: zero rows everywhere and a note, not a failure.
    let empty = date(END + 3 * DAY);
    let r = run(
        &lake,
        &KpiOptions {
            from: Some(empty.clone()),
            to: Some(empty.clone()),
            now_ms: 5,
            last_days: None,
            ..KpiOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
    assert!(
        rows(
            &lake,
            &shared::lake::kpi_partition_key("daily_sales", &empty)
        )
        .await
        .is_empty()
    );
    let dq = rows(
        &lake,
        &shared::lake::kpi_partition_key("data_quality", &empty),
    )
    .await;
    assert!(s(&dq[0], "note").contains("no events"), "{dq:?}");
    // The nightly window: the last 3 days with events only.
    let nightly = KpiOptions {
        last_days: Some(3),
        ..KpiOptions::default()
    };
    assert_eq!(run(&lake, &nightly).await.unwrap().days, 3);
    for (from, to) in [("2026-13-01", "2026-13-02"), ("2026-09-10", "2026-09-01")] {
        let bad = KpiOptions {
            from: Some(from.into()),
            to: Some(to.into()),
            now_ms: 0,
            last_days: None,
            ..KpiOptions::default()
        };
        assert!(run(&lake, &bad).await.is_err());
    }
}
