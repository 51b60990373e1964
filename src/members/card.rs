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

/// What the card shows and who may see it.
struct CardRow {
    status: String,
    member_no: Option<String>,
    name: String,
    joined_at: Option<i64>,
    org_name: String,
    /// The member's org and its path, for the verifier's data scope.
    org: Option<(i64, String)>,
    /// The person proved the real-name identity (issue 17, item 8).
    identity_confirmed: bool,
}

fn load_card(c: &rusqlite::Connection, id: i64) -> Result<Option<CardRow>> {
    Ok(c.query_row(
        "SELECT m.status, m.member_no, COALESCE(m.real_name, ''), m.joined_at, COALESCE(o.name, ''), o.id, o.path,
                m.identity_confirmed_at IS NOT NULL
         FROM members m LEFT JOIN orgs o ON o.id = m.org_id WHERE m.id = ?1",
        [id],
        |r| {
            let org = match (r.get::<_, Option<i64>>(5)?, r.get::<_, Option<String>>(6)?) {
                (Some(id), Some(path)) => Some((id, path)),
                _ => None,
            };
            Ok(CardRow {
                status: r.get(0)?,
                member_no: r.get(1)?,
                name: r.get(2)?,
                joined_at: r.get(3)?,
                org_name: r.get(4)?,
                org,
                identity_confirmed: r.get(7)?,
            })
        },
    )
    .optional()?)
}

/// The card is shown only to a member who proved the real-name identity: an SMS code to the
/// phone staff recorded is not enough (issue 17, item 8).
fn unconfirmed() -> AppError {
    AppError::conflict_code(
        "identity_unconfirmed",
        "请先核验本人身份（输入身份证号后 6 位）后再使用电子会员证",
    )
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
    let CardRow {
        status,
        member_no,
        name,
        joined_at,
        org_name,
        identity_confirmed,
        ..
    } = row;
    let Some(member_no) = member_no.filter(|_| status == "active") else {
        return Err(AppError::conflict_code(
            "not_member",
            "您还不是工会会员，入会审核通过后可使用电子会员证",
        ));
    };
    if !identity_confirmed {
        return Err(unconfirmed());
    }
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
    let row = st.db.read(move |c| load_card(c, id)).await?;
    let Some(row) = row.filter(|r| r.status == "active") else {
        return Err(AppError::conflict_code(
            "not_member",
            "您还不是工会会员，入会审核通过后可使用电子会员证",
        ));
    };
    if !row.identity_confirmed {
        return Err(unconfirmed());
    }
    qr_png_response(payload(&st.keys.signing, id, crate::time::now() + CARD_TTL)).await
}

/// `payload` as an uncached PNG QR code response, rendered off the async executor (it is CPU
/// work). Shared by the member card and the benefit claim code.
pub async fn qr_png_response(payload: String) -> Result<Response> {
    let png = tokio::task::spawn_blocking(move || render_png(&payload))
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
    /// Member number (genuine cards of members in the verifier's scope only).
    pub member_no: Option<String>,
    /// Name (genuine cards of members in the verifier's scope only).
    pub name: Option<String>,
    /// Org name (genuine cards of members in the verifier's scope only).
    pub org_name: Option<String>,
}

/// Verify a scanned card. Who the card belongs to (name, member number, org) is answered only
/// when the member is in the verifier's `member:read` scope; outside it only the validity is.
#[utoipa::path(post, path = "/api/v1/admin/members/verify-card", tag = "会员证", security(("bearer" = [])), request_body = VerifyIn,
    responses((status = 200, body = VerifyOut), (status = 403)))]
pub async fn verify(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(req): AppJson<VerifyIn>,
) -> Result<Response> {
    let scope = me.require(codes::MEMBER_READ)?;
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
        Some(r) if r.status == "active" => {
            let in_scope = r
                .org
                .as_ref()
                .is_some_and(|(id, path)| scope.contains_org(*id, path));
            let mut out = bad("ok", "会员证有效");
            out.valid = true;
            if in_scope {
                out.member_no = r.member_no;
                out.name = Some(r.name);
                out.org_name = Some(r.org_name);
            }
            out
        }
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
