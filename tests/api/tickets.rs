//! Tickets (issue 22): the whole life, transfer and escalation, scope, anonymity, overdue on an
//! injected clock, and bad inputs that change nothing.

mod bad_input;
mod deadlines;
mod lifecycle;
mod overdue;
mod routing;

pub use crate::activities::{members, num};
use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A 1×1 greyscale PNG, hex.
pub const PNG: &str = "89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b550000000a49444154789c636000000002000148afa4710000000049454e44ae426082";

/// Root → county A → grassroots A1, A2; county B → B1; staff of each level; a member in A1
/// and one in B1.
pub struct Desk {
    /// The app.
    pub app: TestApp,
    /// Super admin.
    pub admin: String,
    /// County A.
    pub a: i64,
    /// Grassroots A1.
    pub a1: i64,
    /// Grassroots A2.
    pub a2: i64,
    /// County B.
    pub b: i64,
    /// County admin of A.
    pub admin_a: String,
    /// County admin of B.
    pub admin_b: String,
    /// Grassroots clerk of A1.
    pub clerk_a1: String,
    /// Grassroots clerk of A2.
    pub clerk_a2: String,
    /// Member of A1 (id, token); real name 测试0.
    pub m: (i64, String),
    /// Member of B1.
    pub mb: (i64, String),
}

/// Arrange a [`Desk`].
pub async fn desk() -> Desk {
    desk_with(|_| {}).await
}

/// Arrange a [`Desk`] on an app with adjusted config.
pub async fn desk_with(f: impl FnOnce(&mut gonghui::config::Config)) -> Desk {
    let app = spawn_with(|c| {
        c.auth.login_per_ip_per_minute = 1000;
        f(c)
    })
    .await;
    let admin = app.admin_token().await;
    let root = app.root_org().await;
    let a = app.create_org(&admin, root, "ta", "county").await;
    let a1 = app.create_org(&admin, a, "ta1", "grassroots").await;
    let a2 = app.create_org(&admin, a, "ta2", "grassroots").await;
    let b = app.create_org(&admin, root, "tb", "county").await;
    let b1 = app.create_org(&admin, b, "tb1", "grassroots").await;
    let (_, admin_a) = app
        .account_token(&admin, "t_county_a", a, &[roles::COUNTY_ADMIN])
        .await;
    let (_, admin_b) = app
        .account_token(&admin, "t_county_b", b, &[roles::COUNTY_ADMIN])
        .await;
    let (_, clerk_a1) = app
        .account_token(&admin, "t_clerk_a1", a1, &[roles::GRASSROOTS_CLERK])
        .await;
    let (_, clerk_a2) = app
        .account_token(&admin, "t_clerk_a2", a2, &[roles::GRASSROOTS_CLERK])
        .await;
    let m = members(&app, 1, Some(a1), "active").await.remove(0);
    let mb = members(&app, 1, Some(b1), "active").await.remove(0);
    Desk {
        app,
        admin,
        a,
        a1,
        a2,
        b,
        admin_a,
        admin_b,
        clerk_a1,
        clerk_a2,
        m,
        mb,
    }
}

/// Upload a PNG as a member (`app` side) or staff; the file id.
pub async fn upload(app: &TestApp, token: &str, staff: bool) -> i64 {
    let path = if staff {
        "/api/v1/admin/files"
    } else {
        "/api/v1/app/files"
    };
    let part = reqwest::multipart::Part::bytes(hex::decode(PNG).unwrap())
        .file_name("a.png")
        .mime_str("image/png")
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("purpose", "attachment")
        .part("file", part);
    let r = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let r = TestApp::read(r).await;
    assert_eq!(r.status, StatusCode::CREATED, "upload: {:?}", r.body);
    r.data()["id"].as_i64().unwrap()
}

/// A ticket body in category 1 (劳动维权, 1 working day).
pub fn ticket_body(title: &str) -> Value {
    json!({"category_id": 1, "title": title, "content": "单位拖欠三个月工资，请工会帮忙协调。", "callback_phone": "13812345678"})
}

/// Open a ticket as `token`; its id.
pub async fn open(app: &TestApp, token: &str, body: Value) -> i64 {
    let r = app.post("/api/v1/app/tickets", token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "open: {:?}", r.body);
    r.data()["id"].as_i64().unwrap()
}

/// `/api/v1/admin/tickets/{id}{tail}`.
pub fn staff(id: i64, tail: &str) -> String {
    format!("/api/v1/admin/tickets/{id}{tail}")
}

/// `/api/v1/app/tickets/{id}{tail}`.
pub fn mine(id: i64, tail: &str) -> String {
    format!("/api/v1/app/tickets/{id}{tail}")
}

/// Ids in the staff queue answered to `token`.
pub async fn queue(app: &TestApp, token: &str, query: &str) -> Vec<i64> {
    let r = app
        .get(&format!("/api/v1/admin/tickets{query}"), token)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect()
}

/// A reply body.
pub fn reply(text: &str) -> Value {
    json!({"content": text})
}
