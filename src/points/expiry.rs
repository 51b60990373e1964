//! Points expiry (optional, `points.expiry_enabled`): points earned in year Y are valid until
//! the end of year Y+1 (Beijing time) and spent first-in first-out.
//!
//! No per-credit bookkeeping is needed for FIFO: every negative ledger row (spending, a
//! negative adjustment, an earlier expiry) consumes the oldest credits first, so what is left
//! of all credits earned before a moment `t` is `max(0, credits before t − all debits)`. The
//! balance equals all credits minus all debits, so that amount never exceeds the balance and
//! taking it away can never make a balance negative.
//!
//! A job (hourly, and [`run_due`] with the app clock in tests) writes one `expiry` ledger row
//! per member and expiry date (the ledger's idempotency key), and sends one "expiring soon"
//! notice per member and expiry date within `expiry_notice_days` of it.

use super::ledger::{self, Posted, Posting, Source};
use crate::app::AppState;
use crate::error::Result;
use crate::messages::notify::{Notice, notify_member};
use chrono::{Datelike, FixedOffset, TimeZone};
use rusqlite::{Connection, params};
use serde::Serialize;
use serde_json::json;

/// How often the job looks for due work (the first run is at start-up).
pub const INTERVAL_SECS: u64 = 3600;

/// Members handled per writer job, so a large run never holds the writer for long.
const BATCH: usize = 500;

fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// The Beijing calendar year of unix time `ts`.
pub fn year_of(ts: i64) -> i32 {
    cst()
        .timestamp_opt(ts, 0)
        .single()
        .map(|d| d.year())
        .unwrap_or(1970)
}

/// Unix time of 1 January of `year`, 00:00 Beijing time.
pub fn year_start(year: i32) -> i64 {
    cst()
        .with_ymd_and_hms(year, 1, 1, 0, 0, 0)
        .single()
        .map(|d| d.timestamp())
        .unwrap_or(0)
}

/// Beijing day number of unix time `ts` (the expiry rows' source id).
fn day_of(ts: i64) -> i64 {
    ledger::today(ts).1
}

/// What is left of the member's credits earned before `before`, after FIFO consumption.
pub fn unspent_before(c: &Connection, member: i64, before: i64) -> Result<i64> {
    let left: i64 = c
        .prepare_cached(
            "SELECT coalesce(sum(CASE WHEN delta > 0 AND created_at < ?2 THEN delta ELSE 0 END), 0)
                  + coalesce(sum(CASE WHEN delta < 0 THEN delta ELSE 0 END), 0)
             FROM points_ledger WHERE member_id = ?1",
        )?
        .query_row(params![member, before], |r| r.get(0))?;
    Ok(left.max(0))
}

/// Expire what is past its validity for one member at `now`, in the caller's transaction;
/// the points taken (0 when nothing was due or this expiry date was already posted).
/// The job calls it for every holder; spending paths call it first too, so points that
/// expired at midnight cannot be spent before the job's next run.
pub fn expire_member(c: &Connection, member: i64, now: i64) -> Result<i64> {
    let year = year_of(now);
    // Credits from before last year are past their validity (earned in Y, valid through Y+1).
    let cutoff = year_start(year - 1);
    let amount = unspent_before(c, member, cutoff)?;
    if amount == 0 {
        return Ok(0);
    }
    let reason = format!("{} 年及以前获得的积分已于 {} 年底到期", year - 2, year - 1);
    let p = Posting {
        member_id: member,
        delta: -amount,
        source: Source::Expiry,
        source_id: day_of(year_start(year)),
        reason: Some(&reason),
        operator_id: None,
    };
    Ok(match ledger::post_at(c, &p, 0, now)? {
        Posted::Done(_) => amount,
        _ => 0,
    })
}

/// The next expiry a member faces.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Expiring {
    /// Points that expire unless spent first.
    pub points: i64,
    /// Last day they can be used, `YYYY-MM-DD` (31 December).
    pub last_day: String,
    /// The moment they are gone (1 January 00:00 Beijing time), RFC 3339.
    pub expires_at: String,
    /// True within the notice window (`points.expiry_notice_days`) before `expires_at`.
    pub soon: bool,
}

/// The member's next expiry at `now`: credits from before this year that are still unspent
/// go at the end of this year. None when nothing expires (or expiry is off).
pub fn next(c: &Connection, member: i64, now: i64, notice_days: i64) -> Result<Option<Expiring>> {
    let year = year_of(now);
    let points = unspent_before(c, member, year_start(year))?;
    if points == 0 {
        return Ok(None);
    }
    let at = year_start(year + 1);
    Ok(Some(Expiring {
        points,
        last_day: format!("{year}-12-31"),
        expires_at: crate::time::fmt(at),
        soon: now >= at - notice_days * 86_400,
    }))
}

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunReport {
    /// Members whose points expired in this run.
    pub expired_members: usize,
    /// Points taken away in total.
    pub expired_points: i64,
    /// "Expiring soon" notices sent.
    pub notified: usize,
}

