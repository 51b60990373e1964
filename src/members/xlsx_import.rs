//! Member import from xlsx as a background job: the upload is checked and parsed in the
//! request (a wrong file is refused at once, nothing stored), then rows are validated and
//! inserted in chunks by a tokio task while the staff UI polls the job for progress.
//! Good rows are kept, bad rows are reported with their spreadsheet row number.

use super::admin::{NewMember, insert_numbered};
use super::idcard::IdNumber;
use super::profile::check_name;
use super::repo;
use super::xlsx::{COLUMNS, EXAMPLE_ID, EXAMPLE_NAME};
use super::xlsx_read::{NOT_XLSX, RawRow, parse, read_file};
use crate::app::AppState;
use crate::audit::{self, Actor, Entry};
use crate::auth::permissions::codes;
use crate::auth::{AdminAuth, Scope};
use crate::crypto::field::FieldCipher;
use crate::error::{AppError, AppPath, Data, Result, ok};
use crate::files::model;
use crate::validate::Check;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::response::{IntoResponse, Response};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

/// Workbooks parsed at once in the whole process: each may take tens of megabytes.
static PARSING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// How long an upload waits for its turn to be read before it is refused as busy.
const PARSE_WAIT: std::time::Duration = std::time::Duration::from_secs(60);
/// Rows inserted per `db.write`, so the single writer is never held for long.
const CHUNK: usize = 500;
/// Row errors kept on a job (the `failed` count stays exact beyond it).
const MAX_ERRORS: usize = 1000;
/// A running job not updated for this long was cut off (restart) and is shown as failed.
pub const STALE_SECS: i64 = 600;
/// Finished jobs are kept this long.
const KEEP_SECS: i64 = 30 * 24 * 3600;

/// One problem in one row of the import file.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowError {
    /// Spreadsheet row number (the header is row 1).
    pub row: u32,
    /// `name`, `id_number`, `phone`, `org_code`, `work_unit`, `job_title`, or `row` for
    /// the row as a whole.
    pub field: String,
    /// Chinese explanation (never the cell's value).
    pub message: String,
}

/// An import job and its progress.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportJob {
    /// Job id.
    pub job_id: i64,
    /// `running`, `done` or `failed`.
    pub status: String,
    /// Data rows in the file.
    pub total: i64,
    /// Rows handled so far.
    pub processed: i64,
    /// Rows stored as members.
    pub imported: i64,
    /// Rows refused.
    pub failed: i64,
    /// Per-row errors, by row (at most 1000).
    pub errors: Vec<RowError>,
    /// True when more rows failed than `errors` lists.
    pub errors_truncated: bool,
    /// Why a failed job stopped.
    pub message: Option<String>,
    /// Started at.
    pub created_at: String,
    /// Finished at.
    pub finished_at: Option<String>,
}

/// Multipart body of an import (for the API document).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ImportForm {
    /// The xlsx file, laid out like the template.
    #[schema(format = Binary, value_type = String)]
    file: Vec<u8>,
    /// Optional; when sent it must be `import`.
    purpose: Option<String>,
}

/// A row error with the index of its column in [`COLUMNS`], to order a row's errors.
type ColError = (usize, RowError);

/// A validated row waiting for the org and duplicate checks against the database.
pub struct Candidate {
    /// Spreadsheet row number.
    pub row: u32,
    /// Org code as written.
    pub org_code: String,
    /// Member data.
    pub member: NewMember,
}

fn err(row: u32, col: usize, message: impl Into<String>) -> ColError {
    (
        col,
        RowError {
            row,
            field: COLUMNS[col].0.to_string(),
            message: message.into(),
        },
    )
}

/// Trimmed text within `max` characters, or the Chinese reason.
fn text(label: &str, v: &str, max: usize) -> std::result::Result<String, String> {
    let mut ck = Check::new();
    let t = ck.text("v", label, v, max);
    match ck.finish() {
        Ok(()) => Ok(t),
        Err(AppError::Validation(f)) => Err(f.into_values().next().unwrap_or_default()),
        Err(_) => Err(format!("{label}无效")),
    }
}

