//! Hardship aid (issue 21): the three-step flow across grassroots, county and prefecture
//! accounts, return and resubmit, reject, double approval, a sibling county, 代申请, privacy of
//! the stored bytes, erasure with the account, bad inputs.

mod bad_input;
mod flow;
mod privacy;

use crate::support::*;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// A minimal valid form of type `type_id` (no family, no attachments).
pub fn form(type_id: i64) -> Value {
    json!({"type_id": type_id, "reason_code": "illness", "reason_text": "本人患病", "household_size": 3,
        "monthly_income": "2400", "housing": "租房", "health": "慢性病"})
}

/// A valid 18-digit resident ID number with birth date `ymd` and sequence `seq` (3 digits).
pub fn id_number(ymd: &str, seq: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let body = format!("532901{ymd}{seq}");
    let sum: u32 = body
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    format!("{body}{}", C[(sum % 11) as usize])
}

/// A PDF-looking attachment whose bytes carry `marker`.
pub fn pdf(marker: &str) -> Vec<u8> {
    format!("%PDF-1.7\n% {marker}\n1 0 obj<<>>endobj\n%%EOF\n").into_bytes()
}

/// Upload a private attachment as a member (`admin` false) or staff; its id.
pub async fn upload(app: &TestApp, token: &str, admin: bool, bytes: Vec<u8>) -> i64 {
    let side = if admin { "admin" } else { "app" };
    let form = Form::new()
        .text("purpose", "attachment")
        .part("file", Part::bytes(bytes).file_name("a.pdf"));
    let r = app
        .client
        .post(format!("{}/api/v1/{side}/files", app.base))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let r = TestApp::read(r).await;
    assert_eq!(r.status, StatusCode::CREATED, "upload: {:?}", r.body);
    r.data()["id"].as_i64().unwrap()
}

/// Root (prefecture) → county A → grassroots A1, county B → B1; a prefecture approver, the
/// county admins, the A1 clerk, members in A1 and B1.
pub struct AidWorld {
    /// The app.
    pub app: TestApp,
    /// Orgs and county / clerk tokens.
    pub t: TwoCounties,
    /// Prefecture approver (root org, aid:read + aid:approve + aid:reveal).
    pub pref: String,
    /// Members of A1 (id, token).
    pub members: Vec<(i64, String)>,
    /// A member of B1.
    pub member_b: (i64, String),
}

/// Arrange an [`AidWorld`].
pub async fn aid_world() -> AidWorld {
    let app = spawn_app().await;
    let t = app.two_counties().await;
    let r = app
        .post("/api/v1/admin/roles", &t.admin, json!({"name": "州级审批", "permissions": ["aid:read", "aid:approve", "aid:reveal"], "data_scope": "org_and_below"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let role = r.data()["id"].as_i64().unwrap();
    let root = app.root_org().await;
    let (_, pref) = app.account_token(&t.admin, "pref", root, &[role]).await;
    let members = crate::activities::members(&app, 3, Some(t.a1), "active").await;
    let member_b = crate::activities::members(&app, 1, Some(t.b1), "active")
        .await
        .remove(0);
    AidWorld {
        app,
        t,
        pref,
        members,
        member_b,
    }
}

/// Create and submit an application as the member; its id.
pub async fn submitted(app: &TestApp, token: &str, body: Value) -> i64 {
    let r = app.post("/api/v1/app/aid/applications", token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let id = r.data()["id"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/app/aid/applications/{id}/submit"),
            token,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    id
}

/// The path of a staff action on application `id`.
pub fn act(id: i64, action: &str) -> String {
    format!("/api/v1/admin/aid/applications/{id}/{action}")
}

/// The staff path of application `id`.
pub fn one(id: i64) -> String {
    format!("/api/v1/admin/aid/applications/{id}")
}

/// Id of a seeded type by code.
pub async fn type_id(app: &TestApp, code: &'static str) -> i64 {
    let sql: &'static str = match code {
        "hardship" => "SELECT id FROM aid_types WHERE code = 'hardship'",
        "illness" => "SELECT id FROM aid_types WHERE code = 'illness'",
        _ => "SELECT id FROM aid_types WHERE code = 'legal'",
    };
    app.query_i64(sql).await
}
