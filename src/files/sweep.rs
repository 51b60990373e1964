//! The orphan sweep: removes stored objects that no live `files` row refers to.
//!
//! An upload writes its object first and commits its row after, and an erasure commits the
//! row's deletion first and removes the object after (see [`super::erase`]). A process killed
//! between the two steps leaves an object behind: bytes nobody can reach, and for an erased
//! member personal data that must not outlive the account. At every start, and daily after,
//! this sweep lists the store and removes such objects.
//!
//! Only keys of the shape the upload path generates (`purpose/YYYY/MM/<32 hex>.<ext>`) are
//! touched, so anything else kept in the same bucket is safe. An object is removed only when
//! it was last modified before `cutoff`: uploads in flight in this process are never raced.

use crate::app::AppState;
use crate::error::{AppError, Result};
use futures::TryStreamExt;
use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Keys looked up in the database per read.
const BATCH: usize = 500;
/// Between two sweeps after the first (run at start).
const EVERY: Duration = Duration::from_secs(24 * 3600);
/// A periodic sweep only removes objects older than this: longer than any upload's gap
/// between storing the object and committing its row.
const GRACE_SECS: u64 = 3600;

/// What one sweep saw and did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Objects of the upload key shape examined.
    pub examined: usize,
    /// Objects removed: no row, or the row is deleted.
    pub removed: usize,
    /// Orphans kept because they are newer than the cutoff, or could not be removed.
    pub kept: usize,
}

/// True for keys the upload path generates, e.g. `image/2026/12/<32 hex>.png`.
pub fn is_upload_key(key: &str) -> bool {
    let parts: Vec<&str> = key.split('/').collect();
    let [purpose, year, month, name] = parts.as_slice() else {
        return false;
    };
    let Some((stem, ext)) = name.split_once('.') else {
        return false;
    };
    super::model::purpose(purpose).is_some()
        && year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && month.len() == 2
        && month.bytes().all(|b| b.is_ascii_digit())
        && stem.len() == 32
        && stem.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && !ext.is_empty()
        && ext.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Of `keys`, those without a live row.
async fn unreferenced(st: &AppState, keys: Vec<String>) -> Result<Vec<String>> {
    st.db
        .read(move |c| {
            let marks = vec!["?"; keys.len()].join(",");
            let sql = format!(
                "SELECT storage_key FROM files WHERE deleted_at IS NULL AND storage_key IN ({marks})"
            );
            let live: HashSet<String> = c
                .prepare(&sql)?
                .query_map(rusqlite::params_from_iter(keys.iter()), |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(keys.into_iter().filter(|k| !live.contains(k)).collect())
        })
        .await
}

/// Remove the orphans among `keys` that were last modified before `cutoff`.
async fn settle(
    st: &AppState,
    keys: Vec<String>,
    cutoff: SystemTime,
    r: &mut Report,
) -> Result<()> {
    for key in unreferenced(st, keys).await? {
        let modified = match st.storage.stat(&key).await {
            Ok(m) => m.last_modified().map(SystemTime::from),
            // Gone in between (an erasure finished its own removal): nothing to do.
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => continue,
            Err(e) => return Err(AppError::internal(e)),
        };
        // Unknown age counts as new: never remove what might be an upload in flight.
        if modified.is_none_or(|m| m >= cutoff) {
            r.kept += 1;
            continue;
        }
        match st.storage.delete(&key).await {
            Ok(()) => r.removed += 1,
            Err(e) => {
                r.kept += 1;
                tracing::warn!(error = %e, "could not remove an orphan object");
            }
        }
    }
    Ok(())
}

/// One sweep over the whole store, removing orphans older than `cutoff`.
pub async fn sweep(st: &AppState, cutoff: SystemTime) -> Result<Report> {
    let mut report = Report::default();
    let mut lister = st
        .storage
        .lister_with("")
        .recursive(true)
        .await
        .map_err(AppError::internal)?;
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(entry) = lister.try_next().await.map_err(AppError::internal)? {
        let key = entry.path();
        if !entry.metadata().is_file() || !is_upload_key(key) {
            continue;
        }
        report.examined += 1;
        batch.push(key.to_string());
        if batch.len() == BATCH {
            settle(st, std::mem::take(&mut batch), cutoff, &mut report).await?;
        }
    }
    if !batch.is_empty() {
        settle(st, batch, cutoff, &mut report).await?;
    }
    Ok(report)
}

/// Run one sweep, log and count it.
async fn run_once(st: &AppState, cutoff: SystemTime) {
    match sweep(st, cutoff).await {
        Ok(r) => {
            if r.removed > 0 || r.kept > 0 {
                tracing::info!(
                    examined = r.examined,
                    removed = r.removed,
                    kept = r.kept,
                    "orphan objects swept"
                );
            }
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            st.metrics.set_orphan_sweep(r.removed, now);
        }
        Err(e) => tracing::warn!(error = %e, "orphan sweep failed"),
    }
}

/// Sweep now (objects modified before this process started) and then daily.
pub fn spawn(state: &AppState) {
    let st = state.clone();
    // Objects written before now belong to an earlier process: no request of ours is mid-way.
    // File times come from the kernel's coarse clock, a tick behind `now()`: the margin keeps
    // an object written just after this instant from looking older than it.
    let started = SystemTime::now() - Duration::from_millis(250);
    tokio::spawn(async move {
        run_once(&st, started).await;
        loop {
            tokio::time::sleep(EVERY).await;
            run_once(&st, SystemTime::now() - Duration::from_secs(GRACE_SECS)).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::is_upload_key;

    #[test]
    fn only_generated_upload_keys_are_candidates() {
        assert!(is_upload_key(
            "image/2026/12/0123456789abcdef0123456789abcdef.png"
        ));
        assert!(is_upload_key(
            "attachment/2025/01/0123456789abcdef0123456789abcdef.pdf"
        ));
        for k in [
            "backups/2026/12/0123456789abcdef0123456789abcdef.tar",
            "image/2026/12/0123456789ABCDEF0123456789abcdef.png",
            "image/2026/12/short.png",
            "image/26/12/0123456789abcdef0123456789abcdef.png",
            "image/2026/12/sub/0123456789abcdef0123456789abcdef.png",
            "image/2026/12/0123456789abcdef0123456789abcdef",
            ".partial/0123456789abcdef0123456789abcdef.png",
            "gonghui-backup.tar",
        ] {
            assert!(!is_upload_key(k), "{k}");
        }
    }
}
