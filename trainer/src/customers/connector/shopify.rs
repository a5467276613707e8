//! The Shopify Admin REST API's record shapes (products, customers, orders), validated one record
//! at a time: a record that does not parse or breaks a rule is quarantined with the reason, the
//! rest of the page goes on.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::customers::records::SourceRecord;
use crate::lake::products::Product;

/// The three resources the connector syncs, in the order it syncs them.
pub const RESOURCES: [&str; 3] = ["products", "customers", "orders"];

/// Why one record was refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    pub field: String,
    pub reason: String,
}

fn invalid(field: &str, reason: impl Into<String>) -> Invalid {
    Invalid {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// A record's id and `updated_at` (epoch ms), read before anything else so duplicates and the
/// cursor work even for records that are later refused.
pub fn id_and_updated(record: &Value) -> Result<(u64, i64), Invalid> {
    let id = record
        .get("id")
        .and_then(Value::as_u64)
        .filter(|&id| id > 0)
        .ok_or_else(|| invalid("id", "missing or not a positive integer"))?;
    let updated = record
        .get("updated_at")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("updated_at", "missing"))?;
    Ok((id, timestamp("updated_at", updated)?))
}

fn timestamp(field: &str, s: &str) -> Result<i64, Invalid> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|_| invalid(field, format!("`{s}` is not an RFC 3339 time")))
}

fn money(field: &str, s: &str) -> Result<f64, Invalid> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(invalid(
            field,
            format!("`{s}` is not a non-negative amount"),
        )),
    }
}

