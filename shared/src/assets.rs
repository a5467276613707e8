//! The storefront's static files — the snippet, the demo shop and the BI dashboard — and how the
//! worker serves them: path, content type and caching, declared once here.
//!
//! The worker serves these itself (bytes embedded at build time, `edge/src/assets.rs`) rather than
//! through Workers Static Assets: a worker with an `[assets]` directory has every request pass an
//! asset router first, `/v1/*` included even with `run_worker_first`, and that hop cost each API
//! answer 0.7–1.3 ms p50 in workerd (docs/benchmarks.md, "Run 10"). The files are small and
//! change only with a deploy, so the isolate answers them from memory with an `ETag`.

/// One static file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Asset {
    /// `/vitrine.js`: the storefront snippet.
    Snippet,
    /// `/demo/`: the demo shop's page.
    DemoPage,
    /// `/demo/app.js`
    DemoScript,
    /// `/demo/style.css`
    DemoStyle,
    /// `/admin/`: the BI dashboard's page (its data comes from the admin API, with the admin key).
    DashboardPage,
    /// `/admin/dashboard.js`
    DashboardScript,
    /// `/admin/dashboard.css`
    DashboardStyle,
    /// `/admin/vendor/chart.umd.min.js`: Chart.js, from the npm package pinned in package-lock.
    ChartLibrary,
}

/// What a static path resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Serve this file.
    File(Asset),
    /// A folder page asked for without its trailing slash: redirect to the asset's path, so the
    /// page's relative links resolve.
    AddSlash(Asset),
}

impl Asset {
    /// Every static file.
    pub const ALL: [Asset; 8] = [
        Asset::Snippet,
        Asset::DemoPage,
        Asset::DemoScript,
        Asset::DemoStyle,
        Asset::DashboardPage,
        Asset::DashboardScript,
        Asset::DashboardStyle,
        Asset::ChartLibrary,
    ];

    /// The path the file is served at.
    pub fn path(self) -> &'static str {
        match self {
            Asset::Snippet => "/vitrine.js",
            Asset::DemoPage => "/demo/",
            Asset::DemoScript => "/demo/app.js",
            Asset::DemoStyle => "/demo/style.css",
            Asset::DashboardPage => "/admin/",
            Asset::DashboardScript => "/admin/dashboard.js",
            Asset::DashboardStyle => "/admin/dashboard.css",
            Asset::ChartLibrary => "/admin/vendor/chart.umd.min.js",
        }
    }

    /// The `content-type` header.
    pub fn content_type(self) -> &'static str {
        match self {
            Asset::DemoPage | Asset::DashboardPage => "text/html; charset=utf-8",
            Asset::DemoStyle | Asset::DashboardStyle => "text/css; charset=utf-8",
            Asset::Snippet | Asset::DemoScript | Asset::DashboardScript | Asset::ChartLibrary => {
                "text/javascript; charset=utf-8"
            }
        }
    }

    /// The `cache-control` header. The snippet is loaded on every page of the shop, so browsers
    /// and caches keep it for five minutes (a deploy reaches every shopper within that); the
    /// rest is revalidated each time (a 304 against the `ETag`).
    pub fn cache_control(self) -> &'static str {
        match self {
            Asset::Snippet => "public, max-age=300",
            _ => "public, max-age=0, must-revalidate",
        }
    }

    /// The file at a request path, if any (`/demo/index.html` is the page too; `/demo` redirects).
    pub fn at(path: &str) -> Option<Lookup> {
        let folder = |page: Asset| {
            let dir = page.path().trim_end_matches('/');
            if path == dir {
                Some(Lookup::AddSlash(page))
            } else if path == page.path() || path.strip_prefix(dir) == Some("/index.html") {
                Some(Lookup::File(page))
            } else {
                None
            }
        };
        folder(Asset::DemoPage)
            .or_else(|| folder(Asset::DashboardPage))
            .or_else(|| {
                Asset::ALL
                    .into_iter()
                    .find(|a| a.path() == path)
                    .map(Lookup::File)
            })
    }

    /// The entity tag of a file's bytes (quoted, strong): FNV-1a is enough to tell two deploys'
    /// files apart, and no one gains from colliding it.
    pub fn etag(bytes: &[u8]) -> String {
        format!("\"{:016x}\"", crate::hash::fnv1a_bytes(bytes))
    }

    /// Whether an `If-None-Match` header names this `etag` (a list, `*`, or weak forms).
    pub fn not_modified(if_none_match: Option<&str>, etag: &str) -> bool {
        if_none_match.is_some_and(|h| {
            h.split(',')
                .map(str::trim)
                .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_found_at_its_own_path() {
        for a in Asset::ALL {
            assert_eq!(Asset::at(a.path()), Some(Lookup::File(a)), "{a:?}");
        }
    }

    #[test]
    fn folder_pages_answer_index_html_and_redirect_without_the_slash() {
        assert_eq!(
            Asset::at("/demo/index.html"),
            Some(Lookup::File(Asset::DemoPage))
        );
        assert_eq!(
            Asset::at("/admin/index.html"),
            Some(Lookup::File(Asset::DashboardPage))
        );
        assert_eq!(Asset::at("/demo"), Some(Lookup::AddSlash(Asset::DemoPage)));
        assert_eq!(
            Asset::at("/admin"),
            Some(Lookup::AddSlash(Asset::DashboardPage))
        );
    }

    #[test]
    fn nothing_else_is_a_file() {
        for p in [
            "/",
            "/v1/health",
            "/demo/../wrangler.toml",
            "/demo//app.js",
            "/admin/vendor/",
            "/admin/vendor",
            "/vitrine.js/",
            "/VITRINE.JS",
            "/demo/index.htm",
            "/edge/assets/vitrine.js",
        ] {
            assert_eq!(Asset::at(p), None, "{p}");
        }
    }

    #[test]
    fn etags_differ_with_the_bytes_and_match_their_revalidation() {
        let a = Asset::etag(b"one");
        let b = Asset::etag(b"two");
        assert_ne!(a, b);
        assert!(a.starts_with('"') && a.ends_with('"'));
        assert!(Asset::not_modified(Some(&a), &a));
        assert!(Asset::not_modified(Some(&format!("W/{a}")), &a));
        assert!(Asset::not_modified(Some(&format!("{b}, {a}")), &a));
        assert!(Asset::not_modified(Some("*"), &a));
        assert!(!Asset::not_modified(Some(&b), &a));
        assert!(!Asset::not_modified(None, &a));
        assert!(!Asset::not_modified(Some(""), &a));
    }
}