/// Check every row on its own and against earlier rows of the file (ID and phone unique).
pub fn validate(rows: Vec<RawRow>) -> (Vec<Candidate>, Vec<ColError>, usize) {
    let mut good = Vec::new();
    let mut errors = Vec::new();
    let mut failed = 0;
    let mut seen_id: HashMap<String, u32> = HashMap::new();
    let mut seen_phone: HashMap<String, u32> = HashMap::new();
    for r in rows {
        let n = r.row;
        let [name, id, phone, org_code, work_unit, job_title] = r.cells;
        let mut e = Vec::new();
        let name = match name.as_str() {
            "" => {
                e.push(err(n, 0, "请填写姓名"));
                None
            }
            v => check_name("name", v)
                .map_err(|_| e.push(err(n, 0, "请输入身份证上的姓名（2 到 30 个字）")))
                .ok(),
        };
        let id = if id.is_empty() {
            e.push(err(n, 1, "请填写身份证号"));
            None
        } else if r.id_is_number {
            e.push(err(
                n,
                1,
                "身份证号须以文本格式填写（数字格式会丢失末几位），请将单元格设为“文本”后重新输入",
            ));
            None
        } else {
            match IdNumber::parse(&id) {
                Err(x) => {
                    e.push(err(n, 1, x.to_string()));
                    None
                }
                Ok(v) if v.normalized() == EXAMPLE_ID && name.as_deref() == Some(EXAMPLE_NAME) => {
                    e.push(err(n, 1, "这是模板中的示例行，请删除后再导入"));
                    None
                }
                Ok(v) => match seen_id.get(v.normalized()) {
                    Some(first) => {
                        e.push(err(n, 1, format!("身份证号与第 {first} 行重复")));
                        None
                    }
                    None => {
                        seen_id.insert(v.normalized().to_string(), n);
                        Some(v)
                    }
                },
            }
        };
        let phone = if phone.is_empty() {
            None
        } else {
            match repo::parse_phone("phone", &phone) {
                Err(_) => {
                    e.push(err(n, 2, "请输入正确的 11 位手机号"));
                    None
                }
                Ok(p) => match seen_phone.get(&p) {
                    Some(first) => {
                        e.push(err(n, 2, format!("手机号与第 {first} 行重复")));
                        None
                    }
                    None => {
                        seen_phone.insert(p.clone(), n);
                        Some(p)
                    }
                },
            }
        };
        if org_code.is_empty() {
            e.push(err(n, 3, "请填写所属组织编码"));
        }
        let work_unit = text("工作单位", &work_unit, 100).map_err(|m| e.push(err(n, 4, m)));
        let job_title = match job_title.as_str() {
            "" => Ok(None),
            v => text("职务", v, 50)
                .map(Some)
                .map_err(|m| e.push(err(n, 5, m))),
        };
        match (name, id, work_unit, job_title) {
            (Some(name), Some(id), Ok(work_unit), Ok(job_title)) if e.is_empty() => {
                good.push(Candidate {
                    row: n,
                    org_code,
                    member: NewMember {
                        name,
                        id,
                        phone,
                        work_unit,
                        job_title,
                    },
                })
            }
            _ => {
                failed += 1;
                errors.extend(e);
            }
        }
    }
    (good, errors, failed)
}

