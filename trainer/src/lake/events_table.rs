//! The `tables/events` Parquet schema and the conversion between canonical events and Arrow
//! record batches. One row per event; purchase lines are a list of structs; the `dt` partition is
//! in the path (Hive style), not in the file.

use std::sync::Arc;

use arrow_array::builder::{
    Float64Builder, Int32Builder, ListBuilder, StringBuilder, TimestampMillisecondBuilder,
};
use arrow_array::{
    Array, ArrayRef, Float64Array, Int32Array, ListArray, RecordBatch, StringArray, StructArray,
    TimestampMillisecondArray,
};
use arrow_buffer::{OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use shared::{Event, EventType, PurchaseLine};

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

fn line_fields() -> Fields {
    Fields::from(vec![
        Field::new("item_id", DataType::Utf8, false),
        Field::new("quantity", DataType::Int32, false),
        Field::new("price", DataType::Float64, false),
        Field::new("currency", DataType::Utf8, false),
    ])
}

/// The events table schema.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("event_id", DataType::Utf8, false),
        Field::new("event_type", DataType::Utf8, false),
        Field::new("ts", ts_type(), false),
        Field::new("user_id", DataType::Utf8, true),
        Field::new("anonymous_id", DataType::Utf8, true),
        Field::new("session_id", DataType::Utf8, false),
        Field::new("item_id", DataType::Utf8, true),
        Field::new("quantity", DataType::Int32, true),
        Field::new("price", DataType::Float64, true),
        Field::new("currency", DataType::Utf8, true),
        Field::new("query", DataType::Utf8, true),
        Field::new_list("results", Field::new_list_field(DataType::Utf8, true), true),
        Field::new("order_id", DataType::Utf8, true),
        Field::new_list(
            "lines",
            Field::new_list_field(DataType::Struct(line_fields()), true),
            true,
        ),
        Field::new("serve_id", DataType::Utf8, true),
        Field::new("placement", DataType::Utf8, true),
        Field::new("position", DataType::Int32, true),
        Field::new("context", DataType::Utf8, true),
        Field::new("received_at", ts_type(), true),
    ]))
}

fn strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(values.collect::<StringArray>())
}

fn i32s(values: impl Iterator<Item = Option<u32>>) -> ArrayRef {
    let mut b = Int32Builder::new();
    for v in values {
        b.append_option(v.map(|x| i32::try_from(x).unwrap_or(i32::MAX)));
    }
    Arc::new(b.finish())
}

fn timestamps(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    let mut b = TimestampMillisecondBuilder::new().with_timezone("UTC");
    for v in values {
        b.append_option(v);
    }
    Arc::new(b.finish())
}

fn lines_array(events: &[Event]) -> Result<ArrayRef, ArrowError> {
    let mut offsets = vec![0i32];
    let (mut ids, mut qty, mut price, mut cur) = (
        StringBuilder::new(),
        Int32Builder::new(),
        Float64Builder::new(),
        StringBuilder::new(),
    );
    for e in events {
        for l in &e.lines {
            ids.append_value(&l.item_id);
            qty.append_value(i32::try_from(l.quantity).unwrap_or(i32::MAX));
            price.append_value(l.price);
            cur.append_value(&l.currency);
        }
        let last = offsets.last().copied().unwrap_or(0);
        offsets.push(last + i32::try_from(e.lines.len()).unwrap_or(0));
    }
    let values = StructArray::try_new(
        line_fields(),
        vec![
            Arc::new(ids.finish()),
            Arc::new(qty.finish()),
            Arc::new(price.finish()),
            Arc::new(cur.finish()),
        ],
        None,
    )?;
    let field = Arc::new(Field::new_list_field(DataType::Struct(line_fields()), true));
    Ok(Arc::new(ListArray::try_new(
        field,
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Arc::new(values),
        None,
    )?))
}

