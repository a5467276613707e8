//! The lake's events reduced to what training needs, in compact columns (27 bytes per
//! interaction), read row group by row group so a lake of 100M events trains in bounded memory.
//!
//! One row per item an event names (a purchase of three lines is three rows); only event types
//! that say something about preference are kept (view, add-to-cart, recommendation click,
//! purchase). Shopper and item ids are interned; sessions are kept as 64-bit hashes.

use std::collections::HashMap;

use shared::{Event, EventType};

use crate::compact::CompactError;
use crate::parquet_io::{self, ParquetIoError};
use crate::store::Lake;

/// FNV-1a: stable across runs and platforms (session keys, holdout assignment).
pub fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Interactions in columns; row `r` is `(ts[r], kind[r], shopper[r], session[r], item[r],
/// quantity[r])`.
#[derive(Debug, Clone, Default)]
pub struct Interactions {
    pub ts: Vec<i64>,
    pub kind: Vec<EventType>,
    pub shopper: Vec<u32>,
    pub session: Vec<u64>,
    pub item: Vec<u32>,
    pub quantity: Vec<u16>,
    /// Item ids by interned index.
    pub items: Vec<String>,
    /// Per interned shopper: the FNV hash of their id.
    pub shopper_hash: Vec<u64>,
    item_index: HashMap<String, u32>,
    shopper_index: HashMap<String, u32>,
}

fn intern(index: &mut HashMap<String, u32>, id: &str) -> (u32, bool) {
    if let Some(&i) = index.get(id) {
        return (i, false);
    }
    let i = u32::try_from(index.len()).unwrap_or(u32::MAX);
    index.insert(id.to_owned(), i);
    (i, true)
}

impl Interactions {
    /// Whether an event type is kept.
    pub fn keeps(t: EventType) -> bool {
        matches!(
            t,
            EventType::View | EventType::AddToCart | EventType::RecClick | EventType::Purchase
        )
    }

    /// Adds one event's rows.
    pub fn push(&mut self, e: &Event) {
        if !Self::keeps(e.event_type) {
            return;
        }
        let (shopper, new_shopper) = intern(&mut self.shopper_index, e.shopper());
        if new_shopper {
            self.shopper_hash.push(fnv(e.shopper()));
        }
        let session = fnv(&e.session_id);
        for (id, qty) in e.items() {
            let (item, new_item) = intern(&mut self.item_index, id);
            if new_item {
                self.items.push(id.to_owned());
            }
            self.ts.push(e.timestamp);
            self.kind.push(e.event_type);
            self.shopper.push(shopper);
            self.session.push(session);
            self.item.push(item);
            self.quantity
                .push(u16::try_from(qty.clamp(1, 1000)).unwrap_or(1000));
        }
    }

    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut out = Self::default();
        for e in events {
            out.push(e);
        }
        out
    }

    /// Streams the events table, one record batch at a time.
    pub async fn read(lake: &Lake) -> Result<Self, CompactError> {
        const COLUMNS: [&str; 10] = [
            "event_type",
            "ts",
            "user_id",
            "anonymous_id",
            "session_id",
            "item_id",
            "quantity",
            "event_id",
            "order_id",
            "lines",
        ];
        let mut out = Self::default();
        for (key, _) in lake.list(shared::lake::TABLE_EVENTS).await? {
            if !key.ends_with(".parquet") {
                continue;
            }
            parquet_io::for_each_batch(lake, &key, &COLUMNS, |b| {
                let events =
                    crate::events_table::from_batch(&b).map_err(|e| ParquetIoError::Parquet {
                        key: key.clone(),
                        source: parquet::errors::ParquetError::General(e.to_string()),
                    })?;
                for e in &events {
                    out.push(e);
                }
                Ok(())
            })
            .await?;
        }
        out.shrink();
        Ok(out)
    }

    fn shrink(&mut self) {
        self.ts.shrink_to_fit();
        self.kind.shrink_to_fit();
        self.shopper.shrink_to_fit();
        self.session.shrink_to_fit();
        self.item.shrink_to_fit();
        self.quantity.shrink_to_fit();
    }

    pub fn len(&self) -> usize {
        self.ts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    pub fn shoppers(&self) -> usize {
        self.shopper_hash.len()
    }

    /// Latest timestamp (0 when empty).
    pub fn t_end(&self) -> i64 {
        self.ts.iter().copied().max().unwrap_or(0)
    }

    /// Item id of an interned index.
    pub fn item_id(&self, i: u32) -> &str {
        self.items.get(i as usize).map_or("", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_item_and_only_preference_events() {
        let events: Vec<Event> = serde_json::from_value(serde_json::json!([
            {"event_id": "1", "type": "view", "anonymous_id": "a", "session_id": "s", "timestamp": 1, "item_id": "x"},
            {"event_id": "2", "type": "search", "anonymous_id": "a", "session_id": "s", "timestamp": 2, "query": "tv"},
            {"event_id": "3", "type": "purchase", "user_id": "u", "session_id": "t", "timestamp": 3, "order_id": "o",
             "lines": [{"item_id": "x", "quantity": 2, "price": 1.0, "currency": "EUR"},
                       {"item_id": "y", "quantity": 1, "price": 1.0, "currency": "EUR"}]}
        ]))
        .unwrap();
        let ix = Interactions::from_events(&events);
        assert_eq!(ix.len(), 3);
        assert_eq!(ix.items, ["x", "y"]);
        assert_eq!(ix.shoppers(), 2);
        assert_eq!(ix.item, [0, 0, 1]);
        assert_eq!(ix.quantity, [1, 2, 1]);
        assert_eq!(ix.shopper, [0, 1, 1]);
        assert_eq!(ix.session[1], ix.session[2]);
        assert_eq!(ix.t_end(), 3);
    }
}
