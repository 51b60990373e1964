//! Staff file routes: upload, metadata, authorised download, signed URL, delete.

use super::model::{self, PURPOSES};
use super::repo::{self, FileRow};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::permissions::codes;
use crate::auth::{AdminAuth, Scope};
use crate::error::{AppError, AppPath, Result, created, ok};
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::response::Response;
use serde::Serialize;
use serde_json::json;

/// Answer to an upload.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Uploaded {
    /// File id, to reference from other records.
    pub id: i64,
    /// Public URL `/files/{token}` with a random token (public purposes only).
    pub url: Option<String>,
    /// Sniffed content type.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
}

/// A signed, expiring download link for a private file.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignedUrl {
    /// Relative URL valid until `expires_at`.
    pub url: String,
    /// Expiry (RFC 3339).
    pub expires_at: String,
}

/// Multipart body of an upload (for the API document).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// `avatar`, `image`, `attachment` or `import`.
    purpose: String,
    /// The file.
    #[schema(format = Binary, value_type = String)]
    file: Vec<u8>,
}

/// Lifetime of a signed URL.
pub const SIGNED_URL_TTL: i64 = 300;

/// The signed query for a private file.
pub fn signed_path(st: &AppState, id: i64, ttl: i64) -> (String, i64) {
    let exp = crate::time::now() + ttl;
    let sig = crate::crypto::sign(&st.keys.signing, &format!("file:{id}:{exp}"));
    (format!("/files/{id}?exp={exp}&sig={sig}"), exp)
}

/// Parsed upload: purpose and bytes.
pub struct Incoming {
    /// The purpose rules.
    pub purpose: &'static model::Purpose,
    /// Content.
    pub bytes: Vec<u8>,
}

/// Read `purpose` and `file` from a multipart body, enforcing the size limit while streaming.
pub async fn read_upload(
    mp: std::result::Result<Multipart, MultipartRejection>,
) -> Result<Incoming> {
    let mut mp = mp.map_err(|_| {
        AppError::UnsupportedMediaType("请使用 multipart/form-data 上传文件".into())
    })?;
    let hard_max = PURPOSES.iter().map(|p| p.max_bytes).max().unwrap_or(0);
    let mut purpose: Option<String> = None;
    let mut bytes: Option<Vec<u8>> = None;
    let too_big = || AppError::PayloadTooLarge("文件过大".into());
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|e| multipart_err(e.status()))?
    {
        match field.name() {
            Some("purpose") => {
                purpose = Some(
                    field
                        .text()
                        .await
                        .map_err(|e| multipart_err(e.status()))?
                        .trim()
                        .to_string(),
                )
            }
            Some("file") => {
                let mut buf = Vec::new();
                while let Some(chunk) =
                    field.chunk().await.map_err(|e| multipart_err(e.status()))?
                {
                    if buf.len() + chunk.len() > hard_max {
                        return Err(too_big());
                    }
                    buf.extend_from_slice(&chunk);
                }
                bytes = Some(buf);
            }
            // The client's filename and any other part are ignored on purpose.
            _ => {}
        }
    }
    let code = purpose.ok_or_else(|| AppError::field("purpose", "请指定文件用途"))?;
    let purpose = model::purpose(&code).ok_or_else(|| {
        AppError::field(
            "purpose",
            format!(
                "文件用途无效，可选：{}",
                PURPOSES
                    .iter()
                    .map(|p| p.code)
                    .collect::<Vec<_>>()
                    .join("、")
            ),
        )
    })?;
    let bytes = bytes.ok_or_else(|| AppError::field("file", "请选择要上传的文件"))?;
    if bytes.is_empty() {
        return Err(AppError::field("file", "文件为空"));
    }
    if bytes.len() > purpose.max_bytes {
        return Err(AppError::PayloadTooLarge(format!(
            "{}不能超过 {} MB",
            purpose.label,
            purpose.max_bytes / 1024 / 1024
        )));
    }
    Ok(Incoming { purpose, bytes })
}

