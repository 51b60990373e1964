//! The command line: `serve` (default), `migrate`, `admin reset-password`, `check`, `reindex`,
//! `backup`, `restore`, `diag`.

use crate::config::{Config, LogFormat, Overrides};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// gonghui 工会服务
#[derive(Debug, Parser)]
#[command(
    name = "gonghui",
    version,
    about = "gonghui 工会会员服务（单一程序，内置数据库与管理后台）"
)]
pub struct Cli {
    /// Data directory (env GONGHUI_DATA_DIR, default ./data).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Listen address (env GONGHUI_LISTEN, default 127.0.0.1:8080).
    #[arg(long, global = true)]
    pub listen: Option<String>,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Sub-commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Administrator account tools.
    Admin {
        /// The admin action.
        #[command(subcommand)]
        action: AdminCommand,
    },
    /// Print version, SQLite version, data dir, effective config (secrets redacted),
    /// migration state, and verify the audit chain.
    Check,
    /// Print a support summary to paste into a ticket: versions, disk, sizes, last backup,
    /// outbox backlog, search index, clock, config with secrets redacted.
    Diag,
    /// Rebuild the news search index from the database, with progress (stop the server first).
    Reindex,
    /// Back up the database, the file store and (when encrypted) the keys into one verified
    /// archive; may run while the server runs. With --verify, only check an archive.
    Backup {
        /// Directory to write the archive to, or `s3` for the S3 store of `backup.s3`
        /// (default: backup.destination; a local directory named s3 is `./s3`).
        #[arg(long, value_name = "DIR|s3")]
        to: Option<PathBuf>,
        /// Only verify this archive: decrypt, checksums, database integrity, audit chain.
        #[arg(long, value_name = "ARCHIVE", conflicts_with = "to")]
        verify: Option<PathBuf>,
        /// List the archives at the destination (`--to`, or backup.destination) and exit.
        #[arg(long, conflicts_with = "verify")]
        list: bool,
    },
    /// Restore an archive (server stopped): verify, move the current data dir aside, restore,
    /// re-apply the erasure journal, run check. --drill restores into a temp dir only.
    Restore {
        /// Restore into a temporary directory, check it and remove it; live data untouched.
        #[arg(long)]
        drill: bool,
        /// An extra copy of the erasure journal (erasures.log) to re-apply.
        #[arg(long, value_name = "FILE")]
        erasures: Option<PathBuf>,
        /// Download this archive (a file name as `gonghui backup --list` shows) from the S3
        /// store of `backup.s3` and restore it.
        #[arg(long, value_name = "NAME", conflicts_with = "archive")]
        from_s3: Option<String>,
        /// The archive file.
        #[arg(required_unless_present = "from_s3")]
        archive: Option<PathBuf>,
    },
}

/// `admin` sub-commands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Set a new one-time password for an account (printed once; must be changed at login),
    /// re-enable it and lift a lockout.
    ResetPassword {
        /// The account's user name.
        username: String,
    },
}

