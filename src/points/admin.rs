//! Staff side of points: a member's balance and ledger, and audited adjustments with a reason.

use super::ledger::{self, Posted, Posting, Source};
use super::model::{AdjustIn, PointsView, ViewAt, view};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::cursor::CursorQuery;
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, ok};
use crate::members::admin::load_scoped;
use crate::messages::notify::{Notice, notify_member};
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use serde_json::json;

/// Largest single adjustment either way.
pub const MAX_ADJUST: i64 = 100_000;

/// A member's balance and ledger (member in the caller's `member:read` scope).
#[utoipa::path(get, path = "/api/v1/admin/members/{id}/points", tag = "积分", security(("bearer" = [])),
    params(("id" = i64, Path, description = "会员 ID"), CursorQuery),
    responses((status = 200, body = PointsView), (status = 400), (status = 403), (status = 404)))]
pub async fn get(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppQuery(q): AppQuery<CursorQuery>,
) -> Result<Response> {
    let scope = me.require(codes::MEMBER_READ)?;
    let w = q.resolve(1)?;
    let at = ViewAt::of(&st);
    let out = st
        .db
        .read(move |c| {
            load_scoped(c, &scope, id)?;
            view(c, id, &w, at)
        })
        .await?;
    Ok(ok(out))
}

/// Add or take points with a reason (`points:adjust`, member in scope); audited, the member
/// notified, all in one transaction. Taking more than the balance is `409 insufficient_points`.
#[utoipa::path(post, path = "/api/v1/admin/members/{id}/points/adjust", tag = "积分", security(("bearer" = [])),
    params(("id" = i64, Path, description = "会员 ID")), request_body = AdjustIn,
    responses((status = 200, body = PointsView), (status = 400), (status = 403), (status = 404), (status = 409, description = "insufficient_points")))]
pub async fn adjust(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<AdjustIn>,
) -> Result<Response> {
    let scope = me.require(codes::POINTS_ADJUST)?;
    let mut ck = Check::new();
    let reason = ck.text("reason", "调整原因", &req.reason, 200);
    // A range test, not `abs()`: `i64::MIN.abs()` overflows (the fuzzer sent it).
    if req.delta == 0 || !(-MAX_ADJUST..=MAX_ADJUST).contains(&req.delta) {
        ck.fail(
            "delta",
            format!("调整积分须为 -{MAX_ADJUST} 到 {MAX_ADJUST} 之间的非零整数"),
        );
    }
    ck.finish()?;
    let (delta, actor, by, at) = (req.delta, me.actor(), me.id, ViewAt::of(&st));
    let expiry = at.expiry;
    let out = st
        .db
        .write(move |c| {
            let m = load_scoped(c, &scope, id)?;
            if m.status == "deleted" {
                return Err(AppError::NotFound);
            }
            // A deduction must not take points that already expired (the job may not have run).
            if delta < 0 && expiry {
                super::expiry::expire_member(c, id, at.now)?;
            }
            // The audit row's id is the adjustment's idempotency key in the ledger.
            let aid = audit::record(c, &actor, &Entry::success("points.adjust", "member", id, json!({"delta": delta, "reason": reason})))?;
            let p = Posting { member_id: id, delta, source: Source::AdminAdjust, source_id: aid, reason: Some(&reason), operator_id: Some(by) };
            let Posted::Done(after) = ledger::post_at(c, &p, 0, at.now)? else {
                return Err(AppError::internal("adjustment not posted"));
            };
            let verb = if delta > 0 { "增加" } else { "扣减" };
            notify_member(c, id, &Notice {
                event: "points.adjusted",
                title: format!("积分{verb} {}", delta.abs()),
                content: format!("工会为您{verb}积分 {}，当前积分 {after}。原因：{reason}", delta.abs()),
                link: Some("pages/points/index".into()),
                org_id: m.org_id,
                fields: json!({"title": "积分调整", "result": format!("{verb} {}", delta.abs()), "reason": reason, "time": crate::time::fmt(crate::time::now())}),
                key: format!("points.adjusted:{aid}"),
            })?;
            view(c, id, &CursorQuery::default().resolve(1)?, at)
        })
        .await?;
    Ok(ok(out))
}
