//! The storefront's static files, embedded in the worker at build time and answered from the
//! isolate's memory (which file is where, and how it is cached: `shared::assets`). Serving them
//! here instead of through Workers Static Assets keeps the asset router's hop off every API
//! request.

use std::cell::RefCell;
use std::collections::HashMap;

use shared::assets::Asset;
use worker::{Headers, Request, Response};

use crate::http::{HandlerResult, internal};

fn bytes(a: Asset) -> &'static [u8] {
    match a {
        Asset::Snippet => include_bytes!("../assets/vitrine.js"),
        Asset::DemoPage => include_bytes!("../assets/demo/index.html"),
        Asset::DemoScript => include_bytes!("../assets/demo/app.js"),
        Asset::DemoStyle => include_bytes!("../assets/demo/style.css"),
        Asset::DashboardPage => include_bytes!("../assets/admin/index.html"),
        Asset::DashboardScript => include_bytes!("../assets/admin/dashboard.js"),
        Asset::DashboardStyle => include_bytes!("../assets/admin/dashboard.css"),
        Asset::ChartLibrary => include_bytes!(concat!(env!("OUT_DIR"), "/chart.umd.min.js")),
    }
}

thread_local! {
    static ETAGS: RefCell<HashMap<Asset, String>> = RefCell::new(HashMap::new());
}

/// `GET /vitrine.js`, `/demo/…`, `/admin/…`: the file, or 304 when the browser's copy is current.
pub fn serve(req: &Request, a: Asset) -> HandlerResult {
    let body = bytes(a);
    let etag = ETAGS.with(|e| {
        e.borrow_mut()
            .entry(a)
            .or_insert_with(|| Asset::etag(body))
            .clone()
    });
    let headers = Headers::new();
    let set = |k: &str, v: &str| headers.set(k, v).map_err(|e| internal(&e));
    set("etag", &etag)?;
    set("cache-control", a.cache_control())?;
    set("x-content-type-options", "nosniff")?;
    let asked = req.headers().get("if-none-match").ok().flatten();
    if Asset::not_modified(asked.as_deref(), &etag) {
        return Ok(Response::builder()
            .with_status(304)
            .with_headers(headers)
            .empty());
    }
    set("content-type", a.content_type())?;
    Ok(Response::builder()
        .with_status(200)
        .with_headers(headers)
        .fixed(body.to_vec()))
}

/// `GET /demo` and `/admin`: to the page with its trailing slash, so relative links resolve.
pub fn add_slash(a: Asset) -> HandlerResult {
    let headers = Headers::new();
    headers
        .set("location", a.path())
        .map_err(|e| internal(&e))?;
    Ok(Response::builder()
        .with_status(307)
        .with_headers(headers)
        .empty())
}