/// Converts events to one record batch of the table schema.
pub fn to_batch(events: &[Event]) -> Result<RecordBatch, ArrowError> {
    let mut results = ListBuilder::new(StringBuilder::new());
    for e in events {
        for r in &e.results {
            results.values().append_value(r);
        }
        results.append(true);
    }
    let columns: Vec<ArrayRef> = vec![
        strings(events.iter().map(|e| Some(e.event_id.as_str()))),
        strings(events.iter().map(|e| Some(e.event_type.as_str()))),
        timestamps(events.iter().map(|e| Some(e.timestamp))),
        strings(events.iter().map(|e| e.user_id.as_deref())),
        strings(events.iter().map(|e| e.anonymous_id.as_deref())),
        strings(events.iter().map(|e| Some(e.session_id.as_str()))),
        strings(events.iter().map(|e| e.item_id.as_deref())),
        i32s(events.iter().map(|e| e.quantity)),
        Arc::new(events.iter().map(|e| e.price).collect::<Float64Array>()),
        strings(events.iter().map(|e| e.currency.as_deref())),
        strings(events.iter().map(|e| e.query.as_deref())),
        Arc::new(results.finish()),
        strings(events.iter().map(|e| e.order_id.as_deref())),
        lines_array(events)?,
        strings(events.iter().map(|e| e.serve_id.as_deref())),
        strings(events.iter().map(|e| e.placement.as_deref())),
        i32s(events.iter().map(|e| e.position)),
        {
            let ctx: Vec<Option<String>> = events
                .iter()
                .map(|e| {
                    e.context
                        .as_ref()
                        .map(|c| serde_json::Value::Object(c.clone()).to_string())
                })
                .collect();
            strings(ctx.iter().map(Option::as_deref))
        },
        timestamps(events.iter().map(|e| e.received_at)),
    ];
    RecordBatch::try_new(schema(), columns)
}

/// Why a batch could not be read back as events.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("column `{0}` is missing or has the wrong type")]
    Column(&'static str),
    #[error("row {row}: unknown event type `{value}`")]
    EventType { row: usize, value: String },
}

fn col<'a, T: 'static>(batch: &'a RecordBatch, name: &'static str) -> Option<&'a T> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
}

fn opt_str(a: Option<&StringArray>, row: usize) -> Option<String> {
    a.filter(|a| a.is_valid(row))
        .map(|a| a.value(row).to_owned())
}

fn opt_u32(a: Option<&Int32Array>, row: usize) -> Option<u32> {
    a.filter(|a| a.is_valid(row))
        .and_then(|a| u32::try_from(a.value(row)).ok())
}

/// Reads events back from a batch; columns left out by a projection read as empty.
/// `event_id`, `event_type`, `ts` and `session_id` are required.
pub fn from_batch(batch: &RecordBatch) -> Result<Vec<Event>, ReadError> {
    let ids = col::<StringArray>(batch, "event_id").ok_or(ReadError::Column("event_id"))?;
    let types = col::<StringArray>(batch, "event_type").ok_or(ReadError::Column("event_type"))?;
    let ts = col::<TimestampMillisecondArray>(batch, "ts").ok_or(ReadError::Column("ts"))?;
    let sessions = col::<StringArray>(batch, "session_id");
    let users = col::<StringArray>(batch, "user_id");
    let anons = col::<StringArray>(batch, "anonymous_id");
    let items = col::<StringArray>(batch, "item_id");
    let qty = col::<Int32Array>(batch, "quantity");
    let price = col::<Float64Array>(batch, "price");
    let currency = col::<StringArray>(batch, "currency");
    let query = col::<StringArray>(batch, "query");
    let results = col::<ListArray>(batch, "results");
    let orders = col::<StringArray>(batch, "order_id");
    let lines = col::<ListArray>(batch, "lines");
    let serve = col::<StringArray>(batch, "serve_id");
    let placement = col::<StringArray>(batch, "placement");
    let position = col::<Int32Array>(batch, "position");
    let context = col::<StringArray>(batch, "context");
    let received = col::<TimestampMillisecondArray>(batch, "received_at");
    let mut out = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let value = types.value(row);
        let event_type = EventType::parse(value).ok_or_else(|| ReadError::EventType {
            row,
            value: value.to_owned(),
        })?;
        let results = results
            .filter(|a| a.is_valid(row))
            .and_then(|a| {
                let v = a.value(row);
                v.as_any()
                    .downcast_ref::<StringArray>()
                    .map(|s| s.iter().flatten().map(str::to_owned).collect())
            })
            .unwrap_or_default();
        let lines = lines
            .filter(|a| a.is_valid(row))
            .map(|a| read_lines(&a.value(row)))
            .unwrap_or_default();
        out.push(Event {
            event_id: ids.value(row).to_owned(),
            event_type,
            user_id: opt_str(users, row),
            anonymous_id: opt_str(anons, row),
            session_id: opt_str(sessions, row).unwrap_or_default(),
            timestamp: ts.value(row),
            item_id: opt_str(items, row),
            quantity: opt_u32(qty, row),
            price: price.filter(|a| a.is_valid(row)).map(|a| a.value(row)),
            currency: opt_str(currency, row),
            query: opt_str(query, row),
            results,
            order_id: opt_str(orders, row),
            lines,
            serve_id: opt_str(serve, row),
            placement: opt_str(placement, row),
            position: opt_u32(position, row),
            context: opt_str(context, row).and_then(|c| serde_json::from_str(&c).ok()),
            received_at: received.filter(|a| a.is_valid(row)).map(|a| a.value(row)),
        });
    }
    Ok(out)
}

