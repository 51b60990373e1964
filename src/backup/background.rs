//! Backup work runs in the background: on a thread of its own, at a lower priority than the
//! threads serving requests.

/// Nice value of the backup's threads (0 is normal, 19 the lowest priority).
pub const BACKUP_NICE: i32 = 5;

/// Run the calling thread (and the threads it starts from now on) at [`BACKUP_NICE`], or
/// leave it lower if it already is. On Linux the nice value is per thread, so the server's own
/// threads keep theirs.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: getpriority and setpriority only read their integer arguments; `who == 0` is the
    // calling thread. A failed getpriority returns -1, which is below BACKUP_NICE anyway.
    unsafe {
        let now = libc::getpriority(libc::PRIO_PROCESS, 0);
        libc::setpriority(libc::PRIO_PROCESS, 0, now.max(BACKUP_NICE));
    }
}

/// Run `f` on a thread of its own at [`BACKUP_NICE`] and wait for it: backup work yields to
/// serving requests, and the calling thread (often one of a pool, reused for other work) keeps
/// its priority. Threads `f` starts (Zstandard workers, the passphrase derivation) inherit the
/// lower priority.
pub fn in_background<T: Send>(f: impl FnOnce() -> T + Send) -> anyhow::Result<T> {
    std::thread::scope(|s| {
        let thread = std::thread::Builder::new()
            .name("gonghui-backup".into())
            .spawn_scoped(s, || {
                lower_priority();
                f()
            })
            .map_err(|e| anyhow::anyhow!("无法启动备份线程: {e}"))?;
        thread
            .join()
            .map_err(|_| anyhow::anyhow!("备份线程异常退出"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The work gets the lower priority; the caller keeps its own.
    #[test]
    #[cfg(target_os = "linux")]
    fn only_the_background_thread_is_lowered() {
        // SAFETY: as in lower_priority.
        let nice = || unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let before = nice();
        let inside = in_background(nice).unwrap();
        assert_eq!(inside, before.max(BACKUP_NICE));
        assert_eq!(nice(), before);
        assert!(in_background(|| panic!("boom")).is_err());
    }
}
