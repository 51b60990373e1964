//! `GET /files/{id}`: public files for anyone, private files only with a valid signature.

use super::repo::{self, FileRow};
use crate::app::AppState;
use crate::error::{AppError, AppPath, AppQuery, Result};
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

/// Signature of a signed URL.
#[derive(Debug, Deserialize)]
pub struct Sig {
    exp: Option<i64>,
    sig: Option<String>,
}

/// Serve a file.
pub async fn get(
    State(st): State<AppState>,
    AppPath(id): AppPath<i64>,
    AppQuery(q): AppQuery<Sig>,
) -> Result<Response> {
    let f = st
        .db
        .read(move |c| repo::get(c, id))
        .await?
        .ok_or(AppError::NotFound)?;
    if f.visibility != "public" {
        let (Some(exp), Some(sig)) = (q.exp, q.sig.as_deref()) else {
            // A private file without a signature looks like no file at all.
            return Err(AppError::NotFound);
        };
        if !crate::crypto::verify(&st.keys.signing, &format!("file:{id}:{exp}"), sig) {
            return Err(AppError::Forbidden("下载链接无效".into()));
        }
        if exp < crate::time::now() {
            return Err(AppError::Forbidden("下载链接已过期，请重新获取".into()));
        }
    }
    send(&st, &f, f.visibility != "public").await
}

/// Stream a stored file with safe headers.
pub async fn send(st: &AppState, f: &FileRow, attachment: bool) -> Result<Response> {
    let data = st.storage.read(&f.storage_key).await?.to_vec();
    let name = format!("{}.{}", f.id, super::model::extension(&f.content_type));
    let disposition = if attachment { "attachment" } else { "inline" };
    let cache = if f.visibility == "public" {
        "public, max-age=86400"
    } else {
        "private, no-store"
    };
    Response::builder()
        .header(http::header::CONTENT_TYPE, &f.content_type)
        .header(http::header::CONTENT_LENGTH, data.len())
        .header(
            http::header::CONTENT_DISPOSITION,
            format!("{disposition}; filename=\"{name}\""),
        )
        .header(http::header::CACHE_CONTROL, cache)
        .header("content-security-policy", "default-src 'none'; sandbox")
        .body(Body::from(data))
        .map_err(AppError::internal)
}
