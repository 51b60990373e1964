//! Benefits (权益普惠): items with stock and per-member limits, claims with codes redeemed at
//! a counter. Claims run in the single writer, so a flash crowd never over-claims.

pub mod admin;
pub mod app;
pub mod claims;
pub mod gate;
pub mod model;
pub mod repo;
pub mod xlsx;

use crate::app::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Benefit routes, staff and member side.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(admin::list, admin::create))
        .routes(routes!(admin::get, admin::patch, admin::delete))
        .routes(routes!(admin::publish))
        .routes(routes!(admin::close))
        .routes(routes!(claims::list))
        .routes(routes!(claims::export))
        .routes(routes!(claims::redeem))
        .routes(routes!(app::list))
        .routes(routes!(app::get))
        .routes(routes!(app::claim))
        .routes(routes!(app::mine))
        .routes(routes!(app::claim_qr))
}
