//! `gonghui backup [--to DIR]`, `gonghui backup --verify ARCHIVE` and
//! `gonghui restore [--drill] [--erasures FILE] ARCHIVE`.

use super::restore::{self, Options};
use super::verify::{self, Report};
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

/// Make a backup (then verify it), or only verify `verify_only`.
pub fn backup(
    cfg: &Config,
    rt: &tokio::runtime::Handle,
    to: Option<PathBuf>,
    verify_only: Option<PathBuf>,
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
    crate::db::check_sqlite_version()?;
    let dir = to.unwrap_or(tmp);
    let store = crate::storage::operator(cfg)?;
    let start = std::time::Instant::now();
    println!(
        "正在备份 backing up {} → {} …",
        cfg.data_dir.display(),
        dir.display()
    );
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
    if !made.manifest.missing_objects.is_empty() {
        println!(
            "  注意: {} 个文件在备份时已不在存储中（期间被删除）",
            made.manifest.missing_objects.len()
        );
    }
    println!("立即校验 verifying …");
    let r = verify::verify(&made.path, cfg.backup.passphrase(), key.as_deref(), &dir);
    print_report(&r);
    Ok(if r.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn parent_or(p: &Path, fallback: &Path) -> PathBuf {
    p.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| fallback.to_path_buf())
}

/// Restore or drill.
pub fn restore(
    cfg: &Config,
    rt: &tokio::runtime::Handle,
    opt: Options,
) -> anyhow::Result<ExitCode> {
    crate::db::check_sqlite_version()?;
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
