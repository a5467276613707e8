//! The KPI tables as SQL over the lake's tables (`events`, `products`, `serves`), run by
//! DataFusion. Each daily query returns a `dt` column (the Hive partition it is written to) and is
//! ordered by every key column, so equal input writes equal files. `{days}` is replaced by the SQL
//! condition selecting the run's days. Definitions are documented in `docs/lake.md`.

/// Purchase lines: one row per line of a purchase event, with the shopper and unit price × units.
const LINES: &str = "
    purchase_events AS (
        SELECT dt, event_id, order_id, ts, COALESCE(user_id, anonymous_id) AS shopper,
               unnest(lines) AS line
        FROM events WHERE event_type = 'purchase'
    ),
    purchase_lines AS (
        SELECT dt, event_id, order_id, ts, shopper,
               line['item_id'] AS item_id,
               CAST(line['quantity'] AS BIGINT) AS units,
               line['price'] * CAST(line['quantity'] AS DOUBLE) AS revenue
        FROM purchase_events
    )";

/// A KPI table: its name (`tables/kpi/<name>/`) and query.
pub struct Kpi {
    pub name: &'static str,
    /// Daily tables are written per `dt` partition; the others replace one file.
    pub daily: bool,
    pub sql: fn() -> String,
}

pub const TABLES: &[Kpi] = &[
    Kpi {
        name: "daily_sales",
        daily: true,
        sql: daily_sales,
    },
    Kpi {
        name: "funnel",
        daily: true,
        sql: funnel,
    },
    Kpi {
        name: "product_performance",
        daily: true,
        sql: product_performance,
    },
    Kpi {
        name: "search_analytics",
        daily: true,
        sql: search_analytics,
    },
    Kpi {
        name: "recommendation_performance",
        daily: true,
        sql: recommendation_performance,
    },
    Kpi {
        name: "cohorts",
        daily: false,
        sql: cohorts,
    },
];

/// Revenue, orders, units and average order value per day: the day's total (`level` `total`), per
/// category (`category`) and per category and brand (`brand`). Orders are distinct order ids, so
/// an order spanning two categories counts once in the total and once in each category.
fn daily_sales() -> String {
    format!(
        "WITH {LINES},
        sales AS (
            SELECT l.dt, l.order_id, l.units, l.revenue,
                   COALESCE(NULLIF(p.category, ''), 'unknown') AS category,
                   COALESCE(NULLIF(p.brand, ''), 'unknown') AS brand
            FROM purchase_lines l LEFT JOIN products p ON p.id = l.item_id
            WHERE {{days}}
        ),
        levels AS (
            SELECT dt, 'total' AS level, '' AS category, '' AS brand,
                   SUM(revenue) AS revenue, COUNT(DISTINCT order_id) AS orders, SUM(units) AS units
            FROM sales GROUP BY dt
            UNION ALL
            SELECT dt, 'category', category, '',
                   SUM(revenue), COUNT(DISTINCT order_id), SUM(units)
            FROM sales GROUP BY dt, category
            UNION ALL
            SELECT dt, 'brand', category, brand,
                   SUM(revenue), COUNT(DISTINCT order_id), SUM(units)
            FROM sales GROUP BY dt, category, brand
        )
        SELECT dt, level, category, brand, revenue, orders, units,
               revenue / CAST(orders AS DOUBLE) AS aov
        FROM levels ORDER BY dt, level, category, brand"
    )
}

/// Sessions → sessions with a view → with an add-to-cart → with a purchase, per day (a session
/// active on two days counts on both), with conversion and cart-abandonment rates.
fn funnel() -> String {
    "WITH s AS (
        SELECT dt, session_id,
               MAX(CASE WHEN event_type = 'view' THEN 1 ELSE 0 END) AS viewed,
               MAX(CASE WHEN event_type = 'add_to_cart' THEN 1 ELSE 0 END) AS carted,
               MAX(CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END) AS bought
        FROM events WHERE {days} GROUP BY dt, session_id
    )
    SELECT dt,
           COUNT(*) AS sessions,
           SUM(viewed) AS view_sessions,
           SUM(carted) AS cart_sessions,
           SUM(bought) AS purchase_sessions,
           SUM(carted * bought) AS cart_purchase_sessions,
           CAST(SUM(bought) AS DOUBLE) / COUNT(*) AS conversion_rate,
           CAST(SUM(carted) AS DOUBLE) / NULLIF(SUM(viewed), 0) AS view_to_cart_rate,
           CAST(SUM(carted * bought) AS DOUBLE) / NULLIF(SUM(carted), 0) AS cart_to_purchase_rate,
           1.0 - CAST(SUM(carted * bought) AS DOUBLE) / NULLIF(SUM(carted), 0)
               AS cart_abandonment_rate
    FROM s GROUP BY dt ORDER BY dt"
        .to_owned()
}

