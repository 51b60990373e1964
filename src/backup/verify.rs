//! Checking an archive: decrypt, read every entry against the manifest's checksum and size, then
//! check the unpacked database (`integrity_check`, `foreign_key_check`, row counts against the
//! manifest, the keyed audit chain). Restore runs the same checks before touching anything.

use super::crypt::{self, CryptError};
use super::manifest::{self, Manifest};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Outcome of a verification: problems found (empty = passed) and what was checked.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Report {
    /// What passed, one line each (Chinese).
    pub checks: Vec<String>,
    /// What failed, one line each (Chinese), naming the entry or table.
    pub problems: Vec<String>,
}

impl Report {
    /// True when nothing failed.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// An archive unpacked into a work directory.
pub struct Unpacked {
    /// The manifest.
    pub manifest: Manifest,
    /// The work directory (database at `gonghui.db`, objects under `files/`, keys under `keys/`).
    pub dir: PathBuf,
}

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Create a fresh private directory `prefix-<random>` under `parent`.
    pub fn new(parent: &Path, prefix: &str) -> anyhow::Result<TempDir> {
        std::fs::create_dir_all(parent)?;
        let p = parent.join(format!("{prefix}-{}", crate::crypto::random_token(8)));
        std::fs::create_dir(&p)
            .map_err(|e| anyhow::anyhow!("无法创建临时目录 {}: {e}", p.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(TempDir(p))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Why an archive could not be read at all (as opposed to a failed check).
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Encrypted, no passphrase given.
    #[error(
        "该备份已加密，需要备份口令（配置 backup.passphrase 或环境变量 GONGHUI_BACKUP__PASSPHRASE）"
    )]
    NeedPassphrase,
    /// Decryption failed.
    #[error("{0}")]
    Crypt(#[from] CryptError),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl From<std::io::Error> for OpenError {
    fn from(e: std::io::Error) -> Self {
        OpenError::Other(format!("读写失败: {e}"))
    }
}

/// Read `archive` into `work`: decrypt when needed, check every entry against the manifest
/// and, with `extract`, write entries out (the database always, for the checks that follow).
/// Entry problems go to `report`; an unreadable archive is an error.
pub fn unpack(
    archive: &Path,
    passphrase: Option<&str>,
    work: &Path,
    extract: bool,
    report: &mut Report,
) -> Result<Unpacked, OpenError> {
    let mut head = [0u8; 8];
    let n = File::open(archive)
        .map_err(|e| OpenError::Other(format!("无法打开备份文件 {}: {e}", archive.display())))?
        .read(&mut head)?;
    let zip_path = if crypt::is_encrypted(&head[..n]) {
        let pass = passphrase
            .filter(|p| !p.is_empty())
            .ok_or(OpenError::NeedPassphrase)?;
        let plain = work.join("archive.zip");
        let out = std::io::BufWriter::new(File::create(&plain)?);
        crypt::decrypt(std::io::BufReader::new(File::open(archive)?), out, pass)?;
        report.checks.push("解密成功，所有数据块校验通过".into());
        plain
    } else {
        archive.to_path_buf()
    };
    let mut zip = zip::ZipArchive::new(File::open(&zip_path)?)
        .map_err(|e| OpenError::Other(format!("备份文件结构已损坏，无法读取目录: {e}")))?;
    let manifest: Manifest = {
        let mut f = zip
            .by_name(manifest::NAME)
            .map_err(|_| OpenError::Other("备份文件缺少清单 manifest.json".into()))?;
        let mut text = Vec::new();
        f.read_to_end(&mut text)
            .map_err(|e| OpenError::Other(format!("清单 manifest.json 已损坏: {e}")))?;
        let unreadable =
            |e: serde_json::Error| OpenError::Other(format!("清单 manifest.json 无法解析: {e}"));
        // The format first: a newer manifest may hold fields (a new checksum kind) this
        // version cannot parse, and the message should say why.
        #[derive(serde::Deserialize)]
        struct Head {
            format: u32,
        }
        let head: Head = serde_json::from_slice(&text).map_err(unreadable)?;
        if head.format > manifest::FORMAT {
            return Err(OpenError::Other(format!(
                "该备份由较新版本的程序生成（归档格式 {}，本程序最高支持 {}），请用新版本校验或恢复",
                head.format,
                manifest::FORMAT
            )));
        }
        serde_json::from_slice(&text).map_err(unreadable)?
    };
    for e in &manifest.entries {
        if !manifest::safe_path(&e.path) {
            report
                .problems
                .push(format!("条目 {} 的路径不安全，已拒绝", e.path));
            continue;
        }
        // The database is the zstd stream `gonghui.db.zst` (stored) in archives made since
        // 2026-12-06, and the entry `gonghui.db` (compressed by the zip format) before.
        let zst = e.path == manifest::DB && zip.index_for_name(manifest::DB_ZST).is_some();
        let name = if zst { manifest::DB_ZST } else { &e.path };
        let f = match zip.by_name(name) {
            Ok(f) => f,
            Err(_) => {
                report.problems.push(format!("缺少条目 {}", e.path));
                continue;
            }
        };
        let mut f: Box<dyn Read + '_> = if zst {
            match zstd::stream::read::Decoder::new(f) {
                Ok(d) => Box::new(d),
                Err(err) => {
                    report
                        .problems
                        .push(format!("条目 {} 已损坏，无法读取: {err}", e.path));
                    continue;
                }
            }
        } else {
            Box::new(f)
        };
        let to_disk = extract || e.path == manifest::DB;
        let mut out = if to_disk {
            let p = work.join(&e.path);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)?;
            }
            Some(std::io::BufWriter::new(File::create(&p)?))
        } else {
            None
        };
        let mut hasher = e.hasher();
        let mut size = 0u64;
        let mut buf = vec![0u8; 1 << 20];
        let read_err = loop {
            match f.read(&mut buf) {
                Ok(0) => break None,
                Ok(n) => {
                    hasher.update(&buf[..n]);
                    size += n as u64;
                    if let Some(o) = out.as_mut() {
                        o.write_all(&buf[..n])?;
                    }
                }
                Err(err) => break Some(err),
            }
        };
        if let Some(o) = out.as_mut() {
            o.flush()?;
        }
        if let Some(err) = read_err {
            report
                .problems
                .push(format!("条目 {} 已损坏，无法读取: {err}", e.path));
        } else if !e.matches(size, &hasher.checksum()) {
            report.problems.push(format!(
                "条目 {} 的校验和与清单不符（内容被改动或损坏）",
                e.path
            ));
        }
    }
    let listed: std::collections::HashSet<&str> =
        manifest.entries.iter().map(|e| e.path.as_str()).collect();
    for name in zip.file_names() {
        let name = name.map_err(|e| OpenError::Other(format!("备份文件目录已损坏: {e}")))?;
        let db_zst = name == manifest::DB_ZST && listed.contains(manifest::DB);
        if name != manifest::NAME && !db_zst && !listed.contains(name.as_ref()) {
            report.problems.push(format!("条目 {name} 不在清单中"));
        }
    }
    if report.problems.is_empty() {
        report.checks.push(format!(
            "{} 个条目的大小与校验和与清单一致",
            manifest.entries.len()
        ));
    }
    if zip_path != archive {
        drop(zip);
        let _ = std::fs::remove_file(&zip_path);
    }
    Ok(Unpacked {
        manifest,
        dir: work.to_path_buf(),
    })
}

