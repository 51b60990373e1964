//! 系统诊断: a support summary to paste into a ticket — versions, redacted configuration,
//! disk free, database/WAL/index sizes, the last backup and its verification, outbox backlog,
//! search index state and the clock. The same report from `gonghui diag` and
//! `GET /api/v1/admin/system/diag` (system admins: `setting:read` over the whole tree).
//! Secrets never appear: the configuration is the redacted one `gonghui check` prints.

use crate::app::AppState;
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::config::Config;
use crate::error::{Result, ok};
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use std::path::Path;

/// Program and database versions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Versions {
    /// gonghui version.
    pub app: String,
    /// SQLite library version.
    pub sqlite: String,
    /// Newest applied migration (0 before the first).
    pub schema: i64,
    /// Migrations this binary knows but the database has not applied.
    pub pending_migrations: usize,
}

/// Disk and file sizes, bytes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Storage {
    /// Data directory.
    pub data_dir: String,
    /// Free space on its file system.
    pub disk_free_bytes: Option<u64>,
    /// `gonghui.db`.
    pub db_bytes: u64,
    /// `gonghui.db-wal`.
    pub wal_bytes: u64,
    /// The search index directory.
    pub index_bytes: u64,
    /// The local backup directory (with the `s3` destination: archives not yet uploaded).
    pub backup_dir_bytes: u64,
}

/// The last backup.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LastBackup {
    /// Row id.
    pub id: i64,
    /// Archive name.
    pub file_name: String,
    /// `running`, `ok` or `failed`.
    pub status: String,
    /// `local` or `s3`.
    pub destination: String,
    /// Finished at.
    pub finished_at: Option<String>,
    /// Last verification passed.
    pub verify_ok: Option<bool>,
    /// Last verification at.
    pub verified_at: Option<String>,
    /// Problems, when it failed.
    pub message: Option<String>,
}

/// Backups summary.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Backups {
    /// `local` or `s3`.
    pub destination: String,
    /// Encrypted (a passphrase is set; the passphrase itself is never shown).
    pub encrypted: bool,
    /// Daily schedule on, at `schedule_time`.
    pub schedule: Option<String>,
    /// The newest backup.
    pub last: Option<LastBackup>,
    /// Seconds since the last written-and-verified backup.
    pub age_seconds: Option<i64>,
}

/// Outbox rows by state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Outbox {
    /// Waiting to be sent.
    pub pending: i64,
    /// Gave up after the retries.
    pub failed: i64,
    /// Oldest pending row's creation time.
    pub oldest_pending: Option<String>,
}

/// Search index state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Search {
    /// The index directory exists.
    pub present: bool,
    /// Published articles the index should hold.
    pub published_news: i64,
    /// Database change sequence of the index's last commit (server only).
    pub committed_seq: Option<i64>,
}

/// The clock.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Clock {
    /// Unix seconds.
    pub unix: i64,
    /// UTC, RFC 3339.
    pub utc: String,
    /// Beijing time.
    pub beijing: String,
}

/// The whole support summary.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Diag {
    /// Versions.
    pub versions: Versions,
    /// Clock.
    pub clock: Clock,
    /// Sizes and disk free.
    pub storage: Storage,
    /// Backups.
    pub backups: Backups,
    /// Outbox backlog.
    pub outbox: Outbox,
    /// Search index.
    pub search: Search,
    /// Recent errors: the program keeps none itself; where to find them.
    pub recent_errors: String,
    /// The effective configuration, secrets as `***`.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// Total size of the files under `dir` (not following links).
fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => total += e.metadata().map(|m| m.len()).unwrap_or(0),
                _ => {}
            }
        }
    }
    total
}

