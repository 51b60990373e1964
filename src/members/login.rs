//! Member login: WeChat code, SMS code (H5), refresh, phone binding through getPhoneNumber.

use super::auth::{self, MemberAuth, MemberTokens};
use super::model::{PhoneBind, PhoneBound, Refresh, SmsLogin, SmsSend, WechatLogin};
use super::repo;
use crate::app::AppState;
use crate::auth::tokens::{self, AUD_APP};
use crate::error::{AppError, AppJson, Result, ok};
use crate::http::ClientIp;
use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{OptionalExtension, params};
use serde_json::json;

/// SMS code lifetime.
pub const SMS_TTL: i64 = 300;
/// Wrong tries allowed per code.
pub const SMS_MAX_TRIES: i64 = 5;
/// Codes per phone per day.
pub const SMS_PER_PHONE_DAY: i64 = 10;
/// Codes per IP per hour.
pub const SMS_PER_IP_HOUR: i64 = 30;

/// Log in with a `wx.login` code: finds the member by openid (or unionid) or creates one.
#[utoipa::path(post, path = "/api/v1/app/auth/wechat", tag = "职工登录", request_body = WechatLogin,
    responses((status = 200, body = MemberTokens), (status = 400), (status = 503, description = "小程序未配置或微信服务不可用")))]
pub async fn wechat(
    State(st): State<AppState>,
    AppJson(req): AppJson<WechatLogin>,
) -> Result<Response> {
    let code = req.code.trim().to_string();
    if code.is_empty() || code.len() > 128 {
        return Err(AppError::field("code", "缺少登录凭证 code"));
    }
    let session = st.wechat.code2session(&code).await?;
    let st2 = st.clone();
    let out = st
        .db
        .write(move |c| {
            let found = match repo::find_by(c, "openid", &session.openid)? {
                Some(id) => Some(id),
                None => match session.unionid.as_deref() {
                    // Same person through another app of the same WeChat open platform account.
                    Some(u) => {
                        let id = repo::find_by(c, "unionid", u)?;
                        if let Some(id) = id {
                            c.execute("UPDATE members SET openid = ?1 WHERE id = ?2 AND openid IS NULL", params![session.openid, id])?;
                        }
                        id
                    }
                    None => None,
                },
            };
            let id = match found {
                Some(id) => {
                    if let Some(u) = session.unionid.as_deref() {
                        c.execute("UPDATE members SET unionid = ?1 WHERE id = ?2 AND unionid IS NULL", params![u, id])?;
                    }
                    id
                }
                None => repo::create(c, Some(&session.openid), session.unionid.as_deref())?,
            };
            auth::issue(&st2, c, id, None)
        })
        .await?;
    Ok(ok(out))
}

fn code_hash(bidx: &str, code: &str) -> String {
    crate::crypto::sha256_hex(format!("{bidx}:{code}").as_bytes())
}

/// Send a 6-digit login code (1 per minute and 10 per day per phone; per-IP limit too).
#[utoipa::path(post, path = "/api/v1/app/auth/sms/send", tag = "职工登录", request_body = SmsSend,
    responses((status = 200), (status = 400), (status = 429)))]
pub async fn sms_send(
    State(st): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    AppJson(req): AppJson<SmsSend>,
) -> Result<Response> {
    let phone = repo::parse_phone("phone", &req.phone)?;
    let bidx = st.cipher.blind_index(&phone);
    let code = format!("{:06}", rand::random_range(0..1_000_000u32));
    let hash = code_hash(&bidx, &code);
    let ip_s = ip.to_string();
    st.db
        .write(move |c| {
            let now = crate::time::now();
            let last_min: i64 = c.query_row("SELECT count(*) FROM sms_codes WHERE phone_bidx = ?1 AND created_at > ?2", params![bidx, now - 60], |r| r.get(0))?;
            let day: i64 = c.query_row("SELECT count(*) FROM sms_codes WHERE phone_bidx = ?1 AND created_at > ?2", params![bidx, now - 86_400], |r| r.get(0))?;
            let ip_hour: i64 = c.query_row("SELECT count(*) FROM sms_codes WHERE ip = ?1 AND created_at > ?2", params![ip_s, now - 3600], |r| r.get(0))?;
            if last_min > 0 || day >= SMS_PER_PHONE_DAY || ip_hour >= SMS_PER_IP_HOUR {
                return Err(AppError::RateLimited);
            }
            c.execute(
                "INSERT INTO sms_codes (phone_bidx, code_hash, expires_at, ip, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![bidx, hash, now + SMS_TTL, ip_s, now],
            )?;
            Ok(())
        })
        .await?;
    st.sms.send_code(&phone, &code).await?;
    Ok(ok(json!({})))
}

