//! Member side of points: balance with the ledger, and the daily sign-in.

use super::ledger::{self, Posted, Posting, Source};
use super::model::{PointsView, view};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::cursor::CursorQuery;
use crate::error::{AppError, AppQuery, Result, ok};
use crate::members::auth::MemberAuth;
use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use serde_json::json;

/// My balance and ledger, newest first, paged by cursor.
#[utoipa::path(get, path = "/api/v1/app/me/points", tag = "积分", security(("bearer" = [])), params(CursorQuery),
    responses((status = 200, body = PointsView), (status = 400)))]
pub async fn mine(
    State(st): State<AppState>,
    me: MemberAuth,
    AppQuery(q): AppQuery<CursorQuery>,
) -> Result<Response> {
    let w = q.resolve(1)?;
    let member = me.id;
    Ok(ok(st.db.read(move |c| view(c, member, &w)).await?))
}

/// The sign-in result.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignedIn {
    /// Points credited (0 when today's cap was already reached).
    pub points: i64,
    /// Balance after.
    pub balance: i64,
}

/// Sign in for today (Beijing time): once a day, `409 already_signed_in` after that.
#[utoipa::path(post, path = "/api/v1/app/me/points/sign-in", tag = "积分", security(("bearer" = [])),
    responses((status = 200, body = SignedIn), (status = 409, description = "already_signed_in / sign_in_disabled")))]
pub async fn sign_in(State(st): State<AppState>, me: MemberAuth) -> Result<Response> {
    let tun = st.live.get();
    let points = tun.points.sign_in_points;
    let cap = tun.points.daily_cap;
    if points == 0 {
        return Err(AppError::conflict_code(
            "sign_in_disabled",
            "本系统未开启每日签到积分",
        ));
    }
    let member = me.id;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let (_, day) = ledger::today(crate::time::now());
            let p = Posting {
                member_id: member,
                delta: points,
                source: Source::SignIn,
                source_id: day,
                reason: Some("每日签到"),
                operator_id: None,
            };
            let before = ledger::balance(c, member)?;
            let got = match ledger::post(c, &p, cap)? {
                Posted::Duplicate => {
                    return Err(AppError::conflict_code(
                        "already_signed_in",
                        "今天已经签到过了，明天再来吧",
                    ));
                }
                Posted::Done(after) => after - before,
                Posted::Nothing => 0,
            };
            // A sign-in cut to nothing by the daily cap writes nothing at all, so repeating it
            // cannot fill the audit log.
            if got > 0 {
                audit::record(
                    c,
                    &actor,
                    &Entry::success(
                        "points.sign_in",
                        "member",
                        member,
                        json!({"day": day, "points": got}),
                    ),
                )?;
            }
            Ok(SignedIn {
                points: got,
                balance: before + got,
            })
        })
        .await?;
    Ok(ok(out))
}
