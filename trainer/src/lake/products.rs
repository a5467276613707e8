//! The catalog: product records as importers and connectors write them (`raw/products/*.ndjson`)
//! and the compacted `tables/products` Parquet table (latest `updated_at` per id wins).

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::builder::{MapBuilder, MapFieldNames, StringBuilder, TimestampMillisecondBuilder};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float32Array, Float64Array, MapArray, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use serde::{Deserialize, Serialize};

/// One catalog record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub brand: String,
    /// Dotted category path, e.g. `electronics.smartphone`.
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub price: f64,
    #[serde(default = "usd")]
    pub currency: String,
    #[serde(default = "yes")]
    pub in_stock: bool,
    #[serde(default)]
    pub rating: Option<f32>,
    /// Epoch milliseconds.
    #[serde(default)]
    pub created_at: i64,
    /// Epoch milliseconds; the newest record of an id wins.
    #[serde(default)]
    pub updated_at: i64,
    /// Specifications ("storage" → "256GB", "color" → "black"): searchable, shown by the shop.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

fn usd() -> String {
    "USD".into()
}

fn yes() -> bool {
    true
}

/// A raw catalog line: a product, or a tombstone (`deleted`: a connector saw it removed or
/// unpublished).
#[derive(Debug, Clone, Deserialize)]
pub struct Record {
    #[serde(flatten)]
    pub product: Product,
    #[serde(default)]
    pub deleted: bool,
}

/// The catalog from raw lines: the newest record of each id decides (ties: the later one), a
/// tombstone removes the product; sorted by id.
pub fn merge(records: impl IntoIterator<Item = Record>) -> Vec<Product> {
    let mut by_id: BTreeMap<String, Record> = BTreeMap::new();
    for r in records {
        match by_id.get(&r.product.id) {
            Some(old) if old.product.updated_at > r.product.updated_at => {}
            _ => {
                by_id.insert(r.product.id.clone(), r);
            }
        }
    }
    by_id
        .into_values()
        .filter(|r| !r.deleted)
        .map(|r| r.product)
        .collect()
}

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

/// The products table schema.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("title", DataType::Utf8, false),
        Field::new("brand", DataType::Utf8, false),
        Field::new("category", DataType::Utf8, false),
        Field::new("price", DataType::Float64, false),
        Field::new("currency", DataType::Utf8, false),
        Field::new("in_stock", DataType::Boolean, false),
        Field::new("rating", DataType::Float32, true),
        Field::new("created_at", ts_type(), false),
        Field::new("updated_at", ts_type(), false),
        Field::new("attributes", attributes_type(), false),
    ]))
}