/// Check the unpacked database: integrity, foreign keys, counts against the manifest and the
/// audit chain under `audit_key` (the archive's own key when it carries keys).
pub fn check_db(u: &Unpacked, audit_key: Option<&[u8]>, report: &mut Report) -> anyhow::Result<()> {
    let path = u.dir.join(manifest::DB);
    if !path.exists() {
        report.problems.push("备份中没有数据库".into());
        return Ok(());
    }
    let c =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let integrity: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap_or_else(|e| e.to_string());
    if integrity == "ok" {
        report.checks.push("数据库 integrity_check: ok".into());
    } else {
        report
            .problems
            .push(format!("数据库 integrity_check 失败: {integrity}"));
        return Ok(());
    }
    let fk: Vec<String> = c
        .prepare("PRAGMA foreign_key_check")?
        .query_map([], |r| {
            Ok(format!(
                "{}#{}",
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1).unwrap_or(0)
            ))
        })?
        .take(5)
        .collect::<rusqlite::Result<_>>()?;
    if fk.is_empty() {
        report.checks.push("数据库 foreign_key_check: ok".into());
    } else {
        report
            .problems
            .push(format!("外键检查失败: {}", fk.join(", ")));
    }
    let counts = manifest::counts(&c)?;
    for (t, n) in &u.manifest.counts {
        match counts.get(t) {
            Some(m) if m == n => {}
            got => report
                .problems
                .push(format!("表 {t} 行数不符：清单 {n}，实际 {got:?}")),
        }
    }
    if counts.len() == u.manifest.counts.len() && report.problems.is_empty() {
        report
            .checks
            .push(format!("{} 张表的行数与清单一致", counts.len()));
    }
    let key = u
        .manifest
        .keys_included
        .then(|| std::fs::read_to_string(u.dir.join("keys/audit.key")).ok())
        .flatten();
    let key = match key {
        Some(text) => {
            Some(hex::decode(text.trim()).map_err(|_| anyhow::anyhow!("备份中的审计密钥已损坏"))?)
        }
        None => audit_key.map(<[u8]>::to_vec),
    };
    match key {
        Some(k) => {
            match crate::audit::verify_chain(&c, &k, None).map_err(|e| anyhow::anyhow!("{e}"))? {
                crate::audit::ChainStatus::Ok { rows, .. } => {
                    report.checks.push(format!("审计日志链: ok（{rows} 条）"))
                }
                crate::audit::ChainStatus::Broken { id } => report
                    .problems
                    .push(format!("审计日志链在第 {id} 条处断开")),
                crate::audit::ChainStatus::Truncated { anchor_id } => report
                    .problems
                    .push(format!("审计日志链被截断（第 {anchor_id} 条）")),
            }
        }
        None => report
            .checks
            .push("审计日志链未校验：备份不含密钥且未提供本机密钥".into()),
    }
    Ok(())
}

