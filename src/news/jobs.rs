//! Background jobs: publishing scheduled articles, flushing view counts.

use super::repo;
use crate::app::AppState;
use crate::audit::{self, Actor, Entry};
use crate::error::Result;
use rusqlite::{Connection, params};
use serde_json::json;
use std::time::Duration;

/// Publish every scheduled article whose time has come by `now` (one transaction, audited);
/// returns their ids. The publication time is the planned one.
pub fn publish_due(c: &Connection, now: i64) -> Result<Vec<i64>> {
    let mut st = c.prepare_cached(
        "SELECT id FROM news WHERE status = 'scheduled' AND deleted_at IS NULL AND publish_at <= ?1 ORDER BY publish_at, id",
    )?;
    let ids = st
        .query_map([now], |r| r.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let actor = Actor::system("news-scheduler");
    for id in &ids {
        c.execute(
            "UPDATE news SET status = 'published', published_at = publish_at, updated_at = ?1 WHERE id = ?2",
            params![now, id],
        )?;
        repo::bump(c, *id)?;
        audit::record(
            c,
            &actor,
            &Entry::success("news.publish", "news", id, json!({"scheduled": true})),
        )?;
    }
    Ok(ids)
}

/// One scheduler pass at `now`: publish what is due and make it searchable.
pub async fn run_scheduler(st: &AppState, now: i64) -> Result<Vec<i64>> {
    let ids = st.db.write(move |c| publish_due(c, now)).await?;
    if !ids.is_empty() {
        tracing::info!(count = ids.len(), "scheduled news published");
        st.news.search.sync(ids.clone()).await;
    }
    Ok(ids)
}

/// Start the scheduler (every `news.scheduler_interval_secs`) and the view-count flusher.
pub fn spawn(state: &AppState) {
    let st = state.clone();
    let every = Duration::from_secs(st.cfg.news.scheduler_interval_secs.max(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = run_scheduler(&st, crate::time::now()).await {
                tracing::error!(error = %e, "news scheduler failed");
            }
        }
    });
    let st = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            if let Err(e) = st.news.views.flush(&st.db).await {
                tracing::error!(error = %e, "news view counts not saved");
            }
        }
    });
}
