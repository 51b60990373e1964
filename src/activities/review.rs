//! Staff side of registrations: list with answers, approve, reject with a reason. The member
//! is notified in the same transaction as the decision.

use super::model::{ReasonIn, closed};
use super::repo::{self, load_scoped};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, ok};
use crate::http::{Page, PageQuery};
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{OptionalExtension, params, types::Value};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Filters for registrations.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegistrationQuery {
    /// `pending`, `approved`, `rejected`, `cancelled`.
    pub status: Option<String>,
    /// Page.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

/// A registration as staff see it (ID answers masked).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Registration {
    /// Id.
    pub id: i64,
    /// Member.
    pub member_id: i64,
    /// Real name.
    pub name: Option<String>,
    /// Nickname.
    pub nickname: String,
    /// Masked phone.
    pub phone_masked: Option<String>,
    /// Member's org when registering.
    pub org_name: Option<String>,
    /// Status.
    pub status: String,
    /// Answers (ID numbers masked).
    #[schema(value_type = Object)]
    pub answers: serde_json::Value,
    /// Rejection reason.
    pub reason: Option<String>,
    /// Registered at.
    pub created_at: String,
    /// Checked in at.
    pub checked_in_at: Option<String>,
    /// How the member checked in: `qr` (code at the venue) or `geo` (position).
    pub checkin_method: Option<String>,
    /// Points recorded.
    pub points_awarded: Option<i64>,
    /// Rating.
    pub rating: Option<i64>,
    /// Comment.
    pub comment: Option<String>,
}

const REG_SELECT: &str = "SELECT r.id, r.member_id, m.real_name, m.nickname, m.phone_masked, o.name, r.status, r.answers, r.reason,
    r.created_at, r.checked_in_at, r.points_awarded, r.rating, r.comment, r.checkin_method
    FROM activity_registrations r JOIN members m ON m.id = r.member_id LEFT JOIN orgs o ON o.id = r.org_id";

fn map_reg(r: &rusqlite::Row<'_>) -> rusqlite::Result<Registration> {
    let answers: String = r.get(7)?;
    Ok(Registration {
        id: r.get(0)?,
        member_id: r.get(1)?,
        name: r.get(2)?,
        nickname: r.get(3)?,
        phone_masked: r.get(4)?,
        org_name: r.get(5)?,
        status: r.get(6)?,
        answers: serde_json::from_str(&answers).unwrap_or(serde_json::Value::Null),
        reason: r.get(8)?,
        created_at: crate::time::fmt(r.get(9)?),
        checked_in_at: crate::time::fmt_opt(r.get(10)?),
        checkin_method: r.get(14)?,
        points_awarded: r.get(11)?,
        rating: r.get(12)?,
        comment: r.get(13)?,
    })
}

/// Registrations of an activity in scope, with answers.
#[utoipa::path(get, path = "/api/v1/admin/activities/{id}/registrations", tag = "活动管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "活动 ID"), RegistrationQuery),
    responses((status = 200, body = Page<Registration>), (status = 400), (status = 404)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppQuery(q): AppQuery<RegistrationQuery>,
) -> Result<Response> {
    let scope = me.require(codes::ACTIVITY_READ)?;
    let pg = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let mut wh = "r.activity_id = ?".to_string();
    let mut p = vec![Value::Integer(id)];
    if let Some(s) = q.status.filter(|s| !s.is_empty()) {
        if !["pending", "approved", "rejected", "cancelled"].contains(&s.as_str()) {
            return Err(AppError::field(
                "status",
                "状态只能是 pending、approved、rejected 或 cancelled",
            ));
        }
        wh.push_str(" AND r.status = ?");
        p.push(Value::Text(s));
    }
    let out = st
        .db
        .read(move |c| {
            load_scoped(c, &scope, id)?;
            crate::http::fetch_page(
                c,
                &format!("SELECT count(*) FROM activity_registrations r WHERE {wh}"),
                &format!("{REG_SELECT} WHERE {wh} ORDER BY r.id LIMIT ? OFFSET ?"),
                p,
                pg,
                map_reg,
            )
        })
        .await?;
    Ok(ok(out))
}