/// Parse arguments and run.
pub fn main() -> ExitCode {
    // Personal data: every file and directory this process creates (database, WAL, uploads,
    // keys, backups) is for its own user only, whatever the service manager's umask.
    #[cfg(unix)]
    // SAFETY: umask only swaps the process's file-creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
    // SQLite's allocation statistics take one process-wide mutex on every malloc and free, so
    // the reader pool's threads queue on it in every query (a perf profile of the member news
    // feed under load showed about a quarter of the time waiting on locks). Nothing reads them.
    // SAFETY: first thing in the process, before any thread or connection exists: the only
    // time sqlite3_config may be called. A failure (already initialised) leaves the default.
    unsafe {
        rusqlite::ffi::sqlite3_config(
            rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS,
            0 as std::os::raw::c_int,
        );
    }
    let cli = Cli::parse();
    let over = Overrides {
        data_dir: cli.data_dir.clone(),
        listen: cli.listen.clone(),
    };
    let cfg = match Config::load(&over) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    init_logging(cfg.log_format);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("无法启动运行时: {e}");
            return ExitCode::FAILURE;
        }
    };
    let res = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => rt.block_on(serve(cfg)),
        Command::Migrate => migrate(&cfg),
        Command::Admin {
            action: AdminCommand::ResetPassword { username },
        } => rt.block_on(reset_password(cfg, &username)),
        Command::Check => check(&cfg),
        Command::Diag => crate::system::diag::cli(&cfg),
        Command::Reindex => rt.block_on(reindex(cfg)),
        Command::Backup { to, verify, list } => {
            crate::backup::cli::backup(&cfg, rt.handle(), to, verify, list)
        }
        Command::Restore {
            drill,
            erasures,
            from_s3,
            archive,
        } => crate::backup::cli::restore(
            &cfg,
            rt.handle(),
            from_s3,
            crate::backup::restore::Options {
                archive: archive.unwrap_or_default(),
                drill,
                erasures,
            },
        ),
    };
    match res {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

async fn serve(cfg: Config) -> anyhow::Result<ExitCode> {
    // Held while serving: a restore refuses to swap the data directory under a live server.
    let _lock = crate::backup::lock::acquire(&cfg.data_dir)?;
    let state = crate::app::AppState::open(cfg).await?;
    crate::app::serve(state).await?;
    Ok(ExitCode::SUCCESS)
}

fn migrate(cfg: &Config) -> anyhow::Result<ExitCode> {
    crate::db::check_sqlite_version()?;
    crate::config::ensure_dir(&cfg.data_dir)?;
    let mut conn = crate::db::open_write_conn(&cfg.db_path(), cfg.db.synchronous)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let n = crate::migrations::apply(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("已应用 {n} 个迁移 (applied {n} migrations)");
    Ok(ExitCode::SUCCESS)
}

async fn reset_password(cfg: Config, username: &str) -> anyhow::Result<ExitCode> {
    let state = crate::app::AppState::open(cfg).await?;
    let username = username.trim().to_lowercase();
    let pw = crate::auth::password::generate();
    let hash = crate::auth::password::hash_async(pw.clone())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let u = username.clone();
    let found = state
        .db
        .write(move |c| {
            use rusqlite::OptionalExtension;
            let id: Option<i64> = c
                .query_row("SELECT id FROM admins WHERE username = ?1", [&u], |r| {
                    r.get(0)
                })
                .optional()?;
            let Some(id) = id else { return Ok(false) };
            crate::system::accounts::set_password(c, id, &hash, true)?;
            c.execute("UPDATE admins SET disabled = 0 WHERE id = ?1", [id])?;
            crate::audit::record(
                c,
                &crate::audit::Actor::system("cli"),
                &crate::audit::Entry {
                    action: "account.reset_password",
                    target_type: "admin",
                    target_id: Some(id.to_string()),
                    summary: serde_json::json!({"via": "cli", "enabled": true}),
                    result: "success",
                },
            )?;
            Ok(true)
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if !found {
        eprintln!("账号 {username} 不存在");
        return Ok(ExitCode::from(1));
    }
    println!("账号 {username} 的新密码（仅显示一次，登录后须修改）: {pw}");
    Ok(ExitCode::SUCCESS)
}

async fn reindex(cfg: Config) -> anyhow::Result<ExitCode> {
    crate::db::check_sqlite_version()?;
    crate::config::ensure_dir(&cfg.data_dir)?;
    let metrics = std::sync::Arc::new(crate::metrics::Metrics::new());
    // Opening the database applies pending migrations, so the news tables exist.
    let keys = crate::crypto::Keys::load_or_create(&cfg.keys_dir())?;
    let _db = crate::db::Db::open(&cfg.db_path(), &cfg.db, metrics, &keys.audit)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let dir = crate::search::SearchIndex::dir(&cfg.data_dir);
    let index = crate::search::SearchIndex::open(&dir, &cfg.db_path())?;
    if !index.is_writable() {
        eprintln!("搜索索引正被运行中的服务占用，请先停止服务再重建索引");
        return Ok(ExitCode::from(1));
    }
    println!(
        "正在重建新闻搜索索引 (rebuilding the news search index): {}",
        dir.display()
    );
    let start = std::time::Instant::now();
    let n = index
        .rebuild(Box::new(|done, total| {
            println!("  已索引 indexed {done}/{total}");
        }))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    index.close().await;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "完成 done: {n} 篇新闻，用时 {secs:.1} 秒 ({:.0} 篇/秒)",
        n as f64 / secs.max(0.001)
    );
    Ok(ExitCode::SUCCESS)
}

fn check(cfg: &Config) -> anyhow::Result<ExitCode> {
    Ok(if check_report(cfg)? {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `gonghui check` on `cfg`'s data dir, printed; true when it passed (also run by restore).
pub fn check_report(cfg: &Config) -> anyhow::Result<bool> {
    println!("gonghui {}", env!("CARGO_PKG_VERSION"));
    println!("SQLite {}", rusqlite::version());
    crate::db::check_sqlite_version()?;
    println!("数据目录 data dir: {}", cfg.data_dir.display());
    println!("有效配置 effective config (secrets redacted):");
    println!("{}", serde_json::to_string_pretty(&cfg.redacted())?);
    let path = cfg.db_path();
    if !path.exists() {
        println!(
            "数据库尚未创建 (database not created yet): {}",
            path.display()
        );
        return Ok(true);
    }
    let conn =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    println!("迁移 migrations:");
    for (m, at) in crate::migrations::status(&conn).map_err(|e| anyhow::anyhow!("{e}"))? {
        match at {
            Some(at) => println!("  [已应用 applied {}] {}", crate::time::fmt(at), m.name),
            None => println!("  [待应用 pending] {}", m.name),
        }
    }
    let integrity: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    println!("数据库完整性 integrity: {integrity}");
    let healthy = (integrity == "ok") & check_points(&conn)? & check_member_counts(&conn)?;
    Ok(check_audit_chain(cfg, &conn)? && healthy)
}

/// The per-org member counts (migration 0021) equal a recount of `members`.
fn check_member_counts(conn: &rusqlite::Connection) -> anyhow::Result<bool> {
    let exists: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'member_stat_counts'",
        [],
        |r| r.get(0),
    )?;
    if !exists {
        println!("会员统计计数 member counts: 迁移尚未应用，跳过 (not migrated yet)");
        return Ok(true);
    }
    let bad = crate::stats::aggregates::member_mismatches(conn, 20)?;
    if bad.is_empty() {
        println!("会员统计计数 member counts: ok");
        return Ok(true);
    }
    println!("会员统计计数 member counts: MISMATCH —— 以下计数与会员表重新统计的结果不一致");
    for m in bad {
        println!(
            "  组织 org {} 状态 {} {}={:?}: 计数 stored {}，重新统计 actual {}",
            m.org_id, m.status, m.dim, m.key, m.stored, m.actual
        );
    }
    Ok(false)
}

/// Every member's cached points balance equals the sum of the ledger; mismatches are listed.
fn check_points(conn: &rusqlite::Connection) -> anyhow::Result<bool> {
    let exists: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'points_ledger'",
        [],
        |r| r.get(0),
    )?;
    if !exists {
        println!("积分余额 points balances: 迁移尚未应用，跳过 (not migrated yet)");
        return Ok(true);
    }
    let bad = crate::points::ledger::mismatches(conn, 20)?;
    if bad.is_empty() {
        println!("积分余额 points balances: ok");
        return Ok(true);
    }
    println!("积分余额 points balances: MISMATCH —— 以下会员的积分余额与积分明细合计不一致");
    for (member, cached, sum) in bad {
        println!("  会员 member {member}: 余额 balance {cached}，明细合计 ledger sum {sum}");
    }
    Ok(false)
}

/// Verify the keyed audit chain against the head recorded by the previous check, then record
/// the current head (outside the database, so cutting rows off the end is noticed). True
/// when the chain is intact.
fn check_audit_chain(cfg: &Config, conn: &rusqlite::Connection) -> anyhow::Result<bool> {
    use crate::audit::ChainStatus;
    // Read, never created here: a check must not mint the key that later rows are signed with.
    let key_path = cfg.keys_dir().join("audit.key");
    let key = match std::fs::read_to_string(&key_path) {
        Ok(text) => hex::decode(text.trim())
            .map_err(|_| anyhow::anyhow!("密钥文件 {} 已损坏", key_path.display()))?,
        Err(_) => {
            println!(
                "  未找到审计密钥 {}（服务首次启动时生成）；带密钥的记录将无法通过校验",
                key_path.display()
            );
            Vec::new()
        }
    };
    let head_path = cfg.data_dir.join(crate::audit::HEAD_FILE);
    let anchor: Option<(i64, String)> = match std::fs::read_to_string(&head_path) {
        Ok(text) => {
            let v: serde_json::Value = serde_json::from_str(&text).map_err(|_| {
                anyhow::anyhow!("{} 已损坏 (corrupt anchor file)", head_path.display())
            })?;
            match (v["id"].as_i64(), v["hash"].as_str()) {
                (Some(id), Some(h)) => Some((id, h.to_string())),
                _ => anyhow::bail!("{} 已损坏 (corrupt anchor file)", head_path.display()),
            }
        }
        Err(_) => None,
    };
    let status =
        crate::audit::verify_chain(conn, &key, anchor.as_ref().map(|(i, h)| (*i, h.as_str())))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    match status {
        ChainStatus::Ok { rows, head } => {
            println!("审计日志链 audit chain: ok ({rows} rows)");
            if let Some((id, hash)) = head {
                let text = serde_json::json!({"id": id, "hash": hash, "at": crate::time::fmt(crate::time::now())});
                let tmp = head_path.with_extension("json.tmp");
                std::fs::write(&tmp, text.to_string())?;
                std::fs::rename(&tmp, &head_path)?;
                println!(
                    "  已记录链头 anchor recorded: id {id} ({})",
                    head_path.display()
                );
            }
            Ok(true)
        }
        ChainStatus::Broken { id } => {
            println!("审计日志链 audit chain: BROKEN at id {id} —— 审计记录可能被篡改");
            Ok(false)
        }
        ChainStatus::Truncated { anchor_id } => {
            println!(
                "审计日志链 audit chain: TRUNCATED —— 上次自检记录的第 {anchor_id} 条审计记录已不存在或被改动，审计记录可能被删除"
            );
            Ok(false)
        }
    }
}
