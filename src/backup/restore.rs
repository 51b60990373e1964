//! Restore: verify the archive, unpack it beside the data directory, re-apply the erasure
//! journal, then swap it in (the old directory is moved aside, never deleted) and run
//! `gonghui check`. A drill does all of it in a temporary directory and swaps nothing.

use super::journal;
use super::manifest;
use super::verify::{self, Report, TempDir};
use crate::config::{Config, StorageKind};
use std::path::{Path, PathBuf};

/// What to restore and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The archive.
    pub archive: PathBuf,
    /// Restore into a temporary directory, check, report, and remove it.
    pub drill: bool,
    /// Another copy of the erasure journal to apply (e.g. kept off the machine).
    pub erasures: Option<PathBuf>,
}

/// What a restore did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Checks of the archive and the restored database.
    pub report: Report,
    /// Members erased again from the journal.
    pub erasures_reapplied: usize,
    /// Where the previous data directory now is (real restore only).
    pub moved_aside: Option<PathBuf>,
    /// `gonghui check` on the result passed.
    pub check_ok: bool,
}

/// The directory holding the data directory: staging happens there so the final swap is a
/// rename on one file system.
fn parent_dir(data_dir: &Path) -> anyhow::Result<PathBuf> {
    let abs = std::path::absolute(data_dir)?;
    Ok(abs
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/")))
}

fn sibling(data_dir: &Path, tag: &str) -> anyhow::Result<PathBuf> {
    let abs = std::path::absolute(data_dir)?;
    let name = abs
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow::anyhow!("数据目录路径无效: {}", data_dir.display()))?
        .to_string();
    let parent = abs
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    let stamp = super::file_name(crate::time::now(), false);
    let stamp = stamp
        .trim_start_matches("gonghui-")
        .trim_end_matches(".zip");
    Ok(parent.join(format!(
        "{name}.{tag}-{stamp}-{}",
        crate::crypto::random_token(3)
    )))
}

fn copy_keys(from: &Path, to: &Path) -> anyhow::Result<usize> {
    let mut n = 0;
    let Ok(rd) = std::fs::read_dir(from) else {
        return Ok(0);
    };
    std::fs::create_dir_all(to)?;
    for e in rd.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "key") && !to.join(e.file_name()).exists() {
            std::fs::copy(&p, to.join(e.file_name()))?;
            n += 1;
        }
    }
    Ok(n)
}

