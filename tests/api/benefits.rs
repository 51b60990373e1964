//! Benefits, points and the mall: flash-crowd claims, redemption, scope, bad inputs, the
//! points ledger and its check, mall orders under concurrency and refunds.

mod bad_input;
mod flash;
mod mall;
mod points;
mod points_rules;
mod scope;

pub use crate::activities::{World, at, members, num, world};
use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A benefit body open for claims now, redeemed by code.
pub fn benefit_body(org: i64, stock: i64) -> Value {
    json!({
        "org_id": org, "title": "电影票", "kind": "voucher",
        "description": "<p>凭码领取</p><script>alert(1)</script>",
        "starts_at": at(-60), "ends_at": at(3600), "stock": stock, "per_member_limit": 1,
        "redeem_method": "code"
    })
}

/// Create and publish a benefit as `token`; its id.
pub async fn published_benefit(app: &TestApp, token: &str, body: Value) -> i64 {
    let r = app.post("/api/v1/admin/benefits", token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let id = r.data()["id"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/admin/benefits/{id}/publish"),
            token,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    id
}

/// Claim path.
pub fn claim_path(id: i64) -> String {
    format!("/api/v1/app/benefits/{id}/claims")
}

/// A count of rows of `table` (for "nothing changed" checks).
pub async fn rows(app: &TestApp, table: &str) -> i64 {
    num(app, format!("SELECT count(*) FROM {table}")).await
}

/// Give member `m` `n` points through the staff adjustment (as `token`).
pub async fn give_points(app: &TestApp, token: &str, m: i64, n: i64) {
    let r = app
        .post(
            &format!("/api/v1/admin/members/{m}/points/adjust"),
            token,
            json!({"delta": n, "reason": "测试发放"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}
