//! Google Merchant Center product feeds into the catalog: `trainer import feed <url or file>`
//! reads the tab-separated form (a header row of attribute names, `g:` prefixes allowed) or the
//! XML form (RSS 2.0 `<item>` or Atom `<entry>` elements in the `g:` namespace), maps the
//! specification's attributes to catalog records, and writes them to
//! `raw/products/feed-<hash of the source>.ndjson`, which compaction merges into
//! `tables/products` (the newest record of an id wins). Re-running the same feed rewrites the
//! same file, so it changes nothing twice. Rows without an id or title, or with a price or
//! availability the specification does not allow, go to `raw/quarantine_sources/feed/` with the
//! row number and the reason. URLs are fetched with retries (`crate::http`).
//!
//! | Merchant Center | catalog |
//! |---|---|
//! | `id` | `id` |
//! | `title` | `title` |
//! | `brand` | `brand` |
//! | `product_type` (else `google_product_category`), `>` levels | `category` (`a.b.c`) |
//! | `sale_price` (else `price`), `"15.00 USD"` | `price`, `currency` |
//! | `availability` (`in_stock`, `out_of_stock`, `preorder`, `backorder`) | `in_stock` |
//! | `gtin`, `mpn`, `color`, `size`, `material`, `pattern`, `condition`, `gender`, `age_group`, `custom_label_0..4`, `product_detail` (`attribute_name` → `attribute_value`) | `attributes` (searchable: model numbers find the product) |
//! | `description`, `link`, `image_link` | not used by ranking (kept by the shop) |

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use shared::lake;

use crate::lake::products::Product;
use crate::lake::store::{Lake, StoreError};

/// Why a feed could not be imported at all (bad rows are quarantined, not failures).
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("cannot read {source_name}: {reason}")]
    Read { source_name: String, reason: String },
    #[error("{0} is neither a Merchant Center TSV (an `id` column) nor an XML feed")]
    Format(String),
    #[error("{source_name} is not well-formed XML: {reason}")]
    Xml { source_name: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Counts of one import.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FeedReport {
    pub rows: usize,
    pub products: usize,
    pub quarantined: usize,
    pub key: String,
}

/// Attributes kept as searchable specifications.
const ATTRIBUTES: &[&str] = &[
    "gtin",
    "mpn",
    "color",
    "size",
    "material",
    "pattern",
    "condition",
    "gender",
    "age_group",
    "custom_label_0",
    "custom_label_1",
    "custom_label_2",
    "custom_label_3",
    "custom_label_4",
];

/// One feed row: attribute name (without `g:`, lowercase) → value.
type Row = BTreeMap<String, String>;

/// Imports the feed at `source` (an `http(s)://` URL or a file) into `lake` at `now_ms`.
pub async fn import(lake: &Lake, source: &str, now_ms: i64) -> Result<FeedReport, FeedError> {
    let bytes = fetch(source).await?;
    let rows = parse(source, &bytes)?;
    let name = format!("feed-{}", short_hash(source));
    let mut products = Vec::new();
    let mut bad = Vec::new();
    for (n, row) in rows.iter().enumerate() {
        match product(row, now_ms) {
            Ok(p) => products.push(p),
            Err((field, reason)) => bad.push(json!({
                "source": source, "row": n + 1, "field": field, "reason": reason, "raw": row,
            })),
        }
    }
    let key = lake::raw_products_key(&name);
    let body: String = products
        .iter()
        .filter_map(|p| serde_json::to_string(p).ok())
        .map(|l| l + "\n")
        .collect();
    lake.put(&key, body).await?;
    let dt = shared::time::date_of(now_ms);
    crate::lake::quarantine::write(lake, &lake::source_quarantine_key("feed", &dt, &name), &bad)
        .await?;
    Ok(FeedReport {
        rows: rows.len(),
        products: products.len(),
        quarantined: bad.len(),
        key,
    })
}

fn short_hash(s: &str) -> String {
    shared::hash::hex(&Sha256::digest(s.as_bytes())[..8])
}

async fn fetch(source: &str) -> Result<Vec<u8>, FeedError> {
    let failed = |reason: String| FeedError::Read {
        source_name: source.to_owned(),
        reason,
    };
    if source.starts_with("http://") || source.starts_with("https://") {
        let client = crate::http::client().map_err(|e| failed(e.to_string()))?;
        let resp = crate::http::send_with_retry(|| client.get(source))
            .await
            .map_err(failed)?;
        let bytes = resp.bytes().await.map_err(|e| failed(e.to_string()))?;
        Ok(bytes.to_vec())
    } else {
        std::fs::read(source).map_err(|e| failed(e.to_string()))
    }
}

/// The rows of a feed, TSV or XML by its first character.
pub fn parse(source: &str, bytes: &[u8]) -> Result<Vec<Row>, FeedError> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}');
    if text.trim_start().starts_with('<') {
        xml_rows(source, text)
    } else {
        tsv_rows(source, text)
    }
}

