//! A local shop with a Shopify-style Admin REST API for the connector tests: real HTTP on a real
//! socket, `Link` pagination with opaque `page_info`, `since_id` and `updated_at_min` filters,
//! token check, and a queue of faults injected into the next requests (429 with `Retry-After`,
//! 500, a response slower than the client's timeout, truncated JSON, a page served twice).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};

/// One injected fault, consumed by the next request.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// `429` with `Retry-After: <secs>`.
    TooMany(f64),
    /// `500`.
    ServerError,
    /// Answer only after this long (past the client's timeout).
    Slow(Duration),
    /// `200` with the JSON cut in half.
    Truncated,
    /// The page is fine, but its `next` link leads to the same page again (under a new token).
    DuplicatePage,
}

/// The shop's data and behaviour; tests change it between runs.
#[derive(Debug, Default)]
pub struct ShopState {
    pub products: Vec<Value>,
    pub customers: Vec<Value>,
    pub orders: Vec<Value>,
    /// Faults for the coming requests, in order (`None`: answer normally).
    pub faults: VecDeque<Option<Fault>>,
    /// Every fault from here on (after `faults` is empty): a shop that stays down.
    pub always: Option<Fault>,
    /// Every request's path and query, in order.
    pub requests: Vec<String>,
    pub token: Option<String>,
}

/// A running shop.
pub struct FakeShop {
    pub url: String,
    state: Arc<Mutex<ShopState>>,
}

impl FakeShop {
    /// Starts the shop on a free local port.
    pub fn start(state: ShopState) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(Mutex::new(state));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = Arc::clone(&shared);
                std::thread::spawn(move || {
                    let _ignored = serve(stream, &s);
                });
            }
        });
        Ok(Self { url, state })
    }

    /// The shop's state, to change data or queue faults.
    pub fn state(&self) -> MutexGuard<'_, ShopState> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
}

fn lock(s: &Mutex<ShopState>) -> MutexGuard<'_, ShopState> {
    match s.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

fn serve(mut stream: TcpStream, state: &Mutex<ShopState>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let target = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let mut token = None;
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            match k.trim().to_ascii_lowercase().as_str() {
                "x-shopify-access-token" => token = Some(v.trim().to_owned()),
                "content-length" => length = v.trim().parse().unwrap_or(0),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let (fault, reply) = {
        let mut s = lock(state);
        s.requests.push(target.clone());
        let fault = s.faults.pop_front().unwrap_or_else(|| s.always.clone());
        if s.token.is_some() && s.token != token {
            (
                None,
                (
                    401,
                    json!({"errors": "[API] Invalid API key or access token"}),
                    None,
                ),
            )
        } else {
            let dup = fault == Some(Fault::DuplicatePage);
            (fault, answer(&s, &target, dup))
        }
    };
    let (status, body, link) = reply;
    let mut text = body.to_string();
    let mut extra = String::new();
    let status = match fault {
        Some(Fault::TooMany(secs)) => {
            extra = format!("Retry-After: {secs:.1}\r\n");
            text = json!({"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}).to_string();
            429
        }
        Some(Fault::ServerError) => {
            text = json!({"errors": "Internal Server Error"}).to_string();
            500
        }
        Some(Fault::Slow(d)) => {
            std::thread::sleep(d);
            status
        }
        Some(Fault::Truncated) => {
            text.truncate(text.len() / 2);
            status
        }
        _ => status,
    };
    if let Some(l) = link {
        let host = stream.local_addr()?.to_string();
        let l = l.replace("{host}", &host);
        extra.push_str(&format!("Link: <{l}>; rel=\"next\"\r\n"));
    }
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "Internal Server Error",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n",
        text.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(text.as_bytes())?;
    stream.flush()
}

fn query_of(target: &str) -> Vec<(String, String)> {
    let q = target.split_once('?').map_or("", |(_, q)| q);
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.replace("%3A", ":").replace("%2B", "+")))
        .collect()
}

fn millis(rfc3339: &str) -> i64 {
    chrono_like(rfc3339).unwrap_or(0)
}

/// Parses `YYYY-MM-DDTHH:MM:SS(.mmm)(Z|±HH:MM)` to epoch ms (no chrono in this crate).
fn chrono_like(s: &str) -> Option<i64> {
    let n = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, sec) = (
        n(0, 4)?,
        n(5, 7)?,
        n(8, 10)?,
        n(11, 13)?,
        n(14, 16)?,
        n(17, 19)?,
    );
    let mut rest = &s[19..];
    let mut ms = 0;
    if let Some(r) = rest.strip_prefix('.') {
        let digits: String = r.chars().take_while(char::is_ascii_digit).collect();
        ms = digits.get(..3.min(digits.len()))?.parse::<i64>().ok()?
            * 10_i64.pow(3 - digits.len().min(3) as u32);
        rest = &r[digits.len()..];
    }
    let offset_min = match rest {
        "Z" | "" => 0,
        o => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o.get(1..3)?.parse::<i64>().ok()? * 60 + o.get(4..6)?.parse::<i64>().ok()?)
        }
    };
    // Days from civil (Howard Hinnant).
    let (y2, m2) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60) * 1000) + ms)
}

type Reply = (u16, Value, Option<String>);

fn answer(s: &ShopState, target: &str, duplicate: bool) -> Reply {
    let path = target.split('?').next().unwrap_or("");
    let Some(resource) = path
        .strip_prefix("/admin/api/")
        .and_then(|p| p.split_once('/'))
        .and_then(|(_, r)| r.strip_suffix(".json"))
    else {
        return (404, json!({"errors": "Not Found"}), None);
    };
    let records = match resource {
        "products" => &s.products,
        "customers" => &s.customers,
        "orders" => &s.orders,
        _ => return (404, json!({"errors": "Not Found"}), None),
    };
    let q = query_of(target);
    let get = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let limit: usize = get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(50)
        .clamp(1, 250);
    // page_info: "<offset>.<since_id>.<updated_min_ms>[.d]" (opaque to the client).
    let (offset, since, updated_min) = match get("page_info") {
        Some(p) => {
            let parts: Vec<i64> = p.split('.').filter_map(|x| x.parse().ok()).collect();
            (
                usize::try_from(parts.first().copied().unwrap_or(0)).unwrap_or(0),
                parts.get(1).copied().unwrap_or(0),
                parts.get(2).copied().unwrap_or(i64::MIN),
            )
        }
        None => (
            0,
            get("since_id").and_then(|v| v.parse().ok()).unwrap_or(0),
            get("updated_at_min").map_or(i64::MIN, |t| millis(&t)),
        ),
    };
    let mut matching: Vec<&Value> = records
        .iter()
        .filter(|r| r["id"].as_i64().is_none_or(|id| id > since))
        .filter(|r| {
            r["updated_at"]
                .as_str()
                .is_none_or(|t| millis(t) >= updated_min)
        })
        .collect();
    matching.sort_by_key(|r| r["id"].as_i64().unwrap_or(0));
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|v| (*v).clone())
        .collect();
    let next_offset = if duplicate { offset } else { offset + limit };
    let link = (offset + limit < matching.len() || duplicate).then(|| {
        let tag = if duplicate { ".1" } else { "" };
        format!(
            "http://{{host}}{path}?limit={limit}&page_info={next_offset}.{since}.{updated_min}{tag}"
        )
    });
    (200, json!({ resource: page }), link)
}
