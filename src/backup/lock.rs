//! `gonghui.lock` in the data directory: held (an exclusive `flock`) by a running server and by
//! restore, so a restore cannot swap the database under a live server. The kernel releases
//! the lock when the process ends, however it ends, so a crash leaves no stale lock.

use std::fs::File;
use std::path::Path;

/// File name inside the data directory.
pub const FILE: &str = "gonghui.lock";

/// The held lock; released on drop.
#[derive(Debug)]
pub struct DataLock(#[allow(dead_code)] File);

/// Take the lock on `data_dir`, or say why not.
pub fn acquire(data_dir: &Path) -> anyhow::Result<DataLock> {
    crate::config::ensure_dir(data_dir)?;
    let path = data_dir.join(FILE);
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| anyhow::anyhow!("无法打开锁文件 {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a file descriptor this function owns; no memory is involved.
        let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            anyhow::bail!(
                "数据目录 {} 正被运行中的 gonghui 服务（或另一个恢复任务）使用，请先停止服务",
                data_dir.display()
            );
        }
    }
    Ok(DataLock(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = std::env::temp_dir().join(format!("gh-lock-{}", crate::crypto::random_token(6)));
        let a = acquire(&dir).unwrap();
        let e = acquire(&dir).unwrap_err().to_string();
        assert!(e.contains("正被运行中的"), "{e}");
        drop(a);
        acquire(&dir).unwrap();
        std::fs::remove_dir_all(&dir).ok();
    }
}
