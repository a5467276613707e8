"""External client check for the BI tables: DuckDB reads the lake's Parquet with Hive
partitioning, once as the trainer wrote the KPI tables and once recomputing the same figures from
the events table (and, given a REES46 CSV, from the raw CSV itself). Prints JSON; the Rust test
(tests/tests/e2e/bi.rs) compares the sides.

usage: duckdb_check.py <lake dir> [<rees46 csv>]
"""
import json
import sys

import duckdb

lake = sys.argv[1]
csv = sys.argv[2] if len(sys.argv) > 2 else None
db = duckdb.connect()
db.execute("SET TimeZone = 'UTC'")


def rows(sql):
    cur = db.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def by_day(sql):
    return {str(r.pop("dt")): r for r in rows(sql)}


kpi = f"'{lake}/tables/kpi/{{}}/*/*.parquet', hive_partitioning = true"
events = f"read_parquet('{lake}/tables/events/*/*.parquet', hive_partitioning = true)"
out = {
    "kpi_sales": by_day(
        f"SELECT dt, revenue, orders, units FROM read_parquet({kpi.format('daily_sales')})"
        " WHERE level = 'total'"
    ),
    "duckdb_sales": by_day(
        f"""SELECT dt, SUM(l.price * l.quantity) AS revenue, COUNT(DISTINCT order_id) AS orders,
                   SUM(l.quantity) AS units
            FROM (SELECT dt, order_id, UNNEST(lines) AS l FROM {events}
                  WHERE event_type = 'purchase')
            GROUP BY dt"""
    ),
    "kpi_funnel": by_day(
        f"SELECT dt, sessions, cart_sessions, purchase_sessions FROM read_parquet({kpi.format('funnel')})"
    ),
    "duckdb_funnel": by_day(
        f"""SELECT dt, COUNT(DISTINCT session_id) AS sessions,
                   COUNT(DISTINCT CASE WHEN event_type = 'add_to_cart' THEN session_id END) AS cart_sessions,
                   COUNT(DISTINCT CASE WHEN event_type = 'purchase' THEN session_id END) AS purchase_sessions
            FROM {events} GROUP BY dt"""
    ),
}
out["kpi_category"] = {
    r["category"]: r["revenue"]
    for r in rows(
        f"SELECT category, SUM(revenue) AS revenue FROM read_parquet({kpi.format('daily_sales')})"
        " WHERE level = 'category' GROUP BY category"
    )
}
if csv:
    out["csv_sales"] = by_day(
        f"""SELECT CAST(event_time AS DATE) AS dt,
                   SUM(price) AS revenue, COUNT(*) AS units
            FROM (SELECT DISTINCT * FROM read_csv('{csv}', header = true, all_varchar = false))
            WHERE event_type = 'purchase' GROUP BY 1"""
    )
print(json.dumps(out, default=float))