fn parse<T: for<'de> Deserialize<'de>>(record: &Value) -> Result<T, Invalid> {
    T::deserialize(record).map_err(|e| invalid("record", e.to_string()))
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

#[derive(Deserialize)]
struct ProductIn {
    id: u64,
    title: String,
    #[serde(default)]
    vendor: Option<String>,
    #[serde(default)]
    product_type: Option<String>,
    created_at: String,
    updated_at: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    tags: Option<String>,
    #[serde(default)]
    variants: Vec<VariantIn>,
}

#[derive(Deserialize)]
struct VariantIn {
    price: String,
    #[serde(default)]
    inventory_quantity: Option<i64>,
    #[serde(default)]
    option1: Option<String>,
}

/// A shop product as a lake product (`id` is the Shopify product id).
pub fn product(record: &Value) -> Result<Product, Invalid> {
    let p: ProductIn = parse(record)?;
    if p.title.trim().is_empty() {
        return Err(invalid("title", "empty"));
    }
    let first = p
        .variants
        .first()
        .ok_or_else(|| invalid("variants", "a product needs at least one variant"))?;
    let price = money("variants[0].price", &first.price)?;
    let stock: i64 = p
        .variants
        .iter()
        .map(|v| v.inventory_quantity.unwrap_or(0).max(0))
        .sum();
    let category = non_empty(p.product_type)
        .map(|t| {
            t.to_lowercase()
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join("_")
        })
        .unwrap_or_default();
    let mut attributes = BTreeMap::new();
    if let Some(tags) = non_empty(p.tags) {
        attributes.insert("tags".to_owned(), tags);
    }
    let options: Vec<String> = p
        .variants
        .iter()
        .filter_map(|v| non_empty(v.option1.clone()))
        .collect();
    if !options.is_empty() {
        attributes.insert("options".to_owned(), options.join(", "));
    }
    Ok(Product {
        id: p.id.to_string(),
        title: p.title.trim().to_owned(),
        brand: non_empty(p.vendor).unwrap_or_default(),
        category: if category.is_empty() {
            String::new()
        } else {
            format!("shop.{category}")
        },
        price,
        currency: "USD".into(),
        in_stock: stock > 0 && p.status.as_deref().is_none_or(|s| s == "active"),
        rating: None,
        created_at: timestamp("created_at", &p.created_at)?,
        updated_at: timestamp("updated_at", &p.updated_at)?,
        attributes,
    })
}

#[derive(Deserialize)]
struct CustomerIn {
    id: u64,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    updated_at: String,
    #[serde(default)]
    accepts_marketing: Option<bool>,
    #[serde(default)]
    email_marketing_consent: Option<ConsentIn>,
    #[serde(default)]
    default_address: Option<AddressIn>,
}

#[derive(Deserialize)]
struct ConsentIn {
    #[serde(default)]
    state: Option<String>,
}

#[derive(Deserialize)]
struct AddressIn {
    #[serde(default)]
    address1: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    zip: Option<String>,
    #[serde(default)]
    country_code: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

/// A shop customer as a CDI source record (source `shop`, `user_id` = the customer id events
/// carry).
pub fn customer(record: &Value) -> Result<SourceRecord, Invalid> {
    let c: CustomerIn = parse(record)?;
    let email = non_empty(c.email);
    if let Some(e) = &email
        && !shared::privacy::looks_like_email(e)
    {
        return Err(invalid("email", "not an email address"));
    }
    let address = c.default_address;
    let (address1, city, postcode, country, address_phone) = match address {
        Some(a) => (
            non_empty(a.address1),
            non_empty(a.city),
            non_empty(a.zip),
            non_empty(a.country_code),
            non_empty(a.phone),
        ),
        None => (None, None, None, None, None),
    };
    if let Some(cc) = &country
        && (cc.len() != 2 || !cc.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        return Err(invalid(
            "default_address.country_code",
            "not an ISO 3166-1 alpha-2 code",
        ));
    }
    let consent = c
        .email_marketing_consent
        .and_then(|m| m.state)
        .map(|s| s == "subscribed")
        .or(c.accepts_marketing);
    Ok(SourceRecord {
        source: "shop".into(),
        source_id: c.id.to_string(),
        person: crate::customers::records::Person {
            email,
            phone: non_empty(c.phone).or(address_phone),
            first_name: non_empty(c.first_name),
            last_name: non_empty(c.last_name),
            address1,
            city,
            postcode,
            country: country.map(|c| c.to_uppercase()),
        },
        user_id: Some(c.id.to_string()),
        accepts_marketing: consent,
        updated_at: timestamp("updated_at", &c.updated_at)?,
    })
}

#[derive(Deserialize)]
struct OrderIn {
    id: u64,
    created_at: String,
    updated_at: String,
    #[serde(default)]
    currency: Option<String>,
    total_price: String,
    #[serde(default)]
    financial_status: Option<String>,
    #[serde(default)]
    cancelled_at: Option<String>,
    #[serde(default)]
    customer: Option<CustomerRef>,
    #[serde(default)]
    line_items: Vec<LineIn>,
}

#[derive(Deserialize)]
struct CustomerRef {
    id: u64,
}

#[derive(Deserialize)]
struct LineIn {
    #[serde(default)]
    product_id: Option<u64>,
    #[serde(default)]
    variant_id: Option<u64>,
    quantity: u32,
    price: String,
}

/// An order as the lake keeps it: the customer only as a pseudonym, no email or address.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OrderRow {
    pub order_id: String,
    pub customer_key: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub cancelled_at: Option<i64>,
    pub currency: String,
    pub total_price: f64,
    pub financial_status: Option<String>,
    pub units: u32,
    pub lines: u32,
}

/// One order line.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OrderLineRow {
    pub order_id: String,
    pub line: u32,
    pub product_id: Option<String>,
    pub variant_id: Option<String>,
    pub quantity: u32,
    pub price: f64,
}

