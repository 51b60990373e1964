//! `gonghui backup [--to DIR|s3] [--list]`, `gonghui backup --verify ARCHIVE` and
//! `gonghui restore [--drill] [--erasures FILE] (ARCHIVE | --from-s3 NAME)`.

use super::dest::Dest;
use super::restore::{self, Options};
use super::verify::{self, Report};
use crate::config::BackupDestination;
use crate::config::Config;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn print_report(r: &Report) {
    for c in &r.checks {
        println!("  ✓ {c}");
    }
    for p in &r.problems {
        println!("  ✗ {p}");
    }
}

/// The destination `--to` names: `s3`, a directory, or (absent) `backup.destination`.
fn destination(cfg: &Config, to: Option<PathBuf>) -> anyhow::Result<Dest> {
    match to {
        Some(p) if p.as_os_str() == "s3" => Dest::of(cfg, BackupDestination::S3),
        Some(p) => Ok(Dest::Local(p)),
        None => Dest::configured(cfg),
    }
}

/// Make a backup (then verify it), list the destination, or only verify `verify_only`.
pub fn backup(
    cfg: &Config,
    rt: &tokio::runtime::Handle,
    to: Option<PathBuf>,
    verify_only: Option<PathBuf>,
    list: bool,
) -> anyhow::Result<ExitCode> {
    let key = super::live_audit_key(cfg);
    let tmp = cfg.backup_dir();
    if let Some(archive) = verify_only {
        println!("校验备份 verifying {} …", archive.display());
        let r = verify::verify(
            &archive,
            cfg.backup.passphrase(),
            key.as_deref(),
            &parent_or(&archive, &tmp),
        );
        print_report(&r);
        return Ok(if r.ok() {
            println!("校验通过 (verified)");
            ExitCode::SUCCESS
        } else {
            println!("校验失败 (verification FAILED)");
            ExitCode::FAILURE
        });
    }
    let dest = destination(cfg, to)?;
    if list {
        let all = dest.list(rt)?;
        println!("{} 中的备份 ({} 个):", dest.label(), all.len());
        for a in &all {
            println!("  {}  {:.1} MiB", a.name, a.size as f64 / 1048576.0);
        }
        return Ok(ExitCode::SUCCESS);
    }
    crate::db::check_sqlite_version()?;
    let store = crate::storage::operator(cfg)?;
    let start = std::time::Instant::now();
    println!(
        "正在备份 backing up {} → {} …",
        cfg.data_dir.display(),
        dest.label()
    );
    let dir = match &dest {
        Dest::Local(d) => d.clone(),
        Dest::S3 { .. } => tmp,
    };
    let made = super::create(cfg, &store, rt, &dir)?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "已写入 {}（{:.1} MiB，{}，{:.1} 秒）",
        made.path.display(),
        made.size as f64 / 1048576.0,
        if made.manifest.encrypted {
            "已加密，含密钥"
        } else {
            "未加密，不含密钥"
        },
        secs
    );
    println!(
        "  其中数据库 {:.1} 秒，其余文件 {:.1} 秒",
        made.snapshot_secs,
        (made.archive_secs - made.snapshot_secs).max(0.0)
    );
    if !made.manifest.missing_objects.is_empty() {
        println!(
            "  注意: {} 个文件在备份时已不在存储中（期间被删除）",
            made.manifest.missing_objects.len()
        );
    }
    println!("立即校验 verifying …");
    let r = verify::verify(&made.path, cfg.backup.passphrase(), key.as_deref(), &dir);
    print_report(&r);
    if !r.ok() {
        println!(
            "校验失败 (verification FAILED)，备份留在 {} 以便检查",
            made.path.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    if let Dest::S3 { .. } = dest {
        let name = dest.store(rt, &made.path)?;
        println!(
            "已上传到 {}{name}（大小已核对，本地副本已删除）",
            dest.label()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn parent_or(p: &Path, fallback: &Path) -> PathBuf {
    p.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| fallback.to_path_buf())
}

/// Restore or drill, from a file or from the S3 store (`from_s3`: an archive name).
pub fn restore(
    cfg: &Config,
    rt: &tokio::runtime::Handle,
    from_s3: Option<String>,
    mut opt: Options,
) -> anyhow::Result<ExitCode> {
    crate::db::check_sqlite_version()?;
    // Downloaded beside the data directory (not inside it: it is moved aside on restore),
    // removed when done.
    let _download = match from_s3 {
        Some(name) => {
            let dest = Dest::of(cfg, BackupDestination::S3)?;
            let abs = std::path::absolute(&cfg.data_dir)?;
            let parent = abs.parent().unwrap_or(Path::new("/"));
            let work = verify::TempDir::new(parent, ".gonghui-download")?;
            println!("从 {} 下载 {name} …", dest.label());
            opt.archive = dest.fetch(rt, &name, &work.0)?;
            Some(work)
        }
        None => None,
    };
    if !opt.archive.is_file() {
        anyhow::bail!("备份文件不存在: {}", opt.archive.display());
    }
    // A drill touches nothing live, so it may run beside the server; a restore may not.
    let _lock = if opt.drill {
        None
    } else {
        Some(super::lock::acquire(&cfg.data_dir)?)
    };
    let out = restore::run(cfg, rt, &opt)?;
    println!("校验结果:");
    print_report(&out.report);
    println!(
        "{}: 重新删除 {} 名会员的个人信息；gonghui check {}",
        if opt.drill {
            "恢复演练完成"
        } else {
            "恢复完成"
        },
        out.erasures_reapplied,
        if out.check_ok { "通过" } else { "未通过" }
    );
    if let Some(a) = out.moved_aside {
        println!("原数据目录保留在 {}，确认无误后可自行删除", a.display());
    }
    Ok(if out.check_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
