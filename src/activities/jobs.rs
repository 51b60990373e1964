//! Background work: finish activities whose end has passed and remind approved registrants
//! an hour before the start. Each run is one writer job (one transaction) with set-based SQL.

use super::model::ActivityRow;
use crate::app::AppState;
use crate::error::Result;
use rusqlite::params;
use std::collections::HashMap;

/// Reminders go out when the start is at most this far away.
pub const REMIND_BEFORE_SECS: i64 = 3600;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunReport {
    /// Activities marked finished.
    pub finished: usize,
    /// Reminders sent.
    pub reminded: usize,
}

/// Do everything due at `now` in one writer job (public so tests can drive it).
pub async fn run_due(state: &AppState, now: i64) -> Result<RunReport> {
    state
        .db
        .write(move |c| {
            let finished = c.execute(
                "UPDATE activities SET status = 'finished', closed_at = ?1, updated_at = ?1 WHERE status = 'published' AND ends_at <= ?1",
                [now],
            )?;
            // Who needs a reminder: one query, activities loaded once each.
            let due: Vec<(i64, i64, i64)> = c
                .prepare(
                    "SELECT r.id, r.activity_id, r.member_id FROM activity_registrations r JOIN activities a ON a.id = r.activity_id
                     WHERE a.status = 'published' AND a.starts_at > ?1 AND a.starts_at <= ?1 + ?2
                       AND r.status = 'approved' AND r.reminded_at IS NULL
                     ORDER BY r.activity_id LIMIT 5000",
                )?
                .query_map(params![now, REMIND_BEFORE_SECS], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut acts: HashMap<i64, ActivityRow> = HashMap::new();
            for (_, a, _) in &due {
                if !acts.contains_key(a) {
                    acts.insert(*a, super::repo::load(c, *a)?);
                }
            }
            let mut mark = c.prepare_cached("UPDATE activity_registrations SET reminded_at = ?1 WHERE id = ?2")?;
            for (rid, a, m) in &due {
                let act = &acts[a];
                super::repo::notify(c, *m, act, "activity.reminder", format!("activity.reminder:{a}:{m}"), "即将开始", None)?;
                mark.execute(params![now, rid])?;
            }
            Ok(RunReport { finished, reminded: due.len() })
        })
        .await
}

/// Run [`run_due`] every `job_interval_secs`; errors are logged, never fatal.
pub fn spawn(state: &AppState) {
    let state = state.clone();
    let every = std::time::Duration::from_secs(state.cfg.activities.job_interval_secs.max(1));
    tokio::spawn(async move {
        // The first run comes one interval after start, not at once.
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match run_due(&state, crate::time::now()).await {
                Ok(r) if r.finished + r.reminded > 0 => {
                    tracing::info!(
                        finished = r.finished,
                        reminded = r.reminded,
                        "activity jobs"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "activity jobs failed"),
            }
        }
    });
}
