//! The append-only points ledger and the cached balance beside it. Every change of a balance
//! is one ledger row written in the caller's transaction (the writer job of the event that
//! earns or spends), so the balance always equals the ledger's sum.

use crate::error::{AppError, Result};
use rusqlite::{Connection, OptionalExtension, params};

/// Why points moved; stored as `source_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Attended an activity (source id: the registration).
    ActivityCheckin,
    /// Membership approved (source id: the application).
    Membership,
    /// Daily sign-in (source id: the day number in Beijing time).
    SignIn,
    /// Staff adjustment (source id: its audit row).
    AdminAdjust,
    /// Mall order paid (source id: the order).
    MallOrder,
    /// Mall order cancelled and refunded (source id: the order).
    MallRefund,
    /// Points past their validity taken away (source id: the Beijing day number of the
    /// expiry date, so one row per member and expiry date).
    Expiry,
}

impl Source {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            Source::ActivityCheckin => "activity_checkin",
            Source::Membership => "membership",
            Source::SignIn => "sign_in",
            Source::AdminAdjust => "admin_adjust",
            Source::MallOrder => "mall_order",
            Source::MallRefund => "mall_refund",
            Source::Expiry => "expiry",
        }
    }

    /// Earned by an automatic event, so subject to the daily cap.
    fn capped(self) -> bool {
        matches!(
            self,
            Source::ActivityCheckin | Source::Membership | Source::SignIn
        )
    }
}

/// Chinese name of a stored source code.
pub fn source_label(code: &str) -> &'static str {
    match code {
        "activity_checkin" => "活动签到",
        "membership" => "入会奖励",
        "sign_in" => "每日签到",
        "admin_adjust" => "管理员调整",
        "mall_order" => "积分商城兑换",
        "mall_refund" => "积分商城退还",
        "expiry" => "积分过期",
        _ => "其他",
    }
}

/// One movement of points.
#[derive(Debug, Clone)]
pub struct Posting<'a> {
    /// Member.
    pub member_id: i64,
    /// Positive to credit, negative to debit.
    pub delta: i64,
    /// Why.
    pub source: Source,
    /// Which event of that kind (with `source` and the member: the idempotency key).
    pub source_id: i64,
    /// Shown to the member.
    pub reason: Option<&'a str>,
    /// Staff who made it, for adjustments.
    pub operator_id: Option<i64>,
}

/// What a posting did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    /// A row was written; the new balance.
    Done(i64),
    /// This event was already posted for this member: nothing changed.
    Duplicate,
    /// Nothing to post (zero delta, or the daily cap already reached).
    Nothing,
}

/// The member's current balance (0 without an account row).
pub fn balance(c: &Connection, member_id: i64) -> Result<i64> {
    Ok(
        c.prepare_cached("SELECT balance FROM points_accounts WHERE member_id = ?1")?
            .query_row([member_id], |r| r.get(0))
            .optional()?
            .unwrap_or(0),
    )
}

/// Start of the current day in Beijing time, unix seconds, and its day number.
pub fn today(now: i64) -> (i64, i64) {
    let day = (now + 8 * 3600).div_euclid(86_400);
    (day * 86_400 - 8 * 3600, day)
}

/// Points earned today from capped sources.
fn earned_today(c: &Connection, member_id: i64, now: i64) -> Result<i64> {
    let (start, _) = today(now);
    Ok(c.prepare_cached(
        "SELECT coalesce(sum(delta), 0) FROM points_ledger WHERE member_id = ?1 AND created_at >= ?2 AND delta > 0
           AND (source_type = 'activity_checkin' OR source_type = 'membership' OR source_type = 'sign_in')",
    )?
    .query_row(params![member_id, start], |r| r.get(0))?)
}

/// Post `p` in the caller's transaction. A debit that would make the balance negative is
/// `409 insufficient_points` and writes nothing. A credit from an automatic event is cut to
/// what `daily_cap` (0 = none) still allows today.
pub fn post(c: &Connection, p: &Posting<'_>, daily_cap: i64) -> Result<Posted> {
    post_at(c, p, daily_cap, crate::time::now())
}