/// Verify `archive` completely in a temporary directory under `tmp_parent`. The work runs at
/// the backup's lower priority (see [`super::background::in_background`]): it is most of a
/// backup's time, usually while the server goes on serving.
pub fn verify(
    archive: &Path,
    passphrase: Option<&str>,
    audit_key: Option<&[u8]>,
    tmp_parent: &Path,
) -> Report {
    super::background::in_background(|| verify_here(archive, passphrase, audit_key, tmp_parent))
        .unwrap_or_else(|e| Report {
            checks: Vec::new(),
            problems: vec![format!("校验失败: {e}")],
        })
}

fn verify_here(
    archive: &Path,
    passphrase: Option<&str>,
    audit_key: Option<&[u8]>,
    tmp_parent: &Path,
) -> Report {
    let mut report = Report::default();
    let work = match TempDir::new(tmp_parent, ".gonghui-verify") {
        Ok(w) => w,
        Err(e) => {
            report.problems.push(e.to_string());
            return report;
        }
    };
    match unpack(archive, passphrase, &work.0, false, &mut report) {
        Ok(u) => {
            if let Err(e) = check_db(&u, audit_key, &mut report) {
                report.problems.push(format!("数据库检查失败: {e}"));
            }
        }
        Err(e) => report.problems.push(e.to_string()),
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A manifest from a newer version, with a checksum kind this one does not know, is refused
    /// as newer (with what to do), not as unreadable.
    #[test]
    fn a_newer_format_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gonghui-20261207-000000.zip");
        let mut z = zip::ZipWriter::new(File::create(&path).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        z.start_file(manifest::DB, opts).unwrap();
        z.write_all(b"x").unwrap();
        z.start_file(manifest::NAME, opts).unwrap();
        let m = serde_json::json!({
            "format": manifest::FORMAT + 1,
            "entries": [{"path": manifest::DB, "size": 1, "sha3": "00"}],
        });
        z.write_all(m.to_string().as_bytes()).unwrap();
        z.finish().unwrap();

        let r = verify(&path, None, None, dir.path());
        assert!(!r.ok());
        assert!(
            r.problems.iter().any(|p| p.contains("较新版本")),
            "{:?}",
            r.problems
        );
    }
}
