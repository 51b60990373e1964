//! Health, metrics, OpenAPI and docs, request ids, and what the logs may not contain.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;
use std::io::Read;
use std::process::{Command, Stdio};

/// `/healthz` answers ok with the version, without auth.
#[tokio::test]
async fn health_answers_ok_with_version() {
    let app = spawn_app().await;
    let r = app.call(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["status"], "ok");
    assert_eq!(r.body["version"], env!("CARGO_PKG_VERSION"));
}

/// Every response carries an `x-request-id`, and a client-sent one is kept.
#[tokio::test]
async fn responses_carry_a_request_id() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert!(!r.headers()["x-request-id"].is_empty());
    let r = app
        .client
        .get(format!("{}/healthz", app.base))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
}

/// `/metrics` exposes request counts by route template and the writer's batch sizes.
#[tokio::test]
async fn metrics_show_requests_by_route_and_write_batches() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    app.create_org(&t, root, "m1", "county").await;
    let r = app.get("/api/v1/admin/orgs", &t).await;
    assert_eq!(r.status, StatusCode::OK);
    let text = app.metrics_text().await;
    assert!(text.contains("gonghui_http_requests_total"), "{text}");
    assert!(text.contains(r#"route="/api/v1/admin/orgs""#), "{text}");
    assert!(
        text.contains("gonghui_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("gonghui_db_write_batch_size_count"), "{text}");
}

/// The OpenAPI document is generated from the code and lists the core routes.
#[tokio::test]
async fn openapi_lists_the_core_routes() {
    let app = spawn_app().await;
    let r = app
        .call(reqwest::Method::GET, "/api/openapi.json", None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = r.body["paths"].as_object().unwrap();
    for p in [
        "/api/v1/admin/auth/login",
        "/api/v1/admin/auth/refresh",
        "/api/v1/admin/auth/logout",
        "/api/v1/admin/auth/password",
        "/api/v1/admin/me",
        "/api/v1/admin/orgs",
        "/api/v1/admin/orgs/{id}",
        "/api/v1/admin/accounts",
        "/api/v1/admin/accounts/{id}",
        "/api/v1/admin/roles",
        "/api/v1/admin/permissions",
        "/api/v1/admin/audit-logs",
        "/api/v1/admin/files",
    ] {
        assert!(paths.contains_key(p), "missing {p} in openapi.json");
    }
    assert!(paths["/api/v1/admin/orgs"].get("post").is_some());
    assert!(paths["/api/v1/admin/orgs/{id}"].get("patch").is_some());
}

/// The docs page and its assets are served by the binary itself (no CDN), so it works offline.
#[tokio::test]
async fn docs_page_works_offline() {
    let app = spawn_app().await;
    let html = app
        .client
        .get(format!("{}/api/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(html.status(), StatusCode::OK);
    let body = html.text().await.unwrap();
    assert!(
        !body.contains("unpkg.com") && !body.contains("cdn."),
        "docs must not load from a CDN"
    );
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        let r = app
            .client
            .get(format!("{}/api/docs/{asset}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{asset}");
    }
}

/// Unknown routes answer 404 in the JSON error format.
#[tokio::test]
async fn unknown_route_is_json_404() {
    let app = spawn_app().await;
    let r = app
        .call(reqwest::Method::GET, "/api/v1/nothing-here", None, None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "not_found");
}

/// Run the real binary, log in and make calls carrying secrets; the logs must contain none of
/// them (no passwords, tokens, or query strings with personal data).
#[tokio::test]
async fn logs_never_contain_passwords_tokens_or_query_values() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gonghui"))
        .args([
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
            "serve",
        ])
        .env("GONGHUI_ADMIN_PASSWORD", ADMIN_PW)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut up = false;
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "server did not start");
    let r: serde_json::Value = client
        .post(format!("{base}/api/v1/admin/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PW}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = r["data"]["access_token"].as_str().unwrap().to_string();
    let refresh = r["data"]["refresh_token"].as_str().unwrap().to_string();
    let _ = client
        .post(format!("{base}/api/v1/admin/auth/login"))
        .json(&json!({"username": "admin", "password": "Wrong#Secret99"}))
        .send()
        .await;
    let _ = client
        .get(format!("{base}/api/v1/admin/accounts?q=532901199001011234"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(
        logs.contains("/api/v1/admin/accounts"),
        "access log missing: {logs}"
    );
    for secret in [
        ADMIN_PW,
        "Wrong#Secret99",
        token.as_str(),
        refresh.as_str(),
        "532901199001011234",
    ] {
        assert!(!logs.contains(secret), "log leaked a secret: {secret}");
    }
}

/// Every parameter the document places in the path is in the path template, and list
/// parameters are query parameters with their bounds, so generated clients (and fuzzers)
/// send them where the server reads them.
#[tokio::test]
async fn openapi_parameters_are_where_the_server_reads_them() {
    let app = spawn_app().await;
    let doc: serde_json::Value = app
        .client
        .get(format!("{}/api/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut misplaced = Vec::new();
    let mut page_sizes = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                if p["in"] == "path" && !path.contains(&format!("{{{name}}}")) {
                    misplaced.push(format!("{method} {path} {name}"));
                }
                if name == "page_size" {
                    page_sizes += 1;
                    assert_eq!(p["in"], "query", "{method} {path}");
                    assert_eq!(p["schema"]["maximum"], 100, "{method} {path}: {p}");
                }
            }
        }
    }
    assert!(misplaced.is_empty(), "declared in the path: {misplaced:#?}");
    assert!(page_sizes > 10, "{page_sizes}");
}
