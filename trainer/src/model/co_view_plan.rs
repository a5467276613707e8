//! The co-view lists counted by a DataFusion plan on the lake's engine, so on a cluster the
//! pair counting — the part of co-visitation that grows with every event — runs on the
//! executors. The plan computes exactly what [`crate::model::covisit::cooccurrence`] computes on
//! the sessions [`crate::model::train`] builds: a session's view, add-to-cart and
//! recommendation-click items in time order, each item at its first position, pairs at most
//! `window` positions apart counted both ways (one aggregation per session and
//! [`crate::lake::pairs_udf`], no self-join), scored `c_ij / max(1, sqrt(n_i · n_j))` in `f64`
//! then `f32`. It returns every pair ranked within `keep` by score (ties at the cut included),
//! and [`CoViews::lists`] breaks ties by catalog index as the in-process path does, so both
//! give the same lists.

use arrow_array::cast::AsArray;
use arrow_array::types::Float32Type;
use datafusion::error::DataFusionError;

use crate::lake::engine::Engine;

/// Scored pairs `(item, neighbour, score)` by item id, as the plan returned them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CoViews {
    pairs: Vec<(String, String, f32)>,
}

fn sql(until: Option<i64>, window: usize, keep: usize) -> String {
    let until = until.map_or(String::new(), |u| format!(" AND CAST(ts AS BIGINT) < {u}"));
    // One aggregation gathers each session in time order; `vitrine_pairs` dedups it and emits
    // its pairs plus one (item, NULL) row per item; one more aggregation counts both.
    format!(
        "WITH s AS (SELECT array_agg(item_id ORDER BY ts, dt, event_id) AS items FROM events \
            WHERE event_type IN ('view', 'add_to_cart', 'rec_click') \
            AND item_id IS NOT NULL{until} GROUP BY session_id), \
         p AS (SELECT unnest({pairs}(items, {window})) AS pr FROM s), \
         c AS (SELECT pr['a'] AS a, pr['b'] AS b, count(*) AS c FROM p GROUP BY pr['a'], pr['b']), \
         n AS (SELECT a AS i, c AS n FROM c WHERE b IS NULL), \
         scored AS (SELECT c.a, c.b, CAST(CAST(c.c AS DOUBLE) / \
            greatest(sqrt(CAST(na.n AS DOUBLE) * CAST(nb.n AS DOUBLE)), 1.0) AS FLOAT) AS score \
            FROM c JOIN n na ON na.i = c.a JOIN n nb ON nb.i = c.b WHERE c.b IS NOT NULL) \
         SELECT a, b, score FROM (SELECT a, b, score, \
            rank() OVER (PARTITION BY a ORDER BY score DESC) AS rk FROM scored) \
         WHERE rk <= {keep}",
        pairs = crate::lake::pairs_udf::NAME,
        window = window.max(1),
    )
}

/// Counts the co-views of events before `until` (all when `None`) on `engine`.
pub async fn count(
    engine: &Engine,
    until: Option<i64>,
    window: usize,
    keep: usize,
) -> Result<CoViews, DataFusionError> {
    let (_, batches) = engine.query(&sql(until, window, keep)).await?;
    let mut pairs = Vec::new();
    for b in &batches {
        let text = |i: usize| {
            b.column(i)
                .as_string_opt::<i32>()
                .ok_or_else(|| DataFusionError::Internal("co-view plan: ids are not text".into()))
        };
        let (a, n) = (text(0)?, text(1)?);
        let score = b
            .column(2)
            .as_primitive_opt::<Float32Type>()
            .ok_or_else(|| DataFusionError::Internal("co-view plan: scores are not f32".into()))?;
        for r in 0..b.num_rows() {
            pairs.push((a.value(r).to_owned(), n.value(r).to_owned(), score.value(r)));
        }
    }
    Ok(CoViews { pairs })
}

impl CoViews {
    /// Per catalog item (`ids` sorted, as `train::catalog` makes them), the `keep` best
    /// neighbours, best first, ties by index.
    pub fn lists(&self, ids: &[String], keep: usize) -> Vec<Vec<(u32, f32)>> {
        let index = |id: &str| {
            ids.binary_search_by(|x| x.as_str().cmp(id))
                .ok()
                .and_then(|i| u32::try_from(i).ok())
        };
        let mut rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); ids.len()];
        for (a, b, score) in &self.pairs {
            if let (Some(a), Some(b)) = (index(a), index(b)) {
                rows[a as usize].push((b, *score));
            }
        }
        for row in &mut rows {
            row.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            row.truncate(keep);
        }
        rows
    }

    /// How many scored pairs the plan returned.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::engine::EngineUrl;
    use crate::lake::store::Lake;
    use crate::model::covisit::{Groups, cooccurrence};
    use serde_json::json;

    #[tokio::test]
    async fn the_plan_gives_the_in_process_lists() {
        let lake = Lake::open("memory://").unwrap();
        // Sessions as item letters in time order; repeats, a purchase and a search in between.
        let sessions = ["abcab", "ab", "bcd", "e", "acbdx"];
        let mut lines = Vec::new();
        let mut ts = 1_790_035_200_000i64;
        for (s, items) in sessions.iter().enumerate() {
            for (k, c) in items.chars().enumerate() {
                ts += 1_000;
                let kind = ["view", "add_to_cart", "rec_click"][k % 3];
                lines.push(json!({"event_id": format!("e{s}-{k}"), "type": kind,
                    "anonymous_id": format!("a{s}"), "session_id": format!("s{s}"),
                    "timestamp": ts, "item_id": c.to_string()}));
            }
            lines.push(
                json!({"event_id": format!("p{s}"), "type": "search", "query": "x",
                "anonymous_id": format!("a{s}"), "session_id": format!("s{s}"), "timestamp": ts}),
            );
        }
        let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
        lake.put("raw/events/dt=2026-09-22/a.ndjson", body)
            .await
            .unwrap();
        crate::lake::compact::compact(&lake).await.unwrap();
        let engine = Engine::connect(&lake, &EngineUrl::Local).await.unwrap();
        let ids: Vec<String> = "abcdex".chars().map(|c| c.to_string()).collect();
        let groups: Vec<Vec<u32>> = sessions
            .iter()
            .map(|s| s.chars().map(|c| (c as u32) - ('a' as u32)).collect())
            .collect();
        let groups: Vec<Vec<u32>> = groups
            .into_iter()
            .map(|g| g.into_iter().map(|i| if i == 23 { 5 } else { i }).collect())
            .collect();
        for (window, keep) in [(1, 10), (2, 2), (10, 1)] {
            let planned = count(&engine, None, window, keep).await.unwrap();
            let native = cooccurrence(&Groups::from_vecs(&groups), window, ids.len(), keep);
            assert_eq!(
                planned.lists(&ids, keep),
                native,
                "window {window} keep {keep}"
            );
        }
        // Before a cutoff: only the first session's events count.
        let first = count(&engine, Some(1_790_035_200_000 + 5_500), 1, 10)
            .await
            .unwrap();
        let native = cooccurrence(&Groups::from_vecs(&groups[..1]), 1, ids.len(), 10);
        assert_eq!(first.lists(&ids, 10), native);
    }
}
