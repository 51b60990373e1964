//! Content safety: one gate for everything members write (tickets, ticket messages, activity
//! reviews, registration text answers, nicknames). A local sensitive-word list always runs
//! (also offline); WeChat msgSecCheck v2 runs after it for mini-program members when WeChat
//! is configured. Refused content is a `400 content_rejected` that never names the word;
//! content to review is accepted but held in the moderation queue until staff decide.

pub mod config;
pub mod gate;
pub mod moderation;
pub mod words;

use crate::app::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Sensitive-word and moderation routes (staff).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(words::list, words::add))
        .routes(routes!(words::delete))
        .routes(routes!(moderation::list))
        .routes(routes!(moderation::approve))
        .routes(routes!(moderation::reject))
}