/// Insert one chunk: org in scope, ID and phone not yet registered. Each row is one INSERT
/// (whole or absent), so a refused row never undoes a good one; member numbers come from one
/// block per chunk. Returns rows stored and row errors.
fn insert_chunk(
    c: &Connection,
    cipher: &dyn FieldCipher,
    scope: &Scope,
    admin_id: i64,
    chunk: &[Candidate],
) -> Result<(usize, Vec<ColError>, usize)> {
    let mut orgs: HashMap<&str, Option<i64>> = HashMap::new();
    let (mut imported, mut failed, mut errors) = (0, 0, Vec::new());
    let mut nos = repo::MemberNos::open(c)?;
    for cand in chunk {
        let n = cand.row;
        let org = match orgs.get(cand.org_code.as_str()) {
            Some(o) => *o,
            None => {
                let found: Option<(i64, String)> = c
                    .prepare_cached("SELECT id, path FROM orgs WHERE code = ?1")?
                    .query_row([&cand.org_code], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                // Missing and out of scope read alike, as everywhere else.
                let o = found
                    .filter(|(id, path)| scope.contains_org(*id, path))
                    .map(|o| o.0);
                orgs.insert(&cand.org_code, o);
                o
            }
        };
        let mut e = Vec::new();
        if org.is_none() {
            e.push(err(n, 3, "组织编码不存在或不在您的管理范围内"));
        }
        let m = &cand.member;
        let id_bidx = cipher.blind_index(m.id.normalized());
        if repo::bidx_taken(c, "id_bidx", &id_bidx)? {
            e.push(err(n, 1, "该身份证号已登记为其他会员"));
        }
        let phone_bidx = m.phone.as_deref().map(|p| cipher.blind_index(p));
        if let Some(pb) = &phone_bidx
            && repo::bidx_taken(c, "phone_bidx", pb)?
        {
            e.push(err(n, 2, "该手机号已被其他会员使用"));
        }
        if let (Some(org_id), true) = (org, e.is_empty()) {
            let no = nos.take();
            match insert_numbered(c, cipher, org_id, admin_id, m, (id_bidx, phone_bidx), &no) {
                Ok(_) => {
                    imported += 1;
                    continue;
                }
                Err(other) => {
                    // A constraint no pre-check covers (e.g. an ID left on an erased
                    // account): this row fails, the others go on; a broken database
                    // fails the commit and with it the job.
                    nos.unuse();
                    tracing::warn!(row = n, error = %other, "member import: row not stored");
                    e.push((
                        COLUMNS.len(),
                        RowError {
                            row: n,
                            field: "row".into(),
                            message: "该行未能保存，请核对后重新导入".into(),
                        },
                    ));
                }
            }
        }
        failed += 1;
        errors.extend(e);
    }
    nos.close(c)?;
    Ok((imported, errors, failed))
}

/// Counters of a running job, written after every chunk. Only the first errors by row are
/// kept, so a copy per chunk stays small.
#[derive(Default, Clone)]
struct Progress {
    processed: usize,
    imported: usize,
    failed: usize,
    /// The first [`MAX_ERRORS`] errors by row, then column.
    errors: Vec<ColError>,
    /// Every error seen, shown or not.
    error_count: usize,
}

impl Progress {
    fn add_errors(&mut self, new: Vec<ColError>) {
        self.error_count += new.len();
        self.errors.extend(new);
        self.errors.sort_by_key(|(col, e)| (e.row, *col));
        self.errors.truncate(MAX_ERRORS);
    }

    /// Save counters and errors on the job row.
    fn save(&self, c: &Connection, job_id: i64, status: &str, message: Option<&str>) -> Result<()> {
        let shown: Vec<&RowError> = self.errors.iter().map(|(_, e)| e).collect();
        let now = crate::time::now();
        c.execute(
            "UPDATE member_import_jobs SET status = ?1, processed = ?2, imported = ?3, failed = ?4, errors = ?5,
                errors_truncated = ?6, message = ?7, updated_at = ?8,
                finished_at = CASE WHEN ?1 = 'running' THEN NULL ELSE ?8 END
             WHERE id = ?9",
            params![
                status, self.processed as i64, self.imported as i64, self.failed as i64,
                serde_json::to_string(&shown).map_err(AppError::internal)?,
                self.error_count > self.errors.len(), message, now, job_id
            ],
        )?;
        Ok(())
    }
}

/// Everything the background task needs.
struct Job {
    st: AppState,
    id: i64,
    scope: Scope,
    actor: Actor,
    admin_id: i64,
    total: usize,
}

/// The audit row of a finished (or failed) import: counts only, no personal values.
fn audit_import(
    c: &Connection,
    actor: &Actor,
    job_id: i64,
    total: usize,
    p: &Progress,
    result: &str,
) -> Result<()> {
    audit::record(
        c,
        actor,
        &Entry {
            action: "member.import",
            target_type: "member_import_job",
            target_id: Some(job_id.to_string()),
            summary: json!({"total": total, "imported": p.imported, "failed": p.failed}),
            result,
        },
    )?;
    Ok(())
}

/// Validate, then insert chunk by chunk; `p` always holds what has been committed.
async fn run(job: &Job, rows: Vec<RawRow>, p: &mut Progress) -> Result<()> {
    let (good, errors, failed) = tokio::task::spawn_blocking(move || validate(rows))
        .await
        .map_err(AppError::internal)?;
    p.processed = failed;
    p.failed = failed;
    p.add_errors(errors);
    let mut pending = good.into_iter().peekable();
    loop {
        let chunk: Vec<Candidate> = pending.by_ref().take(CHUNK).collect();
        let last = pending.peek().is_none();
        let (cipher, scope, admin_id, job_id) = (
            job.st.cipher.clone(),
            job.scope.clone(),
            job.admin_id,
            job.id,
        );
        let (actor, total) = (job.actor.clone(), job.total);
        let mut next = p.clone();
        *p = job
            .st
            .db
            .write(move |c| {
                let (imported, errors, failed) =
                    insert_chunk(c, cipher.as_ref(), &scope, admin_id, &chunk)?;
                next.processed += chunk.len();
                next.imported += imported;
                next.failed += failed;
                next.add_errors(errors);
                // The last chunk, the final counters and the audit row commit together.
                if last {
                    next.save(c, job_id, "done", None)?;
                    audit_import(c, &actor, job_id, total, &next, "success")?;
                } else {
                    next.save(c, job_id, "running", None)?;
                }
                Ok(next)
            })
            .await?;
        if last {
            return Ok(());
        }
        tokio::task::yield_now().await;
    }
}

/// Run the job and always leave it finished: done with its audit row, or failed.
async fn supervise(job: Job, rows: Vec<RawRow>) {
    let mut p = Progress::default();
    let Err(e) = run(&job, rows, &mut p).await else {
        return;
    };
    tracing::error!(job_id = job.id, error = %e, "member import failed");
    let (job_id, actor, total) = (job.id, job.actor.clone(), job.total);
    let res = job
        .st
        .db
        .write(move |c| {
            p.save(
                c,
                job_id,
                "failed",
                Some("导入过程中出现错误而中止；已导入的会员保留，请查看结果后重新导入未导入的行"),
            )?;
            audit_import(c, &actor, job_id, total, &p, "failure")
        })
        .await;
    if let Err(e) = res {
        tracing::error!(job_id, error = %e, "could not record the failed member import");
    }
}

/// True when the account has an import running (one not updated for [`STALE_SECS`] died).
fn running(c: &Connection, admin_id: i64) -> Result<bool> {
    Ok(c.query_row(
        "SELECT count(*) > 0 FROM member_import_jobs WHERE admin_id = ?1 AND status = 'running' AND updated_at >= ?2",
        params![admin_id, crate::time::now() - STALE_SECS],
        |r| r.get(0),
    )?)
}

fn import_running() -> AppError {
    AppError::conflict_code("import_running", "您有导入任务正在进行，请等它完成后再导入")
}

const JOB_COLS: &str = "id, status, total, processed, imported, failed, errors, errors_truncated, message, created_at, updated_at, finished_at";

/// One of `admin_id`'s import jobs, a dead running one shown as failed; 404 for others'.
pub fn load_job(c: &Connection, id: i64, admin_id: i64) -> Result<ImportJob> {
    let (mut job, updated_at) = c
        .query_row(
            &format!("SELECT {JOB_COLS} FROM member_import_jobs WHERE id = ?1 AND admin_id = ?2"),
            params![id, admin_id],
            |r| {
                let errors: String = r.get(6)?;
                Ok((
                    ImportJob {
                        job_id: r.get(0)?,
                        status: r.get(1)?,
                        total: r.get(2)?,
                        processed: r.get(3)?,
                        imported: r.get(4)?,
                        failed: r.get(5)?,
                        errors: serde_json::from_str(&errors).unwrap_or_default(),
                        errors_truncated: r.get(7)?,
                        message: r.get(8)?,
                        created_at: crate::time::fmt(r.get(9)?),
                        finished_at: crate::time::fmt_opt(r.get(11)?),
                    },
                    r.get::<_, i64>(10)?,
                ))
            },
        )
        .optional()?
        .ok_or(AppError::NotFound)?;
    settle_dead(&mut job.status, &mut job.message, updated_at);
    Ok(job)
}

/// A job still `running` but not updated for [`STALE_SECS`] died with the process: it is
/// shown as failed (rows stored before that are kept). The one rule for the job view and the
/// import history.
pub fn settle_dead(status: &mut String, message: &mut Option<String>, updated_at: i64) {
    if status == "running" && updated_at < crate::time::now() - STALE_SECS {
        *status = "failed".into();
        *message = Some(INTERRUPTED.into());
    }
}

/// Message of a job cut off by a restart.
const INTERRUPTED: &str =
    "导入任务已中断（服务曾重启）；已导入的会员保留，请查看结果后重新导入未导入的行";

/// At start, before serving: every job still `running` belongs to a process that is gone
/// (jobs run as tasks of the serving process), so it is failed now. Without this, its
/// account could not start another import until the job went stale ([`STALE_SECS`]).
pub async fn fail_interrupted(st: &AppState) -> Result<usize> {
    st.db
        .write(|c| {
            let now = crate::time::now();
            Ok(c.execute(
                "UPDATE member_import_jobs SET status = 'failed', message = ?1, finished_at = ?2, updated_at = ?2
                 WHERE status = 'running'",
                params![INTERRUPTED, now],
            )?)
        })
        .await
}

/// Start importing members from an xlsx laid out like the template. Answers `202` with the
/// job at once; poll `GET /api/v1/admin/members/import/{job_id}` for progress and row errors.
#[utoipa::path(post, path = "/api/v1/admin/members/import", tag = "会员管理", security(("bearer" = [])),
    request_body(content = ImportForm, content_type = "multipart/form-data"),
    responses((status = 202, body = ImportJob, description = "导入任务已开始"), (status = 400, description = "文件内容无法导入（缺少列、没有数据、行数过多）"),
        (status = 403), (status = 409, description = "import_running：已有导入任务在进行；import_busy：系统正在读取其他导入文件"),
        (status = 413, description = "文件或解压后的内容过大"), (status = 415, description = "不是 xlsx 文件")))]
