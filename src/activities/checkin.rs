//! Check-in (rotating signed QR code or geofence) and the member's rating afterwards.

use super::model::{ActivityRow, check_coords, closed};
use super::repo::{self, load_scoped};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppError, AppJson, AppPath, Result, ok};
use crate::members::auth::MemberAuth;
use crate::validate::Check;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

const QR_PREFIX: &str = "ghck";

fn signed_message(activity: i64, exp: i64) -> String {
    format!("activity.checkin:{activity}:{exp}")
}

/// Make a check-in payload for `activity` valid until `exp` (unix seconds).
pub fn make_payload(key: &[u8], activity: i64, exp: i64) -> String {
    let sig = crate::crypto::sign(key, &signed_message(activity, exp));
    format!("{QR_PREFIX}.{activity}.{exp}.{sig}")
}

/// Why a payload was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum PayloadError {
    /// Not ours, tampered with, or for another activity.
    Invalid,
    /// Genuine but past its lifetime.
    Expired,
}

/// Check a payload for `activity` at `now`: signature first, so a forged one never tells
/// the caller anything about expiry.
pub fn check_payload(
    key: &[u8],
    payload: &str,
    activity: i64,
    now: i64,
) -> std::result::Result<(), PayloadError> {
    let parts: Vec<&str> = payload.trim().split('.').collect();
    let [prefix, a, exp, sig] = parts[..] else {
        return Err(PayloadError::Invalid);
    };
    let (Ok(a), Ok(exp)) = (a.parse::<i64>(), exp.parse::<i64>()) else {
        return Err(PayloadError::Invalid);
    };
    if prefix != QR_PREFIX || !crate::crypto::verify(key, &signed_message(a, exp), sig) {
        return Err(PayloadError::Invalid);
    }
    if a != activity {
        return Err(PayloadError::Invalid);
    }
    if now > exp {
        return Err(PayloadError::Expired);
    }
    Ok(())
}

/// Great-circle distance in metres (haversine, mean Earth radius).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6_371_008.8_f64;
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let dla = la2 - la1;
    let dlo = (b.1 - a.1).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().min(1.0).asin()
}

/// A 400 with a precise code (the shared error type only has `validation_failed` for 400).
fn bad(code: &str, message: &str) -> Response {
    let body = json!({"error": {"code": code, "message": message}});
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

/// The rotating check-in code.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckinCode {
    /// Signed payload to show as a QR code.
    pub qr_payload: String,
    /// When it stops being accepted.
    pub expires_at: String,
}

/// A fresh check-in code (valid ≤ 60 s); the screen at the venue polls this.
#[utoipa::path(get, path = "/api/v1/admin/activities/{id}/checkin-code", tag = "活动管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "活动 ID")), responses((status = 200, body = CheckinCode), (status = 404), (status = 409)))]
pub async fn code(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::ACTIVITY_CHECKIN)?;
    let a = st.db.read(move |c| load_scoped(c, &scope, id)).await?;
    if a.view.status != "published" {
        return Err(closed(&a.view.status));
    }
    let ttl = st.live.get().checkin_code_ttl_secs.clamp(1, 60);
    let exp = crate::time::now() + ttl;
    Ok(ok(CheckinCode {
        qr_payload: make_payload(&st.keys.signing, id, exp),
        expires_at: crate::time::fmt(exp),
    }))
}

/// Check-in body: the scanned code, or the member's position.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckinIn {
    /// Scanned QR payload.
    pub qr_payload: Option<String>,
    /// Latitude.
    pub lat: Option<f64>,
    /// Longitude.
    pub lng: Option<f64>,
}

/// Result of a check-in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckedIn {
    /// When.
    pub checked_in_at: String,
    /// Points recorded for attendance.
    pub points_awarded: i64,
}

/// Check the method against the activity; `Err(response)` for a refused code or position.
fn check_method(
    st: &AppState,
    a: &ActivityRow,
    req: &CheckinIn,
    now: i64,
) -> Result<std::result::Result<&'static str, Response>> {
    if let Some(p) = &req.qr_payload {
        if req.lat.is_some() || req.lng.is_some() {
            return Err(AppError::field("qr_payload", "请只使用一种签到方式"));
        }
        return Ok(match check_payload(&st.keys.signing, p, a.view.id, now) {
            Ok(()) => Ok("qr"),
            Err(PayloadError::Invalid) => Err(bad(
                "checkin_code_invalid",
                "签到码无效，请扫描本活动现场的签到码",
            )),
            Err(PayloadError::Expired) => {
                Err(bad("checkin_code_expired", "签到码已过期，请重新扫描"))
            }
        });
    }
    if a.view.checkin_method == "qr" {
        return Err(AppError::conflict_code(
            "checkin_qr_required",
            "本活动须扫描现场签到码签到，请到活动现场扫码",
        ));
    }
    let mut ck = Check::new();
    let pos = check_coords(&mut ck, req.lat, req.lng);
    ck.finish()?;
    let Some(pos) = pos else {
        return Err(AppError::field("qr_payload", "请扫描签到码或提供当前位置"));
    };
    let (Some(lat), Some(lng)) = (a.view.lat, a.view.lng) else {
        return Err(AppError::conflict_code(
            "geofence_unavailable",
            "本活动未设置场地位置，请扫描现场签到码",
        ));
    };
    let radius = a
        .view
        .checkin_radius_m
        .unwrap_or(st.live.get().default_checkin_radius_m) as f64;
    // Neither the distance nor the radius is told: a few tries with made-up positions would
    // give away the venue's coordinates.
    if distance_m(pos, (lat, lng)) > radius {
        return Ok(Err(bad(
            "outside_checkin_area",
            "您不在签到范围内，请到活动现场后再签到，或扫描现场签到码",
        )));
    }
    Ok(Ok("geo"))
}

