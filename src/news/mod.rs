//! News and notices: categories, sanitised articles, scheduled publishing, member visibility,
//! Chinese full-text search (through [`crate::search`]).

pub mod admin;
pub mod app;
pub mod categories;
pub mod feed;
pub mod feed_cache;
pub mod find;
pub mod jobs;
pub mod model;
pub mod repo;
pub mod sanitize;
pub mod views;

use crate::app::AppState;
use crate::config::Config;
use crate::db::Db;
use crate::search::SearchIndex;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Runtime parts of the news domain held by the application state.
pub struct NewsState {
    /// The full-text index.
    pub search: SearchIndex,
    /// View counts waiting to be written.
    pub views: views::Views,
    /// First pages of the member feed.
    pub feed: Arc<feed_cache::FeedCache>,
}

impl NewsState {
    /// Open the search index under the data dir (the repair runs once the state exists); the
    /// feed cache listens to `db`'s writer.
    pub fn open(cfg: &Config, db: &Db) -> anyhow::Result<NewsState> {
        Ok(NewsState {
            search: SearchIndex::open(&SearchIndex::dir(&cfg.data_dir), &cfg.db_path())?,
            views: views::Views::default(),
            feed: feed_cache::watching(db),
        })
    }
}

/// News routes, staff and member side.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(categories::list, categories::create))
        .routes(routes!(categories::patch, categories::delete))
        .routes(routes!(admin::list, admin::create))
        .routes(routes!(admin::get, admin::patch, admin::delete))
        .routes(routes!(admin::publish))
        .routes(routes!(admin::withdraw))
        .routes(routes!(app::list))
        .routes(routes!(app::categories))
        .routes(routes!(app::search))
        .routes(routes!(app::get))
}

/// Start the scheduler that publishes articles whose `publish_at` has come, and the
/// view-count flusher.
pub fn spawn_jobs(state: &AppState) {
    jobs::spawn(state);
}