/// [`post`] dated `now`: handlers that have the app clock pass its time, so the year a credit
/// belongs to (which decides when it expires) follows the clock tests move forward.
pub fn post_at(c: &Connection, p: &Posting<'_>, daily_cap: i64, now: i64) -> Result<Posted> {
    let mut delta = p.delta;
    if delta > 0 && daily_cap > 0 && p.source.capped() {
        delta = delta.min((daily_cap - earned_today(c, p.member_id, now)?).max(0));
    }
    if delta == 0 {
        return Ok(Posted::Nothing);
    }
    let bal = balance(c, p.member_id)?;
    let after = bal
        .checked_add(delta)
        .ok_or_else(|| AppError::field("delta", "积分数额过大"))?;
    if after < 0 {
        return Err(AppError::conflict_code(
            "insufficient_points",
            format!("积分不足：当前积分 {bal}，需要 {}", -delta),
        ));
    }
    let n = c
        .prepare_cached(
            "INSERT INTO points_ledger (member_id, delta, balance_after, source_type, source_id, reason, operator_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (source_type, source_id, member_id) DO NOTHING",
        )?
        .execute(params![p.member_id, delta, after, p.source.code(), p.source_id, p.reason, p.operator_id, now])?;
    if n == 0 {
        return Ok(Posted::Duplicate);
    }
    c.prepare_cached(
        "INSERT INTO points_accounts (member_id, balance, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (member_id) DO UPDATE SET balance = excluded.balance, updated_at = excluded.updated_at",
    )?
    .execute(params![p.member_id, after, now])?;
    Ok(Posted::Done(after))
}

/// Members whose cached balance differs from the sum of their ledger rows:
/// `(member, cached, ledger sum)`, at most `limit` of them.
pub fn mismatches(c: &Connection, limit: i64) -> rusqlite::Result<Vec<(i64, i64, i64)>> {
    c.prepare(
        "WITH sums AS (SELECT member_id, sum(delta) AS s FROM points_ledger GROUP BY member_id)
         SELECT coalesce(a.member_id, s.member_id), coalesce(a.balance, 0), coalesce(s.s, 0)
         FROM points_accounts a FULL OUTER JOIN sums s ON s.member_id = a.member_id
         WHERE coalesce(a.balance, 0) <> coalesce(s.s, 0)
         ORDER BY 1 LIMIT ?1",
    )?
    .query_map([limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        crate::migrations::apply(&mut c).unwrap();
        c.execute(
            "INSERT INTO members (id, status, created_at, updated_at) VALUES (1, 'active', 0, 0)",
            [],
        )
        .unwrap();
        c
    }

    fn p(delta: i64, source: Source, id: i64) -> Posting<'static> {
        Posting {
            member_id: 1,
            delta,
            source,
            source_id: id,
            reason: None,
            operator_id: None,
        }
    }

    /// Credits and debits keep the balance equal to the ledger sum; an overdraft writes
    /// nothing; the same event twice posts once.
    #[test]
    fn the_balance_follows_the_ledger_and_never_goes_negative() {
        let c = db();
        assert_eq!(
            post(&c, &p(10, Source::AdminAdjust, 1), 0).unwrap(),
            Posted::Done(10)
        );
        assert_eq!(
            post(&c, &p(-4, Source::MallOrder, 7), 0).unwrap(),
            Posted::Done(6)
        );
        assert_eq!(
            post(&c, &p(-4, Source::MallOrder, 7), 0).unwrap(),
            Posted::Duplicate
        );
        let e = post(&c, &p(-7, Source::MallOrder, 8), 0).unwrap_err();
        assert_eq!(e.status(), axum::http::StatusCode::CONFLICT);
        assert_eq!(balance(&c, 1).unwrap(), 6);
        assert!(mismatches(&c, 10).unwrap().is_empty());
        c.execute("UPDATE points_accounts SET balance = 99", [])
            .unwrap();
        assert_eq!(mismatches(&c, 10).unwrap(), vec![(1, 99, 6)]);
        // Append-only.
        assert!(c.execute("DELETE FROM points_ledger", []).is_err());
        assert!(c.execute("UPDATE points_ledger SET delta = 1", []).is_err());
    }

    /// Automatic credits stop at the daily cap; adjustments do not.
    #[test]
    fn the_daily_cap_cuts_automatic_credits_only() {
        let c = db();
        assert_eq!(
            post(&c, &p(8, Source::ActivityCheckin, 1), 10).unwrap(),
            Posted::Done(8)
        );
        assert_eq!(
            post(&c, &p(5, Source::SignIn, 2), 10).unwrap(),
            Posted::Done(10)
        );
        assert_eq!(
            post(&c, &p(5, Source::SignIn, 3), 10).unwrap(),
            Posted::Nothing
        );
        assert_eq!(
            post(&c, &p(5, Source::AdminAdjust, 4), 10).unwrap(),
            Posted::Done(15)
        );
    }

    #[test]
    fn days_start_at_beijing_midnight() {
        // 2025-12-01T00:30:00+08:00 is 2025-11-30T16:30:00Z.
        let t = 1_764_520_200;
        let (start, _) = today(t);
        assert_eq!(crate::time::fmt(start), "2025-12-01T00:00:00+08:00");
    }
}
