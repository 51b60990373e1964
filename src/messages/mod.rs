//! In-app message center (broadcasts, direct and event messages with read state) and WeChat
//! subscription-message acceptance.

pub mod notify;

use crate::app::AppState;
use utoipa_axum::router::OpenApiRouter;

pub use notify::{Notice, notify_member};

/// Message-center routes, staff and member side.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
