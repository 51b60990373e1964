//! Routes compiled only with the `bench-routes` feature, for the benchmark harness: the
//! cheapest authenticated member route, so the cost of authentication can be compared with a
//! bare JSON route in the same binary. Never part of a production build.

use crate::app::AppState;
use crate::error::{Result, ok};
use crate::members::auth::MemberAuth;
use axum::response::Response;
use axum::routing::get;
use serde_json::json;

/// `GET /api/v1/app/bench/whoami` → `{"data":{"id":…}}` after the member check.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/api/v1/app/bench/whoami", get(whoami))
}

async fn whoami(me: MemberAuth) -> Result<Response> {
    Ok(ok(json!({ "id": me.id })))
}
