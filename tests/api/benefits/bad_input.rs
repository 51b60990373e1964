//! Bad inputs answer documented 4xx with Chinese field messages and change nothing.

use super::*;

/// Negative stock, limit 0, a window ending before it starts, an unknown kind: one 400 with
/// every field named, no row, no audit.
#[tokio::test]
async fn a_bad_benefit_names_every_field_and_stores_nothing() {
    let w = world().await;
    let app = &w.app;
    let audits = rows(app, "audit_logs").await;
    let mut body = benefit_body(w.grass_a1, -5);
    body["per_member_limit"] = json!(0);
    body["ends_at"] = json!(at(-3600));
    body["kind"] = json!("cash");
    let r = app.post("/api/v1/admin/benefits", &w.ta, body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    let f = &r.body["error"]["fields"];
    for k in ["stock", "per_member_limit", "ends_at", "kind"] {
        assert!(f[k].as_str().is_some_and(|m| !m.is_ascii()), "{k}: {f}");
    }
    let mut body = benefit_body(w.grass_a1, 5);
    body["starts_at"] = json!("明天");
    let r = app.post("/api/v1/admin/benefits", &w.ta, body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["error"]["fields"]["starts_at"].is_string());
    let mut body = benefit_body(w.grass_a1, 5);
    body["surprise"] = json!(1);
    let r = app.post("/api/v1/admin/benefits", &w.ta, body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(rows(app, "benefits").await, 0);
    assert_eq!(rows(app, "audit_logs").await, audits);
}

/// Stock can be raised but never below what was claimed; a published benefit keeps its org.
#[tokio::test]
async fn stock_never_drops_below_the_claims() {
    let w = world().await;
    let app = &w.app;
    let id = published_benefit(app, &w.ta, benefit_body(w.grass_a1, 3)).await;
    for (_, t) in members(app, 2, Some(w.grass_a1), "active").await {
        assert_eq!(
            app.post(&claim_path(id), &t, json!({})).await.status,
            StatusCode::CREATED
        );
    }
    let path = format!("/api/v1/admin/benefits/{id}");
    let r = app.patch(&path, &w.ta, json!({"stock": 1})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body["error"]["fields"]["stock"]
            .as_str()
            .unwrap()
            .contains('2')
    );
    let r = app.patch(&path, &w.ta, json!({"org_id": w.county_a})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app.patch(&path, &w.ta, json!({"stock": 10})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["remaining"], 8);
    assert_eq!(
        num(app, format!("SELECT org_id FROM benefits WHERE id = {id}")).await,
        w.grass_a1
    );
}

/// An adjustment without a reason or with delta 0 is 400; taking more than the balance is
/// 409 insufficient_points; none of them writes a ledger row or an audit row.
#[tokio::test]
async fn bad_adjustments_change_nothing() {
    let w = world().await;
    let app = &w.app;
    let (m, _) = members(app, 1, Some(w.grass_a1), "active").await.remove(0);
    let path = format!("/api/v1/admin/members/{m}/points/adjust");
    let audits = rows(app, "audit_logs").await;
    let r = app
        .post(&path, &w.ta, json!({"delta": 5, "reason": " "}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["error"]["fields"]["reason"].is_string());
    let r = app
        .post(&path, &w.ta, json!({"delta": 0, "reason": "无"}))
        .await;
    assert!(r.body["error"]["fields"]["delta"].is_string());
    // The fuzzer's i64::MIN once overflowed `abs()` and dropped the connection.
    for delta in [i64::MIN, i64::MAX, -100_001, 100_001] {
        let r = app
            .post(&path, &w.ta, json!({"delta": delta, "reason": "越界"}))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{delta}");
        assert!(r.body["error"]["fields"]["delta"].is_string(), "{delta}");
    }
    let r = app
        .post(&path, &w.ta, json!({"delta": -1, "reason": "扣减"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "insufficient_points")
    );
    // County B cannot adjust county A's member.
    let r = app
        .post(&path, &w.tb, json!({"delta": 5, "reason": "发放"}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(rows(app, "points_ledger").await, 0);
    assert_eq!(rows(app, "audit_logs").await, audits);
}
