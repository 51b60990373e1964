//! Identity proof and attempt limits (issue 17, items 8 and 10).
//!
//! An SMS code proves only that someone receives messages for a phone number. When staff
//! created the record (or imported it), whoever logs in with that phone must also prove to be
//! the person on it before the full ID number, the full name or the member card is shown: they
//! type the last 6 characters of the ID number. Wrong answers are counted in the writer job
//! before the comparison, 5 per 24 hours, so the proof cannot be brute-forced (10^5 × 11 values).
//!
//! The same attempt table limits real-name submissions per member and per IP address.

use super::auth::MemberAuth;
use super::model::{AppMe, IdentityIn};
use super::repo::{self, AAD_ID};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::error::{AppError, AppJson, Result, ok};
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

/// Wrong identity answers allowed per member per 24 hours.
pub const IDENTITY_MAX_FAILS: i64 = 5;
/// Real-name submissions allowed per member per 24 hours.
pub const REALNAME_PER_MEMBER_DAY: i64 = 5;
/// Real-name submissions allowed per IP address per hour.
pub const REALNAME_PER_IP_HOUR: i64 = 20;

/// Attempts of `kind` by `member` since `since` (only failed ones when `failed_only`).
pub fn member_attempts(
    c: &Connection,
    member: i64,
    kind: &str,
    since: i64,
    failed_only: bool,
) -> Result<i64> {
    Ok(c.query_row(
        "SELECT count(*) FROM member_attempts WHERE member_id = ?1 AND kind = ?2 AND at > ?3
           AND (?4 = 0 OR success = 0)",
        params![member, kind, since, failed_only],
        |r| r.get(0),
    )?)
}

/// Attempts of `kind` from `ip` since `since`.
pub fn ip_attempts(c: &Connection, ip: &str, kind: &str, since: i64) -> Result<i64> {
    Ok(c.query_row(
        "SELECT count(*) FROM member_attempts WHERE ip = ?1 AND kind = ?2 AND at > ?3",
        params![ip, kind, since],
        |r| r.get(0),
    )?)
}

/// Record one attempt; returns its row id (to mark it successful later).
pub fn record_attempt(c: &Connection, member: i64, kind: &str, ip: &str) -> Result<i64> {
    c.execute(
        "INSERT INTO member_attempts (member_id, kind, ip, at) VALUES (?1, ?2, ?3, ?4)",
        params![member, kind, ip, crate::time::now()],
    )?;
    Ok(c.last_insert_rowid())
}

/// Mark an attempt successful (it then no longer counts as a failure).
pub fn attempt_succeeded(c: &Connection, attempt: i64) -> Result<()> {
    c.execute(
        "UPDATE member_attempts SET success = 1 WHERE id = ?1",
        [attempt],
    )?;
    Ok(())
}

/// True when the member proved the recorded real-name identity.
pub fn confirmed(c: &Connection, member: i64) -> Result<bool> {
    Ok(c.query_row(
        "SELECT identity_confirmed_at IS NOT NULL FROM members WHERE id = ?1",
        [member],
        |r| r.get(0),
    )
    .optional()?
    .unwrap_or(false))
}

/// Normalise the typed last 6 characters, or a field error.
fn parse_last6(raw: &str) -> Result<String> {
    let s = raw.trim().to_ascii_uppercase();
    let b = s.as_bytes();
    let ok = b.len() == 6
        && b[..5].iter().all(u8::is_ascii_digit)
        && (b[5].is_ascii_digit() || b[5] == b'X');
    if ok {
        Ok(s)
    } else {
        Err(AppError::field(
            "id_last6",
            "请输入身份证号码的后 6 位（最后一位可以是 X）",
        ))
    }
}

/// Compare without an early exit, so the time taken does not tell how many characters matched.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Prove the identity of a real-name record with the last 6 characters of its ID number.
#[utoipa::path(post, path = "/api/v1/app/me/identity", tag = "职工账号", security(("bearer" = [])), request_body = IdentityIn,
    responses((status = 200, body = AppMe), (status = 400, description = "格式不对或与登记信息不符"),
        (status = 409, description = "not_recorded：尚未登记实名信息"), (status = 429, description = "错误次数过多")))]
pub async fn confirm(
    State(st): State<AppState>,
    me: MemberAuth,
    AppJson(req): AppJson<IdentityIn>,
) -> Result<Response> {
    let last6 = parse_last6(&req.id_last6)?;
    let cipher = st.cipher.clone();
    let actor = me.actor();
    let id = me.id;
    // Ok(Err(..)) commits the counted attempt and its audit row while answering an error.
    let out: std::result::Result<AppMe, AppError> = st
        .db
        .write(move |c| {
            let row: Option<(Option<String>, bool)> = c
                .query_row(
                    "SELECT id_enc, identity_confirmed_at IS NOT NULL FROM members WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((enc, done)) = row else {
                return Err(AppError::NotFound);
            };
            if done {
                return Ok(Ok(repo::app_me(c, id)?));
            }
            let Some(enc) = enc else {
                return Ok(Err(AppError::conflict_code(
                    "not_recorded",
                    "您还没有登记实名信息",
                )));
            };
            let now = crate::time::now();
            let fails = member_attempts(c, id, "identity", now - 86_400, true)?;
            if fails >= IDENTITY_MAX_FAILS {
                return Ok(Err(AppError::RateLimited));
            }
            // Counted before the comparison: however many requests arrive at once, the writer
            // evaluates at most IDENTITY_MAX_FAILS wrong answers.
            let attempt = record_attempt(c, id, "identity", &actor.ip)?;
            let full = cipher.decrypt(&enc, AAD_ID)?;
            let tail = full.get(full.len().saturating_sub(6)..).unwrap_or_default();
            let good = same(tail, &last6);
            let entry = Entry {
                result: if good { "success" } else { "failure" },
                ..Entry::success("member.identity_confirm", "member", id, json!({}))
            };
            audit::record(c, &actor, &entry)?;
            if !good {
                let left = IDENTITY_MAX_FAILS - fails - 1;
                return Ok(Err(AppError::field(
                    "id_last6",
                    if left > 0 {
                        format!("与登记的身份证号不符，还可尝试 {left} 次")
                    } else {
                        "与登记的身份证号不符，今日尝试次数已用完，请明天再试或到所在工会核验"
                            .into()
                    },
                )));
            }
            attempt_succeeded(c, attempt)?;
            c.execute(
                "UPDATE members SET identity_confirmed_at = ?1, updated_at = ?1 WHERE id = ?2",
                params![now, id],
            )?;
            Ok(Ok(repo::app_me(c, id)?))
        })
        .await?;
    Ok(ok(out?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last6_is_normalised_and_checked() {
        assert_eq!(parse_last6(" 12345x ").unwrap(), "12345X");
        assert_eq!(parse_last6("123456").unwrap(), "123456");
        for bad in ["12345", "1234567", "X12345", "12a456", "１２３４５６"] {
            assert!(parse_last6(bad).is_err(), "{bad}");
        }
        assert!(same("12345X", "12345X"));
        assert!(!same("12345X", "123450"));
        assert!(!same("1", "12"));
    }
}
