//! The manifest stored as the last entry of every archive: what the archive holds and how to
//! check it (checksum and size of every entry, row counts of the main tables at the snapshot).
//!
//! Entries are checked with SHA-256, except the database, which is where a backup spends its
//! time: format 3 archives check it with XXH3-128, format 2 with BLAKE3. On a 624 MiB database
//! SHA-256 (hardware instructions) took 0.5 s of a backup's 2.3 core-seconds, BLAKE3 about
//! 0.12 s fed 1 MiB at a time (twice that fed page by page: 4 KiB fills a quarter of its SIMD
//! lanes), XXH3-128 about 0.045 s. The checksum guards against damage, not tampering: nobody
//! who can rewrite a plain archive is stopped by a hash they can recompute, and an encrypted
//! archive is authenticated by its encryption (see `crypt`), chunk by chunk.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Format of the archives this version writes: 3 since the second half of 2026-12-07 (database
/// checked with XXH3-128); 2 earlier that day (BLAKE3); 1 before (every entry SHA-256). All are
/// read.
pub const FORMAT: u32 = 3;

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
    /// Checksum, stored as the field `sha256`, `blake3` or `xxh3`.
    #[serde(flatten)]
    pub checksum: Checksum,
}

/// The checksum of an entry, lowercase hex.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Checksum {
    /// SHA-256: every entry but a format 2 or 3 database.
    Sha256(String),
    /// BLAKE3: the database, format 2.
    Blake3(String),
    /// XXH3-128: the database, format 3.
    Xxh3(String),
}

impl Entry {
    /// A hasher of the kind this entry is checked with.
    pub fn hasher(&self) -> Hasher {
        match self.checksum {
            Checksum::Sha256(_) => Hasher::sha256(),
            Checksum::Blake3(_) => Hasher::blake3(),
            Checksum::Xxh3(_) => Hasher::xxh3(),
        }
    }

    /// True when `size` bytes with `checksum` (from [`Entry::hasher`]) are this entry.
    pub fn matches(&self, size: u64, checksum: &Checksum) -> bool {
        size == self.size && *checksum == self.checksum
    }
}

/// A running checksum of an entry.
pub enum Hasher {
    /// SHA-256 (boxed, as are the others: the states differ in size).
    Sha256(Box<ring::digest::Context>),
    /// BLAKE3 (its state is about 2 KiB).
    Blake3(Box<blake3::Hasher>),
    /// XXH3-128 (its state is about 600 bytes).
    Xxh3(Box<xxhash_rust::xxh3::Xxh3>),
}

impl Hasher {
    /// A SHA-256 hasher.
    pub fn sha256() -> Hasher {
        Hasher::Sha256(Box::new(ring::digest::Context::new(&ring::digest::SHA256)))
    }

    /// A BLAKE3 hasher.
    pub fn blake3() -> Hasher {
        Hasher::Blake3(Box::default())
    }

    /// An XXH3-128 hasher.
    pub fn xxh3() -> Hasher {
        Hasher::Xxh3(Box::default())
    }

    /// Add bytes.
    pub fn update(&mut self, b: &[u8]) {
        match self {
            Hasher::Sha256(c) => c.update(b),
            Hasher::Blake3(h) => {
                h.update(b);
            }
            Hasher::Xxh3(h) => h.update(b),
        }
    }

    /// The checksum of what was added.
    pub fn checksum(self) -> Checksum {
        match self {
            Hasher::Sha256(c) => Checksum::Sha256(hex::encode((*c).finish())),
            Hasher::Blake3(h) => Checksum::Blake3(h.finalize().to_hex().to_string()),
            Hasher::Xxh3(h) => Checksum::Xxh3(format!("{:032x}", h.digest128())),
        }
    }

    /// An entry for `size` bytes at `path` with this checksum.
    pub fn entry(self, path: &str, size: u64) -> Entry {
        Entry {
            path: path.to_string(),
            size,
            checksum: self.checksum(),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries are stored as `{"path", "size", "sha256" | "blake3" | "xxh3"}`: format 1 and 2
    /// manifests still read, and what is written reads back.
    #[test]
    fn entries_keep_their_field_names() {
        let old: Entry = serde_json::from_str(r#"{"path":"gonghui.db","size":3,"sha256":"ab"}"#)
            .expect("format 1 entry");
        assert_eq!(old.checksum, Checksum::Sha256("ab".into()));
        let two: Entry = serde_json::from_str(r#"{"path":"gonghui.db","size":3,"blake3":"cd"}"#)
            .expect("format 2 entry");
        assert_eq!(two.checksum, Checksum::Blake3("cd".into()));
        let mut h = Hasher::xxh3();
        h.update(b"abc");
        let e = h.entry(DB, 3);
        let text = serde_json::to_string(&e).unwrap();
        assert!(
            text.contains(r#""xxh3":""#) && !text.contains("sha256") && !text.contains("blake3"),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<Entry>(&text).unwrap(), e);
        assert!(e.matches(3, &e.checksum) && !e.matches(4, &e.checksum));
    }

    /// Each kind hashes to its published value, however the bytes were split: archives can be
    /// checked with other tools.
    #[test]
    fn checksums_are_the_standard_ones() {
        let sum = |mut h: Hasher| {
            h.update(b"a");
            h.update(b"bc");
            h.checksum()
        };
        assert_eq!(
            sum(Hasher::sha256()),
            Checksum::Sha256(
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".into()
            )
        );
        assert_eq!(
            sum(Hasher::blake3()),
            Checksum::Blake3(
                "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85".into()
            )
        );
        assert_eq!(
            sum(Hasher::xxh3()),
            Checksum::Xxh3(format!("{:032x}", xxhash_rust::xxh3::xxh3_128(b"abc")))
        );
    }
}