fn multipart_err(status: http::StatusCode) -> AppError {
    if status == http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge("文件过大".into())
    } else {
        AppError::BadRequest("上传数据格式不正确".into())
    }
}

/// Store the bytes and record the file in one write with its audit row. Images must decode;
/// a member's upload must fit the member's quota, checked again in the writer job that
/// records it (parallel uploads cannot pass together). Public files get a random URL token.
pub async fn store(
    st: &AppState,
    inc: Incoming,
    owner_type: &'static str,
    owner_id: i64,
    org_id: Option<i64>,
    actor: audit::Actor,
) -> Result<Uploaded> {
    let mime = model::sniff(&inc.bytes)
        .filter(|m| inc.purpose.types.contains(m))
        .ok_or_else(|| {
            AppError::UnsupportedMediaType(format!(
                "{}只支持以下格式：{}",
                inc.purpose.label,
                inc.purpose.types.join("、")
            ))
        })?;
    let size = inc.bytes.len() as i64;
    let member_quota = (owner_type == "member").then(|| st.cfg.uploads.clone());
    if let Some(q) = member_quota.clone() {
        // Refused before any decoding or storing; the writer job below decides for certain.
        let now = crate::time::now();
        let refused = st
            .db
            .read(move |c| super::quota::refusal(c, &q, owner_id, size, now))
            .await?;
        if let Some(e) = refused {
            return Err(e);
        }
    }
    let bytes = bytes::Bytes::from(inc.bytes);
    super::image::check(bytes.clone(), mime).await?;
    let now = chrono::Utc::now();
    // Generated key: the client's file name never reaches a path.
    let key = format!(
        "{}/{}/{}.{}",
        inc.purpose.code,
        now.format("%Y/%m"),
        hex::encode(crate::crypto::random_bytes(16)),
        model::extension(mime)
    );
    let sha = crate::crypto::sha256_hex(&bytes);
    st.storage.write(&key, bytes).await?;
    let public = inc.purpose.public;
    let row = FileRow {
        id: 0,
        purpose: inc.purpose.code.into(),
        visibility: if public { "public" } else { "private" }.into(),
        content_type: mime.into(),
        size,
        sha256: sha,
        storage_key: key.clone(),
        owner_type: owner_type.into(),
        owner_id,
        org_id,
        created_at: now.timestamp(),
        public_token: public.then(super::new_token),
        legacy_id_url: false,
        url: None,
    };
    let url = super::public_url(row.public_token.clone());
    let res = st
        .db
        .write(move |c| {
            if let Some(q) = &member_quota
                && let Some(e) = super::quota::refusal(c, q, owner_id, size, row.created_at)?
            {
                return Err(e);
            }
            let id = repo::insert(c, &row)?;
            audit::record(c, &actor, &Entry::success("file.upload", "file", id, json!({"purpose": row.purpose, "content_type": row.content_type, "size": row.size, "sha256": row.sha256})))?;
            Ok(id)
        })
        .await;
    let id = match res {
        Ok(id) => id,
        Err(e) => {
            // Do not leave an orphan object behind a refused or failed insert.
            let _ = st.storage.delete(&key).await;
            return Err(e);
        }
    };
    Ok(Uploaded {
        id,
        url,
        content_type: mime.into(),
        size,
    })
}

/// Upload a file (multipart `file` + `purpose`). The type is sniffed from the bytes.
#[utoipa::path(post, path = "/api/v1/admin/files", tag = "文件", security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = Uploaded), (status = 400), (status = 413), (status = 415)))]
pub async fn upload(
    State(st): State<AppState>,
    me: AdminAuth,
    mp: std::result::Result<Multipart, MultipartRejection>,
) -> Result<Response> {
    me.require(codes::FILE_WRITE)?;
    let inc = read_upload(mp).await?;
    let out = store(&st, inc, "admin", me.id, Some(me.org_id), me.actor()).await?;
    Ok(created(out))
}

/// Load a live file in the caller's reach or 404, on a given connection: access follows the
/// objects that refer to the file (see [`super::refs`]).
fn find_scoped(c: &rusqlite::Connection, scope: &Scope, id: i64) -> Result<FileRow> {
    super::refs::require(c, scope, id)?;
    repo::get(c, id)?.ok_or(AppError::NotFound)
}

