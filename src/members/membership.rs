//! Membership: a member applies to an org; staff in scope approve (member number assigned) or
//! reject with a reason; the member gets a message-center notice and, when subscribed, a WeChat
//! subscription message (`crate::messages::notify_member`).

use super::auth::MemberAuth;
use super::model::{ApplicationIn, ApplicationOut};
use super::repo;
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, created, ok};
use crate::http::{Page, PageQuery};
use crate::messages::{Notice, notify_member};
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{OptionalExtension, params, types::Value};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Apply to join the union at an org.
#[utoipa::path(post, path = "/api/v1/app/membership/applications", tag = "入会", security(("bearer" = [])), request_body = ApplicationIn,
    responses((status = 201, body = ApplicationOut), (status = 400), (status = 409)))]
pub async fn apply(
    State(st): State<AppState>,
    me: MemberAuth,
    AppJson(req): AppJson<ApplicationIn>,
) -> Result<Response> {
    let mut ck = Check::new();
    let work_unit = ck.text("work_unit", "工作单位", &req.work_unit, 100);
    let job_title = req
        .job_title
        .as_deref()
        .filter(|j| !j.trim().is_empty())
        .map(|j| ck.text("job_title", "职务", j, 50));
    let answers = serde_json::Value::Object(req.answers.unwrap_or_default()).to_string();
    if answers.len() > 8192 {
        ck.fail("answers", "补充信息过长");
    }
    ck.finish()?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let status: String = c.query_row("SELECT status FROM members WHERE id = ?1", [me.id], |r| r.get(0))?;
            match status.as_str() {
                "pending" => return Err(AppError::conflict_code("already_applied", "您已提交入会申请，请等待审核")),
                "active" => return Err(AppError::conflict_code("already_member", "您已是工会会员")),
                _ => {}
            }
            let verified: bool = c.query_row("SELECT realname_verified_at IS NOT NULL FROM members WHERE id = ?1", [me.id], |r| r.get(0))?;
            if !verified {
                return Err(AppError::conflict_code("realname_required", "请先完成实名登记"));
            }
            let org_ok: bool = c.query_row("SELECT count(*) > 0 FROM orgs WHERE id = ?1", [req.org_id], |r| r.get(0))?;
            if !org_ok {
                return Err(AppError::field("org_id", "所选工会组织不存在"));
            }
            let now = crate::time::now();
            c.execute(
                "INSERT INTO membership_applications (member_id, org_id, work_unit, job_title, answers, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![me.id, req.org_id, work_unit, job_title, answers, now],
            )?;
            let id = c.last_insert_rowid();
            c.execute(
                "UPDATE members SET status = 'pending', org_id = ?1, work_unit = ?2, job_title = ?3, updated_at = ?4 WHERE id = ?5",
                params![req.org_id, work_unit, job_title, now, me.id],
            )?;
            audit::record(c, &actor, &Entry::success("membership.apply", "membership_application", id, json!({"org_id": req.org_id})))?;
            Ok(ApplicationOut { id, status: "pending".into() })
        })
        .await?;
    Ok(created(out))
}

/// Filters for applications.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationQuery {
    /// `pending`, `approved`, `rejected` or `withdrawn`.
    pub status: Option<String>,
    /// Only this org.
    pub org_id: Option<i64>,
    /// Page.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

/// An application as staff see it (ID masked).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Application {
    /// Id.
    pub id: i64,
    /// Applicant.
    pub member_id: i64,
    /// Real name.
    pub name: Option<String>,
    /// Masked ID number.
    pub id_number_masked: Option<String>,
    /// Masked phone.
    pub phone_masked: Option<String>,
    /// Org applied to.
    pub org_id: i64,
    /// Org name.
    pub org_name: String,
    /// Work unit.
    pub work_unit: String,
    /// Job title.
    pub job_title: Option<String>,
    /// Extra answers.
    #[schema(value_type = Object)]
    pub answers: serde_json::Value,
    /// `pending`, `approved`, `rejected`, `withdrawn` (the applicant deleted the account).
    pub status: String,
    /// Rejection reason.
    pub reason: Option<String>,
    /// Submitted at.
    pub created_at: String,
    /// Reviewed at.
    pub reviewed_at: Option<String>,
}

const SELECT: &str = "SELECT a.id, a.member_id, m.real_name, m.id_masked, m.phone_masked, a.org_id, o.name, a.work_unit, a.job_title,
    a.answers, a.status, a.reason, a.created_at, a.reviewed_at
    FROM membership_applications a JOIN members m ON m.id = a.member_id JOIN orgs o ON o.id = a.org_id";

