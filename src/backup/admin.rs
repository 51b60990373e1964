//! The backups page's API (`/api/v1/admin/backups`): list, run now, verify again, download,
//! delete. Only for staff holding `backup:manage` over the whole org tree: an archive holds
//! every org's data. Every action is audited.

use super::dest::Dest;
use crate::app::AppState;
use crate::audit::{Actor, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::config::BackupDestination;
use crate::error::{AppError, AppPath, AppQuery, Result, created, ok};
use crate::http::{Page, PageQuery};
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use rusqlite::OptionalExtension;
use serde::Serialize;

/// One backup.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BackupRow {
    /// Row id.
    pub id: i64,
    /// Archive file name in the backup directory.
    pub file_name: String,
    /// `scheduled` or `manual`.
    #[schema(example = "manual")]
    pub kind: String,
    /// `running`, `ok` or `failed`.
    #[schema(example = "ok")]
    pub status: String,
    /// Encrypted with the backup passphrase (and then holding the key files).
    pub encrypted: bool,
    /// Archive size in bytes.
    pub size_bytes: Option<i64>,
    /// Row counts of the main tables at the snapshot.
    #[schema(value_type = Option<Object>)]
    pub counts: Option<serde_json::Value>,
    /// Staff account that started it (none for scheduled backups).
    pub created_by: Option<i64>,
    /// Started at.
    pub created_at: String,
    /// Finished at.
    pub finished_at: Option<String>,
    /// Last verification at.
    pub verified_at: Option<String>,
    /// Result of the last verification.
    pub verify_ok: Option<bool>,
    /// Problems found, or why it failed (Chinese).
    pub message: Option<String>,
    /// Where the archive is kept: `local` (backup directory) or `s3`.
    #[schema(example = "local")]
    pub destination: String,
}

/// Result of a verification.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerifyResult {
    /// Passed.
    pub ok: bool,
    /// What passed.
    pub checks: Vec<String>,
    /// What failed, naming the entry or table.
    pub problems: Vec<String>,
}

const COLS: &str = "id, file_name, kind, status, encrypted, size_bytes, counts, created_by, created_at, finished_at, verified_at, verify_ok, message, destination";

fn map(r: &rusqlite::Row<'_>) -> rusqlite::Result<BackupRow> {
    Ok(BackupRow {
        id: r.get(0)?,
        file_name: r.get(1)?,
        kind: r.get(2)?,
        status: r.get(3)?,
        encrypted: r.get(4)?,
        size_bytes: r.get(5)?,
        counts: r
            .get::<_, Option<String>>(6)?
            .and_then(|s| serde_json::from_str(&s).ok()),
        created_by: r.get(7)?,
        created_at: crate::time::fmt(r.get(8)?),
        finished_at: crate::time::fmt_opt(r.get(9)?),
        verified_at: crate::time::fmt_opt(r.get(10)?),
        verify_ok: r.get(11)?,
        message: r.get(12)?,
        destination: r.get(13)?,
    })
}

/// `backup:manage` over the whole tree, or 403.
async fn allowed(st: &AppState, me: &AdminAuth) -> Result<()> {
    let scope = me.require(codes::BACKUP_MANAGE)?;
    st.db
        .read(move |c| scope.require_whole_tree(c, "数据备份"))
        .await
}

async fn load(st: &AppState, id: i64) -> Result<BackupRow> {
    st.db
        .read(move |c| {
            c.query_row(
                &format!("SELECT {COLS} FROM backups WHERE id = ?1"),
                [id],
                map,
            )
            .optional()?
            .ok_or(AppError::NotFound)
        })
        .await
}

/// Backups, newest first.
#[utoipa::path(get, path = "/api/v1/admin/backups", tag = "数据备份", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<BackupRow>), (status = 400), (status = 403)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Response> {
    let pq = q.resolve()?;
    allowed(&st, &me).await?;
    let page = st
        .db
        .read(move |c| {
            crate::http::fetch_page(
                c,
                "SELECT count(*) FROM backups",
                &format!("SELECT {COLS} FROM backups ORDER BY id DESC LIMIT ? OFFSET ?"),
                Vec::new(),
                pq,
                map,
            )
        })
        .await?;
    Ok(ok(page))
}