/// Check in by QR code or position (QR only when the activity requires it), once per member
/// and activity, during the check-in window. The method used is recorded on the registration.
#[utoipa::path(post, path = "/api/v1/app/activities/{id}/checkin", tag = "活动", security(("bearer" = [])), request_body = CheckinIn,
    params(("id" = i64, Path, description = "活动 ID")),
    responses((status = 200, body = CheckedIn),
        (status = 400, description = "checkin_code_invalid / checkin_code_expired / outside_checkin_area / validation_failed"),
        (status = 404), (status = 409, description = "already_checked_in / checkin_not_open / not_registered / activity_not_open / checkin_qr_required / geofence_unavailable")))]
pub async fn checkin(
    State(st): State<AppState>,
    me: MemberAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<CheckinIn>,
) -> Result<Response> {
    let member = me.id;
    let a = st
        .db
        .read(move |c| {
            let v = repo::viewer(c, member)?;
            repo::load_visible(c, &v, id)
        })
        .await?;
    if a.view.status != "published" {
        return Err(closed(&a.view.status));
    }
    let now = crate::time::now();
    let opens = a.times[0] - st.live.get().checkin_open_before_minutes * 60;
    if now < opens {
        return Err(AppError::conflict_code("checkin_not_open", "签到尚未开始"));
    }
    if now > a.times[1] {
        return Err(AppError::conflict_code("checkin_not_open", "签到已结束"));
    }
    let method = match check_method(&st, &a, &req, now)? {
        Ok(m) => m,
        Err(resp) => return Ok(resp),
    };
    let actor = me.actor();
    let cap = st.live.get().points.daily_cap;
    let out = st
        .db
        .write(move |c| {
            let reg: Option<(i64, String, Option<i64>)> = c
                .query_row(
                    "SELECT id, status, checked_in_at FROM activity_registrations
                     WHERE activity_id = ?1 AND member_id = ?2 AND status IN ('pending', 'approved')",
                    params![id, member],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((rid, status, at)) = reg else {
                return Err(AppError::conflict_code("not_registered", "您没有报名此活动，不能签到"));
            };
            if status != "approved" {
                return Err(AppError::conflict_code("not_registered", "您的报名尚未通过审核，不能签到"));
            }
            // Any earlier attendance counts, also on a registration cancelled since (older
            // data): points are awarded once per member and activity.
            let attended: bool = c.query_row(
                "SELECT count(*) > 0 FROM activity_registrations WHERE activity_id = ?1 AND member_id = ?2 AND checked_in_at IS NOT NULL",
                params![id, member],
                |r| r.get(0),
            )?;
            if at.is_some() || attended {
                return Err(AppError::conflict_code("already_checked_in", "您已签到，无需重复签到"));
            }
            let status: String = c.query_row("SELECT status FROM activities WHERE id = ?1", [id], |r| r.get(0))?;
            if status != "published" {
                return Err(closed(&status));
            }
            let now = crate::time::now();
            c.execute(
                "UPDATE activity_registrations SET checked_in_at = ?1, checkin_method = ?2, points_awarded = ?3 WHERE id = ?4",
                params![now, method, a.view.points, rid],
            )?;
            // Attendance points enter the ledger in this same transaction, keyed by the
            // registration so they are credited once.
            let posting = crate::points::ledger::Posting {
                member_id: member, delta: a.view.points, source: crate::points::ledger::Source::ActivityCheckin,
                source_id: rid, reason: Some(&a.view.title), operator_id: None,
            };
            crate::points::ledger::post(c, &posting, cap)?;
            audit::record(c, &actor, &Entry::success("activity.checkin", "activity_registration", rid, json!({"activity_id": id, "method": method})))?;
            Ok(CheckedIn { checked_in_at: crate::time::fmt(now), points_awarded: a.view.points })
        })
        .await?;
    Ok(ok(out))
}

/// A rating after attending.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewIn {
    /// 1 to 5.
    pub rating: i64,
    /// Optional comment (≤ 500 characters).
    pub comment: Option<String>,
    /// Up to 6 photos the member uploaded (`POST /api/v1/app/files`); other members see them
    /// once a moderator approved them (unless the uploader is trusted by configuration).
    #[serde(default)]
    #[schema(max_items = 6)]
    pub file_ids: Vec<i64>,
}