pub async fn start(
    State(st): State<AppState>,
    me: AdminAuth,
    mp: std::result::Result<Multipart, MultipartRejection>,
) -> Result<Response> {
    let scope = me.require(codes::MEMBER_IMPORT)?;
    let admin_id = me.id;
    // Refused before the body is even read: one running import per account (the writer job
    // below decides for certain).
    if st.db.read(move |c| running(c, admin_id)).await? {
        return Err(import_running());
    }
    let bytes = read_file(mp).await?;
    // Sniffed, never trusted from the name; some tools write xlsx that sniff as plain zip.
    match model::sniff(&bytes) {
        Some(super::xlsx::XLSX_MIME | "application/zip") => {}
        _ => return Err(AppError::UnsupportedMediaType(NOT_XLSX.into())),
    }
    // One workbook is read at a time in the whole process, so parallel uploads cannot add up.
    // A second one waits its turn (reading takes seconds); only a long queue is refused.
    let permit = match tokio::time::timeout(PARSE_WAIT, PARSING.acquire()).await {
        Ok(p) => p.map_err(AppError::internal)?,
        Err(_) => {
            return Err(AppError::conflict_code(
                "import_busy",
                "系统正在读取其他导入文件，请稍后再试",
            ));
        }
    };
    // The zip is checked against the size limits before the spreadsheet reader opens it. The
    // permit lives in the blocking task: a client that hangs up cannot free it early.
    let rows = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        super::xlsx_limits::check(&bytes, NOT_XLSX)?;
        parse(bytes)
    })
    .await
    .map_err(AppError::internal)??;
    let total = rows.len();
    let out = st
        .db
        .write(move |c| {
            let now = crate::time::now();
            if running(c, admin_id)? {
                return Err(import_running());
            }
            c.execute("DELETE FROM member_import_jobs WHERE created_at < ?1", [now - KEEP_SECS])?;
            c.execute(
                "INSERT INTO member_import_jobs (admin_id, total, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
                params![admin_id, total as i64, now],
            )?;
            load_job(c, c.last_insert_rowid(), admin_id)
        })
        .await?;
    let job = Job {
        st: st.clone(),
        id: out.job_id,
        scope,
        actor: me.actor(),
        admin_id,
        total,
    };
    tokio::spawn(supervise(job, rows));
    Ok((http::StatusCode::ACCEPTED, axum::Json(Data { data: out })).into_response())
}

