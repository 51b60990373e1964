//! The admin notice of a failed backup: the dashboard shows it as a banner to system admins
//! (`backup:manage` over the whole tree) until a later backup or re-verification passes.
//! Derived from the `backups` rows, so it survives restarts and clears itself.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

/// A backup problem to show.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BackupAlert {
    /// The backup concerned (none when the alert is about age).
    pub backup_id: Option<i64>,
    /// When it failed (or the last good backup, for age).
    pub at: Option<String>,
    /// What is wrong (Chinese).
    pub message: String,
}

/// The newest finished backup: id, status, verify_ok, when, message.
type LastEvent = (i64, String, Option<bool>, Option<i64>, Option<String>);

/// Days without a good backup (while the schedule is on) after which the age alone is an alert.
const STALE_SECS: i64 = 2 * 86_400;

/// The current alert: the newest finished backup event failed, or (with the schedule on) the
/// last good backup is older than two days.
pub fn current(
    c: &Connection,
    schedule_on: bool,
    now: i64,
) -> rusqlite::Result<Option<BackupAlert>> {
    let last: Option<LastEvent> = c
        .query_row(
            "SELECT id, status, verify_ok, coalesce(verified_at, finished_at), message FROM backups
             WHERE status != 'running' ORDER BY coalesce(verified_at, finished_at) DESC, id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    if let Some((id, status, verify_ok, at, msg)) = last
        && (status == "failed" || verify_ok == Some(false))
    {
        let what = if verify_ok == Some(false) {
            "备份校验失败"
        } else {
            "备份失败"
        };
        return Ok(Some(BackupAlert {
            backup_id: Some(id),
            at: crate::time::fmt_opt(at),
            message: format!(
                "{what}（备份 #{id}）：{}。请到“数据备份”页面查看并重新备份",
                msg.unwrap_or_default()
            ),
        }));
    }
    if !schedule_on {
        return Ok(None);
    }
    let good: Option<i64> = c.query_row(
        "SELECT max(finished_at) FROM backups WHERE status = 'ok' AND verify_ok = 1",
        [],
        |r| r.get(0),
    )?;
    Ok(good.filter(|t| now - t > STALE_SECS).map(|t| BackupAlert {
        backup_id: None,
        at: Some(crate::time::fmt(t)),
        message: format!(
            "已超过 {} 天没有成功的备份（最近一次 {}），请检查定时备份",
            (now - t) / 86_400,
            crate::time::fmt(t)
        ),
    }))
}
