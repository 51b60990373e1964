//! Activities: registration form templates, activities with quota, registration in the single
//! writer, rotating-QR and geofence check-in, reviews and statistics.

pub mod admin;
pub mod app;
pub mod checkin;
pub mod dict;
pub mod export;
pub mod form;
pub mod gate;
pub mod jobs;
pub mod model;
pub mod registration;
pub mod repo;
pub mod review;
pub mod reviews;
pub mod sealing;
pub mod stats;
pub mod templates;

use crate::app::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Activity routes, staff and member side.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(dict::list, dict::create))
        .routes(routes!(templates::list, templates::create))
        .routes(routes!(templates::get, templates::patch, templates::delete))
        .routes(routes!(admin::list, admin::create))
        .routes(routes!(admin::get, admin::patch, admin::delete))
        .routes(routes!(admin::publish))
        .routes(routes!(admin::cancel))
        .routes(routes!(review::list))
        .routes(routes!(export::export))
        .routes(routes!(review::approve))
        .routes(routes!(review::bulk_approve))
        .routes(routes!(review::reject))
        .routes(routes!(checkin::code))
        .routes(routes!(stats::get))
        .routes(routes!(app::list))
        .routes(routes!(app::get))
        .routes(routes!(app::mine_list))
        .routes(routes!(registration::register))
        .routes(routes!(registration::cancel_mine))
        .routes(routes!(checkin::checkin))
        .routes(routes!(checkin::review))
        .routes(routes!(reviews::list))
}

/// Start the background job that finishes ended activities and sends reminders.
pub fn spawn_jobs(state: &AppState) {
    jobs::spawn(state);
}