/// Collect the summary (blocking: file sizes and SQLite). `conn` is None before the
/// database exists; `committed_seq` comes from a running server's index.
pub fn collect(cfg: &Config, conn: Option<&Connection>, committed_seq: Option<i64>) -> Diag {
    let now = crate::time::now();
    let db = cfg.db_path();
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let index_dir = crate::search::SearchIndex::dir(&cfg.data_dir);
    let q = |sql: &str| -> i64 {
        conn.and_then(|c| c.query_row(sql, [], |r| r.get::<_, i64>(0)).ok())
            .unwrap_or(0)
    };
    let (schema, pending) = conn
        .and_then(|c| crate::migrations::status(c).ok())
        .map(|s| {
            let applied = s
                .iter()
                .filter(|m| m.1.is_some())
                .map(|m| m.0.version)
                .max();
            (
                applied.unwrap_or(0),
                s.iter().filter(|m| m.1.is_none()).count(),
            )
        })
        .unwrap_or((0, crate::migrations::all().len()));
    let last = conn.and_then(|c| {
        c.query_row(
            "SELECT id, file_name, status, destination, finished_at, verify_ok, verified_at, message
             FROM backups ORDER BY id DESC LIMIT 1",
            [],
            |r| {
                Ok(LastBackup {
                    id: r.get(0)?,
                    file_name: r.get(1)?,
                    status: r.get(2)?,
                    destination: r.get(3)?,
                    finished_at: crate::time::fmt_opt(r.get(4)?),
                    verify_ok: r.get(5)?,
                    verified_at: crate::time::fmt_opt(r.get(6)?),
                    message: r.get(7)?,
                })
            },
        )
        .optional()
        .ok()
        .flatten()
    });
    let good = q(
        "SELECT coalesce(max(finished_at), 0) FROM backups WHERE status = 'ok' AND verify_ok = 1",
    );
    let b = &cfg.backup;
    Diag {
        versions: Versions {
            app: env!("CARGO_PKG_VERSION").into(),
            sqlite: rusqlite::version().into(),
            schema,
            pending_migrations: pending,
        },
        clock: Clock {
            unix: now,
            utc: chrono::DateTime::from_timestamp(now, 0)
                .unwrap_or_default()
                .to_rfc3339(),
            beijing: crate::time::fmt(now),
        },
        storage: Storage {
            data_dir: cfg.data_dir.display().to_string(),
            disk_free_bytes: crate::disk::free_bytes(&cfg.data_dir).ok(),
            db_bytes: file_len(&db),
            wal_bytes: file_len(Path::new(&wal)),
            index_bytes: dir_bytes(&index_dir),
            backup_dir_bytes: dir_bytes(&cfg.backup_dir()),
        },
        backups: Backups {
            destination: crate::backup::dest::code(b.destination).into(),
            encrypted: b.passphrase().is_some(),
            schedule: b.schedule_enabled.then(|| b.schedule_time.clone()),
            last,
            age_seconds: (good > 0).then_some(now - good),
        },
        outbox: Outbox {
            pending: q("SELECT count(*) FROM outbox WHERE status = 'pending'"),
            failed: q("SELECT count(*) FROM outbox WHERE status = 'failed'"),
            oldest_pending: conn
                .and_then(|c| {
                    c.query_row(
                        "SELECT min(created_at) FROM outbox WHERE status = 'pending'",
                        [],
                        |r| r.get::<_, Option<i64>>(0),
                    )
                    .ok()
                })
                .flatten()
                .map(crate::time::fmt),
        },
        search: Search {
            present: index_dir.is_dir(),
            published_news: q(
                "SELECT count(*) FROM news WHERE status = 'published' AND deleted_at IS NULL",
            ),
            committed_seq,
        },
        recent_errors:
            "程序不单独保存错误记录：请查看服务日志（journalctl -u gonghui --since -1d -p warning）"
                .into(),
        config: cfg.redacted(),
    }
}

fn mib(n: u64) -> String {
    format!("{:.1} MiB", n as f64 / 1048576.0)
}

