//! Points (积分): the append-only ledger with its cached balance, the daily sign-in, staff
//! adjustments, optional yearly expiry (FIFO), and the `[points]` rules. Other domains earn and spend through
//! [`ledger::post`] inside their own writer jobs.

pub mod admin;
pub mod app;
pub mod config;
pub mod expiry;
pub mod ledger;
pub mod model;

use crate::app::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Points routes, staff and member side.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(app::mine))
        .routes(routes!(app::sign_in))
        .routes(routes!(admin::get))
        .routes(routes!(admin::adjust))
}
