//! Staff side of aid applications: the queue with its filters, the detail, 代申请, reveal and
//! the masked export. Every route sees only what [`repo::visible_sql`] allows; the rest is 404.

use super::model::{AidApplicationIn, Sealed};
use super::repo::{self, AppRow, SELECT, load_staff, map_row};
use super::views::{
    FamilyOut, StaffDetail, StaffItem, family_open, staff_item, staff_view, status_name,
};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::permissions::codes;
use crate::auth::{AdminAuth, Scope};
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, created, ok};
use crate::http::{Page, PageQuery};
use axum::extract::State;
use axum::response::Response;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Filters of the staff list and export.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AppQueryParams {
    /// Aid type.
    pub type_id: Option<i64>,
    /// `pending`, `returned`, `approved`, `rejected` or `cancelled`.
    #[param(pattern = "^(pending|returned|approved|rejected|cancelled)$")]
    pub status: Option<String>,
    /// Applicant's org (that org and those below it).
    pub org_id: Option<i64>,
    /// Only applications whose current step is the caller's org's (待我审批).
    pub waiting_for_me: Option<bool>,
    /// Page.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

const STATUSES: &[&str] = &["pending", "returned", "approved", "rejected", "cancelled"];

/// The WHERE clause and parameters of a filtered staff list.
fn filter(me: &AdminAuth, scope: &Scope, q: &AppQueryParams) -> Result<(String, Vec<Value>)> {
    let (cond, mut p) = repo::visible_sql(me, scope);
    let mut wh = vec![cond];
    if let Some(t) = q.type_id {
        wh.push("a.type_id = ?".into());
        p.push(Value::Integer(t));
    }
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        if !STATUSES.contains(&s) {
            return Err(AppError::field(
                "status",
                "状态只能是 pending、returned、approved、rejected 或 cancelled",
            ));
        }
        wh.push("a.status = ?".into());
        p.push(Value::Text(s.into()));
    }
    if let Some(o) = q.org_id {
        wh.push("a.org_id IN (SELECT id FROM orgs WHERE path GLOB (SELECT path FROM orgs WHERE id = ?) || '*')".into());
        p.push(Value::Integer(o));
    }
    if q.waiting_for_me == Some(true) {
        wh.push("a.status = 'pending' AND EXISTS (SELECT 1 FROM aid_steps s WHERE s.application_id = a.id AND s.step_no = a.current_step AND s.org_id = ?)".into());
        p.push(Value::Integer(me.org_id));
    }
    Ok((wh.join(" AND "), p))
}

/// Applications the caller may see, newest first (`waiting_for_me=true` is the 待我审批 queue).
#[utoipa::path(get, path = "/api/v1/admin/aid/applications", tag = "帮扶服务", security(("bearer" = [])), params(AppQueryParams),
    responses((status = 200, body = Page<StaffItem>), (status = 400), (status = 403)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<AppQueryParams>,
) -> Result<Response> {
    let scope = me.require(codes::AID_READ)?;
    let pg = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let (wh, p) = filter(&me, &scope, &q)?;
    let org = me.org_id;
    let out = st
        .db
        .read(move |c| {
            crate::http::fetch_page(
                c,
                &format!("SELECT count(*) FROM aid_applications a WHERE {wh}"),
                &format!("{SELECT} WHERE {wh} ORDER BY a.id DESC LIMIT ? OFFSET ?"),
                p,
                pg,
                |r| map_row(r).map(|a| staff_item(&a, org)),
            )
        })
        .await?;
    Ok(ok(out))
}

/// One application: masked values, its flow with the deciding orgs, the log, disbursements.
#[utoipa::path(get, path = "/api/v1/admin/aid/applications/{id}", tag = "帮扶服务", security(("bearer" = [])),
    params(("id" = i64, Path, description = "帮扶申请 ID")),
    responses((status = 200, body = StaffDetail), (status = 403), (status = 404)))]
pub async fn get(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::AID_READ)?;
    Ok(ok(st
        .db
        .read(move |c| staff_view(c, &load_staff(c, &me, &scope, id)?, me.org_id))
        .await?))
}

/// 代申请: a clerk files and submits an application for a worker of an org in scope.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProxyIn {
    /// The worker (an active member in the caller's scope).
    pub member_id: i64,
    /// The form, as the worker would fill it in; attachments may be the clerk's own uploads.
    pub application: AidApplicationIn,
}

/// File and submit an application on a worker's behalf (代申请; the clerk is recorded).
#[utoipa::path(post, path = "/api/v1/admin/aid/applications", tag = "帮扶服务", security(("bearer" = [])), request_body = ProxyIn,
    responses((status = 201, body = StaffDetail), (status = 400), (status = 403), (status = 404, description = "职工不在管理范围内"),
        (status = 409, description = "open_exists / not_member / no_approver")))]
