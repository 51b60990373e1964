//! Tickets (互动工单): a member asks, reports or complains; the org in charge answers within
//! the category's deadline, transfers it within its scope or escalates it to the parent org;
//! the member rates the answer or reopens the ticket once. Overdue tickets come first in the
//! staff queue and their org's staff are told.

pub mod admin;
pub mod app;
pub mod calendar;
pub mod categories;
pub mod jobs;
pub mod model;
pub mod repo;
pub mod stats;

use crate::app::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Ticket routes, member and staff side.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(app::categories))
        .routes(routes!(app::create, app::list))
        .routes(routes!(app::get))
        .routes(routes!(app::add_message))
        .routes(routes!(app::rate))
        .routes(routes!(app::reopen))
        .routes(routes!(admin::categories))
        .routes(routes!(categories::patch))
        .routes(routes!(admin::list))
        .routes(routes!(admin::notices))
        .routes(routes!(stats::stats))
        .routes(routes!(stats::export))
        .routes(routes!(admin::get))
        .routes(routes!(admin::reply))
        .routes(routes!(admin::transfer))
        .routes(routes!(admin::escalate))
        .routes(routes!(admin::resolve))
}
