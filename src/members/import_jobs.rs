//! Import history (a finished import stays visible) and the download of an import's failed
//! rows as xlsx, naming each row and column header with the Chinese reason.

use super::xlsx::{COLUMNS, write_header, xlsx_err, xlsx_response};
use super::xlsx_import::{RowError, load_job, settle_dead};
use crate::app::AppState;
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppError, AppPath, AppQuery, Result, ok};
use crate::http::{Page, PageQuery};
use axum::extract::State;
use axum::response::Response;
use rusqlite::types::Value;
use rust_xlsxwriter::{Workbook, XlsxError};
use serde::Serialize;

/// One past import, without its row errors.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportJobBrief {
    /// Job id.
    pub job_id: i64,
    /// `running`, `done` or `failed` (a running job cut off by a restart shows `failed`).
    pub status: String,
    /// Data rows in the file.
    pub total: i64,
    /// Rows stored as members.
    pub imported: i64,
    /// Rows refused.
    pub failed: i64,
    /// Why a failed job stopped.
    pub message: Option<String>,
    /// Started at.
    pub created_at: String,
    /// Finished at.
    pub finished_at: Option<String>,
}

/// The caller's own imports, newest first (`member:import`; kept 30 days).
#[utoipa::path(get, path = "/api/v1/admin/members/import-jobs", tag = "会员管理", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<ImportJobBrief>), (status = 400), (status = 403)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Response> {
    me.require(codes::MEMBER_IMPORT)?;
    let pg = q.resolve()?;
    let admin_id = me.id;
    let out = st
        .db
        .read(move |c| {
            let p = vec![Value::Integer(admin_id)];
            crate::http::fetch_page(
                c,
                "SELECT count(*) FROM member_import_jobs WHERE admin_id = ?",
                "SELECT id, status, total, imported, failed, message, created_at, finished_at, updated_at
                 FROM member_import_jobs WHERE admin_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
                p,
                pg,
                |r| {
                    let mut status: String = r.get(1)?;
                    let mut message: Option<String> = r.get(5)?;
                    settle_dead(&mut status, &mut message, r.get(8)?);
                    Ok(ImportJobBrief {
                        job_id: r.get(0)?,
                        status,
                        total: r.get(2)?,
                        imported: r.get(3)?,
                        failed: r.get(4)?,
                        message,
                        created_at: crate::time::fmt(r.get(6)?),
                        finished_at: crate::time::fmt_opt(r.get(7)?),
                    })
                },
            )
        })
        .await?;
    Ok(ok(out))
}

/// The Chinese column header of an error's field (`row` = the row as a whole).
pub fn column_header(field: &str) -> &'static str {
    COLUMNS
        .iter()
        .find(|c| c.0 == field)
        .map_or("整行", |c| c.1)
}

fn errors_bytes(errors: &[RowError], truncated: bool) -> std::result::Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("导入失败的行")?;
    write_header(ws, &[("行号", 8.0), ("列", 16.0), ("原因", 60.0)])?;
    let mut r = 1u32;
    for e in errors {
        ws.write_number(r, 0, e.row as f64)?;
        ws.write_string(r, 1, column_header(&e.field))?;
        // Messages are ours (never cell values), so no formula neutralising is needed.
        ws.write_string(r, 2, &e.message)?;
        r += 1;
    }
    if truncated {
        ws.write_string(
            r,
            2,
            "失败的行过多，只列出前 1000 条；请改正后重新导入查看其余",
        )?;
    }
    wb.save_to_buffer()
}

/// The failed rows of one of the caller's own imports as xlsx (行号, 列, 原因); others'
/// jobs are 404.
#[utoipa::path(get, path = "/api/v1/admin/members/import/{job_id}/errors", tag = "会员管理", security(("bearer" = [])),
    params(("job_id" = i64, Path, description = "导入任务 ID")),
    responses((status = 200, description = "xlsx 文件", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403), (status = 404)))]
pub async fn errors(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(job_id): AppPath<i64>,
) -> Result<Response> {
    me.require(codes::MEMBER_IMPORT)?;
    let admin_id = me.id;
    let job = st.db.read(move |c| load_job(c, job_id, admin_id)).await?;
    let truncated = job.errors_truncated;
    let bytes = tokio::task::spawn_blocking(move || errors_bytes(&job.errors, truncated))
        .await
        .map_err(AppError::internal)?
        .map_err(xlsx_err)?;
    xlsx_response(
        bytes,
        &format!("导入失败的行-{job_id}.xlsx"),
        &format!("import-errors-{job_id}.xlsx"),
    )
}
