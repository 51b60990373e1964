//! Per-account limits on member uploads: files and bytes per day, files per minute. Counted
//! from the `files` table inside the writer job that records an upload, so parallel uploads
//! cannot slip past the limit together.

use crate::error::{AppError, Result};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

/// What one member account may upload (`uploads.*`, env `GONGHUI_UPLOADS__…`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UploadsConfig {
    /// Files one member may upload in 24 hours.
    pub member_daily_files: i64,
    /// Bytes one member may upload in 24 hours.
    pub member_daily_bytes: i64,
    /// Files one member may upload in one minute.
    pub member_per_minute: i64,
}

impl Default for UploadsConfig {
    fn default() -> Self {
        UploadsConfig {
            member_daily_files: 30,
            member_daily_bytes: 60 * 1024 * 1024,
            member_per_minute: 5,
        }
    }
}

impl UploadsConfig {
    /// Every limit must be positive.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.member_daily_files <= 0
            || self.member_daily_bytes <= 0
            || self.member_per_minute <= 0
        {
            anyhow::bail!(
                "配置无效: uploads.member_daily_files、member_daily_bytes 与 member_per_minute 必须大于 0"
            );
        }
        Ok(())
    }
}

/// The member's uploads (deleted ones included: deleting does not give the quota back) in the
/// last day: count, bytes, and count in the last minute.
fn usage(c: &Connection, member: i64, now: i64) -> Result<(i64, i64, i64)> {
    Ok(c.prepare_cached(
        "SELECT count(*), coalesce(sum(size), 0), coalesce(sum(created_at > ?3), 0) FROM files
             WHERE owner_type = 'member' AND owner_id = ?1 AND created_at > ?2",
    )?
    .query_row(params![member, now - 86_400, now - 60], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?)
}

/// Why member `member` may not store `size` more bytes now, if so.
pub fn refusal(
    c: &Connection,
    cfg: &UploadsConfig,
    member: i64,
    size: i64,
    now: i64,
) -> Result<Option<AppError>> {
    let (files, bytes, last_minute) = usage(c, member, now)?;
    if last_minute >= cfg.member_per_minute {
        return Ok(Some(AppError::RateLimited));
    }
    if files >= cfg.member_daily_files {
        return Ok(Some(AppError::conflict_code(
            "upload_quota_exceeded",
            format!(
                "24 小时内最多上传 {} 个文件，请稍后再试",
                cfg.member_daily_files
            ),
        )));
    }
    if bytes + size > cfg.member_daily_bytes {
        return Ok(Some(AppError::conflict_code(
            "upload_quota_exceeded",
            format!(
                "24 小时内上传的文件总大小不能超过 {} MB，请稍后再试",
                cfg.member_daily_bytes >> 20
            ),
        )));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        crate::migrations::apply(&mut c).unwrap();
        c
    }

    fn add(c: &Connection, member: i64, size: i64, at: i64) {
        c.execute(
            "INSERT INTO files (purpose, visibility, content_type, size, sha256, storage_key, owner_type, owner_id, created_at)
             VALUES ('image', 'public', 'image/png', ?1, '', hex(randomblob(8)), 'member', ?2, ?3)",
            params![size, member, at],
        )
        .unwrap();
    }

    /// Per minute, per day by count, per day by bytes; other members and old uploads do not count.
    #[test]
    fn limits_count_only_the_members_recent_uploads() {
        let c = db();
        let cfg = UploadsConfig {
            member_daily_files: 3,
            member_daily_bytes: 1000,
            member_per_minute: 2,
        };
        let now = 1_000_000;
        assert!(refusal(&c, &cfg, 1, 10, now).unwrap().is_none());
        add(&c, 1, 10, now - 5);
        add(&c, 1, 10, now - 4);
        assert!(matches!(
            refusal(&c, &cfg, 1, 10, now).unwrap(),
            Some(AppError::RateLimited)
        ));
        assert!(refusal(&c, &cfg, 2, 10, now).unwrap().is_none());
        assert!(refusal(&c, &cfg, 1, 10, now + 120).unwrap().is_none());
        add(&c, 1, 10, now + 100);
        assert!(matches!(
            refusal(&c, &cfg, 1, 10, now + 200).unwrap(),
            Some(AppError::Conflict {
                code: "upload_quota_exceeded",
                ..
            })
        ));
        assert!(refusal(&c, &cfg, 1, 10, now + 90_000).unwrap().is_none());
        assert!(matches!(
            refusal(&c, &cfg, 2, 1001, now).unwrap(),
            Some(AppError::Conflict {
                code: "upload_quota_exceeded",
                ..
            })
        ));
    }
}