fn map(r: &rusqlite::Row<'_>) -> rusqlite::Result<Application> {
    let answers: String = r.get(9)?;
    Ok(Application {
        id: r.get(0)?,
        member_id: r.get(1)?,
        name: r.get(2)?,
        id_number_masked: r.get(3)?,
        phone_masked: r.get(4)?,
        org_id: r.get(5)?,
        org_name: r.get(6)?,
        work_unit: r.get(7)?,
        job_title: r.get(8)?,
        answers: serde_json::from_str(&answers).unwrap_or(serde_json::Value::Null),
        status: r.get(10)?,
        reason: r.get(11)?,
        created_at: crate::time::fmt(r.get(12)?),
        reviewed_at: crate::time::fmt_opt(r.get(13)?),
    })
}

/// Applications in the caller's scope.
#[utoipa::path(get, path = "/api/v1/admin/membership/applications", tag = "入会", security(("bearer" = [])), params(ApplicationQuery),
    responses((status = 200, body = Page<Application>), (status = 403)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<ApplicationQuery>,
) -> Result<Response> {
    let scope = me.require(codes::MEMBER_REVIEW)?;
    let (page, size, offset) = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    if let Some(s) = &q.status
        && !["pending", "approved", "rejected", "withdrawn"].contains(&s.as_str())
    {
        return Err(AppError::field(
            "status",
            "状态只能是 pending、approved、rejected 或 withdrawn",
        ));
    }
    let out = st
        .db
        .read(move |c| {
            let (cond, mut p) = scope.sql("a.org_id", None);
            let mut wh = vec![cond];
            if let Some(s) = q.status {
                wh.push("a.status = ?".into());
                p.push(Value::Text(s));
            }
            if let Some(o) = q.org_id {
                wh.push("a.org_id = ?".into());
                p.push(Value::Integer(o));
            }
            let wh = wh.join(" AND ");
            let count = format!("SELECT count(*) FROM membership_applications a WHERE {wh}");
            let list = format!("{SELECT} WHERE {wh} ORDER BY a.id DESC LIMIT ? OFFSET ?");
            crate::http::fetch_page(c, &count, &list, p, (page, size, offset), map)
        })
        .await?;
    Ok(ok(out))
}

/// Load a pending application within scope for review.
fn load_for_review(
    c: &rusqlite::Connection,
    scope: &crate::auth::Scope,
    id: i64,
) -> Result<(i64, i64, String)> {
    let row: Option<(i64, i64, String, String)> = c
        .query_row(
            "SELECT a.member_id, a.org_id, a.status, o.path FROM membership_applications a JOIN orgs o ON o.id = a.org_id WHERE a.id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    match row {
        Some((m, o, s, path)) if scope.contains_org(o, &path) => Ok((m, o, s)),
        _ => Err(AppError::NotFound),
    }
}

/// 409 unless the application still waits for review.
fn ensure_pending(status: &str) -> Result<()> {
    match status {
        "pending" => Ok(()),
        "withdrawn" => Err(AppError::conflict_code(
            "application_withdrawn",
            "申请人已注销账号，该申请已撤回",
        )),
        _ => Err(AppError::conflict_code(
            "already_reviewed",
            "该申请已审核，不能重复处理",
        )),
    }
}

/// Approve one application inside the caller's write job: the member becomes `active` with a
/// member number, is told, gets the membership bonus; audited. Shared by the bulk approval.
pub(super) fn approve_one(
    c: &rusqlite::Connection,
    scope: &crate::auth::Scope,
    reviewer: i64,
    actor: &crate::audit::Actor,
    points: &crate::points::config::PointsConfig,
    id: i64,
) -> Result<serde_json::Value> {
    let (member_id, org_id, status) = load_for_review(c, scope, id)?;
    ensure_pending(&status)?;
    let now = crate::time::now();
    let no = repo::next_member_no(c)?;
    c.execute("UPDATE membership_applications SET status = 'approved', reviewed_by = ?1, reviewed_at = ?2 WHERE id = ?3", params![reviewer, now, id])?;
    c.execute(
        "UPDATE members SET status = 'active', org_id = ?1, member_no = COALESCE(member_no, ?2), joined_at = ?3, org_since = ?3, left_at = NULL, updated_at = ?3 WHERE id = ?4",
        params![org_id, no, now, member_id],
    )?;
    let member_no: String = c.query_row(
        "SELECT member_no FROM members WHERE id = ?1",
        [member_id],
        |r| r.get(0),
    )?;
    let notice = Notice {
        event: "membership.approved",
        title: "入会申请已通过".into(),
        content: format!("您的入会申请已审核通过，欢迎加入工会！会员编号：{member_no}。"),
        link: None,
        org_id: Some(org_id),
        fields: json!({"title": "入会申请", "result": "已通过", "reason": "欢迎加入工会", "time": crate::time::fmt(now)}),
        key: format!("membership.approved:{id}"),
    };
    notify_member(c, member_id, &notice)?;
    // The membership bonus, keyed by the application so it is credited once.
    let bonus = crate::points::ledger::Posting {
        member_id,
        delta: points.membership_bonus,
        source: crate::points::ledger::Source::Membership,
        source_id: id,
        reason: Some("入会奖励"),
        operator_id: None,
    };
    crate::points::ledger::post(c, &bonus, points.daily_cap)?;
    audit::record(
        c,
        actor,
        &Entry::success(
            "membership.approve",
            "membership_application",
            id,
            json!({"member_id": member_id, "member_no": member_no}),
        ),
    )?;
    Ok(json!({"id": id, "status": "approved", "member_id": member_id, "member_no": member_no}))
}