/// Rate an attended activity, once.
#[utoipa::path(post, path = "/api/v1/app/activities/{id}/review", tag = "活动", security(("bearer" = [])), request_body = ReviewIn,
    params(("id" = i64, Path, description = "活动 ID")),
    responses((status = 200), (status = 400), (status = 404), (status = 409, description = "not_checked_in / already_reviewed")))]
pub async fn review(
    State(st): State<AppState>,
    me: MemberAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<ReviewIn>,
) -> Result<Response> {
    let mut ck = Check::new();
    if !(1..=5).contains(&req.rating) {
        ck.fail("rating", "评分须为 1 到 5 分");
    }
    let comment = req
        .comment
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .map(|c| ck.text("comment", "评价内容", c, 500));
    super::reviews::check_list(&mut ck, &req.file_ids);
    ck.finish()?;
    let member = me.id;
    // The comment passes the content-safety gate; a held one is published on approval.
    let hold = match &comment {
        Some(t) => {
            crate::safety::gate::screen(&st, member, crate::wechat::SecScene::Comment, &[t]).await?
        }
        None => None,
    };
    let (actor, trust) = (me.actor(), st.cfg.safety.trusted_image_uploaders);
    let out = st
        .db
        .write(move |c| {
            let v = repo::viewer(c, member)?;
            let a = repo::load_visible(c, &v, id)?;
            let reg: Option<(i64, Option<i64>, Option<i64>)> = c
                .query_row(
                    "SELECT id, checked_in_at, rating FROM activity_registrations
                     WHERE activity_id = ?1 AND member_id = ?2 AND checked_in_at IS NOT NULL",
                    params![id, member],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((rid, _, rating)) = reg else {
                return Err(AppError::conflict_code("not_checked_in", "签到参加活动后才能评价"));
            };
            if rating.is_some() {
                return Err(AppError::conflict_code("already_reviewed", "您已评价过此活动"));
            }
            c.execute(
                "UPDATE activity_registrations SET rating = ?1, comment = ?2, rated_at = ?3 WHERE id = ?4",
                params![req.rating, if hold.is_some() { None } else { comment.clone() }, crate::time::now(), rid],
            )?;
            let org = a.view.org_id;
            if let (Some(rule), Some(text)) = (&hold, &comment) {
                crate::safety::gate::queue(c, &crate::safety::gate::Held {
                    kind: "activity_review", ref_id: rid, member_id: member, org_id: org,
                    content: text, payload: json!({"comment": text}), rule,
                })?;
            }
            // Photos are for everyone to see: held for a moderator unless the uploader is trusted.
            let trusted = super::reviews::trusted(c, trust, member)?;
            let target = super::reviews::Target { registration_id: rid, activity_id: id, org_id: org, member_id: member };
            let held_images = super::reviews::attach(c, target, &req.file_ids, trusted)?;
            audit::record(c, &actor, &Entry::success("activity.review", "activity_registration", rid,
                json!({"activity_id": id, "rating": req.rating, "files": req.file_ids.len(), "held": held_images})))?;
            Ok(json!({"activity_id": id, "rating": req.rating, "comment": comment, "images_held": held_images}))
        })
        .await?;
    Ok(ok(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_bound_to_activity_and_time() {
        let k = crate::crypto::random_bytes(32);
        let p = make_payload(&k, 7, 1000);
        assert_eq!(check_payload(&k, &p, 7, 999), Ok(()));
        assert_eq!(check_payload(&k, &p, 7, 1001), Err(PayloadError::Expired));
        assert_eq!(check_payload(&k, &p, 8, 999), Err(PayloadError::Invalid));
        let forged = p.replace(".1000.", ".9999.");
        assert_eq!(
            check_payload(&k, &forged, 7, 999),
            Err(PayloadError::Invalid)
        );
        let other = crate::crypto::random_bytes(32);
        assert_eq!(
            check_payload(&other, &p, 7, 999),
            Err(PayloadError::Invalid)
        );
        assert_eq!(check_payload(&k, "junk", 7, 0), Err(PayloadError::Invalid));
    }

    #[test]
    fn haversine_is_plausible() {
        // One thousandth of a degree of latitude is about 111 m.
        let d = distance_m((25.0, 102.0), (25.001, 102.0));
        assert!((110.0..112.5).contains(&d), "{d}");
        assert_eq!(distance_m((1.0, 1.0), (1.0, 1.0)), 0.0);
    }
}
