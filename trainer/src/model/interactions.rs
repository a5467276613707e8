//! The lake's events reduced to what training needs, in compact columns (27 bytes per
//! interaction), read row group by row group so a lake of 100M events trains in bounded memory.
//!
//! One row per item an event names (a purchase of three lines is three rows); only event types
//! that say something about preference are kept (view, add-to-cart, recommendation click,
//! purchase). Shopper and item ids are interned; sessions are kept as 64-bit hashes.

use std::collections::HashMap;

use arrow_array::{
    Array, Int32Array, ListArray, RecordBatch, StringArray, StructArray, TimestampMillisecondArray,
};
use futures::StreamExt;
use shared::{Event, EventType};

use crate::lake::compact::CompactError;
use crate::lake::events_table::ReadError;
use crate::lake::parquet_io::{self, ParquetIoError};
use crate::lake::store::Lake;

use shared::hash::fnv1a as fnv;

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

    /// Reads the events table: files are decoded concurrently (one task per file, at most one
    /// per core), straight from the Arrow columns into file-local compact rows, and appended in
    /// key order, so the result does not depend on the thread count.
    pub async fn read(lake: &Lake) -> Result<Self, CompactError> {
        let keys: Vec<String> = lake
            .list(shared::lake::TABLE_EVENTS)
            .await?
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| k.ends_with(".parquet"))
            .collect();
        let threads = crate::parallel::threads();
        let mut parts = futures::stream::iter(keys.into_iter().map(|key| {
            let lake = lake.clone();
            tokio::spawn(async move { Part::read(&lake, &key).await })
        }))
        .buffered(threads);
        let mut out = Self::default();
        while let Some(joined) = parts.next().await {
            let part = joined.map_err(|e| CompactError::Task(e.to_string()))??;
            out.append(part);
        }
        out.shrink();
        Ok(out)
    }

    /// Appends a file's rows, re-interning its local ids.
    fn append(&mut self, part: Part) {
        let shoppers: Vec<u32> = part
            .shoppers
            .iter()
            .map(|id| {
                let (i, new) = intern(&mut self.shopper_index, id);
                if new {
                    self.shopper_hash.push(fnv(id));
                }
                i
            })
            .collect();
        let items: Vec<u32> = part
            .items
            .iter()
            .map(|id| {
                let (i, new) = intern(&mut self.item_index, id);
                if new {
                    self.items.push(id.clone());
                }
                i
            })
            .collect();
        self.ts.extend(part.rows.ts);
        self.kind.extend(part.rows.kind);
        self.shopper
            .extend(part.rows.shopper.iter().map(|&s| shoppers[s as usize]));
        self.session.extend(part.rows.session);
        self.item
            .extend(part.rows.item.iter().map(|&i| items[i as usize]));
        self.quantity.extend(part.rows.quantity);
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

/// One file's rows, with ids interned locally.
#[derive(Default)]
struct Part {
    rows: Interactions,
    shoppers: Vec<String>,
    items: Vec<String>,
}

fn column<'a, T: 'static>(b: &'a RecordBatch, name: &'static str) -> Result<&'a T, ReadError> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or(ReadError::Column(name))
}

fn clamp_quantity(q: i32) -> u16 {
    u16::try_from(q.clamp(1, 1000)).unwrap_or(1000)
}

impl Part {
    async fn read(lake: &Lake, key: &str) -> Result<Self, CompactError> {
        const COLUMNS: [&str; 8] = [
            "event_type",
            "ts",
            "user_id",
            "anonymous_id",
            "session_id",
            "item_id",
            "quantity",
            "lines",
        ];
        let mut part = Self::default();
        parquet_io::for_each_batch(lake, key, &COLUMNS, |b| {
            part.push_batch(&b).map_err(|e| ParquetIoError::Parquet {
                key: key.to_owned(),
                source: parquet::errors::ParquetError::General(e.to_string()),
            })
        })
        .await?;
        Ok(part)
    }

