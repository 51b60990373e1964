//! Points mall (积分商城): goods with a points price, stock and per-member limit; orders that
//! take points and stock in one writer job; pickup by code; cancel refunds exactly once.

pub mod admin;
pub mod app;
pub mod model;
pub mod orders;
pub mod repo;

use crate::app::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Mall routes, staff and member side.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(admin::list, admin::create))
        .routes(routes!(admin::get, admin::patch, admin::delete))
        .routes(routes!(orders::list))
        .routes(routes!(orders::export))
        .routes(routes!(orders::fulfil))
        .routes(routes!(orders::cancel))
        .routes(routes!(app::goods))
        .routes(routes!(app::order))
        .routes(routes!(app::mine))
        .routes(routes!(app::cancel))
}
