//! Staff sign-in.

use crate::support::*;
use reqwest::StatusCode;

/// The bootstrap admin can log in and read its own profile.
#[tokio::test]
async fn bootstrap_admin_logs_in_and_reads_me() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let r = app.get("/api/v1/admin/me", &t).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.data()["username"], "admin");
    assert!(r.data()["permissions"].as_array().unwrap().len() >= 10);
}
