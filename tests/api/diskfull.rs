//! A data disk below its free-space floor: writes answer 503 `disk_full` in Chinese and change
//! nothing, reads go on, `/healthz` reports `degraded` (the full drill on a real tmpfs is
//! tests/drills/diskfull.py).

use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// With the floor above any real free space, every write is refused before it starts.
#[tokio::test]
async fn below_the_floor_writes_are_refused_and_reads_go_on() {
    let full = spawn_with(|c| c.limits.min_free_bytes = u64::MAX).await;
    let audit = "SELECT (SELECT count(*) FROM audit_logs) * 1000000 + (SELECT count(*) FROM orgs)";
    let before = full.query_i64(audit).await;
    // A token minted with the app's keys: the login itself is a write and is refused too.
    let t = gonghui::auth::tokens::issue_access(&full.state.keys, "admin", 1, 1, 600).unwrap();
    let root = full.root_org().await;
    let body = json!({"parent_id": root, "name": "新县", "code": "df1", "kind": "county"});
    let r = full
        .call(Method::POST, "/api/v1/admin/orgs", Some(&t), Some(body))
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", r.body);
    assert_eq!(r.code(), "disk_full");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("磁盘空间不足")
    );
    let login = json!({"username": "admin", "password": ADMIN_PW});
    let r = full
        .call(Method::POST, "/api/v1/admin/auth/login", None, Some(login))
        .await;
    assert_eq!(r.code(), "disk_full");
    assert_eq!(
        full.query_i64(audit).await,
        before,
        "a refused write changed nothing"
    );
    let h = full.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.body["status"], "degraded");
    assert!(h.body["disk"]["free_bytes"].as_u64().is_some());
    let r = full
        .call(
            Method::GET,
            "/api/v1/admin/auth/password-policy",
            None,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "reads go on: {:?}", r.body);
    let ok = spawn_app().await;
    let h = ok.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(h.body["status"], "ok");
}

/// SQLite's "database or disk is full" and the OS's ENOSPC become the same 503, never a 500.
#[test]
fn full_disk_errors_map_to_503_disk_full() {
    use axum::response::IntoResponse;
    use gonghui::error::AppError;
    let sqlite = rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
        Some("database or disk is full".into()),
    );
    for e in [
        AppError::from(sqlite),
        AppError::internal("storage: write: No space left on device (os error 28)"),
    ] {
        assert!(matches!(e, AppError::DiskFull), "{e:?}");
        let r = e.into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    assert!(matches!(AppError::internal("other"), AppError::Internal(_)));
}
