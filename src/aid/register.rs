//! The 困难职工 register (建档): workers whose 困难帮扶 application was approved, with a level
//! and a valid-until date. Staff list and export it by org (their scope), record a worker
//! leaving it (with the reason), and open the yearly review (复核): a new application
//! prefilled from the last one, sent back to the worker to check and resubmit.

use super::repo;
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::permissions::codes;
use crate::auth::{AdminAuth, Scope};
use crate::crypto::mask::mask_name;
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, created, ok};
use crate::http::{Page, PageQuery};
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A register entry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisterEntry {
    /// Id.
    pub id: i64,
    /// Worker.
    pub member_id: i64,
    /// Worker's name, masked.
    pub member_name: String,
    /// Org.
    pub org_id: i64,
    /// Org name.
    pub org_name: String,
    /// The approved application behind it.
    pub application_id: i64,
    /// `general` (一般困难) or `deep` (深度困难).
    pub level: String,
    /// Valid until, `YYYY-MM-DD`.
    pub valid_until: String,
    /// `active` or `left`.
    pub status: String,
    /// Why the worker left.
    pub left_reason: Option<String>,
    /// Left at.
    pub left_at: Option<String>,
    /// Entered at.
    pub created_at: String,
}

const SELECT: &str = "SELECT r.id, r.member_id, coalesce(m.real_name, m.nickname, ''), r.org_id, o.name, r.application_id, r.level,
    r.valid_until, r.status, r.left_reason, r.left_at, r.created_at
    FROM aid_register r JOIN members m ON m.id = r.member_id JOIN orgs o ON o.id = r.org_id";

fn map(r: &rusqlite::Row<'_>) -> rusqlite::Result<RegisterEntry> {
    let name: String = r.get(2)?;
    Ok(RegisterEntry {
        id: r.get(0)?,
        member_id: r.get(1)?,
        member_name: mask_name(&name),
        org_id: r.get(3)?,
        org_name: r.get(4)?,
        application_id: r.get(5)?,
        level: r.get(6)?,
        valid_until: r.get(7)?,
        status: r.get(8)?,
        left_reason: r.get(9)?,
        left_at: crate::time::fmt_opt(r.get(10)?),
        created_at: crate::time::fmt(r.get(11)?),
    })
}

/// Filters of the register.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegisterQuery {
    /// Org (that org and those below it).
    pub org_id: Option<i64>,
    /// `active` or `left`.
    #[param(pattern = "^(active|left)$")]
    pub status: Option<String>,
    /// `general` or `deep`.
    #[param(pattern = "^(general|deep)$")]
    pub level: Option<String>,
    /// Page.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

fn filter(scope: &Scope, q: &RegisterQuery) -> Result<(String, Vec<Value>)> {
    let (cond, mut p) = scope.sql("r.org_id", None);
    let mut wh = vec![cond];
    if let Some(o) = q.org_id {
        wh.push("r.org_id IN (SELECT id FROM orgs WHERE path GLOB (SELECT path FROM orgs WHERE id = ?) || '*')".into());
        p.push(Value::Integer(o));
    }
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        if s != "active" && s != "left" {
            return Err(AppError::field("status", "状态只能是 active 或 left"));
        }
        wh.push("r.status = ?".into());
        p.push(Value::Text(s.into()));
    }
    if let Some(l) = q.level.as_deref().filter(|s| !s.is_empty()) {
        if l != "general" && l != "deep" {
            return Err(AppError::field("level", "困难等级只能是 general 或 deep"));
        }
        wh.push("r.level = ?".into());
        p.push(Value::Text(l.into()));
    }
    Ok((wh.join(" AND "), p))
}

/// The register in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/admin/aid/register", tag = "帮扶服务", security(("bearer" = [])), params(RegisterQuery),
    responses((status = 200, body = Page<RegisterEntry>), (status = 400), (status = 403)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<RegisterQuery>,
) -> Result<Response> {
    let scope = me.require(codes::AID_READ)?;
    let pg = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let (wh, p) = filter(&scope, &q)?;
    let out = st
        .db
        .read(move |c| {
            crate::http::fetch_page(
                c,
                &format!("SELECT count(*) FROM aid_register r WHERE {wh}"),
                &format!("{SELECT} WHERE {wh} ORDER BY r.id DESC LIMIT ? OFFSET ?"),
                p,
                pg,
                map,
            )
        })
        .await?;
    Ok(ok(out))
}

/// The filtered register as xlsx (names masked); audited.
#[utoipa::path(get, path = "/api/v1/admin/aid/register/export", tag = "帮扶服务", security(("bearer" = [])), params(RegisterQuery),
    responses((status = 200, description = "xlsx 文件", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400), (status = 403)))]
pub async fn export(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<RegisterQuery>,
) -> Result<Response> {
    let scope = me.require(codes::AID_EXPORT)?;
    let (wh, mut p) = filter(&scope, &q)?;
    p.push(Value::Integer(crate::benefits::xlsx::MAX_ROWS));
    let rows: Vec<RegisterEntry> = st
        .db
        .read(move |c| {
            Ok(
                c.prepare(&format!("{SELECT} WHERE {wh} ORDER BY r.id LIMIT ?"))?
                    .query_map(params_from_iter(p), map)?
                    .collect::<rusqlite::Result<_>>()?,
            )
        })
        .await?;
    let count = rows.len();
    let cells: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            let level = if r.level == "deep" {
                "深度困难"
            } else {
                "一般困难"
            };
            let status = if r.status == "active" {
                "在档"
            } else {
                "已退出"
            };
            vec![
                r.id.to_string(),
                r.member_name,
                r.org_name,
                level.into(),
                r.valid_until,
                status.into(),
                r.left_reason.unwrap_or_default(),
                r.created_at,
            ]
        })
        .collect();
    let bytes = tokio::task::spawn_blocking(move || {
        crate::benefits::xlsx::sheet(
            "困难职工档案",
            &[
                "编号",
                "姓名",
                "所属组织",
                "困难等级",
                "有效期至",
                "状态",
                "退出原因",
                "建档时间",
            ],
            &cells,
        )
    })
    .await
    .map_err(AppError::internal)??;
    let actor = me.actor();
    st.db
        .write(move |c| {
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "aid.register_export",
                    "aid_register",
                    0,
                    json!({"count": count, "masked": true}),
                ),
            )?;
            Ok(())
        })
        .await?;
    crate::members::xlsx::xlsx_response(bytes, "困难职工档案.xlsx", "aid-register.xlsx")
}

