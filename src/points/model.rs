//! Points response types and the ledger page query shared by the member and staff sides.

use super::ledger::source_label;
use crate::cursor::{CursorPage, Window};
use crate::error::Result;
use rusqlite::{Connection, params_from_iter, types::Value};
use serde::{Deserialize, Serialize};

/// One ledger row.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LedgerRow {
    /// Id.
    pub id: i64,
    /// Points moved: positive earned, negative spent.
    pub delta: i64,
    /// Balance after this row.
    pub balance_after: i64,
    /// `activity_checkin`, `membership`, `sign_in`, `admin_adjust`, `mall_order`, `mall_refund`, `expiry`.
    pub source_type: String,
    /// Chinese name of the source.
    pub source_label: String,
    /// The event's id (registration, application, day, audit row, order).
    pub source_id: i64,
    /// Reason.
    pub reason: Option<String>,
    /// When.
    pub created_at: String,
}

/// Balance and one slice of the ledger, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PointsView {
    /// Current balance.
    pub balance: i64,
    /// True when the member already signed in today.
    pub signed_in_today: bool,
    /// The next expiry (points and date) when expiry is on and something will expire.
    pub expiring: Option<super::expiry::Expiring>,
    /// Ledger rows, newest first.
    pub ledger: CursorPage<LedgerRow>,
}

/// A staff adjustment.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustIn {
    /// Points to add (positive) or take (negative), not zero, at most 100000 either way.
    #[schema(minimum = -100000, maximum = 100000)]
    pub delta: i64,
    /// Why (required, shown to the member).
    pub reason: String,
}

/// How a view is dated and whether expiry applies (from the app clock and `[points]`).
#[derive(Debug, Clone, Copy)]
pub struct ViewAt {
    /// Now on the app clock.
    pub now: i64,
    /// `points.expiry_enabled`.
    pub expiry: bool,
    /// `points.expiry_notice_days`.
    pub notice_days: i64,
}

impl ViewAt {
    /// Now on the app's clock with its `[points]` settings.
    pub fn of(st: &crate::app::AppState) -> Self {
        ViewAt {
            now: st.clock.now(),
            expiry: st.cfg.points.expiry_enabled,
            notice_days: st.cfg.points.expiry_notice_days,
        }
    }
}

/// Balance and ledger slice of `member` after window `w`.
pub fn view(c: &Connection, member: i64, w: &Window, at: ViewAt) -> Result<PointsView> {
    let balance = super::ledger::balance(c, member)?;
    let mut p = vec![Value::Integer(member)];
    let mut cond = String::new();
    if let Some(k) = &w.after {
        cond = " AND id < ?".into();
        p.push(Value::Integer(k[0]));
    }
    p.push(Value::Integer(w.fetch()));
    let rows = c
        .prepare_cached(&format!(
            "SELECT id, delta, balance_after, source_type, source_id, reason, created_at FROM points_ledger
             WHERE member_id = ?{cond} ORDER BY id DESC LIMIT ?"
        ))?
        .query_map(params_from_iter(p), |r| {
            let st: String = r.get(3)?;
            Ok(LedgerRow {
                id: r.get(0)?,
                delta: r.get(1)?,
                balance_after: r.get(2)?,
                source_label: source_label(&st).into(),
                source_type: st,
                source_id: r.get(4)?,
                reason: r.get(5)?,
                created_at: crate::time::fmt(r.get(6)?),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let (_, day) = super::ledger::today(at.now);
    let signed_in_today: bool = c
        .prepare_cached("SELECT count(*) > 0 FROM points_ledger WHERE member_id = ?1 AND source_type = 'sign_in' AND source_id = ?2")?
        .query_row([member, day], |r| r.get(0))?;
    let expiring = if at.expiry {
        super::expiry::next(c, member, at.now, at.notice_days)?
    } else {
        None
    };
    Ok(PointsView {
        balance,
        signed_in_today,
        expiring,
        ledger: w.finish(rows, |r| vec![r.id]),
    })
}
