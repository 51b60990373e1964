//! Member registrations: register (quota enforced inside the single writer job) and cancel
//! one's own. The staff side lives in [`super::review`].

use super::form::check_answers;
use super::model::closed;
use super::{gate, repo};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::error::{AppError, AppJson, AppPath, Result, created, ok};
use crate::members::auth::MemberAuth;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{OptionalExtension, params, params_from_iter, types::Value};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A registration body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterIn {
    /// Answers by field key.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub answers: serde_json::Map<String, serde_json::Value>,
}

/// The member's own registration.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MyRegistration {
    /// Id.
    pub id: i64,
    /// Activity.
    pub activity_id: i64,
    /// `pending`, `approved`, `rejected`, `cancelled`.
    pub status: String,
    /// Rejection reason.
    pub reason: Option<String>,
    /// Registered at.
    pub created_at: String,
    /// Checked in at.
    pub checked_in_at: Option<String>,
    /// Points recorded for attendance.
    pub points_awarded: Option<i64>,
    /// Own rating.
    pub rating: Option<i64>,
}

/// Columns for [`map_mine`] (alias `r`).
pub const MINE_COLS: &str = "r.id, r.activity_id, r.status, r.reason, r.created_at, r.checked_in_at, r.points_awarded, r.rating";

/// Map [`MINE_COLS`] starting at column `o`.
pub fn map_mine(r: &rusqlite::Row<'_>, o: usize) -> rusqlite::Result<MyRegistration> {
    Ok(MyRegistration {
        id: r.get(o)?,
        activity_id: r.get(o + 1)?,
        status: r.get(o + 2)?,
        reason: r.get(o + 3)?,
        created_at: crate::time::fmt(r.get(o + 4)?),
        checked_in_at: crate::time::fmt_opt(r.get(o + 5)?),
        points_awarded: r.get(o + 6)?,
        rating: r.get(o + 7)?,
    })
}

/// The member's latest registration for an activity (live first), if any.
pub fn mine(
    c: &rusqlite::Connection,
    activity: i64,
    member: i64,
) -> Result<Option<MyRegistration>> {
    Ok(c
        .prepare_cached(&format!(
            "SELECT {MINE_COLS} FROM activity_registrations r WHERE r.activity_id = ?1 AND r.member_id = ?2
             ORDER BY r.status IN ('pending', 'approved') DESC, r.id DESC LIMIT 1"
        ))?
        .query_row(params![activity, member], |r| map_mine(r, 0))
        .optional()?)
}

/// Why member `member` may not register for `a` now, quota aside: not open, outside the
/// signup window, or already registered (the writer's re-check of [`gate::Snapshot::refusal`]).
fn refusal(
    c: &rusqlite::Connection,
    a: &super::model::ActivityRow,
    member: i64,
    now: i64,
) -> Result<Option<AppError>> {
    if let Some(e) = gate::closed_or_outside(a, now) {
        return Ok(Some(e));
    }
    Ok(gate::registered(c, a.view.id, member)?.then(gate::already_registered))
}

/// Register for an activity. The quota and the one-live-registration rule are checked inside
/// the writer job that inserts, so concurrent requests can never oversell.
#[utoipa::path(post, path = "/api/v1/app/activities/{id}/registrations", tag = "活动", security(("bearer" = [])), request_body = RegisterIn,
    params(("id" = i64, Path, description = "活动 ID")),
    responses((status = 201, body = MyRegistration), (status = 400, description = "报名信息有误"), (status = 404),
        (status = 409, description = "already_registered / quota_full / signup_closed / activity_not_open")))]