/// Start a backup now; it is written and verified in the background (poll the list).
/// 409 while another backup runs.
#[utoipa::path(post, path = "/api/v1/admin/backups", tag = "数据备份", security(("bearer" = [])),
    responses((status = 201, body = BackupRow), (status = 403), (status = 409)))]
pub async fn create(State(st): State<AppState>, me: AdminAuth) -> Result<Response> {
    allowed(&st, &me).await?;
    let id = super::jobs::start(&st, "manual", me.actor()).await?;
    Ok(created(load(&st, id).await?))
}

/// The destination holding `row`'s archive; 409 while it is still running.
fn dest_of(st: &AppState, row: &BackupRow) -> Result<Dest> {
    if !super::is_archive_name(&row.file_name) {
        return Err(AppError::conflict("备份尚未完成或文件不存在"));
    }
    let kind = if row.destination == "s3" {
        BackupDestination::S3
    } else {
        BackupDestination::Local
    };
    Dest::of(&st.cfg, kind).map_err(|e| AppError::conflict(format!("{e}")))
}

/// The local archive of `row`, or 409 when it is gone.
fn local_path(dest: &Dest, row: &BackupRow) -> Result<Option<std::path::PathBuf>> {
    match dest {
        Dest::Local(dir) => {
            let p = dir.join(&row.file_name);
            if !p.is_file() {
                return Err(AppError::conflict("备份文件已不在备份目录中"));
            }
            Ok(Some(p))
        }
        Dest::S3 { .. } => Ok(None),
    }
}

/// Verify a backup again (decrypt, checksums, database checks); records the result.
#[utoipa::path(post, path = "/api/v1/admin/backups/{id}/verify", tag = "数据备份", security(("bearer" = [])),
    params(("id" = i64, Path, description = "备份 ID")),
    responses((status = 200, body = VerifyResult), (status = 403), (status = 404), (status = 409)))]
pub async fn verify(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    allowed(&st, &me).await?;
    let row = load(&st, id).await?;
    let dest = dest_of(&st, &row)?;
    local_path(&dest, &row)?;
    let cfg = st.cfg.clone();
    let rt = tokio::runtime::Handle::current();
    let name = row.file_name.clone();
    let report = tokio::task::spawn_blocking(move || {
        let key = super::live_audit_key(&cfg);
        let tmp = cfg.backup_dir();
        // An archive on S3 is downloaded into a private work directory and checked there.
        let work = super::verify::TempDir::new(&tmp, ".gonghui-fetch")?;
        let path = dest.fetch(&rt, &name, &work.0)?;
        anyhow::Ok(super::verify::verify(
            &path,
            cfg.backup.passphrase(),
            key.as_deref(),
            &tmp,
        ))
    })
    .await
    .map_err(AppError::internal)?
    .unwrap_or_else(|e| super::verify::Report {
        checks: Vec::new(),
        problems: vec![e.to_string()],
    });
    let ok_ = report.ok();
    let msg = (!ok_).then(|| report.problems.join("；"));
    let actor = me.actor();
    st.db
        .write(move |c| {
            c.execute(
                "UPDATE backups SET verified_at = ?1, verify_ok = ?2, message = ?3 WHERE id = ?4",
                rusqlite::params![crate::time::now(), ok_, msg, id],
            )?;
            crate::audit::record(
                c,
                &actor,
                &Entry::success(
                    "backup.verify",
                    "backup",
                    id,
                    serde_json::json!({"ok": ok_}),
                ),
            )?;
            Ok(())
        })
        .await?;
    st.metrics.set_backup(ok_, None);
    if !ok_ {
        tracing::error!(id, "backup verification failed: see the backups page");
    }
    Ok(ok(VerifyResult {
        ok: ok_,
        checks: report.checks,
        problems: report.problems,
    }))
}

