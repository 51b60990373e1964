//! Backups made by the server: from the admin page or on the daily schedule, one at a time,
//! each verified right after it is written, recorded in `backups` with its result and in the
//! metrics; scheduled ones are thinned by the retention rule (`keep_daily`, `keep_weekly`).

use crate::app::AppState;
use crate::audit::{Actor, Entry};
use crate::error::{AppError, Result};
use chrono::{Datelike, FixedOffset, TimeZone};
use rusqlite::{OptionalExtension, params};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set while a backup runs in this process.
static RUNNING: AtomicBool = AtomicBool::new(false);

fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// Start a backup in the background; returns its row id at once. 409 while one is running.
pub async fn start(st: &AppState, kind: &'static str, actor: Actor) -> Result<i64> {
    if RUNNING
        .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        return Err(AppError::conflict("已有备份正在进行，请稍后再试"));
    }
    let encrypted = st.cfg.backup.passphrase().is_some();
    let destination = super::dest::code(st.cfg.backup.destination);
    let placeholder = format!("running-{}", crate::crypto::random_token(8));
    let by = if actor.kind == "admin" {
        actor.id
    } else {
        None
    };
    let inserted = st
        .db
        .write(move |c| {
            c.execute(
                "INSERT INTO backups (file_name, kind, status, encrypted, created_by, created_at, destination) VALUES (?1, ?2, 'running', ?3, ?4, ?5, ?6)",
                params![placeholder, kind, encrypted, by, crate::time::now(), destination],
            )?;
            let id = c.last_insert_rowid();
            crate::audit::record(c, &actor, &Entry::success("backup.create", "backup", id, serde_json::json!({"kind": kind, "encrypted": encrypted, "destination": destination})))?;
            Ok(id)
        })
        .await;
    let id = match inserted {
        Ok(id) => id,
        Err(e) => {
            RUNNING.store(false, Ordering::Release);
            return Err(e);
        }
    };
    let st2 = st.clone();
    tokio::spawn(async move {
        finish(&st2, id, kind).await;
        RUNNING.store(false, Ordering::Release);
    });
    Ok(id)
}

/// Write and verify the archive of row `id`, record the outcome; thin scheduled backups.
async fn finish(st: &AppState, id: i64, kind: &str) {
    let (cfg, store) = (st.cfg.clone(), st.storage.clone());
    let rt = tokio::runtime::Handle::current();
    let res = tokio::task::spawn_blocking(move || {
        let dest = super::dest::Dest::configured(&cfg)?;
        super::make_verified(&cfg, &store, &rt, &dest)
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))
    .and_then(|r| r);
    let now = crate::time::now();
    let (ok, upd) = match res {
        Ok((made, report)) => {
            let name = made
                .path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let counts = serde_json::to_string(&made.manifest.counts).unwrap_or_default();
            let msg = (!report.ok()).then(|| report.problems.join("；"));
            let ok = report.ok();
            (
                ok,
                (
                    Some(name),
                    Some(made.size as i64),
                    Some(counts),
                    Some(ok),
                    msg,
                ),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "backup failed");
            (
                false,
                (None, None, None, None, Some(format!("备份失败: {e}"))),
            )
        }
    };
    st.metrics.set_backup(ok, ok.then_some(now));
    if !ok {
        tracing::error!(
            id,
            "backup or its verification failed: see the backups page"
        );
    }
    let (name, size, counts, verify_ok, msg) = upd;
    let r = st
        .db
        .write(move |c| {
            c.execute(
                "UPDATE backups SET file_name = coalesce(?1, file_name), size_bytes = ?2, counts = ?3, status = ?4,
                    finished_at = ?5, verified_at = CASE WHEN ?6 IS NULL THEN NULL ELSE ?5 END, verify_ok = ?6, message = ?7
                 WHERE id = ?8",
                params![name, size, counts, if ok { "ok" } else { "failed" }, now, verify_ok, msg, id],
            )?;
            Ok(())
        })
        .await;
    if let Err(e) = r {
        tracing::error!(error = %e, "could not record the backup outcome");
    }
    if kind == "scheduled" && ok {
        prune(st).await;
    }
}

/// The ids kept among scheduled backups `(id, created_at)`: the newest of each of the last
/// `daily` days and of each of the last `weekly` ISO weeks (Beijing time).
pub fn retained(rows: &[(i64, i64)], daily: u32, weekly: u32) -> HashSet<i64> {
    let mut rows = rows.to_vec();
    rows.sort_by_key(|r| std::cmp::Reverse((r.1, r.0)));
    let mut keep = HashSet::new();
    let (mut days, mut weeks) = (Vec::new(), Vec::new());
    for (id, at) in rows {
        let t = cst().timestamp_opt(at, 0).single().unwrap_or_default();
        let day = t.date_naive();
        let week = (t.iso_week().year(), t.iso_week().week());
        if !days.contains(&day) && days.len() < daily as usize {
            days.push(day);
            keep.insert(id);
        }
        if !weeks.contains(&week) && weeks.len() < weekly as usize {
            weeks.push(week);
            keep.insert(id);
        }
    }
    keep
}

