//! Helpers for news tests: members with app tokens, articles, a second server on a state.

use crate::support::*;
use gonghui::app::AppState;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A member in `org` with `status`, and an app token for them.
pub async fn member(app: &TestApp, org: Option<i64>, status: &'static str) -> String {
    let id: i64 = app
        .state
        .db
        .write(move |c| {
            c.execute(
                "INSERT INTO members (status, org_id, created_at, updated_at) VALUES (?1, ?2, 0, 0)",
                rusqlite::params![status, org],
            )?;
            Ok(c.last_insert_rowid())
        })
        .await
        .unwrap();
    gonghui::auth::tokens::issue_access(&app.state.keys, "app", id, 1, 600).unwrap()
}

/// The seeded category 通知公告 (its name shares no word with the test articles).
pub async fn category(app: &TestApp) -> i64 {
    app.query_i64("SELECT id FROM news_categories WHERE name = '通知公告'")
        .await
}

/// Create a draft; returns its id.
pub async fn draft(app: &TestApp, token: &str, org: i64, title: &str, body: &str) -> i64 {
    let cat = category(app).await;
    let r = app
        .post(
            "/api/v1/admin/news",
            token,
            json!({"org_id": org, "category_id": cat, "title": title, "body_html": body}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.data()["status"], "draft");
    r.data()["id"].as_i64().unwrap()
}

/// Create and publish now; returns its id.
pub async fn published(app: &TestApp, token: &str, org: i64, title: &str, body: &str) -> i64 {
    let id = draft(app, token, org, title, body).await;
    let r = app
        .post(
            &format!("/api/v1/admin/news/{id}/publish"),
            token,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["status"], "published");
    id
}

/// Ids of `items` of a list response, in order.
pub fn ids(body: &Value) -> Vec<i64> {
    body["data"]["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {body}"))
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

/// Member search; returns the response.
pub async fn search(app: &TestApp, token: &str, q: &str) -> Resp {
    let url = format!("/api/v1/app/news/search?q={}", url_escape(q));
    app.get(&url, token).await
}

/// Percent-encode a query value.
pub fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Serve `state` on a new port (for a state reopened on an existing data dir).
pub async fn serve(state: AppState) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = gonghui::app::serve_on(listener, state, async {
            let _ = rx.await;
        })
        .await;
    });
    (format!("http://{addr}"), tx)
}

/// Root → county A → grassroots A1, and county B; with county admins of A and B.
pub struct Tree {
    /// Root org.
    pub root: i64,
    /// County A.
    pub a: i64,
    /// Grassroots under A.
    pub a1: i64,
    /// County B (sibling of A).
    pub b: i64,
    /// Super admin token.
    pub admin: String,
    /// County admin of A.
    pub admin_a: String,
    /// County admin of B.
    pub admin_b: String,
}

/// Build [`Tree`].
pub async fn tree(app: &TestApp) -> Tree {
    let admin = app.admin_token().await;
    let root = app.root_org().await;
    let a = app.create_org(&admin, root, "xa", "county").await;
    let a1 = app.create_org(&admin, a, "xa1", "grassroots").await;
    let b = app.create_org(&admin, root, "xb", "county").await;
    let (_, admin_a) = app
        .account_token(&admin, "news_a", a, &[roles::COUNTY_ADMIN])
        .await;
    let (_, admin_b) = app
        .account_token(&admin, "news_b", b, &[roles::COUNTY_ADMIN])
        .await;
    Tree {
        root,
        a,
        a1,
        b,
        admin,
        admin_a,
        admin_b,
    }
}
