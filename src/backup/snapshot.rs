//! A consistent copy of the live database, taken without stopping writes.
//!
//! `VACUUM INTO` runs as one statement inside one read transaction of a separate read-only
//! connection: in WAL mode the writer keeps committing meanwhile, and the copy is the
//! database exactly as of the moment the statement began. (A stepwise copy with the backup
//! API from a second connection restarts whenever the writer commits and never finishes under
//! load; see DEPENDENCIES.md.) It also leaves freed pages out, so erased data in free space
//! is not carried into the archive.

use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// Copy the database at `db` into the new file `dest`.
pub fn vacuum_into(db: &Path, dest: &Path) -> anyhow::Result<()> {
    if !db.exists() {
        anyhow::bail!("数据库不存在: {}", db.display());
    }
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    let dest = dest
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("备份路径必须是 UTF-8"))?;
    conn.execute("VACUUM INTO ?1", [dest])
        .map_err(|e| anyhow::anyhow!("数据库快照失败: {e}"))?;
    Ok(())
}

/// Storage keys of the live files recorded in the snapshot: exactly the objects the archived
/// database refers to, whatever was uploaded or erased since.
pub fn live_objects(snapshot: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    snapshot
        .prepare("SELECT storage_key, sha256 FROM files WHERE deleted_at IS NULL ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The copy is taken while another connection holds the write lock mid-transaction:
    /// it has the committed row only and the writer is not blocked.
    #[test]
    fn snapshot_sees_committed_rows_only_and_does_not_block_the_writer() {
        let dir = std::env::temp_dir().join(format!("gh-snap-{}", crate::crypto::random_token(6)));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("a.db");
        let w = crate::db::open_write_conn(&db, crate::config::Synchronous::Normal).unwrap();
        w.execute_batch("CREATE TABLE t(v); INSERT INTO t VALUES (1); BEGIN IMMEDIATE; INSERT INTO t VALUES (2);")
            .unwrap();
        let dest = dir.join("b.db");
        vacuum_into(&db, &dest).unwrap();
        w.execute_batch("INSERT INTO t VALUES (3); COMMIT;")
            .unwrap();
        let c = Connection::open(&dest).unwrap();
        let n: i64 = c
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        std::fs::remove_dir_all(&dir).ok();
    }
}