/// Progress and row errors of one of the caller's own import jobs (others' jobs are 404).
#[utoipa::path(get, path = "/api/v1/admin/members/import/{job_id}", tag = "会员管理", security(("bearer" = [])),
    params(("job_id" = i64, Path, description = "导入任务 ID")), responses((status = 200, body = ImportJob), (status = 404)))]
pub async fn status(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(job_id): AppPath<i64>,
) -> Result<Response> {
    me.require(codes::MEMBER_IMPORT)?;
    let admin_id = me.id;
    Ok(ok(st
        .db
        .read(move |c| load_job(c, job_id, admin_id))
        .await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: u32, cells: [&str; 6]) -> RawRow {
        RawRow {
            row: n,
            cells: cells.map(String::from),
            id_is_number: false,
        }
    }

    #[test]
    fn rows_are_checked_alone_and_against_earlier_rows() {
        let (good, errors, failed) = validate(vec![
            row(
                2,
                [
                    "王五",
                    "440524199001010018",
                    "13812345678",
                    "ca",
                    "单位",
                    "",
                ],
            ),
            row(3, ["", "440524199001010018", "13812345678", "", "", ""]),
            row(4, [EXAMPLE_NAME, EXAMPLE_ID, "", "ca", "单位", ""]),
        ]);
        assert_eq!(good.len(), 1);
        assert_eq!(failed, 2);
        let got: Vec<(u32, &str, &str)> = errors
            .iter()
            .map(|(_, e)| (e.row, e.field.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (3, "name", "请填写姓名"),
                (3, "id_number", "身份证号与第 2 行重复"),
                (3, "phone", "手机号与第 2 行重复"),
                (3, "org_code", "请填写所属组织编码"),
                (3, "work_unit", "工作单位不能为空"),
                (4, "id_number", "这是模板中的示例行，请删除后再导入"),
            ]
        );
    }
}