/// The summary as text, one section per heading, for `gonghui diag`.
pub fn render(d: &Diag) -> anyhow::Result<String> {
    use std::fmt::Write;
    let mut s = String::new();
    let v = &d.versions;
    writeln!(s, "== 版本 versions")?;
    writeln!(
        s,
        "gonghui {}，SQLite {}，数据库版本 {}，待应用迁移 {}",
        v.app, v.sqlite, v.schema, v.pending_migrations
    )?;
    writeln!(s, "== 时钟 clock")?;
    writeln!(
        s,
        "{}（北京时间 {}，unix {}）",
        d.clock.utc, d.clock.beijing, d.clock.unix
    )?;
    let st = &d.storage;
    writeln!(s, "== 磁盘与大小 disk")?;
    writeln!(s, "数据目录 {}", st.data_dir)?;
    writeln!(
        s,
        "可用空间 {}",
        st.disk_free_bytes.map(mib).unwrap_or_else(|| "未知".into())
    )?;
    writeln!(
        s,
        "数据库 {}，WAL {}，搜索索引 {}，本地备份目录 {}",
        mib(st.db_bytes),
        mib(st.wal_bytes),
        mib(st.index_bytes),
        mib(st.backup_dir_bytes)
    )?;
    let b = &d.backups;
    writeln!(s, "== 备份 backups")?;
    writeln!(
        s,
        "存放位置 {}，{}，定时 {}",
        b.destination,
        if b.encrypted {
            "已加密"
        } else {
            "未加密（不含密钥）"
        },
        b.schedule.as_deref().unwrap_or("关闭")
    )?;
    match &b.last {
        Some(l) => writeln!(
            s,
            "最近一次 #{} {} 状态 {}，完成 {}，校验 {}{}",
            l.id,
            l.file_name,
            l.status,
            l.finished_at.as_deref().unwrap_or("-"),
            match l.verify_ok {
                Some(true) => "通过",
                Some(false) => "失败",
                None => "未校验",
            },
            l.message
                .as_deref()
                .map(|m| format!("：{m}"))
                .unwrap_or_default()
        )?,
        None => writeln!(s, "尚无备份")?,
    }
    writeln!(
        s,
        "距最近一次成功备份 {}",
        b.age_seconds
            .map(|a| format!("{:.1} 小时", a as f64 / 3600.0))
            .unwrap_or_else(|| "（无）".into())
    )?;
    writeln!(s, "== 消息发送队列 outbox")?;
    writeln!(
        s,
        "待发送 {}，失败 {}，最早待发送 {}",
        d.outbox.pending,
        d.outbox.failed,
        d.outbox.oldest_pending.as_deref().unwrap_or("-")
    )?;
    writeln!(s, "== 搜索索引 search")?;
    writeln!(
        s,
        "索引目录{}，已发布资讯 {} 篇",
        if d.search.present {
            "存在"
        } else {
            "不存在（启动时重建）"
        },
        d.search.published_news
    )?;
    writeln!(s, "== 最近错误 recent errors")?;
    writeln!(s, "{}", d.recent_errors)?;
    writeln!(s, "== 配置 config (secrets redacted)")?;
    writeln!(s, "{}", serde_json::to_string_pretty(&d.config)?)?;
    Ok(s)
}

/// `gonghui diag`: print the summary (safe beside a running server: read-only).
pub fn cli(cfg: &Config) -> anyhow::Result<std::process::ExitCode> {
    let path = cfg.db_path();
    let conn = if path.exists() {
        Some(Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?)
    } else {
        None
    };
    print!("{}", render(&collect(cfg, conn.as_ref(), None))?);
    Ok(std::process::ExitCode::SUCCESS)
}

/// The support summary (系统诊断), for system admins.
#[utoipa::path(get, path = "/api/v1/admin/system/diag", tag = "系统设置", security(("bearer" = [])),
    responses((status = 200, body = Diag), (status = 401), (status = 403)))]
pub async fn diag(State(st): State<AppState>, me: AdminAuth) -> Result<Response> {
    let scope = me.require(codes::SETTING_READ)?;
    st.db
        .read(move |c| scope.require_whole_tree(c, "系统诊断"))
        .await?;
    let seq = st.news.search.committed_seq();
    let st2 = st.clone();
    let d = st
        .db
        .read(move |c| Ok(collect(&st2.cfg, Some(c), seq)))
        .await?;
    Ok(ok(d))
}
