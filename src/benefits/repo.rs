//! SQL shared by the benefit handlers: loading with scope or audience, claim codes, notices.

use super::model::{BenefitRow, SELECT, map_row};
use crate::auth::Scope;
use crate::error::{AppError, Result};
use crate::messages::notify::{Notice, notify_member};
use rusqlite::{Connection, OptionalExtension, params_from_iter, types::Value};
use serde_json::json;

/// Load a benefit in the staff scope (404 when missing or outside).
pub fn load_scoped(c: &Connection, scope: &Scope, id: i64) -> Result<BenefitRow> {
    let (cond, mut p) = scope.sql("b.org_id", None);
    p.insert(0, Value::Integer(id));
    c.prepare_cached(&format!("{SELECT} WHERE b.id = ? AND {cond}"))?
        .query_row(params_from_iter(p), map_row)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// A member as audience rules need them.
#[derive(Debug, Clone)]
pub struct Claimant {
    /// Member id.
    pub id: i64,
    /// Status.
    pub status: String,
    /// Org.
    pub org_id: Option<i64>,
    /// Org path.
    pub org_path: Option<String>,
    /// Joined the union at.
    pub joined_at: Option<i64>,
}

/// Load the member fresh (membership may have changed since login).
pub fn claimant(c: &Connection, id: i64) -> Result<Claimant> {
    Ok(c.prepare_cached(
        "SELECT m.status, m.org_id, o.path, m.joined_at FROM members m LEFT JOIN orgs o ON o.id = m.org_id WHERE m.id = ?1",
    )?
    .query_row([id], |r| {
        Ok(Claimant {
            id,
            status: r.get(0)?,
            org_id: r.get(1)?,
            org_path: r.get(2)?,
            joined_at: r.get(3)?,
        })
    })?)
}

/// SQL condition (alias `o` for the owning org) matching rows whose org is the member's org
/// or above it, with its parameter; nothing for a member who is not active.
pub fn audience_sql(m: &Claimant) -> (String, Vec<Value>) {
    match (&m.org_path, m.status.as_str()) {
        (Some(p), "active") => (
            "substr(?, 1, length(o.path)) = o.path".into(),
            vec![Value::Text(p.clone())],
        ),
        _ => ("0=1".into(), vec![]),
    }
}

/// True when `m` is an active member of the benefit's org or below.
pub fn in_audience(m: &Claimant, org_path: &str) -> bool {
    m.status == "active"
        && m.org_path
            .as_deref()
            .is_some_and(|p| p.starts_with(org_path))
}

/// A benefit the member may see: published or closed, audience matching (else 404).
pub fn load_visible(c: &Connection, m: &Claimant, id: i64) -> Result<BenefitRow> {
    let b = load_scoped(c, &Scope::All, id)?;
    if b.view.status == "draft" || !in_audience(m, &b.org_path) {
        return Err(AppError::NotFound);
    }
    Ok(b)
}

/// Why `m` may not claim `b` now, as `(code, message)`: closed or outside the window
/// (`claim_closed`), joined too late (`not_eligible`), the limit reached after `mine` claims
/// (`limit_reached`), or no stock left (`out_of_stock`).
pub fn refusal(
    b: &BenefitRow,
    m: &Claimant,
    mine: i64,
    now: i64,
) -> Option<(&'static str, String)> {
    if let Some(r) = closed(b, now) {
        return Some(r);
    }
    if let Some(jb) = b.joined_before
        && m.joined_at.is_none_or(|j| j >= jb)
    {
        return Some((
            "not_eligible",
            "此权益仅限在规定日期前入会的会员领取".into(),
        ));
    }
    if mine >= b.view.per_member_limit {
        return Some(limit_reached_msg(b.view.per_member_limit));
    }
    if b.view.remaining <= 0 {
        return Some(("out_of_stock", OUT_OF_STOCK.into()));
    }
    None
}

/// `claim_closed` when nobody may claim `b` at `now`: not published, or outside its window.
pub fn closed(b: &BenefitRow, now: i64) -> Option<(&'static str, String)> {
    if b.view.status == "published" && now >= b.window.0 && now < b.window.1 {
        return None;
    }
    let msg = if b.view.status == "published" && now < b.window.0 {
        "尚未到领取时间"
    } else {
        "领取已结束"
    };
    Some(("claim_closed", msg.into()))
}

fn limit_reached_msg(limit: i64) -> (&'static str, String) {
    ("limit_reached", format!("每人限领 {limit} 份，您已领取"))
}

/// `409 limit_reached` for a member holding `limit` claims.
pub fn limit_reached(limit: i64) -> AppError {
    refused(limit_reached_msg(limit))
}

const OUT_OF_STOCK: &str = "已经领完了";

/// A refusal as its `409`.
pub fn refused((code, msg): (&'static str, String)) -> AppError {
    AppError::conflict_code(code, msg)
}

/// `409 out_of_stock`.
pub fn out_of_stock() -> AppError {
    AppError::conflict_code("out_of_stock", OUT_OF_STOCK)
}

/// Claims member `member` holds of benefit `id`.
pub fn claims_of(c: &Connection, id: i64, member: i64) -> Result<i64> {
    Ok(c.prepare_cached(
        "SELECT count(*) FROM benefit_claims WHERE member_id = ?1 AND benefit_id = ?2",
    )?
    .query_row([member, id], |r| r.get(0))?)
}

/// Characters of claim and pickup codes: no 0/O, 1/I/L, easy to read out at a counter.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// A fresh random 12-character code (about 59 bits).
pub fn new_code() -> String {
    crate::crypto::random_bytes(12)
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// Normalise a typed or scanned code: the QR prefix dropped, upper case, no spaces.
pub fn normalise_code(raw: &str) -> String {
    let t = raw.trim();
    let t = t.strip_prefix(super::model::QR_PREFIX).unwrap_or(t);
    t.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Notify `member` about a claim of `b`.
pub fn notify(
    c: &Connection,
    member: i64,
    b: &BenefitRow,
    event: &'static str,
    claim_id: i64,
    code: &str,
) -> Result<i64> {
    let (title, content, result) = match event {
        "benefit.redeemed" => (
            "权益已核销".to_string(),
            format!("您领取的「{}」已核销使用。", b.view.title),
            "已核销",
        ),
        _ => (
            "权益领取成功".to_string(),
            format!(
                "您已成功领取「{}」，领取码 {code}，请在「我的权益」中出示领取码。",
                b.view.title
            ),
            "领取成功",
        ),
    };
    notify_member(
        c,
        member,
        &Notice {
            event,
            title,
            content,
            link: Some(format!("pages/benefit/claim?id={claim_id}")),
            org_id: Some(b.view.org_id),
            fields: json!({"title": b.view.title, "result": result, "time": crate::time::fmt(crate::time::now())}),
            key: format!("{event}:{claim_id}"),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_twelve_readable_characters_and_normalise() {
        let c = new_code();
        assert_eq!(c.len(), 12);
        assert!(c.bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(c, new_code());
        assert_eq!(normalise_code(&format!(" GHB:{} ", c.to_lowercase())), c);
    }
}
