//! News and notices: categories, sanitised articles, scheduled publishing, member visibility.

use crate::app::AppState;
use utoipa_axum::router::OpenApiRouter;

/// News routes, staff and member side.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}

/// Start the scheduler that publishes articles whose `publish_at` has come.
pub fn spawn_jobs(_state: &AppState) {}
