//! Files: uploads with sniffed types and per-purpose limits, public and private serving.

pub mod admin;
pub mod erase;
pub mod model;
pub mod public;
pub mod repo;

use crate::app::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Staff file routes; uploads get a larger body limit than JSON routes.
pub fn routes(state: &AppState) -> OpenApiRouter<AppState> {
    let upload_limit = state.cfg.limits.upload_body_bytes;
    let uploads = OpenApiRouter::new()
        .routes(routes!(admin::upload))
        .routes(routes!(admin::upload_app))
        .layer(DefaultBodyLimit::max(upload_limit));
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(admin::meta, admin::delete))
        .routes(routes!(admin::download))
        .routes(routes!(admin::signed_url))
}

/// `GET /files/{id}`.
pub fn public_routes() -> Router<AppState> {
    Router::new().route("/files/{id}", get(public::get))
}