/// Log in with an SMS code; the phone's member is found or created.
#[utoipa::path(post, path = "/api/v1/app/auth/sms/login", tag = "职工登录", request_body = SmsLogin,
    responses((status = 200, body = MemberTokens), (status = 400)))]
pub async fn sms_login(
    State(st): State<AppState>,
    AppJson(req): AppJson<SmsLogin>,
) -> Result<Response> {
    let phone = repo::parse_phone("phone", &req.phone)?;
    let code = req.code.trim().to_string();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(AppError::field("code", "请输入 6 位数字验证码"));
    }
    let bidx = st.cipher.blind_index(&phone);
    let st2 = st.clone();
    // Ok(Err(..)) keeps the failed-try counter committed while answering an error.
    let out: std::result::Result<MemberTokens, AppError> = st
        .db
        .write(move |c| {
            let now = crate::time::now();
            let row: Option<(i64, String, i64)> = c
                .query_row(
                    "SELECT id, code_hash, tries FROM sms_codes WHERE phone_bidx = ?1 AND used_at IS NULL AND expires_at > ?2
                     ORDER BY id DESC LIMIT 1",
                    params![bidx, now],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((cid, hash, tries)) = row else {
                return Ok(Err(AppError::field("code", "验证码无效或已过期，请重新获取")));
            };
            if tries >= SMS_MAX_TRIES {
                return Ok(Err(AppError::field("code", "验证码错误次数过多，请重新获取")));
            }
            if hash != code_hash(&bidx, &code) {
                c.execute("UPDATE sms_codes SET tries = tries + 1 WHERE id = ?1", [cid])?;
                return Ok(Err(AppError::field("code", "验证码错误")));
            }
            c.execute("UPDATE sms_codes SET used_at = ?1 WHERE id = ?2", params![now, cid])?;
            let id = match repo::find_by(c, "phone_bidx", &bidx)? {
                Some(id) => id,
                None => {
                    let id = repo::create(c, None, None)?;
                    repo::set_phone(c, st2.cipher.as_ref(), id, &phone)?;
                    id
                }
            };
            Ok(Ok(auth::issue(&st2, c, id, None)?))
        })
        .await?;
    Ok(ok(out?))
}

/// Exchange a member refresh token for a new pair.
#[utoipa::path(post, path = "/api/v1/app/auth/refresh", tag = "职工登录", request_body = Refresh,
    responses((status = 200, body = MemberTokens), (status = 401)))]
pub async fn refresh(
    State(st): State<AppState>,
    AppJson(req): AppJson<Refresh>,
) -> Result<Response> {
    let st2 = st.clone();
    let out = st
        .db
        .write(move |c| {
            let ttl = st2.cfg.auth.app_refresh_ttl_secs;
            let Some((id, new)) =
                tokens::rotate_refresh(c, AUD_APP, req.refresh_token.trim(), ttl)?
            else {
                return Ok(None);
            };
            let live: bool = c.query_row(
                "SELECT count(*) > 0 FROM members WHERE id = ?1 AND status <> 'deleted'",
                [id],
                |r| r.get(0),
            )?;
            if !live {
                return Ok(None);
            }
            Ok(Some(auth::issue(&st2, c, id, Some(new))?))
        })
        .await?;
    Ok(ok(out.ok_or_else(|| {
        AppError::Unauthenticated("登录已失效，请重新登录".into())
    })?))
}

/// Bind the phone number WeChat vouches for (getPhoneNumber button).
#[utoipa::path(post, path = "/api/v1/app/me/phone", tag = "职工账号", security(("bearer" = [])), request_body = PhoneBind,
    responses((status = 200, body = PhoneBound), (status = 400), (status = 409, description = "手机号已绑定其他账号")))]
pub async fn bind_phone(
    State(st): State<AppState>,
    me: MemberAuth,
    AppJson(req): AppJson<PhoneBind>,
) -> Result<Response> {
    let code = req.code.trim().to_string();
    if code.is_empty() || code.len() > 128 {
        return Err(AppError::field("code", "缺少手机号授权凭证 code"));
    }
    let phone = st.wechat.phone_number(&code).await?;
    let pure = repo::parse_phone("code", &phone.pure_phone_number)?;
    let st2 = st.clone();
    let actor = me.actor();
    let masked = st
        .db
        .write(move |c| {
            let m = repo::set_phone(c, st2.cipher.as_ref(), me.id, &pure)?;
            crate::audit::record(
                c,
                &actor,
                &crate::audit::Entry {
                    action: "member.bind_phone",
                    target_type: "member",
                    target_id: Some(me.id.to_string()),
                    summary: json!({"phone": m}),
                    result: "success",
                },
            )?;
            Ok(m)
        })
        .await?;
    Ok(ok(PhoneBound {
        phone_masked: masked,
    }))
}