/// Download the archive (audited). It holds every member's data: encrypted archives need the
/// backup passphrase to open.
#[utoipa::path(get, path = "/api/v1/admin/backups/{id}/download", tag = "数据备份", security(("bearer" = [])),
    params(("id" = i64, Path, description = "备份 ID")),
    responses((status = 200, content_type = "application/octet-stream"), (status = 403), (status = 404), (status = 409)))]
pub async fn download(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    allowed(&st, &me).await?;
    let row = load(&st, id).await?;
    let dest = dest_of(&st, &row)?;
    let (len, body) = match (local_path(&dest, &row)?, &dest) {
        (Some(path), _) => {
            let file = tokio::fs::File::open(&path)
                .await
                .map_err(AppError::internal)?;
            let len = file.metadata().await.map_err(AppError::internal)?.len();
            (len, Body::from_stream(file_stream(file)))
        }
        (None, Dest::S3 { op, prefix, .. }) => {
            let key = format!("{prefix}{}", row.file_name);
            let meta = match op.stat(&key).await {
                Ok(m) => m,
                Err(e) if e.kind() == opendal::ErrorKind::NotFound => {
                    return Err(AppError::conflict("备份文件已不在 S3 存储中"));
                }
                Err(e) => return Err(AppError::internal(e)),
            };
            let len = meta.content_length();
            let stream = op
                .reader_with(&key)
                .chunk(4 * 1024 * 1024)
                .await
                .map_err(AppError::internal)?
                .into_bytes_stream(0..len)
                .await
                .map_err(AppError::internal)?;
            (len, Body::from_stream(stream))
        }
        (None, Dest::Local(_)) => return Err(AppError::conflict("备份文件已不在备份目录中")),
    };
    let actor = me.actor();
    st.db
        .write(move |c| {
            crate::audit::record(
                c,
                &actor,
                &Entry::success(
                    "backup.download",
                    "backup",
                    id,
                    serde_json::json!({"bytes": len}),
                ),
            )?;
            Ok(())
        })
        .await?;
    crate::http::private_attachment(
        "application/octet-stream",
        len,
        &format!("filename=\"{}\"", row.file_name),
        body,
    )
}

fn file_stream(
    file: tokio::fs::File,
) -> impl futures::Stream<Item = std::io::Result<bytes::Bytes>> + Send {
    futures::stream::unfold(file, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 256 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    })
}

/// Delete a backup: its archive and its row (audited). 409 while it is still running.
#[utoipa::path(delete, path = "/api/v1/admin/backups/{id}", tag = "数据备份", security(("bearer" = [])),
    params(("id" = i64, Path, description = "备份 ID")),
    responses((status = 200), (status = 403), (status = 404), (status = 409)))]
pub async fn delete(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    allowed(&st, &me).await?;
    let row = load(&st, id).await?;
    if row.status == "running" {
        return Err(AppError::conflict("备份正在进行，完成后才能删除"));
    }
    remove(&st, id, &row.file_name, &row.destination, me.actor()).await?;
    Ok(ok(serde_json::json!({})))
}

/// Remove the archive (when there is one) from its `destination` and the row, audited as
/// `actor`.
pub async fn remove(
    st: &AppState,
    id: i64,
    file_name: &str,
    destination: &str,
    actor: Actor,
) -> Result<()> {
    if super::is_archive_name(file_name) {
        let kind = if destination == "s3" {
            BackupDestination::S3
        } else {
            BackupDestination::Local
        };
        Dest::of(&st.cfg, kind)
            .map_err(AppError::internal)?
            .remove(file_name)
            .await
            .map_err(AppError::internal)?;
    }
    let name = file_name.to_string();
    st.db
        .write(move |c| {
            c.execute("DELETE FROM backups WHERE id = ?1", [id])?;
            crate::audit::record(
                c,
                &actor,
                &Entry::success(
                    "backup.delete",
                    "backup",
                    id,
                    serde_json::json!({"file": name}),
                ),
            )?;
            Ok(())
        })
        .await
}
