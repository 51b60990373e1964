//! `GET /files/{key}`: public files by their random token for anyone; private files only by
//! id with a valid signature; public files stored before tokens existed also by their id.

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
    AppPath(key): AppPath<String>,
    AppQuery(q): AppQuery<Sig>,
) -> Result<Response> {
    if super::is_token(&key) {
        let f = st
            .db
            .read(move |c| repo::get_by_token(c, &key))
            .await?
            .ok_or(AppError::NotFound)?;
        return send(&st, &f, false).await;
    }
    let id: i64 = key.parse().map_err(|_| AppError::NotFound)?;
    let f = st
        .db
        .read(move |c| repo::get(c, id))
        .await?
        .ok_or(AppError::NotFound)?;
    if f.visibility == "public" {
        // Counting ids must not reach files stored with a token: only old links still work.
        if !f.legacy_id_url {
            return Err(AppError::NotFound);
        }
        return send(&st, &f, false).await;
    }
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
    send(&st, &f, true).await
}

/// Stream a stored file with safe headers.
pub async fn send(st: &AppState, f: &FileRow, attachment: bool) -> Result<Response> {
    let data = st.storage.read(&f.storage_key).await?.to_vec();
    // A public file is named by its token: its sequential id is never shown to the public.
    let stem = match (&f.public_token, f.visibility.as_str()) {
        (Some(t), "public") => t.clone(),
        _ => f.id.to_string(),
    };
    let name = format!("{stem}.{}", super::model::extension(&f.content_type));
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
