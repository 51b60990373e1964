//! Verified backups and restore (issue 23, parts 2–3).
//!
//! A backup is one archive file: a consistent snapshot of the database ([`snapshot`]), the file
//! store objects the snapshot refers to, the erasure journal, and — only when a backup
//! passphrase is configured, because the archive is then encrypted ([`crypt`]) — the key
//! files; with a [`manifest`] of checksum and size for every entry. The search index is left
//! out: it is rebuilt from the database when the server starts. Every backup is verified right
//! after it is written ([`verify`]); [`restore`] re-checks, restores beside the live data and
//! re-applies the erasure [`journal`]. The server holds a [`lock`] that restore respects.

pub mod admin;
pub mod alert;
pub mod archive;
pub mod background;
pub mod cli;
pub mod crypt;
pub mod dest;
pub mod jobs;
pub mod journal;
pub mod lock;
pub mod manifest;
pub mod restore;
pub mod snapshot;
pub mod verify;
pub mod writeback;

use crate::app::AppState;
use crate::config::Config;
use manifest::Manifest;
use std::path::{Path, PathBuf};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The admin routes of this domain.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(admin::list, admin::create))
        .routes(routes!(admin::verify))
        .routes(routes!(admin::download))
        .routes(routes!(admin::delete))
}

/// A finished archive.
#[derive(Debug)]
pub struct Made {
    /// Where it was written (its file name is its name at the destination).
    pub path: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// Its size in bytes.
    pub size: u64,
    /// Seconds the database pages took into the archive (read, compressed, hashed).
    pub snapshot_secs: f64,
    /// Seconds the whole archive took, the database included.
    pub archive_secs: f64,
}

/// Archive file name for a snapshot at `ts`: Beijing time, `.zip` or `.zip.enc`.
pub fn file_name(ts: i64, encrypted: bool) -> String {
    let t = chrono::DateTime::from_timestamp(ts, 0)
        .unwrap_or_default()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset"));
    let ext = if encrypted { "zip.enc" } else { "zip" };
    format!("gonghui-{}.{ext}", t.format("%Y%m%d-%H%M%S"))
}

/// True when `name` looks like an archive this program wrote (guards download and delete
/// against path tricks in stored names).
pub fn is_archive_name(name: &str) -> bool {
    name.starts_with("gonghui-")
        && (name.ends_with(".zip") || name.ends_with(".zip.enc"))
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
}

/// Make an archive of the installation `cfg` in `out_dir` (blocking: run it off the async
/// executor; `rt` drives the file store reads).
pub fn create(
    cfg: &Config,
    store: &opendal::Operator,
    rt: &tokio::runtime::Handle,
    out_dir: &Path,
) -> anyhow::Result<Made> {
    // Everything, from the snapshot's counts to the final fsync, at the backup's priority.
    background::in_background(|| create_here(cfg, store, rt, out_dir))?
}

fn create_here(
    cfg: &Config,
    store: &opendal::Operator,
    rt: &tokio::runtime::Handle,
    out_dir: &Path,
) -> anyhow::Result<Made> {
    crate::config::ensure_dir(out_dir)?;
    let pass = cfg.backup.passphrase();
    let now = crate::time::now();
    let mut name = file_name(now, pass.is_some());
    let mut n = 1;
    while out_dir.join(&name).exists() || archive::partial_path(&out_dir.join(&name)).exists() {
        n += 1;
        let stem = file_name(now, false);
        let stem = stem.trim_end_matches(".zip");
        name = format!(
            "{stem}-{n}.{}",
            if pass.is_some() { "zip.enc" } else { "zip" }
        );
    }
    let out = out_dir.join(&name);
    let t = std::time::Instant::now();
    let snap = snapshot::Snapshot::begin(&cfg.db_path())?;
    let (m, objects) = {
        let c = snap.conn();
        let m = Manifest {
            format: manifest::FORMAT,
            app_version: env!("CARGO_PKG_VERSION").into(),
            schema_version: manifest::schema_version(c),
            created_at: now,
            counts: manifest::counts(c)?,
            ..Manifest::default()
        };
        (m, snapshot::live_objects(c)?)
    };
    let keys_dir = cfg.keys_dir();
    let erasures = journal::path(&cfg.data_dir);
    let src = archive::Source {
        db: snap,
        keys_dir: pass.map(|_| keys_dir.as_path()),
        erasures: Some(&erasures),
        objects,
        store,
        rt,
    };
    let (manifest, snapshot_secs) =
        archive::write(&out, pass, cfg.backup.compression_level, src, m)?;
    let archive_secs = t.elapsed().as_secs_f64();
    let size = std::fs::metadata(&out)?.len();
    Ok(Made {
        path: out,
        manifest,
        size,
        snapshot_secs,
        archive_secs,
    })
}

/// Make an archive in the backup directory, verify it there, and (when it passed) keep it in
/// `dest` (blocking). A failed archive stays in the backup directory for inspection.
pub fn make_verified(
    cfg: &Config,
    store: &opendal::Operator,
    rt: &tokio::runtime::Handle,
    dest: &dest::Dest,
) -> anyhow::Result<(Made, verify::Report)> {
    let dir = match dest {
        dest::Dest::Local(d) => d.clone(),
        dest::Dest::S3 { .. } => cfg.backup_dir(),
    };
    let mut made = create(cfg, store, rt, &dir)?;
    let key = live_audit_key(cfg);
    let report = verify::verify(&made.path, cfg.backup.passphrase(), key.as_deref(), &dir);
    if report.ok() {
        let name = dest.store(rt, &made.path)?;
        made.path.set_file_name(name);
    }
    Ok((made, report))
}

/// The live audit key, when the installation has one (verifies plain archives' audit chain).
pub fn live_audit_key(cfg: &Config) -> Option<Vec<u8>> {
    let text = std::fs::read_to_string(cfg.keys_dir().join("audit.key")).ok()?;
    hex::decode(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_names_are_recognised_and_path_tricks_are_not() {
        let n = file_name(1_764_550_800, true);
        assert_eq!(n, "gonghui-20251201-090000.zip.enc");
        assert!(is_archive_name(&n) && is_archive_name("gonghui-20251201-090000-2.zip"));
        for bad in [
            "../gonghui-1.zip",
            "gonghui-1.zip/../../x",
            "gonghui-1.tar",
            "x.zip",
        ] {
            assert!(!is_archive_name(bad), "{bad}");
        }
    }
}
