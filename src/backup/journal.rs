//! The erasure journal `erasures.log`: one JSON line per member deletion, kept in the data
//! directory beside (not inside) the database. A backup taken before a deletion still holds
//! the person's data; restore re-applies every journalled deletion to the restored database,
//! so a deleted person does not come back (PIPL).
//!
//! The line is written and synced *before* the deletion's transaction: a crash in between
//! leaves a journalled deletion the member asked for, which restore then completes, never an
//! acknowledged deletion missing from the journal.

use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// File name inside the data directory.
pub const FILE: &str = "erasures.log";

/// One deletion.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Erasure {
    /// The member erased.
    pub member_id: i64,
    /// When, unix seconds.
    pub at: i64,
}

/// Path of the journal for `data_dir`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// Append a deletion and sync it to disk (blocking; call off the async executor).
pub fn append(data_dir: &Path, member_id: i64) -> std::io::Result<()> {
    let line = serde_json::to_string(&Erasure {
        member_id,
        at: crate::time::now(),
    })?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path(data_dir))?;
    f.write_all(format!("{line}\n").as_bytes())?;
    f.sync_data()
}

/// Read a journal; a missing file is empty. A line that does not parse (a torn last write) is
/// skipped and counted in the second value.
pub fn read(path: &Path) -> std::io::Result<(Vec<Erasure>, usize)> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(e),
    };
    let (mut out, mut bad) = (Vec::new(), 0);
    for line in std::io::BufReader::new(f).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Erasure>(&line) {
            Ok(e) => out.push(e),
            Err(_) => bad += 1,
        }
    }
    Ok((out, bad))
}

/// Write the union of `lists` (deduplicated by member, earliest time kept) to `dest`.
pub fn merge_into(dest: &Path, lists: &[Vec<Erasure>]) -> std::io::Result<Vec<Erasure>> {
    let mut all: Vec<Erasure> = lists.iter().flatten().copied().collect();
    all.sort_by_key(|e| (e.member_id, e.at));
    all.dedup_by_key(|e| e.member_id);
    all.sort_by_key(|e| (e.at, e.member_id));
    let mut f = std::fs::File::create(dest)?;
    for e in &all {
        writeln!(f, "{}", serde_json::to_string(e)?)?;
    }
    f.sync_all()?;
    Ok(all)
}

/// Re-apply `erasures` to a restored database (audit key installed on `c`): members still
/// present and not deleted are erased exactly as a self-deletion erases them, each audited.
/// Returns the number erased and the storage keys of their files, to remove from the store.
pub fn reapply(
    c: &mut rusqlite::Connection,
    erasures: &[Erasure],
) -> anyhow::Result<(usize, Vec<String>)> {
    let tx = c.transaction()?;
    let (mut n, mut keys) = (0, Vec::new());
    for e in erasures {
        let live: bool = tx.query_row(
            "SELECT count(*) > 0 FROM members WHERE id = ?1 AND status != 'deleted'",
            [e.member_id],
            |r| r.get(0),
        )?;
        if !live {
            continue;
        }
        keys.extend(
            crate::members::profile::erase(&tx, e.member_id).map_err(|x| anyhow::anyhow!("{x}"))?,
        );
        crate::audit::record(
            &tx,
            &crate::audit::Actor::system("restore"),
            &crate::audit::Entry::success(
                "member.erase_reapplied",
                "member",
                e.member_id,
                serde_json::json!({"deleted_at": crate::time::fmt(e.at)}),
            ),
        )
        .map_err(|x| anyhow::anyhow!("{x}"))?;
        n += 1;
    }
    tx.commit()?;
    Ok((n, keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_read_merge_dedupes_and_skips_torn_lines() {
        let dir =
            std::env::temp_dir().join(format!("gh-journal-{}", crate::crypto::random_token(6)));
        std::fs::create_dir_all(&dir).unwrap();
        append(&dir, 5).unwrap();
        append(&dir, 7).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(path(&dir))
            .unwrap()
            .write_all(b"{\"member_id\": 9")
            .unwrap();
        let (a, bad) = read(&path(&dir)).unwrap();
        assert_eq!((a.len(), bad), (2, 1));
        let b = vec![
            Erasure {
                member_id: 5,
                at: 1,
            },
            Erasure {
                member_id: 11,
                at: 2,
            },
        ];
        let merged = merge_into(&dir.join("m.log"), &[a, b]).unwrap();
        let ids: Vec<i64> = merged.iter().map(|e| e.member_id).collect();
        assert_eq!(ids, vec![5, 11, 7]);
        assert_eq!(read(&dir.join("m.log")).unwrap().0, merged);
        std::fs::remove_dir_all(&dir).ok();
    }
}
