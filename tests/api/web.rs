//! The embedded admin UI under `/admin/`: caching, SPA fallback, 404 for missing files,
//! precompressed variants and the Content-Security-Policy.

use crate::support::*;
use reqwest::StatusCode;

async fn get(app: &TestApp, path: &str, encoding: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(format!("{}{path}", app.base));
    if let Some(e) = encoding {
        req = req.header("accept-encoding", e);
    }
    req.send().await.unwrap()
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The hashed entry script that index.html references.
async fn entry_script(app: &TestApp) -> String {
    let html = get(app, "/admin/", None).await.text().await.unwrap();
    let start = html
        .find("/admin/assets/index-")
        .expect("entry script in index.html");
    let end = start + html[start..].find('"').unwrap();
    html[start..end].to_string()
}

/// index.html is served with `no-cache`, as HTML, with a CSP that forbids eval and inline script.
#[tokio::test]
async fn index_is_no_cache_with_strict_csp() {
    let app = spawn_app().await;
    let r = get(&app, "/admin/", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "cache-control"), "no-cache");
    assert!(header(&r, "content-type").starts_with("text/html"));
    let csp = header(&r, "content-security-policy");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    let script = csp
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap();
    assert!(!script.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    let body = r.text().await.unwrap();
    assert!(body.contains("<div id=\"app\">"));
    // No inline script: every <script> has a src.
    assert!(!body.contains("<script>"), "inline script in index.html");

    // `/admin` without the slash redirects to the app.
    let r = app
        .client
        .get(format!("{}/admin", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.url().path().ends_with("/admin/"));
}

/// A hashed asset is cached for a year as immutable and typed as JavaScript.
#[tokio::test]
async fn hashed_asset_is_immutable() {
    let app = spawn_app().await;
    let path = entry_script(&app).await;
    let r = get(&app, &path, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        header(&r, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert!(header(&r, "content-type").starts_with("text/javascript"));
    assert_eq!(header(&r, "content-encoding"), "");
    let plain = r.bytes().await.unwrap();
    assert!(!plain.is_empty());
    assert!(!String::from_utf8_lossy(&plain).contains("eval("));
}

/// Clients that accept brotli or gzip get the precompressed file, smaller than the original.
#[tokio::test]
async fn precompressed_variants_follow_accept_encoding() {
    let app = spawn_app().await;
    let path = entry_script(&app).await;
    let plain = get(&app, &path, None).await.bytes().await.unwrap();
    let r = get(&app, &path, Some("gzip, deflate, br")).await;
    assert_eq!(header(&r, "content-encoding"), "br");
    assert!(
        header(&r, "vary")
            .to_ascii_lowercase()
            .contains("accept-encoding")
    );
    assert!(r.bytes().await.unwrap().len() < plain.len());
    let r = get(&app, &path, Some("gzip")).await;
    assert_eq!(header(&r, "content-encoding"), "gzip");
    let gz = r.bytes().await.unwrap();
    assert_eq!(&gz[..2], &[0x1f, 0x8b], "gzip magic");
    let r = get(&app, &path, Some("br;q=0, identity")).await;
    assert_eq!(header(&r, "content-encoding"), "");
}

/// A missing file is a 404 in our error format, never the app's HTML.
#[tokio::test]
async fn missing_asset_is_404() {
    let app = spawn_app().await;
    for path in [
        "/admin/x.js",
        "/admin/assets/nope-123.css",
        "/admin/a/b/c.png",
    ] {
        let r = get(&app, path, None).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
}

/// Client-side routes without an extension get index.html (the SPA router takes over).
#[tokio::test]
async fn spa_fallback_for_client_routes() {
    let app = spawn_app().await;
    let index = get(&app, "/admin/", None).await.text().await.unwrap();
    for path in ["/admin/members/12", "/admin/system/orgs", "/admin/login"] {
        let r = get(&app, path, None).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&r, "cache-control"), "no-cache", "{path}");
        assert!(!header(&r, "content-security-policy").contains("unsafe-eval"));
        assert_eq!(r.text().await.unwrap(), index, "{path}");
    }
    // The API keeps its own 404s; the fallback is only under /admin/.
    let r = app
        .call(reqwest::Method::GET, "/api/v1/admin/nope", None, None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
