//! Periodic ticket work: tell the handling org's staff once when a ticket goes overdue, and
//! close resolved tickets whose 7-day reopen window has passed. One writer job per run.

use super::model::REOPEN_WINDOW_SECS;
use super::repo::staff_notice;
use crate::app::AppState;
use crate::error::Result;
use rusqlite::params;

/// How often the job runs.
pub const INTERVAL_SECS: u64 = 300;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunReport {
    /// Overdue notices sent.
    pub overdue: usize,
    /// Tickets closed after the reopen window.
    pub closed: usize,
}

/// Do everything due at `now` (tests pass the app clock's time).
pub async fn run_due(state: &AppState, now: i64) -> Result<RunReport> {
    state
        .db
        .write(move |c| {
            let due: Vec<(i64, i64, String)> = c
                .prepare(
                    "SELECT id, org_id, title FROM tickets WHERE status = 'open' AND answered = 0 AND held = 0
                       AND deadline_at <= ?1 AND overdue_notified_at IS NULL ORDER BY id LIMIT 5000",
                )?
                .query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut mark = c.prepare_cached("UPDATE tickets SET overdue_notified_at = ?1 WHERE id = ?2")?;
            for (id, org, title) in &due {
                staff_notice(c, *org, *id, "ticket.overdue", format!("诉求已超期未答复：{title}"), format!("ticket.overdue:{id}:{now}"))?;
                mark.execute(params![now, id])?;
            }
            let closed = c.execute(
                "UPDATE tickets SET status = 'closed', closed_at = ?1, updated_at = ?1 WHERE status = 'resolved' AND resolved_at <= ?2",
                params![now, now - REOPEN_WINDOW_SECS],
            )?;
            Ok(RunReport { overdue: due.len(), closed })
        })
        .await
}

/// Run [`run_due`] every [`INTERVAL_SECS`]; errors are logged, never fatal.
pub fn spawn(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(INTERVAL_SECS));
        loop {
            tick.tick().await;
            if let Err(e) = run_due(&state, state.clock.now()).await {
                tracing::warn!(error = %e, "ticket job failed");
            }
        }
    });
}
