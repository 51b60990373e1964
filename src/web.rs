//! The embedded web sites: the admin UI (Vue + Element Plus, `assets/admin/dist/`) under
//! `/admin/` and the member H5 client (uni-app, `assets/member/dist/h5/`) under `/h5/`. Both are
//! built ahead and committed, so `cargo build` needs no Node; each is one [`Site`] value.
//!
//! Caching: files under `assets/` carry a content hash in their name (Vite), so they are cached
//! for a year as immutable; `index.html` (and anything else) is `no-cache` so a new release is
//! picked up on the next load. Compression: the build precompresses text files to `.br` and
//! `.gz` siblings, which are served by `Accept-Encoding` without CPU work at request time.
//! Security: every page response carries a strict Content-Security-Policy (no inline script,
//! no eval; inline styles are allowed because Element Plus and uni-app set style attributes).

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

/// The built admin UI (committed, so `cargo build` needs no Node).
#[derive(RustEmbed)]
#[folder = "assets/admin/dist/"]
struct AdminAssets;

/// The built member H5 client (committed like the admin UI).
#[derive(RustEmbed)]
#[folder = "assets/member/dist/h5/"]
struct MemberH5Assets;

/// One embedded single-page site: where it is mounted and where its files come from.
#[derive(Clone, Copy)]
pub struct Site {
    /// Mount path without the trailing slash, e.g. `/admin`.
    pub mount: &'static str,
    /// Looks a file up by its path inside the build.
    get: fn(&str) -> Option<rust_embed::EmbeddedFile>,
    /// Message when the build is missing (a broken checkout).
    missing: &'static str,
}

/// The admin UI at `/admin/`.
pub const ADMIN: Site = Site {
    mount: "/admin",
    get: AdminAssets::get,
    missing: "管理后台页面未构建",
};

/// The member H5 client at `/h5/`.
pub const MEMBER_H5: Site = Site {
    mount: "/h5",
    get: MemberH5Assets::get,
    missing: "职工端页面未构建",
};

/// Content-Security-Policy of the embedded pages (admin and member H5 alike).
pub const ADMIN_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Cache policy of content-hashed build output.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Routes of every embedded site (`/admin`, `/admin/`, `/admin/*`, the same for `/h5`).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    [ADMIN, MEMBER_H5]
        .into_iter()
        .fold(Router::new(), |r, site| r.merge(site_routes(site)))
}

/// The three routes of one site.
fn site_routes<S: Clone + Send + Sync + 'static>(site: Site) -> Router<S> {
    let slash = format!("{}/", site.mount);
    let to = slash.clone();
    Router::new()
        .route(
            site.mount,
            get(move || async move { Redirect::permanent(&to) }),
        )
        .route(
            &slash,
            get(move |headers: HeaderMap| async move { serve(site, "index.html", &headers) }),
        )
        .route(
            &format!("{slash}{{*path}}"),
            get(
                move |Path(path): Path<String>, headers: HeaderMap| async move {
                    asset(site, path, headers).await
                },
            ),
        )
}

async fn asset(site: Site, path: String, headers: HeaderMap) -> Response {
    if (site.get)(&path).is_some() {
        return serve(site, &path, &headers);
    }
    // A client-side route (`/admin/members/12`) gets the app; a missing file (`x.js`) is a 404
    // so a stale bundle reference fails loudly instead of executing HTML as script.
    let last = path.rsplit('/').next().unwrap_or("");
    if last.contains('.') {
        return crate::http::not_found().await;
    }
    serve(site, "index.html", &headers)
}

/// Which precompressed variant the client accepts, best first.
fn encodings(headers: &HeaderMap) -> Vec<(&'static str, &'static str)> {
    let accept = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let accepts = |name: &str| {
        accept.split(',').any(|part| {
            let mut it = part.split(';');
            let token = it.next().unwrap_or("").trim();
            let refused = it.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
            });
            token.eq_ignore_ascii_case(name) && !refused
        })
    };
    let mut out = Vec::new();
    if accepts("br") {
        out.push(("br", ".br"));
    }
    if accepts("gzip") {
        out.push(("gzip", ".gz"));
    }
    out
}

fn serve(site: Site, path: &str, headers: &HeaderMap) -> Response {
    let Some(plain) = (site.get)(path) else {
        // Only when the site was not built at all (a broken checkout).
        return (
            StatusCode::NOT_FOUND,
            axum::Json(
                serde_json::json!({"error": {"code": "not_found", "message": site.missing}}),
            ),
        )
            .into_response();
    };
    let mime = mime_of(path);
    let cache = if path.starts_with("assets/") {
        IMMUTABLE
    } else {
        "no-cache"
    };
    let mut body = plain.data;
    let mut encoding = None;
    for (name, ext) in encodings(headers) {
        if let Some(f) = (site.get)(&format!("{path}{ext}")) {
            body = f.data;
            encoding = Some(name);
            break;
        }
    }
    let mut resp = (StatusCode::OK, body.into_owned()).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(ADMIN_CSP),
    );
    if let Some(enc) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(enc));
    }
    let etag = format!("\"{}\"", hex::encode(&plain.metadata.sha256_hash()[..16]));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    resp
}

fn mime_of(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("");
    match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_brotli_then_gzip_and_honours_q_zero() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br"),
        );
        assert_eq!(encodings(&h), vec![("br", ".br"), ("gzip", ".gz")]);
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br;q=0, gzip"),
        );
        assert_eq!(encodings(&h), vec![("gzip", ".gz")]);
        h.remove(header::ACCEPT_ENCODING);
        assert!(encodings(&h).is_empty());
    }

    #[test]
    fn csp_forbids_eval_and_inline_script() {
        assert!(!ADMIN_CSP.contains("unsafe-eval"));
        let script = ADMIN_CSP
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(!script.contains("unsafe-inline"));
    }
}