/// Delete scheduled backups (file and row) the retention rule does not keep.
async fn prune(st: &AppState) {
    let (d, w) = (st.cfg.backup.keep_daily, st.cfg.backup.keep_weekly);
    let rows = st
        .db
        .read(|c| {
            Ok(c.prepare("SELECT id, created_at, file_name, destination FROM backups WHERE kind = 'scheduled' AND status != 'running'")?
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await;
    let Ok(rows) = rows else { return };
    let pairs: Vec<(i64, i64)> = rows.iter().map(|r| (r.0, r.1)).collect();
    let keep = retained(&pairs, d, w);
    for (id, _, name, dest) in rows.into_iter().filter(|r| !keep.contains(&r.0)) {
        if let Err(e) =
            super::admin::remove(st, id, &name, &dest, Actor::system("backup-retention")).await
        {
            tracing::warn!(error = %e, id, "could not prune an old backup");
        }
    }
}

/// Unix time of today's scheduled run (Beijing time), or None when the schedule is off.
fn due_at(st: &AppState, now: i64) -> Option<i64> {
    let b = &st.cfg.backup;
    if !b.schedule_enabled {
        return None;
    }
    let mins = i64::from(b.schedule_minutes()?);
    let t = cst().timestamp_opt(now, 0).single()?;
    let midnight = cst()
        .from_local_datetime(&t.date_naive().and_hms_opt(0, 0, 0)?)
        .single()?;
    Some(midnight.timestamp() + mins * 60)
}

/// Mark backups interrupted by a restart failed, load the metrics, and run the daily schedule.
pub fn spawn(st: &AppState) {
    let st = st.clone();
    tokio::spawn(async move {
        let init = st
            .db
            .write(|c| {
                c.execute(
                    "UPDATE backups SET status = 'failed', message = '服务重启，备份中断', finished_at = ?1 WHERE status = 'running'",
                    [crate::time::now()],
                )?;
                let last: Option<(bool, i64)> = c
                    .query_row(
                        "SELECT verify_ok, verified_at FROM backups WHERE verify_ok IS NOT NULL ORDER BY verified_at DESC, id DESC LIMIT 1",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                let success: Option<i64> =
                    c.query_row("SELECT max(finished_at) FROM backups WHERE status = 'ok'", [], |r| r.get(0))?;
                Ok((last, success))
            })
            .await;
        if let Ok((last, success)) = init {
            if let Some((ok, _)) = last {
                st.metrics.set_backup(ok, success);
            } else if let Some(ts) = success {
                st.metrics.set_backup(true, Some(ts));
            }
        }
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
        loop {
            tick.tick().await;
            let now = crate::time::now();
            let Some(due) = due_at(&st, now) else {
                continue;
            };
            // Within the hour after the set time only: a server started in the afternoon
            // must not begin a full backup under the day's load; a missed night is caught
            // up the next night (and shows in the backup age metric meanwhile).
            if now < due || now >= due + 3600 {
                continue;
            }
            let done = st
                .db
                .read(move |c| {
                    Ok(c.query_row(
                        "SELECT count(*) > 0 FROM backups WHERE kind = 'scheduled' AND created_at >= ?1",
                        [due],
                        |r| r.get::<_, bool>(0),
                    )?)
                })
                .await
                .unwrap_or(true);
            if !done && let Err(e) = start(&st, "scheduled", Actor::system("backup-schedule")).await
            {
                tracing::warn!(error = %e, "scheduled backup not started");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_keeps_newest_per_day_and_per_week() {
        let day = 86_400;
        // 2025-12-01 (a Monday) 02:00 Beijing, one backup a day for 40 days, two on the last.
        let base = 1_764_525_600;
        let mut rows: Vec<(i64, i64)> = (0..40).map(|i| (i, base + i * day)).collect();
        rows.push((100, base + 39 * day + 60));
        let keep = retained(&rows, 7, 4);
        // Last day: only the newer of its two; the six days before it.
        for id in [100, 38, 37, 36, 35, 34, 33] {
            assert!(keep.contains(&id), "{id}");
        }
        assert!(!keep.contains(&39));
        // Weeks: the newest of each of the last four ISO weeks (Sundays 34, 27, 20 + current).
        for id in [27, 20] {
            assert!(keep.contains(&id), "{id}");
        }
        assert_eq!(keep.len(), 9, "{keep:?}");
        assert!(retained(&[], 7, 4).is_empty());
    }
}