pub async fn register(
    State(st): State<AppState>,
    me: MemberAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<RegisterIn>,
) -> Result<Response> {
    let member = me.id;
    // The gate knows the activity, its form and who holds a place, usually from memory, so
    // answers are validated and the many refusals of a burst (full, registered twice, closed)
    // are answered without the read pool or the writer. The writer re-checks everything.
    let snap = gate::snapshot(&st, &me, id).await?;
    let answers = check_answers(&snap.fields, &req.answers, st.cipher.as_ref())?;
    if let Some(e) = snap.refusal(member, crate::time::now()) {
        return Err(e);
    }
    // Text answers pass the content-safety gate; most forms have none, and then it costs nothing.
    let texts: Vec<String> = snap
        .fields
        .iter()
        .filter(|f| f.kind == "text" || f.kind == "textarea")
        .filter_map(|f| {
            answers
                .display
                .get(&f.key)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let hold =
        crate::safety::gate::screen(&st, member, crate::wechat::SecScene::Forum, &refs).await?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let v = repo::viewer(c, member)?;
            let a = repo::load_for_signup(c, &v, id)?;
            let now = crate::time::now();
            if let Some(e) = refusal(c, &a, member, now)? {
                return Err(e);
            }
            if !answers.images.is_empty() {
                let qs = vec!["?"; answers.images.len()].join(",");
                let mut p: Vec<Value> = answers.images.iter().map(|i| Value::Integer(*i)).collect();
                p.push(Value::Integer(member));
                let n: i64 = c.query_row(
                    &format!("SELECT count(DISTINCT id) FROM files WHERE id IN ({qs}) AND deleted_at IS NULL AND owner_type = 'member' AND owner_id = ?"),
                    params_from_iter(p),
                    |r| r.get(0),
                )?;
                let distinct: std::collections::HashSet<_> = answers.images.iter().collect();
                if n as usize != distinct.len() {
                    return Err(AppError::field("answers", "上传的图片不存在，请重新上传"));
                }
            }
            let status = if a.view.needs_review { "pending" } else { "approved" };
            // The live count (kept by triggers, migration 0008) was read in this job on the single
            // writer, so no other registration can slip in before the insert; the quota trigger
            // double-checks (it firing would be a bug, answered as an internal error). A plain
            // INSERT … VALUES: an INSERT … SELECT into a table with triggers stages its rows in a
            // temporary table first, for every sign-up.
            if a.view.registered >= a.view.quota {
                return Err(gate::quota_full());
            }
            c.prepare_cached(
                "INSERT INTO activity_registrations (activity_id, member_id, org_id, status, answers, answers_enc, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                id, member, v.org_id, status,
                serde_json::Value::Object(answers.display).to_string(),
                serde_json::Value::Object(answers.secret).to_string(), now
            ])
            .map_err(|e| {
                if crate::error::is_unique_violation(&e) {
                    gate::already_registered()
                } else {
                    e.into()
                }
            })?;
            let rid = c.last_insert_rowid();
            // Staff reach the attached images through this registration (its activity's org).
            crate::files::refs::link(c, &answers.images, crate::files::refs::REGISTRATION, rid)?;
            if let Some(rule) = &hold {
                // Answers are shown only to the organising staff: the item flags them for a look.
                crate::safety::gate::queue(c, &crate::safety::gate::Held {
                    kind: "registration", ref_id: rid, member_id: member, org_id: a.view.org_id,
                    content: &texts.join("\n"), payload: json!({}), rule,
                })?;
            }
            let result = if status == "pending" { "待审核" } else { "报名成功" };
            repo::notify(c, member, &a, "activity.registered", format!("activity.registered:{rid}"), result, None)?;
            audit::record(c, &actor, &Entry::success("activity.register", "activity_registration", rid, json!({"activity_id": id, "status": status})))?;
            // The row just inserted, as `mine` would read it back.
            Ok(MyRegistration {
                id: rid,
                activity_id: id,
                status: status.to_string(),
                reason: None,
                created_at: crate::time::fmt(now),
                checked_in_at: None,
                points_awarded: None,
                rating: None,
            })
        })
        .await?;
    Ok(created(out))
}

/// Cancel one's own registration before signup closes and before checking in; the place is freed.
#[utoipa::path(delete, path = "/api/v1/app/activities/{id}/registrations/mine", tag = "活动", security(("bearer" = [])),
    params(("id" = i64, Path, description = "活动 ID")),
    responses((status = 200, body = MyRegistration), (status = 404), (status = 409, description = "not_registered / signup_closed / already_checked_in")))]
pub async fn cancel_mine(
    State(st): State<AppState>,
    me: MemberAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let member = me.id;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let v = repo::viewer(c, member)?;
            let a = repo::load_visible(c, &v, id)?;
            let reg: Option<(i64, Option<i64>)> = c
                .query_row(
                    "SELECT id, checked_in_at FROM activity_registrations WHERE activity_id = ?1 AND member_id = ?2 AND status IN ('pending', 'approved')",
                    params![id, member],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((rid, checked_in)) = reg else {
                return Err(AppError::conflict_code("not_registered", "您没有报名此活动"));
            };
            // Attendance is final: a cancelled and renewed registration could check in again
            // and collect the activity's points a second time.
            if checked_in.is_some() {
                return Err(AppError::conflict_code("already_checked_in", "您已签到参加此活动，不能取消报名"));
            }
            if a.view.status != "published" {
                return Err(closed(&a.view.status));
            }
            let now = crate::time::now();
            if now >= a.times[3] {
                return Err(AppError::conflict_code("signup_closed", "报名已截止，不能取消报名，如有需要请联系主办方"));
            }
            c.execute(
                "UPDATE activity_registrations SET status = 'cancelled', cancelled_at = ?1 WHERE id = ?2",
                params![now, rid],
            )?;
            audit::record(c, &actor, &Entry::success("activity.unregister", "activity_registration", rid, json!({"activity_id": id})))?;
            mine(c, id, member)?.ok_or(AppError::internal("registration vanished"))
        })
        .await?;
    Ok(ok(out))
}
