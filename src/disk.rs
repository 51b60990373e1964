//! Free space of the data directory, and what the server does when it runs out.
//!
//! A county appliance fills its disk sooner or later (backups, uploads, logs). Writes must then
//! fail cleanly — `503 disk_full` with a Chinese message, nothing half-written — while reads go
//! on, and resume by themselves once space is freed. Two mechanisms, because either alone has
//! gaps:
//! - before: [`guard`] refuses state-changing requests while free space is below
//!   `limits.min_free_bytes`, so a write rarely starts on a nearly full disk;
//! - during: SQLite's `SQLITE_FULL` and the OS's `ENOSPC` are mapped to the same 503
//!   ([`crate::error::AppError::DiskFull`]); SQLite rolls the transaction back, and uploads are
//!   written to a temp dir and renamed into place, so a failed one leaves only a temp file that
//!   [`sweep_upload_temp`] removes at the next start.

use crate::app::AppState;
use crate::error::AppError;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// How long a measurement is reused (ms): a write-heavy minute costs a statvfs per 500 ms, not
/// one per request.
const PROBE_EVERY_MS: i64 = 500;

/// Bytes available to this process on the filesystem holding `path`.
pub fn free_bytes(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `s` a properly sized out-parameter.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut s) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    #[allow(clippy::unnecessary_cast)] // the field types differ between libc targets
    Ok(s.f_bavail as u64 * s.f_frsize as u64)
}

/// A cached free-space probe of the data directory.
#[derive(Default)]
pub struct Probe {
    /// Last measured free bytes.
    free: AtomicU64,
    /// When it was measured (ms since the epoch); 0 = never.
    at_ms: AtomicI64,
    /// When a write last failed for want of space (ms since the epoch); 0 = never.
    full_at_ms: AtomicI64,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Probe {
    /// Free bytes of `dir`, measured at most every [`PROBE_EVERY_MS`]. An unreadable
    /// filesystem counts as plenty: the probe must never be the reason writes stop.
    pub fn free(&self, dir: &Path) -> u64 {
        let now = now_ms();
        if now - self.at_ms.load(Ordering::Relaxed) < PROBE_EVERY_MS {
            return self.free.load(Ordering::Relaxed);
        }
        let free = free_bytes(dir).unwrap_or(u64::MAX);
        self.free.store(free, Ordering::Relaxed);
        self.at_ms.store(now, Ordering::Relaxed);
        free
    }

    /// Remember that a write just failed with a full disk, and measure again next time.
    pub fn note_full(&self) {
        self.full_at_ms.store(now_ms(), Ordering::Relaxed);
        self.at_ms.store(0, Ordering::Relaxed);
    }

    /// Low on space now, or a write failed for want of space in the last 10 s.
    pub fn degraded(&self, dir: &Path, min_free: u64) -> bool {
        self.free(dir) < min_free || now_ms() - self.full_at_ms.load(Ordering::Relaxed) < 10_000
    }
}

/// True when an I/O error means "no space left" (ENOSPC, or EDQUOT for a full quota).
pub fn is_enospc(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT))
        || e.kind() == std::io::ErrorKind::StorageFull
}

/// True when an error's text says the disk is full (errors that crossed a library boundary
/// as text, such as opendal's and tantivy's wrapping of `io::Error`).
pub fn text_says_full(s: &str) -> bool {
    s.contains("No space left on device")
        || s.contains("os error 28")
        || s.contains("database or disk is full")
}

/// Middleware: refuse requests that change state while the data dir is below its free-space
/// floor. Reads pass: a full disk must not take the office's data out of reach.
pub async fn guard(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let writes = !matches!(
        *req.method(),
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
    );
    if writes && st.disk.free(&st.cfg.data_dir) < st.cfg.limits.min_free_bytes {
        return AppError::DiskFull.into_response();
    }
    let resp = next.run(req).await;
    if resp.status() == http::StatusCode::SERVICE_UNAVAILABLE
        && resp.headers().contains_key(DISK_FULL_HEADER)
    {
        st.disk.note_full();
    }
    resp
}

/// Response header marking a 503 as a full disk, so the guard can note it without parsing.
pub const DISK_FULL_HEADER: &str = "x-gonghui-disk-full";

/// Directory inside the local file store (so on the same filesystem, for the rename) where
/// uploads are written before they are renamed into place. Stored keys never start with a dot.
pub fn upload_temp_dir(files_dir: &Path) -> std::path::PathBuf {
    files_dir.join(".partial")
}

/// Remove what interrupted uploads left in the temp dir (a crash or a full disk between the
/// write and the rename). Runs at start, before serving, so no upload is in flight. Returns
/// the number of files removed.
pub fn sweep_upload_temp(files_dir: &Path) -> std::io::Result<usize> {
    let dir = upload_temp_dir(files_dir);
    let mut removed = 0;
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let p = entry.path();
        let r = if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
        match r {
            Ok(()) => removed += 1,
            Err(e) => {
                tracing::warn!(path = %p.display(), error = %e, "cannot remove upload temp file")
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_bytes_of_a_real_dir_is_positive() {
        let d = tempfile::tempdir().unwrap();
        assert!(free_bytes(d.path()).unwrap() > 0);
        assert!(free_bytes(&d.path().join("missing")).is_err());
    }

    #[test]
    fn enospc_is_recognised_in_both_forms() {
        assert!(is_enospc(&std::io::Error::from_raw_os_error(libc::ENOSPC)));
        assert!(!is_enospc(&std::io::Error::from_raw_os_error(libc::EACCES)));
        assert!(text_says_full(
            "write failed: No space left on device (os error 28)"
        ));
        assert!(!text_says_full("permission denied"));
    }

    #[test]
    fn the_sweep_removes_leftovers_only_in_the_temp_dir() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(sweep_upload_temp(d.path()).unwrap(), 0);
        let t = upload_temp_dir(d.path());
        std::fs::create_dir_all(t.join("sub")).unwrap();
        std::fs::write(t.join("a.tmp"), b"half").unwrap();
        std::fs::write(d.path().join("keep"), b"x").unwrap();
        assert_eq!(sweep_upload_temp(d.path()).unwrap(), 2);
        assert!(d.path().join("keep").exists());
        assert_eq!(std::fs::read_dir(&t).unwrap().count(), 0);
    }

    #[test]
    fn a_noted_failure_degrades_for_a_while() {
        let d = tempfile::tempdir().unwrap();
        let p = Probe::default();
        assert!(!p.degraded(d.path(), 0));
        p.note_full();
        assert!(p.degraded(d.path(), 0));
        assert!(p.degraded(d.path(), u64::MAX));
    }
}