/// A shop order, its customer pseudonymised by `pseudonym`.
pub fn order(
    record: &Value,
    pseudonym: impl Fn(&str) -> String,
) -> Result<(OrderRow, Vec<OrderLineRow>), Invalid> {
    let o: OrderIn = parse(record)?;
    if o.line_items.is_empty() {
        return Err(invalid("line_items", "an order needs at least one line"));
    }
    let currency = non_empty(o.currency).unwrap_or_else(|| "USD".into());
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid(
            "currency",
            format!("`{currency}` is not an ISO 4217 code"),
        ));
    }
    let order_id = o.id.to_string();
    let mut lines = Vec::with_capacity(o.line_items.len());
    for (i, l) in o.line_items.iter().enumerate() {
        if l.quantity == 0 {
            return Err(invalid(
                &format!("line_items[{i}].quantity"),
                "must be at least 1",
            ));
        }
        lines.push(OrderLineRow {
            order_id: order_id.clone(),
            line: u32::try_from(i).unwrap_or(u32::MAX),
            product_id: l.product_id.map(|v| v.to_string()),
            variant_id: l.variant_id.map(|v| v.to_string()),
            quantity: l.quantity,
            price: money(&format!("line_items[{i}].price"), &l.price)?,
        });
    }
    let cancelled_at = o
        .cancelled_at
        .as_deref()
        .map(|c| timestamp("cancelled_at", c))
        .transpose()?;
    Ok((
        OrderRow {
            order_id,
            customer_key: o.customer.map(|c| pseudonym(&c.id.to_string())),
            created_at: timestamp("created_at", &o.created_at)?,
            updated_at: timestamp("updated_at", &o.updated_at)?,
            cancelled_at,
            currency,
            total_price: money("total_price", &o.total_price)?,
            financial_status: o.financial_status,
            units: lines.iter().map(|l| l.quantity).sum(),
            lines: u32::try_from(lines.len()).unwrap_or(u32::MAX),
        },
        lines,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn customers_validate_and_map() {
        let c = customer(&json!({
            "id": 7, "email": " Jo@Example.com ", "first_name": "Jo", "last_name": "Doe",
            "phone": null, "updated_at": "2026-11-01T10:00:00+01:00",
            "email_marketing_consent": {"state": "subscribed"},
            "default_address": {"address1": "Hauptstr. 1", "city": "Berlin", "zip": "10115",
                                "country_code": "de", "phone": "030 1234567"}
        }))
        .unwrap();
        assert_eq!(c.source_id, "7");
        assert_eq!(c.user_id.as_deref(), Some("7"));
        assert_eq!(c.person.phone.as_deref(), Some("030 1234567"));
        assert_eq!(c.person.country.as_deref(), Some("DE"));
        assert_eq!(c.accepts_marketing, Some(true));
        assert_eq!(c.updated_at, 1_793_523_600_000);
        let bad = customer(
            &json!({"id": 8, "email": "not-an-email", "updated_at": "2026-11-01T10:00:00Z"}),
        );
        assert_eq!(bad.unwrap_err().field, "email");
        let bad = customer(&json!({"id": 9, "updated_at": "yesterday"}));
        assert_eq!(bad.unwrap_err().field, "updated_at");
        assert_eq!(id_and_updated(&json!({"id": -1})).unwrap_err().field, "id");
    }

    #[test]
    fn orders_and_products_validate() {
        let rec = json!({"id": 1001, "created_at": "2026-11-01T10:00:00Z",
            "updated_at": "2026-11-01T10:00:00Z", "currency": "EUR", "total_price": "59.90",
            "customer": {"id": 7}, "email": "jo@example.com",
            "line_items": [{"product_id": 5, "variant_id": 50, "quantity": 2, "price": "29.95"}]});
        let (o, lines) = order(&rec, |id| format!("p({id})")).unwrap();
        assert_eq!(o.customer_key.as_deref(), Some("p(7)"));
        assert_eq!((o.units, o.lines, o.total_price), (2, 1, 59.9));
        assert_eq!(lines[0].product_id.as_deref(), Some("5"));
        let mut neg = rec.clone();
        neg["line_items"][0]["price"] = json!("-1");
        assert_eq!(
            order(&neg, |s| s.to_owned()).unwrap_err().field,
            "line_items[0].price"
        );
        let p = product(&json!({"id": 5, "title": "USB-C Cable", "vendor": "Anker",
            "product_type": "Cables & Adapters", "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-02-01T00:00:00Z", "status": "active", "tags": "usb, cable",
            "variants": [{"price": "9.99", "inventory_quantity": 3, "option1": "1m"}]}))
        .unwrap();
        assert_eq!(
            (p.category.as_str(), p.brand.as_str(), p.in_stock),
            ("shop.cables_adapters", "Anker", true)
        );
        assert!(
            product(
                &json!({"id": 6, "title": "x", "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z", "variants": []})
            )
            .is_err()
        );
    }
}