pub async fn create(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(req): AppJson<ProxyIn>,
) -> Result<Response> {
    let scope = me.require(codes::AID_WRITE)?;
    let d = req.application.validate()?;
    let (actor, cipher, member) = (me.actor(), st.cipher.clone(), req.member_id);
    let out = st
        .db
        .write(move |c| {
            let (cond, mut p) = scope.sql("m.org_id", None);
            p.insert(0, Value::Integer(member));
            let found: Option<(String, Option<i64>)> =
                rusqlite::OptionalExtension::optional(c.query_row(
                    &format!("SELECT m.status, m.org_id FROM members m WHERE m.id = ? AND {cond}"),
                    rusqlite::params_from_iter(p),
                    |r| Ok((r.get(0)?, r.get(1)?)),
                ))?;
            let Some((status, Some(org))) = found else {
                return Err(AppError::NotFound);
            };
            if status != "active" {
                return Err(AppError::conflict_code(
                    "not_member",
                    "只能为已入会的职工代申请帮扶",
                ));
            }
            let t = super::types::load(c, d.type_id)
                .map_err(|_| AppError::field("application.type_id", "帮扶类型不存在"))?;
            if !t.enabled {
                return Err(AppError::field("application.type_id", "此帮扶类型暂停受理"));
            }
            repo::check_files(c, &d, member, Some(me.id))?;
            let id = super::app::insert(c, d.type_id, member, org, "draft", Some(me.id))?;
            repo::write_form(c, cipher.as_ref(), id, &d)?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "aid.proxy_create",
                    "aid_application",
                    id,
                    json!({"type_id": d.type_id, "member_id": member}),
                ),
            )?;
            let a = repo::load_any(c, id)?;
            super::app::submit_row(c, &a, &actor)?;
            staff_view(c, &repo::load_any(c, id)?, me.org_id)
        })
        .await?;
    Ok(created(out))
}

/// The revealed values of an application.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Revealed {
    /// The applicant's values: cause text, income, housing, health.
    pub form: Sealed,
    /// Family members with names, ID numbers, incomes and health.
    pub family: Vec<FamilyOut>,
}

/// Reveal income, health and family ID numbers (`aid:reveal`; audited in the same job).
#[utoipa::path(post, path = "/api/v1/admin/aid/applications/{id}/reveal", tag = "帮扶服务", security(("bearer" = [])),
    params(("id" = i64, Path, description = "帮扶申请 ID")),
    responses((status = 200, body = Revealed), (status = 403), (status = 404), (status = 409, description = "erased（已注销，信息已删除）")))]
pub async fn reveal(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::AID_REVEAL)?;
    let (actor, cipher) = (me.actor(), st.cipher.clone());
    // A write: the disclosure and its audit row happen together or not at all.
    let out = st
        .db
        .write(move |c| {
            let a = load_staff(c, &me, &scope, id)?;
            if a.sealed.is_none() {
                return Err(AppError::conflict_code(
                    "erased",
                    "申请人已注销账号，个人信息已删除",
                ));
            }
            let out = Revealed {
                form: repo::open_app(cipher.as_ref(), a.sealed.as_deref())?,
                family: family_open(c, cipher.as_ref(), id)?,
            };
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "aid.reveal",
                    "aid_application",
                    id,
                    json!({"member_id": a.member_id}),
                ),
            )?;
            Ok(out)
        })
        .await?;
    Ok(ok(out))
}

/// The filtered list as xlsx: names masked, no income, health or ID numbers; audited.
#[utoipa::path(get, path = "/api/v1/admin/aid/applications/export", tag = "帮扶服务", security(("bearer" = [])), params(AppQueryParams),
    responses((status = 200, description = "xlsx 文件", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400), (status = 403)))]
pub async fn export(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<AppQueryParams>,
) -> Result<Response> {
    let scope = me.require(codes::AID_EXPORT)?;
    let (wh, mut p) = filter(&me, &scope, &q)?;
    p.push(Value::Integer(crate::benefits::xlsx::MAX_ROWS));
    let rows: Vec<AppRow> = st
        .db
        .read(move |c| {
            Ok(
                c.prepare(&format!("{SELECT} WHERE {wh} ORDER BY a.id LIMIT ?"))?
                    .query_map(rusqlite::params_from_iter(p), map_row)?
                    .collect::<rusqlite::Result<_>>()?,
            )
        })
        .await?;
    let count = rows.len();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|a| {
            let i = staff_item(a, me.org_id);
            vec![
                a.id.to_string(),
                a.type_name.clone(),
                i.member_name,
                a.org_name.clone(),
                i.reason_name,
                a.household_size.to_string(),
                status_name(&a.status).into(),
                a.step_name.clone().unwrap_or_default(),
                if i.proxy { "是" } else { "否" }.into(),
                i.item.submitted_at.unwrap_or_default(),
                i.decided_at.unwrap_or_default(),
            ]
        })
        .collect();
    let bytes = tokio::task::spawn_blocking(move || {
        crate::benefits::xlsx::sheet(
            "帮扶申请",
            &[
                "编号",
                "帮扶类型",
                "申请人",
                "所属组织",
                "致困原因",
                "家庭人口",
                "状态",
                "当前步骤",
                "代申请",
                "提交时间",
                "办结时间",
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
                    "aid.export",
                    "aid_application",
                    0,
                    json!({"count": count, "masked": true}),
                ),
            )?;
            Ok(())
        })
        .await?;
    crate::members::xlsx::xlsx_response(bytes, "帮扶申请.xlsx", "aid-applications.xlsx")
}