    fn push_row(
        &mut self,
        ts: i64,
        kind: EventType,
        shopper: u32,
        session: u64,
        item_id: &str,
        q: i32,
    ) {
        let (item, new) = intern(&mut self.rows.item_index, item_id);
        if new {
            self.items.push(item_id.to_owned());
        }
        let r = &mut self.rows;
        r.ts.push(ts);
        r.kind.push(kind);
        r.shopper.push(shopper);
        r.session.push(session);
        r.item.push(item);
        r.quantity.push(clamp_quantity(q));
    }

    /// Decodes one record batch of the events table.
    fn push_batch(&mut self, b: &RecordBatch) -> Result<(), ReadError> {
        let types = column::<StringArray>(b, "event_type")?;
        let ts = column::<TimestampMillisecondArray>(b, "ts")?;
        let users = column::<StringArray>(b, "user_id")?;
        let anons = column::<StringArray>(b, "anonymous_id")?;
        let sessions = column::<StringArray>(b, "session_id")?;
        let item_ids = column::<StringArray>(b, "item_id")?;
        let qty = column::<Int32Array>(b, "quantity")?;
        let lines = column::<ListArray>(b, "lines")?;
        let line_values = lines
            .values()
            .as_any()
            .downcast_ref::<StructArray>()
            .ok_or(ReadError::Column("lines"))?;
        let line_items = line_values
            .column_by_name("item_id")
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            .ok_or(ReadError::Column("lines.item_id"))?;
        let line_qty = line_values
            .column_by_name("quantity")
            .and_then(|c| c.as_any().downcast_ref::<Int32Array>())
            .ok_or(ReadError::Column("lines.quantity"))?;
        let offsets = lines.value_offsets();
        for row in 0..b.num_rows() {
            let value = types.value(row);
            let kind = EventType::parse(value).ok_or_else(|| ReadError::EventType {
                row,
                value: value.to_owned(),
            })?;
            if !Interactions::keeps(kind) {
                continue;
            }
            let shopper_id = if users.is_valid(row) {
                users.value(row)
            } else if anons.is_valid(row) {
                anons.value(row)
            } else {
                ""
            };
            let (shopper, new) = intern(&mut self.rows.shopper_index, shopper_id);
            if new {
                self.shoppers.push(shopper_id.to_owned());
            }
            let session = fnv(sessions.value(row));
            let t = ts.value(row);
            if kind == EventType::Purchase {
                if lines.is_valid(row) {
                    let (from, to) = (offsets[row], offsets[row + 1]);
                    for l in usize::try_from(from).unwrap_or(0)..usize::try_from(to).unwrap_or(0) {
                        self.push_row(
                            t,
                            kind,
                            shopper,
                            session,
                            line_items.value(l),
                            line_qty.value(l),
                        );
                    }
                }
            } else if item_ids.is_valid(row) {
                let q = if qty.is_valid(row) { qty.value(row) } else { 1 };
                self.push_row(t, kind, shopper, session, item_ids.value(row), q);
            }
        }
        Ok(())
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

    #[tokio::test]
    async fn columnar_read_equals_reading_whole_events() {
        let lake = Lake::open("memory://").unwrap();
        let sim = crate::lake::simulate::SimParams {
            events: 20_000,
            users: 300,
            items: 150,
            days: 4,
            seed: 5,
            end_ms: 1_790_000_000_000 - 1_790_000_000_000 % shared::time::DAY_MS,
        };
        crate::lake::simulate::simulate(&lake, &sim).await.unwrap();
        crate::lake::compact::compact(&lake).await.unwrap();
        let fast = Interactions::read(&lake).await.unwrap();
        let events = crate::lake::compact::read_events(&lake, &[]).await.unwrap();
        let slow = Interactions::from_events(&events);
        assert!(fast.len() > 10_000);
        assert_eq!(fast.ts, slow.ts);
        assert_eq!(fast.kind, slow.kind);
        assert_eq!(fast.shopper, slow.shopper);
        assert_eq!(fast.session, slow.session);
        assert_eq!(fast.item, slow.item);
        assert_eq!(fast.quantity, slow.quantity);
        assert_eq!(fast.items, slow.items);
        assert_eq!(fast.shopper_hash, slow.shopper_hash);
        assert!(fast.kind.contains(&EventType::Purchase));
    }
}