/// Per day and product: views, add-to-cart events, orders, units, revenue, and orders per view.
fn product_performance() -> String {
    format!(
        "WITH {LINES},
        seen AS (
            SELECT dt, item_id,
                   SUM(CASE WHEN event_type = 'view' THEN 1 ELSE 0 END) AS views,
                   SUM(CASE WHEN event_type = 'add_to_cart' THEN 1 ELSE 0 END) AS carts
            FROM events WHERE item_id IS NOT NULL AND {{days}} GROUP BY dt, item_id
        ),
        sold AS (
            SELECT dt, item_id, COUNT(DISTINCT order_id) AS orders, SUM(units) AS units,
                   SUM(revenue) AS revenue
            FROM purchase_lines WHERE {{days}} GROUP BY dt, item_id
        ),
        both_ AS (
            SELECT COALESCE(seen.dt, sold.dt) AS dt, COALESCE(seen.item_id, sold.item_id) AS item_id,
                   COALESCE(views, 0) AS views, COALESCE(carts, 0) AS carts,
                   COALESCE(orders, 0) AS orders, COALESCE(units, 0) AS units,
                   COALESCE(revenue, 0.0) AS revenue
            FROM seen FULL OUTER JOIN sold ON seen.dt = sold.dt AND seen.item_id = sold.item_id
        )
        SELECT b.dt, b.item_id, COALESCE(p.title, '') AS title,
               COALESCE(NULLIF(p.category, ''), 'unknown') AS category,
               COALESCE(NULLIF(p.brand, ''), 'unknown') AS brand,
               b.views, b.carts, b.orders, b.units, b.revenue,
               CAST(b.orders AS DOUBLE) / NULLIF(b.views, 0) AS conversion_rate
        FROM both_ b LEFT JOIN products p ON p.id = b.item_id
        ORDER BY b.dt, b.item_id"
    )
}

/// Per day and normalised query (lowercase, trimmed): searches served by the edge, how many found
/// nothing, how many were followed by a click (an event carrying the search's serve id), the
/// click-through rate, and where the others went: *refined* (no click, and the same shopper
/// searched again within [`REFINE_MS`]) or *abandoned* (no click, no new search soon after).
fn search_analytics() -> String {
    format!(
        "WITH s AS (
        SELECT dt, serve_id, lower(trim(query)) AS query,
               COALESCE(total, CAST(cardinality(items) AS BIGINT)) AS total,
               COALESCE(user_id, anonymous_id) AS shopper, timestamp AS ts
        FROM serves WHERE placement = 'search' AND query IS NOT NULL AND {{days}}
    ),
    n AS (
        SELECT *, LEAD(ts) OVER (PARTITION BY shopper ORDER BY ts, serve_id) AS next_ts FROM s
    ),
    clicked AS (
        SELECT DISTINCT serve_id FROM events
        WHERE serve_id IS NOT NULL AND event_type IN ('view', 'rec_click', 'add_to_cart')
    )
    SELECT n.dt, n.query,
           COUNT(*) AS searches,
           SUM(CASE WHEN n.total = 0 THEN 1 ELSE 0 END) AS zero_results,
           COUNT(clicked.serve_id) AS clicked_searches,
           CAST(COUNT(clicked.serve_id) AS DOUBLE) / COUNT(*) AS ctr,
           SUM(CASE WHEN clicked.serve_id IS NULL AND n.next_ts IS NOT NULL
                     AND n.next_ts - n.ts <= {REFINE_MS} THEN 1 ELSE 0 END) AS refined_searches,
           SUM(CASE WHEN clicked.serve_id IS NULL AND (n.next_ts IS NULL
                     OR n.next_ts - n.ts > {REFINE_MS}) THEN 1 ELSE 0 END) AS abandoned_searches
    FROM n LEFT JOIN clicked ON clicked.serve_id = n.serve_id
    GROUP BY n.dt, n.query ORDER BY n.dt, n.query"
    )
}

/// A search followed by another of the same shopper within this long, with no click between, was
/// refined.
pub const REFINE_MS: i64 = 120_000;

