//! Files: uploads with sniffed types and per-purpose limits, public and private serving.

pub mod admin;
pub mod erase;
pub mod image;
pub mod model;
pub mod public;
pub mod quota;
pub mod refs;
pub mod repo;
pub mod sweep;

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

/// `GET /files/{key}`: a public file's token, or a numeric id (signed private links and
/// public files stored before tokens existed).
pub fn public_routes() -> Router<AppState> {
    Router::new().route("/files/{key}", get(public::get))
}

/// The URL of a public file from its token (`None` for no file or a private one).
pub fn public_url(token: Option<String>) -> Option<String> {
    token.map(|t| format!("/files/{t}"))
}

/// A new unguessable public token: 128 random bits, lowercase hex.
pub fn new_token() -> String {
    hex::encode(crate::crypto::random_bytes(16))
}

/// True when `s` has the shape of a public token (and so never of a numeric id).
pub fn is_token(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