/// Load a file within `scope` or 404.
async fn load_scoped(st: &AppState, scope: Scope, id: i64) -> Result<FileRow> {
    st.db.read(move |c| find_scoped(c, &scope, id)).await
}

/// File metadata.
#[utoipa::path(get, path = "/api/v1/admin/files/{id}", tag = "文件", security(("bearer" = [])),
    params(("id" = i64, Path, description = "文件 ID")), responses((status = 200, body = FileRow), (status = 404)))]
pub async fn meta(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::FILE_READ)?;
    Ok(ok(load_scoped(&st, scope, id).await?))
}

/// Download a file (public or private) with staff authorisation.
#[utoipa::path(get, path = "/api/v1/admin/files/{id}/download", tag = "文件", security(("bearer" = [])),
    params(("id" = i64, Path, description = "文件 ID")), responses((status = 200, description = "文件内容"), (status = 404)))]
pub async fn download(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::FILE_READ)?;
    let f = load_scoped(&st, scope, id).await?;
    super::public::send(&st, &f, true).await
}

/// A short-lived signed URL for a private file, e.g. for an `<img>` in the admin UI.
#[utoipa::path(post, path = "/api/v1/admin/files/{id}/signed-url", tag = "文件", security(("bearer" = [])),
    params(("id" = i64, Path, description = "文件 ID")), responses((status = 200, body = SignedUrl), (status = 404)))]
pub async fn signed_url(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::FILE_READ)?;
    let f = load_scoped(&st, scope, id).await?;
    let (url, exp) = signed_path(&st, f.id, SIGNED_URL_TTL);
    Ok(ok(SignedUrl {
        url,
        expires_at: crate::time::fmt(exp),
    }))
}

/// Delete a file from the store; its record stays for history.
#[utoipa::path(delete, path = "/api/v1/admin/files/{id}", tag = "文件", security(("bearer" = [])),
    params(("id" = i64, Path, description = "文件 ID")), responses((status = 200), (status = 404)))]
pub async fn delete(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::FILE_WRITE)?;
    let actor = me.actor();
    // Scope check and marking happen in one write, so a concurrent delete or a move of the
    // org cannot slip in between; a second delete of the same file is a 404.
    let key = st
        .db
        .write(move |c| {
            let f = find_scoped(c, &scope, id)?;
            if !repo::mark_deleted(c, id)? {
                return Err(AppError::NotFound);
            }
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "file.delete",
                    "file",
                    id,
                    json!({"purpose": f.purpose, "sha256": f.sha256}),
                ),
            )?;
            Ok(f.storage_key)
        })
        .await?;
    // The record is gone for readers; removing the bytes after commit cannot lose a live file.
    if let Err(e) = st.storage.delete(&key).await {
        tracing::warn!(file_id = id, error = %e, "could not remove deleted file from storage");
    }
    Ok(ok(json!({})))
}

/// Upload a file as a member (avatar, image or attachment). The type is sniffed from the bytes,
/// images must decode, and each account has a per-minute and a daily quota.
#[utoipa::path(post, path = "/api/v1/app/files", tag = "文件", security(("bearer" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = Uploaded), (status = 400, description = "图片无法解码或尺寸过大"), (status = 401),
        (status = 409, description = "upload_quota_exceeded：24 小时内的上传数量或大小已达上限"), (status = 413), (status = 415),
        (status = 429, description = "上传过于频繁")))]
pub async fn upload_app(
    State(st): State<AppState>,
    me: crate::members::auth::MemberAuth,
    mp: std::result::Result<Multipart, MultipartRejection>,
) -> Result<Response> {
    let inc = read_upload(mp).await?;
    if !["avatar", "image", "attachment"].contains(&inc.purpose.code) {
        return Err(AppError::field(
            "purpose",
            "职工只能上传头像、图片或佐证材料",
        ));
    }
    let out = store(&st, inc, "member", me.id, me.org_id, me.actor()).await?;
    Ok(created(out))
}