/// Per day, placement, model version and A/B variant: responses served, products shown
/// (impressions), recommendation clicks, click-through rate, add-to-carts from a recommendation,
/// and attributed revenue: a purchase line is credited to the shopper's latest click on that
/// product from a recommendation in the 7 days before it (last touch).
fn recommendation_performance() -> String {
    format!(
        "WITH {LINES},
        s AS (
            SELECT dt, serve_id, placement, model_version, variant,
                   CAST(cardinality(items) AS BIGINT) AS shown
            FROM serves WHERE placement <> 'search' AND {{days}}
        ),
        clicks AS (
            SELECT serve_id, COUNT(*) AS clicks FROM events
            WHERE event_type = 'rec_click' AND serve_id IS NOT NULL GROUP BY serve_id
        ),
        carts AS (
            SELECT serve_id, COUNT(*) AS carts FROM events
            WHERE event_type = 'add_to_cart' AND serve_id IS NOT NULL GROUP BY serve_id
        ),
        clicked AS (
            SELECT serve_id, item_id, COALESCE(user_id, anonymous_id) AS shopper, ts FROM events
            WHERE event_type = 'rec_click' AND serve_id IS NOT NULL AND item_id IS NOT NULL
        ),
        matches AS (
            SELECT c.serve_id, l.revenue,
                   ROW_NUMBER() OVER (
                       PARTITION BY l.event_id, l.item_id ORDER BY c.ts DESC, c.serve_id
                   ) AS touch
            FROM purchase_lines l JOIN clicked c
              ON c.shopper = l.shopper AND c.item_id = l.item_id
             AND c.ts <= l.ts AND l.ts < c.ts + INTERVAL '7 days'
        ),
        attributed AS (
            SELECT serve_id, SUM(revenue) AS revenue FROM matches WHERE touch = 1 GROUP BY serve_id
        )
        SELECT s.dt, s.placement, s.model_version, s.variant,
               COUNT(*) AS serves,
               SUM(s.shown) AS impressions,
               SUM(COALESCE(clicks.clicks, 0)) AS clicks,
               CAST(SUM(COALESCE(clicks.clicks, 0)) AS DOUBLE) / NULLIF(SUM(s.shown), 0) AS ctr,
               SUM(COALESCE(carts.carts, 0)) AS add_to_carts,
               SUM(COALESCE(attributed.revenue, 0.0)) AS attributed_revenue
        FROM s
        LEFT JOIN clicks ON clicks.serve_id = s.serve_id
        LEFT JOIN carts ON carts.serve_id = s.serve_id
        LEFT JOIN attributed ON attributed.serve_id = s.serve_id
        GROUP BY s.dt, s.placement, s.model_version, s.variant
        ORDER BY s.dt, s.placement, s.model_version, s.variant"
    )
}

/// Weekly retention: shoppers (user id, else anonymous id) by the ISO week (Monday) of their first
/// event, and how many of them were active N weeks later.
fn cohorts() -> String {
    "WITH active AS (
        SELECT DISTINCT COALESCE(user_id, anonymous_id) AS shopper,
               date_trunc('week', ts) AS week
        FROM events WHERE COALESCE(user_id, anonymous_id) IS NOT NULL
    ),
    first_ AS (SELECT shopper, MIN(week) AS cohort_week FROM active GROUP BY shopper),
    size_ AS (SELECT cohort_week, COUNT(*) AS cohort_size FROM first_ GROUP BY cohort_week)
    SELECT CAST(f.cohort_week AS DATE) AS cohort_week,
           CAST(round((date_part('epoch', a.week) - date_part('epoch', f.cohort_week)) / 604800.0)
                AS BIGINT) AS week_offset,
           z.cohort_size,
           COUNT(*) AS active_shoppers,
           CAST(COUNT(*) AS DOUBLE) / z.cohort_size AS retention
    FROM active a JOIN first_ f ON f.shopper = a.shopper
    JOIN size_ z ON z.cohort_week = f.cohort_week
    GROUP BY f.cohort_week, a.week, z.cohort_size
    ORDER BY cohort_week, week_offset"
        .to_owned()
}

/// Late events per day: accepted by the edge on a later UTC day than the one they happened on.
pub fn late_events() -> String {
    "SELECT dt, COUNT(*) AS late_events FROM events
     WHERE received_at IS NOT NULL AND CAST(received_at AS DATE) > CAST(ts AS DATE) AND {days}
     GROUP BY dt ORDER BY dt"
        .to_owned()
}