/// Run a restore or a drill of `opt.archive` onto the installation `cfg`. Prints progress.
/// The caller holds the data directory lock for a real restore.
pub fn run(cfg: &Config, rt: &tokio::runtime::Handle, opt: &Options) -> anyhow::Result<Outcome> {
    let mut out = Outcome::default();
    let staging = TempDir::new(&parent_dir(&cfg.data_dir)?, ".gonghui-restore")?;
    let dir = staging.0.clone();
    println!("1/5 校验并解开备份 {} …", opt.archive.display());
    let unpacked = verify::unpack(
        &opt.archive,
        cfg.backup.passphrase(),
        &dir,
        true,
        &mut out.report,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let live_key = super::live_audit_key(cfg);
    verify::check_db(&unpacked, live_key.as_deref(), &mut out.report)?;
    if !out.report.ok() {
        anyhow::bail!(
            "备份未通过校验，未做任何改动:\n  {}",
            out.report.problems.join("\n  ")
        );
    }
    let m = &unpacked.manifest;
    println!(
        "   备份时间 {}，程序版本 {}，数据库版本 {}，{} 个条目",
        crate::time::fmt(m.created_at),
        m.app_version,
        m.schema_version,
        m.entries.len()
    );
    println!("2/5 密钥 …");
    if m.keys_included {
        println!("   使用备份中的密钥");
    } else {
        let n = copy_keys(&cfg.keys_dir(), &dir.join("keys"))?;
        if n == 0 && !opt.drill {
            anyhow::bail!(
                "该备份不含密钥（未设置备份口令时生成），本机 {} 中也没有密钥：恢复后加密字段将无法解密。请把原安装的 keys 目录放到该位置后重试",
                cfg.keys_dir().display()
            );
        }
        println!(
            "   备份不含密钥，使用本机 {} 中的 {n} 个密钥文件",
            cfg.keys_dir().display()
        );
    }
    println!("3/5 重新执行个人信息删除记录（erasures.log）…");
    let mut lists = vec![
        journal::read(&journal::path(&cfg.data_dir))?.0,
        journal::read(&dir.join(manifest::ERASURES))?.0,
    ];
    if let Some(p) = &opt.erasures {
        let (l, bad) = journal::read(p)
            .map_err(|e| anyhow::anyhow!("无法读取删除记录 {}: {e}", p.display()))?;
        if bad > 0 {
            println!("   注意: {} 中有 {bad} 行无法解析，已跳过", p.display());
        }
        lists.push(l);
    }
    let all = journal::merge_into(&journal::path(&dir), &lists)?;
    let audit_key = std::fs::read_to_string(dir.join("keys/audit.key"))
        .ok()
        .and_then(|t| hex::decode(t.trim()).ok())
        .unwrap_or_default();
    {
        let mut c = crate::db::open_write_conn(&dir.join(manifest::DB), cfg.db.synchronous)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        crate::audit::install_key(&c, &audit_key).map_err(|e| anyhow::anyhow!("{e}"))?;
        // An archive from an older version is brought up to this version's schema first.
        crate::migrations::apply(&mut c).map_err(|e| anyhow::anyhow!("{e}"))?;
        let (n, keys) = journal::reapply(&mut c, &all)?;
        for k in keys {
            let _ = std::fs::remove_file(dir.join(manifest::FILES).join(&k));
        }
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        out.erasures_reapplied = n;
        println!(
            "   删除记录 {} 条，本次重新删除 {n} 名会员的个人信息",
            all.len()
        );
    }
    let live_conf = cfg.data_dir.join("config.toml");
    if let Ok(target) = std::fs::read_link(&live_conf) {
        // A packaged install links the conffile /etc/gonghui/config.toml here: keep the link.
        #[cfg(unix)]
        std::os::unix::fs::symlink(target, dir.join("config.toml"))?;
    } else if let Ok(text) = std::fs::read(&live_conf) {
        std::fs::write(dir.join("config.toml"), text)?;
    }
    if opt.drill {
        println!(
            "4/5 演练：在临时目录 {} 上运行 gonghui check …",
            dir.display()
        );
        let mut c2 = cfg.clone();
        c2.data_dir = dir.clone();
        c2.storage.dir = None;
        c2.storage.kind = StorageKind::Fs;
        out.check_ok = crate::cli::check_report(&c2)?;
        println!("5/5 演练结束，临时目录已删除，现有数据未被改动");
        return Ok(out);
    }
    println!("4/5 替换数据目录 …");
    let aside = sibling(&cfg.data_dir, "before-restore")?;
    let files_in_place = cfg.storage.kind == StorageKind::Fs && cfg.storage.dir.is_none();
    if cfg.data_dir.exists() {
        std::fs::rename(&cfg.data_dir, &aside)?;
        out.moved_aside = Some(aside.clone());
        // Archives stored in the data directory stay reachable from the restored installation.
        if cfg.backup.dir.is_none() && aside.join("backups").exists() {
            std::fs::rename(aside.join("backups"), dir.join("backups"))?;
        }
    }
    let staged = staging.0.clone();
    std::mem::forget(staging);
    std::fs::rename(&staged, &cfg.data_dir)?;
    if !files_in_place {
        upload_objects(cfg, rt, &cfg.data_dir.join(manifest::FILES))?;
    }
    if let Some(a) = &out.moved_aside {
        println!("   原数据目录已移到 {}（未删除）", a.display());
    }
    println!("5/5 运行 gonghui check …");
    out.check_ok = crate::cli::check_report(cfg)?;
    Ok(out)
}

/// Write the unpacked objects under `dir` to the configured store (S3 or a separate
/// directory), then remove the local copies.
fn upload_objects(cfg: &Config, rt: &tokio::runtime::Handle, dir: &Path) -> anyhow::Result<()> {
    let op = crate::storage::operator(cfg)?;
    let mut stack = vec![dir.to_path_buf()];
    let mut n = 0;
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let key = p.strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
            rt.block_on(op.write(&key, std::fs::read(&p)?))
                .map_err(|e| anyhow::anyhow!("写入文件存储失败 {key}: {e}"))?;
            n += 1;
        }
    }
    std::fs::remove_dir_all(dir).ok();
    println!("   已写回文件存储 {n} 个文件");
    Ok(())
}