/// Members with something left of the credits earned before `before` (read from the pool).
async fn holders(state: &AppState, before: i64, notice_key: Option<String>) -> Result<Vec<i64>> {
    state
        .db
        .read(move |c| {
            // Members already told about this expiry date are skipped by their notice's key
            // (checked once per member, after grouping, not once per ledger row).
            let grouped = "SELECT member_id FROM points_ledger GROUP BY member_id
                 HAVING sum(CASE WHEN delta > 0 AND created_at < ?1 THEN delta ELSE 0 END)
                      + sum(CASE WHEN delta < 0 THEN delta ELSE 0 END) > 0";
            let sql = if notice_key.is_some() {
                format!(
                    "SELECT s.member_id FROM ({grouped}) s JOIN members m ON m.id = s.member_id AND m.status <> 'deleted'
                     WHERE NOT EXISTS (SELECT 1 FROM messages x WHERE x.dedupe_key = ?2 || s.member_id)
                     ORDER BY s.member_id"
                )
            } else {
                format!("{grouped} ORDER BY member_id")
            };
            let mut p = vec![rusqlite::types::Value::Integer(before)];
            if let Some(k) = notice_key {
                p.push(rusqlite::types::Value::Text(k));
            }
            Ok(c.prepare(&sql)?
                .query_map(rusqlite::params_from_iter(p), |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?)
        })
        .await
}

/// Do everything due at `now` (tests pass the app clock's time): expire what is past its
/// year, then warn about the coming expiry date. Nothing when expiry is off.
pub async fn run_due(state: &AppState, now: i64) -> Result<RunReport> {
    let mut rep = RunReport::default();
    if !state.cfg.points.expiry_enabled {
        return Ok(rep);
    }
    let year = year_of(now);
    for chunk in holders(state, year_start(year - 1), None)
        .await?
        .chunks(BATCH)
    {
        let ids = chunk.to_vec();
        let (n, pts) = state
            .db
            .write(move |c| {
                let (mut n, mut pts) = (0usize, 0i64);
                for m in ids {
                    // Recomputed in the writer: spending since the read above counts.
                    let amount = expire_member(c, m, now)?;
                    if amount > 0 {
                        n += 1;
                        pts += amount;
                    }
                }
                Ok((n, pts))
            })
            .await?;
        rep.expired_members += n;
        rep.expired_points += pts;
    }
    let next_at = year_start(year + 1);
    if now < next_at - state.cfg.points.expiry_notice_days * 86_400 {
        return Ok(rep);
    }
    let key = format!("points.expiring:{}:", day_of(next_at));
    let this_year = year_start(year);
    for chunk in holders(state, this_year, Some(key.clone()))
        .await?
        .chunks(BATCH)
    {
        let (ids, key) = (chunk.to_vec(), key.clone());
        rep.notified += state
            .db
            .write(move |c| {
                let mut n = 0usize;
                for m in ids {
                    let amount = unspent_before(c, m, this_year)?;
                    if amount == 0 {
                        continue;
                    }
                    let org: Option<i64> = c.query_row("SELECT org_id FROM members WHERE id = ?1", [m], |r| r.get(0))?;
                    notify_member(c, m, &Notice {
                        event: "points.expiring",
                        title: "积分即将过期".into(),
                        content: format!("您有 {amount} 积分将于 {year}-12-31 到期，到期后自动清零，请及时使用。"),
                        link: Some("pages/points/index".into()),
                        org_id: org,
                        fields: json!({"title": "积分即将过期", "result": format!("{amount} 积分将于 {year}-12-31 到期"), "reason": "", "time": format!("{year}-12-31")}),
                        key: format!("{key}{m}"),
                    })?;
                    n += 1;
                }
                Ok(n)
            })
            .await?;
    }
    Ok(rep)
}

/// Run [`run_due`] every [`INTERVAL_SECS`]; errors are logged, never fatal.
pub fn spawn(state: &AppState) {
    if !state.cfg.points.expiry_enabled {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(INTERVAL_SECS));
        loop {
            tick.tick().await;
            match run_due(&state, state.clock.now()).await {
                Ok(r) if r.expired_members > 0 || r.notified > 0 => tracing::info!(
                    members = r.expired_members,
                    points = r.expired_points,
                    notified = r.notified,
                    "points expiry run"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "points expiry job failed"),
            }
        }
    });
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

    fn post(c: &Connection, delta: i64, id: i64, at: i64) {
        let p = Posting {
            member_id: 1,
            delta,
            source: Source::AdminAdjust,
            source_id: id,
            reason: None,
            operator_id: None,
        };
        ledger::post_at(c, &p, 0, at).unwrap();
    }

    #[test]
    fn years_start_at_beijing_midnight() {
        assert_eq!(
            crate::time::fmt(year_start(2027)),
            "2027-01-01T00:00:00+08:00"
        );
        assert_eq!(year_of(year_start(2027)), 2027);
        assert_eq!(year_of(year_start(2027) - 1), 2026);
    }

    /// Spending takes the oldest credits first: of 100 (2025) + 50 (2026) with 70 spent in
    /// 2026, 30 of 2025 remain and go at the start of 2027; the 2026 points stay.
    #[test]
    fn spending_consumes_the_oldest_credits_first() {
        let c = db();
        let (y25, y26, y27) = (year_start(2025), year_start(2026), year_start(2027));
        post(&c, 100, 1, y25 + 86_400);
        post(&c, 50, 2, y26 + 86_400);
        post(&c, -70, 3, y26 + 2 * 86_400);
        assert_eq!(unspent_before(&c, 1, y26).unwrap(), 30);
        assert_eq!(unspent_before(&c, 1, y27).unwrap(), 80);
        let e = next(&c, 1, y26 + 300 * 86_400, 30).unwrap().unwrap();
        assert_eq!(
            (e.points, e.last_day.as_str(), e.soon),
            (30, "2026-12-31", false)
        );
        assert!(next(&c, 1, y27 - 86_400, 30).unwrap().unwrap().soon);
        // More spent than the old credits: nothing of 2025 is left.
        post(&c, -40, 4, y26 + 3 * 86_400);
        assert_eq!(unspent_before(&c, 1, y26).unwrap(), 0);
        assert!(next(&c, 1, y26 + 300 * 86_400, 30).unwrap().is_none());
    }
}