fn read_lines(values: &ArrayRef) -> Vec<PurchaseLine> {
    let Some(s) = values.as_any().downcast_ref::<StructArray>() else {
        return Vec::new();
    };
    let ids = s
        .column_by_name("item_id")
        .and_then(|c| c.as_any().downcast_ref::<StringArray>());
    let qty = s
        .column_by_name("quantity")
        .and_then(|c| c.as_any().downcast_ref::<Int32Array>());
    let price = s
        .column_by_name("price")
        .and_then(|c| c.as_any().downcast_ref::<Float64Array>());
    let cur = s
        .column_by_name("currency")
        .and_then(|c| c.as_any().downcast_ref::<StringArray>());
    let (Some(ids), Some(qty), Some(price), Some(cur)) = (ids, qty, price, cur) else {
        return Vec::new();
    };
    (0..s.len())
        .map(|i| PurchaseLine {
            item_id: ids.value(i).to_owned(),
            quantity: u32::try_from(qty.value(i)).unwrap_or(0),
            price: price.value(i),
            currency: cur.value(i).to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared::ValidationPolicy;

    fn sample() -> Vec<Event> {
        let now = 1_790_000_000_000;
        let raw = [
            json!({"event_id": "v1", "type": "view", "anonymous_id": "a", "session_id": "s", "timestamp": now, "item_id": "i1",
                   "context": {"page": "/p/i1"}}),
            json!({"event_id": "p1", "type": "purchase", "user_id": "u", "session_id": "s", "timestamp": now, "order_id": "o1",
                   "lines": [{"item_id": "i1", "quantity": 2, "price": 9.5, "currency": "EUR"},
                             {"item_id": "i2", "quantity": 1, "price": 1.0, "currency": "EUR"}]}),
            json!({"event_id": "s1", "type": "search", "anonymous_id": "a", "session_id": "s", "timestamp": now,
                   "query": "usb c", "results": ["i1", "i2"], "serve_id": "srv", "position": 3}),
        ];
        raw.iter()
            .map(|v| {
                let mut e =
                    shared::event::validate(v, now, &ValidationPolicy::historical()).unwrap();
                e.received_at = Some(now + 5);
                e
            })
            .collect()
    }

    #[test]
    fn events_round_trip_through_arrow() {
        let events = sample();
        let batch = to_batch(&events).unwrap();
        assert_eq!(batch.num_rows(), 3);
        assert_eq!(from_batch(&batch).unwrap(), events);
    }

    #[test]
    fn projected_batches_read_with_defaults() {
        let batch = to_batch(&sample()).unwrap();
        let projected = batch.project(&[0, 1, 2, 5, 6]).unwrap();
        let back = from_batch(&projected).unwrap();
        assert_eq!(back[0].item_id.as_deref(), Some("i1"));
        assert!(back[1].lines.is_empty());
        let broken = batch.project(&[1, 2]).unwrap();
        assert!(matches!(
            from_batch(&broken),
            Err(ReadError::Column("event_id"))
        ));
    }
}