/// Approve: the member becomes `active` with a member number.
#[utoipa::path(post, path = "/api/v1/admin/membership/applications/{id}/approve", tag = "入会", security(("bearer" = [])),
    params(("id" = i64, Path, description = "申请 ID")), responses((status = 200), (status = 404), (status = 409)))]
pub async fn approve(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::MEMBER_REVIEW)?;
    let actor = me.actor();
    let points = st.live.get().points.clone();
    let out = st
        .db
        .write(move |c| approve_one(c, &scope, me.id, &actor, &points, id))
        .await?;
    Ok(ok(out))
}

/// Rejection reason.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectIn {
    /// Why (shown to the member).
    pub reason: String,
}

/// Reject with a reason (required).
#[utoipa::path(post, path = "/api/v1/admin/membership/applications/{id}/reject", tag = "入会", security(("bearer" = [])), request_body = RejectIn,
    params(("id" = i64, Path, description = "申请 ID")), responses((status = 200), (status = 400), (status = 404), (status = 409)))]
pub async fn reject(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<RejectIn>,
) -> Result<Response> {
    let scope = me.require(codes::MEMBER_REVIEW)?;
    let mut ck = Check::new();
    let reason = ck.text("reason", "驳回原因", &req.reason, 200);
    ck.finish()?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let (member_id, org, status) = load_for_review(c, &scope, id)?;
            ensure_pending(&status)?;
            let now = crate::time::now();
            c.execute("UPDATE membership_applications SET status = 'rejected', reason = ?1, reviewed_by = ?2, reviewed_at = ?3 WHERE id = ?4", params![reason, me.id, now, id])?;
            c.execute("UPDATE members SET status = 'rejected', updated_at = ?1 WHERE id = ?2 AND status = 'pending'", params![now, member_id])?;
            let notice = Notice {
                event: "membership.rejected",
                title: "入会申请未通过".into(),
                content: format!("很抱歉，您的入会申请未通过审核。原因：{reason}"),
                link: None,
                org_id: Some(org),
                fields: json!({"title": "入会申请", "result": "未通过", "reason": reason, "time": crate::time::fmt(now)}),
                key: format!("membership.rejected:{id}"),
            };
            notify_member(c, member_id, &notice)?;
            audit::record(c, &actor, &Entry::success("membership.reject", "membership_application", id, json!({"member_id": member_id})))?;
            Ok(json!({"id": id, "status": "rejected"}))
        })
        .await?;
    Ok(ok(out))
}

/// Approve the ticked applications (批量通过) in one transaction: each is scope-checked,
/// notified, credited and audited as by the single approval; one that is outside the scope
/// (404) or already reviewed (409) fails the whole batch, which then changes nothing.
#[utoipa::path(post, path = "/api/v1/admin/membership/applications/bulk-approve", tag = "入会", security(("bearer" = [])),
    request_body = crate::bulk::BulkIds,
    responses((status = 200, body = crate::bulk::BulkDone), (status = 400), (status = 404), (status = 409)))]
pub async fn bulk_approve(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(req): AppJson<crate::bulk::BulkIds>,
) -> Result<Response> {
    let scope = me.require(codes::MEMBER_REVIEW)?;
    let ids = req.checked()?;
    let actor = me.actor();
    let points = st.live.get().points.clone();
    let done = st
        .db
        .write(move |c| {
            crate::bulk::each(&ids, "申请", |id| {
                approve_one(c, &scope, me.id, &actor, &points, id)
            })
        })
        .await?;
    Ok(ok(crate::bulk::BulkDone { count: done.len() }))
}