/// Load a pending registration of an activity in scope.
fn pending(
    c: &rusqlite::Connection,
    scope: &crate::auth::Scope,
    id: i64,
    rid: i64,
) -> Result<(super::model::ActivityRow, i64)> {
    let a = load_scoped(c, scope, id)?;
    let (member, status): (i64, String) = c
        .query_row(
            "SELECT member_id, status FROM activity_registrations WHERE id = ?1 AND activity_id = ?2",
            params![rid, id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or(AppError::NotFound)?;
    if status != "pending" {
        return Err(AppError::conflict_code(
            "not_pending",
            "该报名不在待审核状态",
        ));
    }
    if !matches!(a.view.status.as_str(), "published") {
        return Err(closed(&a.view.status));
    }
    Ok((a, member))
}

/// Path of one registration.
#[derive(Debug, Deserialize)]
pub struct RegPath {
    id: i64,
    rid: i64,
}

/// Approve a pending registration.
#[utoipa::path(post, path = "/api/v1/admin/activities/{id}/registrations/{rid}/approve", tag = "活动管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "活动 ID"), ("rid" = i64, Path, description = "报名 ID")),
    responses((status = 200, body = Registration), (status = 404), (status = 409)))]
pub async fn approve(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(RegPath { id, rid }): AppPath<RegPath>,
) -> Result<Response> {
    let scope = me.require(codes::ACTIVITY_REVIEW)?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| approve_one(c, &scope, me.id, &actor, id, rid))
        .await?;
    Ok(ok(out))
}

/// Approve one pending registration inside the caller's write job (told and audited).
/// Shared by the bulk approval.
fn approve_one(
    c: &rusqlite::Connection,
    scope: &crate::auth::Scope,
    reviewer: i64,
    actor: &crate::audit::Actor,
    id: i64,
    rid: i64,
) -> Result<Registration> {
    let (a, member) = pending(c, scope, id, rid)?;
    let now = crate::time::now();
    c.execute(
        "UPDATE activity_registrations SET status = 'approved', reviewed_by = ?1, reviewed_at = ?2 WHERE id = ?3",
        params![reviewer, now, rid],
    )?;
    repo::notify(
        c,
        member,
        &a,
        "activity.approved",
        format!("activity.approved:{rid}"),
        "审核通过",
        None,
    )?;
    audit::record(
        c,
        actor,
        &Entry::success(
            "activity.registration.approve",
            "activity_registration",
            rid,
            json!({"activity_id": id}),
        ),
    )?;
    Ok(c.query_row(&format!("{REG_SELECT} WHERE r.id = ?1"), [rid], map_reg)?)
}

/// Approve the ticked registrations of one activity (批量通过) in one transaction, each as
/// by the single approval; one that is missing (404) or not pending (409) fails the whole
/// batch, which then changes nothing.
#[utoipa::path(post, path = "/api/v1/admin/activities/{id}/registrations/bulk-approve", tag = "活动管理", security(("bearer" = [])),
    request_body = crate::bulk::BulkIds, params(("id" = i64, Path, description = "活动 ID")),
    responses((status = 200, body = crate::bulk::BulkDone), (status = 400), (status = 404), (status = 409)))]
pub async fn bulk_approve(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<crate::bulk::BulkIds>,
) -> Result<Response> {
    let scope = me.require(codes::ACTIVITY_REVIEW)?;
    let ids = req.checked()?;
    let actor = me.actor();
    let done = st
        .db
        .write(move |c| {
            crate::bulk::each(&ids, "报名", |rid| {
                approve_one(c, &scope, me.id, &actor, id, rid)
            })
        })
        .await?;
    Ok(ok(crate::bulk::BulkDone { count: done.len() }))
}

/// Reject a pending registration with a reason (the place is freed, the member told why).
#[utoipa::path(post, path = "/api/v1/admin/activities/{id}/registrations/{rid}/reject", tag = "活动管理", security(("bearer" = [])),
    request_body = ReasonIn, params(("id" = i64, Path, description = "活动 ID"), ("rid" = i64, Path, description = "报名 ID")),
    responses((status = 200, body = Registration), (status = 400), (status = 404), (status = 409)))]
pub async fn reject(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(RegPath { id, rid }): AppPath<RegPath>,
    AppJson(req): AppJson<ReasonIn>,
) -> Result<Response> {
    let scope = me.require(codes::ACTIVITY_REVIEW)?;
    let mut ck = Check::new();
    let reason = ck.text("reason", "驳回原因", &req.reason, 200);
    ck.finish()?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let (a, member) = pending(c, &scope, id, rid)?;
            let now = crate::time::now();
            c.execute(
                "UPDATE activity_registrations SET status = 'rejected', reason = ?1, reviewed_by = ?2, reviewed_at = ?3 WHERE id = ?4",
                params![reason, me.id, now, rid],
            )?;
            repo::notify(c, member, &a, "activity.rejected", format!("activity.rejected:{rid}"), "未通过", Some(&reason))?;
            audit::record(c, &actor, &Entry::success("activity.registration.reject", "activity_registration", rid, json!({"activity_id": id})))?;
            Ok(c.query_row(&format!("{REG_SELECT} WHERE r.id = ?1"), [rid], map_reg)?)
        })
        .await?;
    Ok(ok(out))
}
