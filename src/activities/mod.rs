//! Activities: registration form templates, activities with quota, registration in the single
//! writer, rotating-QR and geofence check-in, reviews and statistics.

use crate::app::AppState;
use utoipa_axum::router::OpenApiRouter;

/// Activity routes, staff and member side.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}

/// Start the background job that finishes ended activities and sends reminders.
pub fn spawn_jobs(_state: &AppState) {}