/// `map<string, string>`, as Arrow's map builder writes it (DuckDB and Spark read it as a MAP).
fn attributes_type() -> DataType {
    let entries = Field::new(
        "entries",
        DataType::Struct(
            vec![
                Field::new("key", DataType::Utf8, false),
                Field::new("value", DataType::Utf8, true),
            ]
            .into(),
        ),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

fn attributes(products: &[Product]) -> Result<ArrayRef, ArrowError> {
    // Names spelled out: arrow's defaults changed between versions.
    let names = MapFieldNames {
        entry: "entries".into(),
        key: "key".into(),
        value: "value".into(),
    };
    let mut b = MapBuilder::new(Some(names), StringBuilder::new(), StringBuilder::new());
    for p in products {
        for (k, v) in &p.attributes {
            b.keys().append_value(k);
            b.values().append_value(v);
        }
        b.append(true)?;
    }
    Ok(Arc::new(b.finish()))
}

fn ts(values: impl Iterator<Item = i64>) -> ArrayRef {
    let mut b = TimestampMillisecondBuilder::new().with_timezone("UTC");
    for v in values {
        b.append_value(v);
    }
    Arc::new(b.finish())
}

pub fn to_batch(products: &[Product]) -> Result<RecordBatch, ArrowError> {
    let s = |f: fn(&Product) -> &str| -> ArrayRef {
        Arc::new(products.iter().map(|p| Some(f(p))).collect::<StringArray>())
    };
    RecordBatch::try_new(
        schema(),
        vec![
            s(|p| &p.id),
            s(|p| &p.title),
            s(|p| &p.brand),
            s(|p| &p.category),
            Arc::new(
                products
                    .iter()
                    .map(|p| Some(p.price))
                    .collect::<Float64Array>(),
            ),
            s(|p| &p.currency),
            Arc::new(
                products
                    .iter()
                    .map(|p| Some(p.in_stock))
                    .collect::<BooleanArray>(),
            ),
            Arc::new(products.iter().map(|p| p.rating).collect::<Float32Array>()),
            ts(products.iter().map(|p| p.created_at)),
            ts(products.iter().map(|p| p.updated_at)),
            attributes(products)?,
        ],
    )
}

/// Reads products back from a batch of the table schema.
pub fn from_batch(batch: &RecordBatch) -> Result<Vec<Product>, ArrowError> {
    fn col<'a, T: 'static>(b: &'a RecordBatch, name: &str) -> Result<&'a T, ArrowError> {
        b.column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<T>())
            .ok_or_else(|| {
                ArrowError::SchemaError(format!(
                    "products table: column `{name}` missing or mistyped"
                ))
            })
    }
    let id = col::<StringArray>(batch, "id")?;
    let title = col::<StringArray>(batch, "title")?;
    let brand = col::<StringArray>(batch, "brand")?;
    let category = col::<StringArray>(batch, "category")?;
    let price = col::<Float64Array>(batch, "price")?;
    let currency = col::<StringArray>(batch, "currency")?;
    let in_stock = col::<BooleanArray>(batch, "in_stock")?;
    let rating = col::<Float32Array>(batch, "rating")?;
    let created = col::<TimestampMillisecondArray>(batch, "created_at")?;
    let updated = col::<TimestampMillisecondArray>(batch, "updated_at")?;
    // Tables written before attributes existed have no such column.
    let attrs = match batch.column_by_name("attributes") {
        None => None,
        Some(_) => Some(col::<MapArray>(batch, "attributes")?),
    };
    let attributes_of = |r: usize| -> BTreeMap<String, String> {
        let Some(m) = attrs.filter(|m| m.is_valid(r)) else {
            return BTreeMap::new();
        };
        let entries = m.value(r);
        let (Some(k), Some(v)) = (
            entries.column(0).as_any().downcast_ref::<StringArray>(),
            entries.column(1).as_any().downcast_ref::<StringArray>(),
        ) else {
            return BTreeMap::new();
        };
        (0..entries.len())
            .filter(|&i| v.is_valid(i))
            .map(|i| (k.value(i).to_owned(), v.value(i).to_owned()))
            .collect()
    };
    Ok((0..batch.num_rows())
        .map(|r| Product {
            id: id.value(r).to_owned(),
            title: title.value(r).to_owned(),
            brand: brand.value(r).to_owned(),
            category: category.value(r).to_owned(),
            price: price.value(r),
            currency: currency.value(r).to_owned(),
            in_stock: in_stock.value(r),
            rating: rating.is_valid(r).then(|| rating.value(r)),
            created_at: created.value(r),
            updated_at: updated.value(r),
            attributes: attributes_of(r),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(id: &str, updated_at: i64, price: f64) -> Product {
        Product {
            id: id.into(),
            title: format!("T {id}"),
            brand: "acme".into(),
            category: "electronics.audio".into(),
            price,
            currency: "EUR".into(),
            in_stock: true,
            rating: Some(4.5),
            created_at: 1,
            updated_at,
            attributes: BTreeMap::from([("color".into(), "black".into())]),
        }
    }

    fn live(product: Product) -> Record {
        Record {
            product,
            deleted: false,
        }
    }

    #[test]
    fn newest_record_wins() {
        let merged = merge([
            live(p("b", 5, 1.0)),
            live(p("a", 1, 2.0)),
            live(p("b", 9, 3.0)),
            live(p("b", 7, 4.0)),
        ]);
        assert_eq!(
            merged
                .iter()
                .map(|p| (p.id.as_str(), p.price))
                .collect::<Vec<_>>(),
            [("a", 2.0), ("b", 3.0)]
        );
    }

    #[test]
    fn a_newer_tombstone_removes_the_product_and_an_older_one_does_not() {
        let tomb: Record =
            serde_json::from_str(r#"{"id": "a", "deleted": true, "updated_at": 5}"#).unwrap();
        let old_tomb: Record =
            serde_json::from_str(r#"{"id": "b", "deleted": true, "updated_at": 1}"#).unwrap();
        let merged = merge([live(p("a", 3, 1.0)), tomb, live(p("b", 4, 2.0)), old_tomb]);
        let ids: Vec<&str> = merged.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["b"]);
    }

    #[test]
    fn round_trip_and_defaults() {
        let ps = vec![
            p("a", 1, 2.0),
            Product {
                rating: None,
                attributes: BTreeMap::new(),
                ..p("b", 2, 3.0)
            },
        ];
        assert_eq!(from_batch(&to_batch(&ps).unwrap()).unwrap(), ps);
        let minimal: Product = serde_json::from_str(r#"{"id": "x"}"#).unwrap();
        assert_eq!((minimal.currency.as_str(), minimal.in_stock), ("USD", true));
    }
}