fn load_scoped(c: &Connection, scope: &Scope, id: i64) -> Result<RegisterEntry> {
    let (cond, mut p) = scope.sql("r.org_id", None);
    p.insert(0, Value::Integer(id));
    c.prepare_cached(&format!("{SELECT} WHERE r.id = ? AND {cond}"))?
        .query_row(params_from_iter(p), map)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// Why a worker leaves the register.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaveIn {
    /// Reason (脱困, 调离, …).
    #[schema(max_length = 200)]
    pub reason: String,
}

/// Record that a worker leaves the register, with the reason; `409 not_active` when already out.
#[utoipa::path(post, path = "/api/v1/admin/aid/register/{id}/leave", tag = "帮扶服务", security(("bearer" = [])), request_body = LeaveIn,
    params(("id" = i64, Path, description = "档案 ID")),
    responses((status = 200, body = RegisterEntry), (status = 400), (status = 403), (status = 404), (status = 409)))]
pub async fn leave(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<LeaveIn>,
) -> Result<Response> {
    let scope = me.require(codes::AID_WRITE)?;
    let mut ck = crate::validate::Check::new();
    let reason = ck.text("reason", "退出原因", &req.reason, 200);
    ck.finish()?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let e = load_scoped(c, &scope, id)?;
            if e.status != "active" {
                return Err(AppError::conflict_code("not_active", "该职工已退出困难职工档案"));
            }
            let now = crate::time::now();
            c.execute(
                "UPDATE aid_register SET status = 'left', left_reason = ?1, left_at = ?2, updated_at = ?2 WHERE id = ?3",
                params![reason, now, id],
            )?;
            audit::record(c, &actor, &Entry::success("aid.register_leave", "aid_register", id, json!({"reason": reason})))?;
            load_scoped(c, &Scope::All, id)
        })
        .await?;
    Ok(ok(out))
}

/// The yearly review (复核): a new application of the same type, prefilled from the last one
/// (form, family, attachments), enters its flow at step 1 as returned for supplement, so the
/// worker checks it and resubmits; `409 open_exists` when one is already open.
#[utoipa::path(post, path = "/api/v1/admin/aid/register/{id}/review", tag = "帮扶服务", security(("bearer" = [])),
    params(("id" = i64, Path, description = "档案 ID")),
    responses((status = 201, body = super::views::StaffDetail), (status = 403), (status = 404), (status = 409)))]
pub async fn review(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::AID_WRITE)?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let e = load_scoped(c, &scope, id)?;
            if e.status != "active" {
                return Err(AppError::conflict_code("not_active", "该职工已退出困难职工档案"));
            }
            let (type_id, reason, size, sealed, proxy): (i64, String, i64, Option<String>, Option<i64>) = c.query_row(
                "SELECT type_id, reason_code, household_size, sealed, proxy_admin_id FROM aid_applications WHERE id = ?1",
                [e.application_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?;
            let now = crate::time::now();
            c.execute(
                "INSERT INTO aid_applications (type_id, member_id, org_id, status, current_step, reason_code, household_size, sealed,
                    proxy_admin_id, review_of, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 'returned', 1, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
                params![type_id, e.member_id, e.org_id, reason, size, sealed, proxy, id, now],
            )
            .map_err(super::app::open_exists)?;
            let new = c.last_insert_rowid();
            c.execute(
                "INSERT INTO aid_family_members (application_id, seq, relation, age, name_masked, id_masked, sealed)
                 SELECT ?1, seq, relation, age, name_masked, id_masked, sealed FROM aid_family_members WHERE application_id = ?2",
                params![new, e.application_id],
            )?;
            c.execute(
                "INSERT INTO aid_attachments (application_id, file_id, label)
                 SELECT ?1, x.file_id, x.label FROM aid_attachments x JOIN files f ON f.id = x.file_id
                 WHERE x.application_id = ?2 AND f.deleted_at IS NULL",
                params![new, e.application_id],
            )?;
            c.execute(
                "INSERT OR IGNORE INTO file_refs (file_id, ref_type, ref_id) SELECT file_id, ?1, ?2 FROM aid_attachments WHERE application_id = ?2",
                params![repo::REF_TYPE, new],
            )?;
            repo::snapshot_steps(c, new, type_id, e.org_id)?;
            let name: String = c.query_row("SELECT name FROM aid_steps WHERE application_id = ?1 AND step_no = 1", [new], |r| r.get(0))?;
            let opinion = "年度复核：请核对家庭情况并补充最新材料后重新提交";
            repo::log(c, new, Some((1, &name)), "return", Some(opinion), Some(me.id), Some(me.org_id))?;
            let a = repo::load_any(c, new)?;
            repo::notify(c, &a, "aid.returned", Some(opinion))?;
            audit::record(c, &actor, &Entry::success("aid.register_review", "aid_register", id, json!({"application_id": new})))?;
            super::views::staff_view(c, &a, me.org_id)
        })
        .await?;
    Ok(created(out))
}
