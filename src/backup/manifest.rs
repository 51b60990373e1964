//! The manifest stored as the last entry of every archive: what the archive holds and how to
//! check it (sha256 and size of every entry, row counts of the main tables at the snapshot).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Name of the manifest entry.
pub const NAME: &str = "manifest.json";
/// Name of the database entry (in the manifest, and in archives made before 2026-12-06).
pub const DB: &str = "gonghui.db";
/// Name under which archives hold the database since 2026-12-06: stored, not compressed by the
/// zip format, because its content is one Zstandard stream compressed on several threads.
pub const DB_ZST: &str = "gonghui.db.zst";
/// Prefix of file store objects.
pub const FILES: &str = "files/";
/// Prefix of key files (only in encrypted archives).
pub const KEYS: &str = "keys/";
/// The erasure journal as it was at the snapshot.
pub const ERASURES: &str = "erasures.log";

/// Tables whose row counts are recorded and compared on verification.
pub const COUNTED: &[&str] = &[
    "orgs",
    "admins",
    "members",
    "files",
    "news",
    "activities",
    "activity_registrations",
    "messages",
    "audit_logs",
];

/// One archived entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the archive.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// sha256, lowercase hex.
    pub sha256: String,
}

/// The archive's table of contents.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// Archive format version.
    pub format: u32,
    /// Version of the program that wrote it.
    pub app_version: String,
    /// Last migration applied to the archived database.
    pub schema_version: String,
    /// Snapshot time, unix seconds.
    pub created_at: i64,
    /// True when the archive file is encrypted with the backup passphrase.
    pub encrypted: bool,
    /// True when the key files are inside (only ever in encrypted archives).
    pub keys_included: bool,
    /// Row counts per table at the snapshot.
    pub counts: BTreeMap<String, i64>,
    /// Every entry but the manifest itself.
    pub entries: Vec<Entry>,
    /// File rows whose object was gone from the store when the backup ran (deleted meanwhile).
    pub missing_objects: Vec<String>,
}

/// Row counts of [`COUNTED`] tables that exist in `c`.
pub fn counts(c: &rusqlite::Connection) -> rusqlite::Result<BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    for t in COUNTED {
        let exists: bool = c.query_row(
            "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [t],
            |r| r.get(0),
        )?;
        if exists {
            // Table names come from the constant list above, never from input.
            let n: i64 = c.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))?;
            out.insert((*t).to_string(), n);
        }
    }
    Ok(out)
}

/// Name of the last applied migration in `c`.
pub fn schema_version(c: &rusqlite::Connection) -> String {
    crate::migrations::status(c)
        .ok()
        .and_then(|v| v.into_iter().rev().find(|(_, at)| at.is_some()))
        .map(|(m, _)| m.name.to_string())
        .unwrap_or_default()
}

/// True when an archive path is safe to unpack (no absolute path, no `..`).
pub fn safe_path(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.contains('\\')
        && p.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
}
