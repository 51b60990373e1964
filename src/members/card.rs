//! The electronic member card: a QR payload signed by the server (member id + expiry ≤ 5 min),
//! its PNG for the H5 page, and staff verification.

use super::auth::MemberAuth;
use super::model::Card;
use crate::app::AppState;
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppError, AppJson, Result, ok};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

/// Card payload lifetime.
pub const CARD_TTL: i64 = 300;
const PREFIX: &str = "GHCARD1";

/// Build a signed payload `GHCARD1.<member_id>.<exp>.<sig>`.
pub fn payload(key: &[u8], member_id: i64, exp: i64) -> String {
    let sig = crate::crypto::sign(key, &format!("card:{member_id}:{exp}"));
    format!("{PREFIX}.{member_id}.{exp}.{sig}")
}

/// Result of checking a payload, before looking at the member.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    /// Signature good and not expired.
    Valid(i64),
    /// Signature good but too old.
    Expired,
    /// Not ours or altered.
    Tampered,
}

/// Verify a payload's shape, signature and expiry.
pub fn check(key: &[u8], payload: &str, now: i64) -> Check {
    let parts: Vec<&str> = payload.trim().split('.').collect();
    let [prefix, id, exp, sig] = parts[..] else {
        return Check::Tampered;
    };
    let (Ok(id), Ok(exp)) = (id.parse::<i64>(), exp.parse::<i64>()) else {
        return Check::Tampered;
    };
    if prefix != PREFIX || !crate::crypto::verify(key, &format!("card:{id}:{exp}"), sig) {
        return Check::Tampered;
    }
    if exp < now {
        Check::Expired
    } else {
        Check::Valid(id)
    }
}

type CardRow = (String, Option<String>, String, Option<i64>, String);

fn load_card(c: &rusqlite::Connection, id: i64) -> Result<Option<CardRow>> {
    Ok(c.query_row(
        "SELECT m.status, m.member_no, COALESCE(m.real_name, ''), m.joined_at, COALESCE(o.name, '')
         FROM members m LEFT JOIN orgs o ON o.id = m.org_id WHERE m.id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )
    .optional()?)
}

/// The member's card with a fresh QR payload (active members only).
#[utoipa::path(get, path = "/api/v1/app/me/card", tag = "会员证", security(("bearer" = [])),
    responses((status = 200, body = Card), (status = 409, description = "not_member")))]
pub async fn get(State(st): State<AppState>, me: MemberAuth) -> Result<Response> {
    let id = me.id;
    let row = st
        .db
        .read(move |c| load_card(c, id))
        .await?
        .ok_or(AppError::NotFound)?;
    let (status, member_no, name, joined_at, org_name) = row;
    let Some(member_no) = member_no.filter(|_| status == "active") else {
        return Err(AppError::conflict_code(
            "not_member",
            "您还不是工会会员，入会审核通过后可使用电子会员证",
        ));
    };
    let exp = crate::time::now() + CARD_TTL;
    Ok(ok(Card {
        member_no,
        name,
        org_name,
        joined_at: crate::time::fmt_opt(joined_at).unwrap_or_default(),
        qr_payload: payload(&st.keys.signing, id, exp),
        qr_expires_at: crate::time::fmt(exp),
    }))
}

/// The card's QR code as a PNG (for the H5 page).
#[utoipa::path(get, path = "/api/v1/app/me/card/qr.png", tag = "会员证", security(("bearer" = [])),
    responses((status = 200, content_type = "image/png"), (status = 409)))]
pub async fn qr_png(State(st): State<AppState>, me: MemberAuth) -> Result<Response> {
    let id = me.id;
    let active = st
        .db
        .read(move |c| load_card(c, id))
        .await?
        .is_some_and(|r| r.0 == "active");
    if !active {
        return Err(AppError::conflict_code(
            "not_member",
            "您还不是工会会员，入会审核通过后可使用电子会员证",
        ));
    }
    let p = payload(&st.keys.signing, id, crate::time::now() + CARD_TTL);
    let png = tokio::task::spawn_blocking(move || render_png(&p))
        .await
        .map_err(AppError::internal)??;
    Ok((
        [
            (http::header::CONTENT_TYPE, "image/png"),
            (http::header::CACHE_CONTROL, "no-store"),
        ],
        png,
    )
        .into_response())
}

/// Render a payload as a PNG QR code.
pub fn render_png(payload: &str) -> Result<Vec<u8>> {
    let code = qrcode::QrCode::new(payload.as_bytes()).map_err(AppError::internal)?;
    let img = code
        .render::<image::Luma<u8>>()
        .min_dimensions(240, 240)
        .build();
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(AppError::internal)?;
    Ok(out.into_inner())
}

/// A payload to verify.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyIn {
    /// What the member's QR code contains.
    pub qr_payload: String,
}

/// Verification answer; `reason` tells the four outcomes apart.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerifyOut {
    /// True only for a genuine, fresh card of an active member.
    pub valid: bool,
    /// `ok`, `expired`, `tampered` or `not_active`.
    pub reason: String,
    /// Chinese explanation.
    pub message: String,
    /// Member number (genuine cards only).
    pub member_no: Option<String>,
    /// Name (genuine cards only).
    pub name: Option<String>,
    /// Org name (genuine cards only).
    pub org_name: Option<String>,
}

/// Verify a scanned card.
#[utoipa::path(post, path = "/api/v1/admin/members/verify-card", tag = "会员证", security(("bearer" = [])), request_body = VerifyIn,
    responses((status = 200, body = VerifyOut), (status = 403)))]
pub async fn verify(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(req): AppJson<VerifyIn>,
) -> Result<Response> {
    me.require(codes::MEMBER_READ)?;
    let bad = |reason: &str, message: &str| VerifyOut {
        valid: false,
        reason: reason.into(),
        message: message.into(),
        member_no: None,
        name: None,
        org_name: None,
    };
    let id = match check(&st.keys.signing, &req.qr_payload, crate::time::now()) {
        Check::Tampered => {
            return Ok(ok(bad(
                "tampered",
                "无效的会员证二维码（非本系统签发或已被篡改）",
            )));
        }
        Check::Expired => {
            return Ok(ok(bad(
                "expired",
                "会员证二维码已过期，请让会员刷新后重新出示",
            )));
        }
        Check::Valid(id) => id,
    };
    let row = st.db.read(move |c| load_card(c, id)).await?;
    let out = match row {
        Some((status, no, name, _, org)) if status == "active" => VerifyOut {
            valid: true,
            reason: "ok".into(),
            message: "会员证有效".into(),
            member_no: no,
            name: Some(name),
            org_name: Some(org),
        },
        _ => bad(
            "not_active",
            "该会员当前不是有效会员（已退会、待审核或已注销）",
        ),
    };
    Ok(ok(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_checks() {
        let k = crate::crypto::random_bytes(32);
        let p = payload(&k, 7, 1000);
        assert_eq!(check(&k, &p, 999), Check::Valid(7));
        assert_eq!(check(&k, &p, 1001), Check::Expired);
        assert_eq!(check(&k, &p.replace(".7.", ".8."), 999), Check::Tampered);
        assert_eq!(check(&k, "garbage", 0), Check::Tampered);
        assert_eq!(
            check(&crate::crypto::random_bytes(32), &p, 999),
            Check::Tampered
        );
    }

    #[test]
    fn png_renders() {
        let png = render_png("GHCARD1.1.2.x").unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}
