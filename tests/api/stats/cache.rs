//! Revocation reaches the very next staff request (the principal may be cached between
//! requests, never across a change): a role taken away, a permission removed from a role, an
//! account disabled, a logout, a session ended by an administrator.

use super::*;
use reqwest::StatusCode;
use serde_json::json;

const PATH: &str = "/api/v1/admin/stats/members";

/// A county-A account holding a `stats:read` role of its own; (account id, role id, token).
async fn holder(w: &World, name: &str) -> (i64, i64, String) {
    let r = w
        .app
        .post(
            "/api/v1/admin/roles",
            &w.admin,
            json!({"name": format!("统计{name}"), "permissions": ["stats:read"], "data_scope": "org_and_below"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let role = r.data()["id"].as_i64().unwrap();
    let (id, t) = w
        .app
        .account_token(&w.admin, name, w.county_a, &[role])
        .await;
    // Warm: two requests, so a cache (if any) holds the principal.
    for _ in 0..2 {
        assert_eq!(w.app.get(PATH, &t).await.status, StatusCode::OK);
    }
    (id, role, t)
}

#[tokio::test]
async fn every_revocation_refuses_the_very_next_request() {
    let w = world().await;

    // The role taken off the account.
    let (id, _, t) = holder(&w, "s_role").await;
    let r = w
        .app
        .patch(
            &format!("/api/v1/admin/accounts/{id}"),
            &w.admin,
            json!({"role_ids": []}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = w.app.get(PATH, &t).await;
    assert!(
        [StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&r.status),
        "{}",
        r.body
    );

    // The permission removed from the role.
    let (_, role, t) = holder(&w, "s_perm").await;
    let r = w
        .app
        .put(
            &format!("/api/v1/admin/roles/{role}"),
            &w.admin,
            json!({"name": "统计s_perm", "permissions": ["org:read"], "data_scope": "org_and_below"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = w.app.get(PATH, &t).await;
    assert!(
        [StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&r.status),
        "{}",
        r.body
    );

    // The account disabled.
    let (id, _, t) = holder(&w, "s_lock").await;
    let r = w
        .app
        .patch(
            &format!("/api/v1/admin/accounts/{id}"),
            &w.admin,
            json!({"disabled": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(w.app.get(PATH, &t).await.status, StatusCode::UNAUTHORIZED);

    // Logout.
    let (_, _, t) = holder(&w, "s_out").await;
    let r = w.app.post("/api/v1/admin/auth/logout", &t, json!({})).await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(w.app.get(PATH, &t).await.status, StatusCode::UNAUTHORIZED);

    // A session ended by an administrator.
    let (id, _, t) = holder(&w, "s_kick").await;
    let sid: i64 = w
        .app
        .state
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT max(id) FROM admin_sessions WHERE admin_id = ?1 AND revoked_at IS NULL",
                [id],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    let r = w
        .app
        .delete(&format!("/api/v1/admin/sessions/{sid}"), &w.admin)
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    assert_eq!(w.app.get(PATH, &t).await.status, StatusCode::UNAUTHORIZED);

    // The org moved: the scope follows at once (the account's org changed to county B).
    let (id, _, t) = holder(&w, "s_move").await;
    let r = w
        .app
        .patch(
            &format!("/api/v1/admin/accounts/{id}"),
            &w.admin,
            json!({"org_id": w.county_b}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = w.app.get(PATH, &t).await;
    assert!(
        r.status != StatusCode::OK || r.body["data"]["org_id"] == w.county_b,
        "{}",
        r.body
    );
}
