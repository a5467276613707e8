//! The customer-data fixtures the end-to-end tests share: a Shopify-style shop (60 customers,
//! 30 products, 40 orders, a few of each broken on purpose), a CRM export and newsletter sign-ups
//! that overlap it, and the commands that stage them into a lake.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::shop::{FakeShop, ShopState};
use crate::{Result, run, run_trainer, trainer};

pub const TOKEN: &str = "shpat_test_token";

pub fn customer(id: u64, day: u32) -> Value {
    json!({
        "id": id, "email": format!("shopper{id}@example.com"), "first_name": format!("Anna{id}"),
        "last_name": "Schmidt", "phone": format!("+49 151 {:07}", 1_000_000 + id),
        "created_at": "2026-09-01T08:00:00Z", "updated_at": format!("2026-10-{day:02}T10:00:00Z"),
        "email_marketing_consent": {"state": if id.is_multiple_of(2) { "subscribed" } else { "not_subscribed" }},
        "default_address": {"address1": format!("Hauptstraße {id}"), "city": "Berlin",
                            "zip": format!("{}", 10_000 + id), "country_code": "DE"}
    })
}

pub fn product(id: u64) -> Value {
    json!({"id": id, "title": format!("USB-C Charger {id}W"), "vendor": "Anker",
           "product_type": "Chargers", "status": "active", "tags": "usb-c, charger",
           "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-10-01T00:00:00Z",
           "variants": [{"price": "29.90", "inventory_quantity": 5, "option1": "EU plug"}]})
}

pub fn order(id: u64, customer: u64) -> Value {
    json!({"id": id, "email": format!("shopper{customer}@example.com"),
           "created_at": "2026-10-05T12:00:00Z", "updated_at": "2026-10-05T12:00:00Z",
           "currency": "EUR", "total_price": "59.80", "financial_status": "paid",
           "customer": {"id": customer},
           "line_items": [{"product_id": 500, "variant_id": 5000, "quantity": 2, "price": "29.90"}]})
}

/// 60 customers (2 bad), 30 products (1 bad), 40 orders (1 bad).
pub fn shop_state() -> ShopState {
    let mut customers: Vec<Value> = (1..=60)
        .map(|id| customer(id, 1 + (id % 20) as u32))
        .collect();
    customers[10]["email"] = json!("not-an-email");
    customers[20]["updated_at"] = json!("yesterday");
    let mut products: Vec<Value> = (500..530).map(product).collect();
    products[3]["variants"] = json!([]);
    let mut orders: Vec<Value> = (9000..9040).map(|id| order(id, 1 + id % 60)).collect();
    orders[7]["line_items"][0]["quantity"] = json!(0);
    ShopState {
        customers,
        products,
        orders,
        token: Some(TOKEN.into()),
        ..ShopState::default()
    }
}

/// `trainer ingest shop` against `shop` with short timeouts and backoffs.
pub fn ingest_shop(lake: &str, shop: &FakeShop, extra: &[&str]) -> Result<Command> {
    let mut args = vec![
        "ingest",
        "shop",
        "--lake",
        lake,
        "--shop-url",
        &shop.url,
        "--page-size",
        "10",
        "--timeout-secs",
        "1",
        "--backoff-ms",
        "20",
    ];
    args.extend_from_slice(extra);
    let mut cmd = trainer(&args)?;
    cmd.env("VITRINE_SHOP_TOKEN", TOKEN);
    Ok(cmd)
}

/// A CRM export: customer 1 again (email upper-cased, national phone), customer 2 without an
/// email (name + postcode), customer 3 with a typo in the surname, a new person, a bad row.
pub const CRM: &str = "Customer ID,E-Mail,Phone,First Name,Last Name,Street,ZIP,City,Country,Last Modified\n\
c-1, SHOPPER1@Example.com ,0151 1000001,Anna1,Schmidt,Hauptstr. 1,10001,Berlin,DE,2026-10-01\n\
c-2,,,Anna2,Schmidt,Hauptstraße 2,10002,Berlin,DE,2026-10-02\n\
c-3,shopper3@example.com,,Anna3,Schmitd,,10003,Berlin,DE,2026-11-01\n\
c-900,jonas.keller@example.org,+49 171 5550000,Jonas,Keller,Ringweg 9,80331,München,DE,2026-10-03\n\
c-901,broken-email,,X,Y,,,,DE,2026-10-03\n";

/// Newsletter sign-ups: customer 4's email, the CRM-only person's email, a brand-new subscriber.
pub const NEWSLETTER: &str = "email,first_name,subscribed_at\n\
shopper4@example.com,Anna4,2026-11-02\n\
Jonas.Keller@example.org,Jonas,2026-11-03\n\
mia.wolf@example.net,Mia,2026-11-04\n";

/// `trainer ingest csv --source <source>` of `text`, written to a file in `dir`; returns the report.
pub fn ingest_csv(dir: &Path, lake: &str, source: &str, text: &str) -> Result<Value> {
    let file = dir.join(format!("{source}.csv"));
    std::fs::write(&file, text)?;
    let path = file.to_string_lossy().into_owned();
    let out = run_trainer(&["ingest", "csv", "--lake", lake, "--source", source, &path])?;
    serde_json::from_str(&out).map_err(|e| crate::HarnessError::Setup(e.to_string()))
}

/// The first ten shop customers with their orders and the CRM export, staged into `lake`; the
/// shop keeps running while the returned handle lives.
pub fn staged_customers(dir: &Path, lake: &str) -> Result<(FakeShop, Value)> {
    let mut state = shop_state();
    state.customers.truncate(10);
    state.token = None;
    let shop = FakeShop::start(state)?;
    run(&mut ingest_shop(
        lake,
        &shop,
        &["--resources", "customers,orders"],
    )?)?;
    let crm = ingest_csv(dir, lake, "crm", CRM)?;
    Ok((shop, crm))
}
