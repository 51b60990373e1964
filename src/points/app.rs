//! Member side of points: balance with the ledger, and the daily sign-in.

use super::ledger::{self, Posted, Posting, Source};
use super::model::{PointsView, ViewAt, view};
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
    let (member, at) = (me.id, ViewAt::of(&st));
    Ok(ok(st.db.read(move |c| view(c, member, &w, at)).await?))
}

/// The sign-in result.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignedIn {
    /// Points credited (fewer than the sign-in points when the daily cap cuts them; a sign-in
    /// cut to nothing is `409 sign_in_cap_reached` instead).
    pub points: i64,
    /// Balance after.
    pub balance: i64,
}

/// Sign in for today (Beijing time): once a day, `409 already_signed_in` after that. When
/// today's cap on earned points is already reached the sign-in earns nothing and is refused
/// with `409 sign_in_cap_reached` (nothing recorded, so it stays possible if the cap rises).
#[utoipa::path(post, path = "/api/v1/app/me/points/sign-in", tag = "积分", security(("bearer" = [])),
    responses((status = 200, body = SignedIn), (status = 409, description = "already_signed_in / sign_in_cap_reached / sign_in_disabled")))]
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
    let now = st.clock.now();
    let out = st
        .db
        .write(move |c| {
            let (_, day) = ledger::today(now);
            let p = Posting {
                member_id: member,
                delta: points,
                source: Source::SignIn,
                source_id: day,
                reason: Some("每日签到"),
                operator_id: None,
            };
            let before = ledger::balance(c, member)?;
            let got = match ledger::post_at(c, &p, cap, now)? {
                Posted::Duplicate => {
                    return Err(AppError::conflict_code(
                        "already_signed_in",
                        "今天已经签到过了，明天再来吧",
                    ));
                }
                Posted::Done(after) => after - before,
                // Cut to nothing by the daily cap: a 200 with 0 points would read as success to
                // the member; nothing is written, so repeating it cannot fill the audit log.
                Posted::Nothing => {
                    return Err(AppError::conflict_code(
                        "sign_in_cap_reached",
                        format!("今日获得的积分已达上限（{cap} 分），签到未获得积分，明天再来吧"),
                    ));
                }
            };
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
            Ok(SignedIn {
                points: got,
                balance: before + got,
            })
        })
        .await?;
    Ok(ok(out))
}
