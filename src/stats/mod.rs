//! 数据统计: per-topic statistics scoped to the caller's org subtree with drill-down to child
//! orgs, their xlsx export, and the incrementally kept member counts behind them (which the
//! member list's total uses too).

pub mod aggregates;
pub mod api;
pub mod events;
pub mod export;
pub mod members;
pub mod model;
pub mod query;
pub mod target;

use crate::app::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Statistics routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::get))
        .routes(routes!(api::export))
}
