//! In-app message center (broadcasts, direct and event messages with read state) and WeChat
//! subscription-message acceptance and templates.

pub mod admin;
pub mod app;
pub mod model;
pub mod notify;
pub mod repo;
pub mod templates;

use crate::app::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use notify::{Notice, notify_member};

/// Message-center routes, staff and member side, plus the outbox delivery log.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(admin::list, admin::send))
        .routes(routes!(admin::get))
        .routes(routes!(app::list))
        .routes(routes!(app::unread_count))
        .routes(routes!(app::read))
        .routes(routes!(app::read_all))
        .routes(routes!(app::subscribe))
        .routes(routes!(templates::app_list))
        .routes(routes!(templates::get, templates::put))
        .routes(routes!(crate::outbox::admin::list))
}