fn attribute_name(raw: &str) -> String {
    let n = raw.trim().to_ascii_lowercase();
    n.strip_prefix("g:").unwrap_or(&n).to_owned()
}

fn tsv_rows(source: &str, text: &str) -> Result<Vec<Row>, FeedError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| FeedError::Read {
            source_name: source.to_owned(),
            reason: e.to_string(),
        })?
        .iter()
        .map(attribute_name)
        .collect();
    if !headers.iter().any(|h| h == "id") {
        return Err(FeedError::Format(source.to_owned()));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| FeedError::Read {
            source_name: source.to_owned(),
            reason: e.to_string(),
        })?;
        let row: Row = headers
            .iter()
            .zip(record.iter())
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(h, v)| (h.clone(), v.trim().to_owned()))
            .collect();
        rows.push(row);
    }
    Ok(rows)
}

fn xml_rows(source: &str, text: &str) -> Result<Vec<Row>, FeedError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| FeedError::Xml {
        source_name: source.to_owned(),
        reason: e.to_string(),
    })?;
    let items = doc
        .descendants()
        .filter(|n| n.is_element() && matches!(n.tag_name().name(), "item" | "entry"));
    let mut rows = Vec::new();
    for item in items {
        let mut row = Row::new();
        for child in item.children().filter(roxmltree::Node::is_element) {
            let name = child.tag_name().name().to_ascii_lowercase();
            if name == "product_detail" {
                let part = |tag: &str| {
                    child
                        .children()
                        .find(|c| c.tag_name().name() == tag)
                        .and_then(|c| c.text())
                        .map(|t| t.trim().to_owned())
                };
                if let (Some(k), Some(v)) = (part("attribute_name"), part("attribute_value")) {
                    row.insert(format!("detail:{}", k.to_lowercase()), v);
                }
                continue;
            }
            let value: String = child
                .descendants()
                .filter(roxmltree::Node::is_text)
                .filter_map(|t| t.text())
                .collect::<String>()
                .trim()
                .to_owned();
            // Atom feeds carry the link in an attribute.
            let value = if value.is_empty() {
                child.attribute("href").unwrap_or_default().to_owned()
            } else {
                value
            };
            if !value.is_empty() {
                row.entry(name).or_insert(value);
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

/// `"15.00 USD"`, `"USD 15.00"`, `"1,299.00 EUR"` → (15.0, "USD").
fn parse_price(text: &str) -> Option<(f64, Option<String>)> {
    let mut amount = None;
    let mut currency = None;
    for token in text.split_whitespace() {
        if token.len() == 3 && token.chars().all(|c| c.is_ascii_alphabetic()) {
            currency = Some(token.to_ascii_uppercase());
        } else if let Ok(v) = token.replace(',', "").parse::<f64>() {
            amount = Some(v);
        }
    }
    amount
        .filter(|a| a.is_finite() && *a >= 0.0)
        .map(|a| (a, currency))
}

fn category(path: &str) -> String {
    path.split('>')
        .map(|level| level.trim().to_lowercase().replace(' ', "_"))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(".")
}

/// A row as a catalog record, or the field at fault and why.
fn product(row: &Row, now_ms: i64) -> Result<Product, (&'static str, &'static str)> {
    let get = |k: &str| row.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let id = get("id").ok_or(("id", "every product needs its id"))?;
    if id.len() > shared::event::MAX_ID_LEN {
        return Err(("id", "longer than 128 characters"));
    }
    let title = get("title").ok_or(("title", "every product needs a title"))?;
    let (price, currency) = match (get("sale_price").and_then(parse_price), get("price")) {
        (Some(sale), _) => sale,
        (None, Some(p)) => parse_price(p).ok_or(("price", "not a price such as \"15.00 USD\""))?,
        (None, None) => return Err(("price", "every product needs a price")),
    };
    let in_stock = match get("availability").map(|a| a.to_lowercase().replace(' ', "_")) {
        None => true,
        Some(a) if matches!(a.as_str(), "in_stock" | "preorder" | "backorder") => true,
        Some(a) if a == "out_of_stock" => false,
        Some(_) => {
            return Err((
                "availability",
                "not one of in_stock, out_of_stock, preorder, backorder",
            ));
        }
    };
    let mut attributes: BTreeMap<String, String> = ATTRIBUTES
        .iter()
        .filter_map(|&a| get(a).map(|v| (a.to_owned(), v.to_owned())))
        .collect();
    for (k, v) in row {
        if let Some(name) = k.strip_prefix("detail:") {
            attributes.insert(name.to_owned(), v.clone());
        }
    }
    let category = get("product_type")
        .or_else(|| get("google_product_category"))
        .map_or_else(|| "unknown".to_owned(), category);
    Ok(Product {
        id: id.to_owned(),
        title: title.to_owned(),
        brand: get("brand").unwrap_or_default().to_owned(),
        category,
        price,
        currency: currency.unwrap_or_else(|| "USD".into()),
        in_stock,
        rating: None,
        created_at: now_ms,
        updated_at: now_ms,
        attributes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TSV: &str = include_str!("../../../tests/fixtures/feeds/electronics.tsv");
    const XML: &str = include_str!("../../../tests/fixtures/feeds/electronics.xml");

    fn mapped(text: &str) -> Vec<Result<Product, (&'static str, &'static str)>> {
        parse("fixture", text.as_bytes())
            .unwrap()
            .iter()
            .map(|r| product(r, 1_000))
            .collect()
    }

    #[test]
    fn prices_and_categories_follow_the_specification() {
        assert_eq!(parse_price("15.00 USD"), Some((15.0, Some("USD".into()))));
        assert_eq!(parse_price("USD 15"), Some((15.0, Some("USD".into()))));
        assert_eq!(
            parse_price("1,799.00 EUR"),
            Some((1799.0, Some("EUR".into())))
        );
        assert_eq!(parse_price("free"), None);
        assert_eq!(parse_price("-3 EUR"), None);
        assert_eq!(
            category("Electronics > Audio > Headphones"),
            "electronics.audio.headphones"
        );
        assert_eq!(category("Home & Garden"), "home_&_garden");
    }

    #[test]
    fn the_tsv_feed_maps_and_refuses_what_the_specification_refuses() {
        let rows = mapped(TSV);
        assert_eq!(rows.len(), 6);
        let sony = rows[0].as_ref().unwrap();
        assert_eq!(
            (sony.price, sony.currency.as_str()),
            (329.0, "EUR"),
            "sale price wins"
        );
        assert_eq!(sony.category, "electronics.audio.headphones");
        assert_eq!(sony.attributes["mpn"], "WH1000XM5/B");
        assert_eq!(sony.attributes["gtin"], "4548736132610");
        let tv = rows[1].as_ref().unwrap();
        assert_eq!(
            (tv.title.as_str(), tv.price, tv.in_stock),
            ("Samsung 65\" Neo QLED QN90C", 1799.0, false)
        );
        let kb = rows[2].as_ref().unwrap();
        assert_eq!(
            (kb.category.as_str(), kb.in_stock),
            ("electronics.computers.keyboards", true)
        );
        assert_eq!(rows[4].as_ref().unwrap_err().0, "title");
        assert_eq!(rows[5].as_ref().unwrap_err().0, "availability");
    }

    #[test]
    fn the_xml_feed_maps_namespaced_and_plain_elements() {
        let rows = mapped(XML);
        assert_eq!(rows.len(), 3);
        let ssd = rows[0].as_ref().unwrap();
        assert_eq!(ssd.title, "Samsung 990 PRO 2TB NVMe SSD");
        assert_eq!(ssd.category, "electronics.storage.ssd");
        assert_eq!(ssd.attributes["interface"], "PCIe 4.0 x4");
        assert_eq!(ssd.attributes["mpn"], "MZ-V9P2T0BW");
        let mouse = rows[1].as_ref().unwrap();
        assert_eq!(
            (mouse.title.as_str(), mouse.price, mouse.in_stock),
            ("Logitech MX Master 3S Mouse", 89.99, true)
        );
        assert_eq!(mouse.category, "electronics.computers.mice");
        assert_eq!(rows[2].as_ref().unwrap_err().0, "id");
        assert!(matches!(
            parse("x", b"<rss><item>"),
            Err(FeedError::Xml { .. })
        ));
        assert!(matches!(
            parse("x", b"sku\ttitle\n1\ta\n"),
            Err(FeedError::Format(_))
        ));
    }

    #[tokio::test]
    async fn an_import_writes_the_catalog_file_and_the_quarantine_and_a_rerun_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(&format!("file://{}", dir.path().display())).unwrap();
        let file = dir.path().join("feed.tsv");
        std::fs::write(&file, TSV).unwrap();
        let source = file.display().to_string();
        let report = import(&lake, &source, 5_000).await.unwrap();
        assert_eq!(
            (report.rows, report.products, report.quarantined),
            (6, 4, 2)
        );
        let first = std::fs::read_to_string(dir.path().join(&report.key)).unwrap();
        assert_eq!(first.lines().count(), 4);
        let again = import(&lake, &source, 5_000).await.unwrap();
        assert_eq!(again, report);
        assert_eq!(
            std::fs::read_to_string(dir.path().join(&again.key)).unwrap(),
            first
        );
        let missing = import(&lake, "/nonexistent/feed.tsv", 5_000).await;
        assert!(matches!(missing, Err(FeedError::Read { .. })));
    }

    #[tokio::test]
    async fn model_numbers_and_gtins_from_a_feed_find_the_product_through_the_artifact() {
        let mut products: Vec<Product> = mapped(TSV)
            .into_iter()
            .chain(mapped(XML))
            .filter_map(Result::ok)
            .collect();
        products.sort_by(|a, b| a.id.cmp(&b.id));
        let mut rng: rand::rngs::StdRng = rand::SeedableRng::seed_from_u64(1);
        let mut data = crate::evaluation::search_cases::catalog_data(&products, &mut rng);
        let lake = Lake::open("memory://").unwrap();
        crate::model::search_index::attach(
            &lake,
            &mut data,
            &products,
            0,
            &crate::lake::engine::EngineUrl::Local,
        )
        .await
        .unwrap();
        let model = shared::Model::load(data.encode().unwrap()).unwrap();
        let (ix, problem) = shared::search::index::SearchIndex::for_model(&model);
        assert!(problem.is_none(), "{problem:?}");
        for (q, want) in [
            ("MZ-V9P2T0BW", "SSD-990PRO-2TB"),
            ("8806094215038", "SSD-990PRO-2TB"),
            ("910-006559", "MS-MXM3S"),
            ("WH1000XM5/B", "HP-WH1000"),
            ("4548736132610", "HP-WH1000"),
        ] {
            let ask = shared::search::query::SearchQuery {
                q: q.into(),
                filter: shared::search::spec::SearchFilter::default(),
                sort: shared::search::spec::Sort::Relevance,
                facets: Vec::new(),
                page: 1,
                k: 3,
                user_id: None,
                anonymous_id: None,
                user_token: None,
                session: None,
                intents: true,
            };
            let found = ix.search(&model, &ask.spec(), None);
            let top = found.hits.first().map(|&(i, _)| model.item_id(i));
            assert_eq!(top, Some(want), "{q}");
        }
    }
}
