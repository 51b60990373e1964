//! Configuration: built-in defaults ← `<data_dir>/config.toml` ← `GONGHUI_*` environment
//! variables (nested keys joined by `__`, e.g. `GONGHUI_DB__SYNCHRONOUS=normal`).

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

/// The whole effective configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// Data directory (database, keys, files, index, backups).
    pub data_dir: PathBuf,
    /// Public base URL used in links (e.g. `https://gh.example.gov.cn`); empty = relative links.
    pub public_base_url: String,
    /// Reverse proxies whose `X-Forwarded-For` is trusted (IPs or CIDRs).
    pub trusted_proxies: Vec<String>,
    /// Bootstrap admin password on first start (never printed, never stored in plain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_password: Option<String>,
    /// Field-encryption keys from the environment (`GONGHUI_FIELD_KEY`), read by
    /// `crypto::field`; declared here so the env loader accepts it. Never printed.
    #[serde(skip_serializing)]
    pub field_key: Option<String>,
    /// Log output format.
    pub log_format: LogFormat,
    /// Connection handling: timeouts and caps against slow or abusive clients.
    pub server: ServerConfig,
    /// Token lifetimes.
    pub auth: AuthConfig,
    /// SQLite settings.
    pub db: DbConfig,
    /// File store.
    pub storage: StorageConfig,
    /// WeChat mini-program credentials and API location.
    pub wechat: WechatConfig,
    /// Request size limits.
    pub limits: LimitsConfig,
    /// SMS verification codes.
    pub sms: SmsConfig,
    /// Activities: check-in window and code lifetime.
    pub activities: ActivitiesConfig,
    /// Background delivery of notifications.
    pub outbox: OutboxConfig,
    /// News: sanitising and scheduling.
    pub news: NewsConfig,
    /// Per-account limits on member uploads.
    pub uploads: crate::files::quota::UploadsConfig,
    /// Points rules: sign-in, membership bonus, daily cap.
    pub points: crate::points::config::PointsConfig,
    /// Backups: passphrase, schedule, retention, destination.
    pub backup: BackupConfig,
    /// Content safety: whose review photos skip moderation.
    pub safety: crate::safety::config::SafetyConfig,
    /// Tickets: working hours and the holiday calendar reply deadlines are counted in.
    pub tickets: crate::tickets::calendar::TicketsConfig,
}

/// Backups (see `backup`): encrypted when a passphrase is set, made daily when scheduled.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    /// Passphrase that encrypts archives; empty = plain archives without the key files
    /// (redacted in `check`).
    pub passphrase: String,
    /// Make a backup every day at `schedule_time`.
    pub schedule_enabled: bool,
    /// Time of day of the scheduled backup, `HH:MM` Beijing time.
    pub schedule_time: String,
    /// Scheduled backups kept: the newest of each of this many days.
    pub keep_daily: u32,
    /// Scheduled backups kept: the newest of each of this many ISO weeks.
    pub keep_weekly: u32,
    /// Directory archives are written to; default `<data_dir>/backups`. With the `s3`
    /// destination it is only the staging area an archive is written and verified in before
    /// the upload.
    pub dir: Option<PathBuf>,
    /// Where finished archives are kept: `local` (`dir`) or `s3` (`backup.s3`).
    pub destination: BackupDestination,
    /// The S3-compatible store for the `s3` destination; empty fields are taken from
    /// `storage.*`, so an installation whose files are on S3 only sets `destination = "s3"`.
    pub s3: BackupS3Config,
    /// Compression of archives: 0 stores them uncompressed (the default), -7 to -1 and 1 to
    /// 19 are Zstandard levels (negative: faster and larger); see
    /// [`DEFAULT_COMPRESSION_LEVEL`].
    pub compression_level: i32,
}

/// Default `backup.compression_level`: stored. A backup runs beside the live server and is
/// bound by CPU, and compression is most of its work: on a 1M-member database (624 MiB, two
/// cores, eight writers busy) a stored archive took 1.4–1.6 s, level -3 (416 MiB) 2.1–2.3 s
/// and level 1 (294 MiB) 2.4–2.9 s, against 0.5–0.7 s to copy the file. So the default
/// spends disk rather than CPU; an office short of disk (or uploading to S3 over a slow
/// line) sets a level.
pub const DEFAULT_COMPRESSION_LEVEL: i32 = 0;

/// Allowed `backup.compression_level` values.
pub const COMPRESSION_LEVELS: std::ops::RangeInclusive<i32> = -7..=19;

/// Where finished backup archives are kept.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum BackupDestination {
    /// The local backup directory.
    #[default]
    Local,
    /// An S3-compatible object store.
    S3,
}

/// S3 settings of the backup destination (each empty one falls back to `storage.*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupS3Config {
    /// Endpoint URL.
    pub endpoint: String,
    /// Bucket.
    pub bucket: String,
    /// Region.
    pub region: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret key (redacted in `check` and `diag`).
    pub secret_access_key: String,
    /// Key prefix the archives are stored under.
    pub prefix: String,
}

impl Default for BackupS3Config {
    fn default() -> Self {
        BackupS3Config {
            endpoint: String::new(),
            bucket: String::new(),
            region: String::new(),
            access_key_id: String::new(),
            secret_access_key: String::new(),
            prefix: "backups/".into(),
        }
    }
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            passphrase: String::new(),
            schedule_enabled: true,
            schedule_time: "02:00".into(),
            keep_daily: 7,
            keep_weekly: 4,
            dir: None,
            destination: BackupDestination::Local,
            s3: BackupS3Config::default(),
            compression_level: DEFAULT_COMPRESSION_LEVEL,
        }
    }
}

impl BackupConfig {
    /// `schedule_time` as minutes after midnight, or None when malformed.
    pub fn schedule_minutes(&self) -> Option<u32> {
        let (h, m) = self.schedule_time.split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60 && self.schedule_time.len() == 5).then_some(h * 60 + m)
    }

    /// The passphrase, when one is set.
    pub fn passphrase(&self) -> Option<&str> {
        (!self.passphrase.is_empty()).then_some(self.passphrase.as_str())
    }

    /// The effective S3 settings of the backup destination: `backup.s3`, each empty field
    /// taken from `storage` (the prefix always ends in `/`, or is empty).
    pub fn s3_effective(&self, storage: &StorageConfig) -> BackupS3Config {
        let pick = |a: &String, b: &String| if a.is_empty() { b.clone() } else { a.clone() };
        let s = &self.s3;
        let mut prefix = s.prefix.trim_start_matches('/').to_string();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        BackupS3Config {
            endpoint: pick(&s.endpoint, &storage.endpoint),
            bucket: pick(&s.bucket, &storage.bucket),
            region: pick(&s.region, &storage.region),
            access_key_id: pick(&s.access_key_id, &storage.access_key_id),
            secret_access_key: pick(&s.secret_access_key, &storage.secret_access_key),
            prefix,
        }
    }
}

/// Activity rules an office may tune.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActivitiesConfig {
    /// Check-in opens this many minutes before an activity starts.
    pub checkin_open_before_minutes: i64,
    /// Lifetime of a rotating check-in QR payload, seconds (at most 60).
    pub checkin_code_ttl_secs: i64,
    /// Default check-in radius in metres when an activity has coordinates but no radius.
    pub default_checkin_radius_m: i64,
    /// How often the background job finishes ended activities and sends reminders, seconds.
    pub job_interval_secs: u64,
}

impl Default for ActivitiesConfig {
    fn default() -> Self {
        ActivitiesConfig {
            checkin_open_before_minutes: 30,
            checkin_code_ttl_secs: 60,
            default_checkin_radius_m: 300,
            job_interval_secs: 30,
        }
    }
}

/// Outbox worker tuning.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// Poll interval when idle, milliseconds (new rows also wake the worker at once).
    pub poll_interval_ms: u64,
    /// First retry delay after a transient failure, seconds; doubles per attempt.
    pub retry_base_secs: i64,
    /// Longest retry delay, seconds.
    pub retry_max_secs: i64,
    /// Attempts before a row is marked failed.
    pub max_attempts: i64,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            poll_interval_ms: 1000,
            retry_base_secs: 30,
            retry_max_secs: 3600,
            max_attempts: 8,
        }
    }
}

/// News settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NewsConfig {
    /// Extra hosts images in article bodies and activity descriptions may come from (our own
    /// `/files/` is always allowed).
    pub image_hosts: Vec<String>,
    /// How often scheduled articles are checked for publishing, seconds.
    pub scheduler_interval_secs: u64,
}

impl Default for NewsConfig {
    fn default() -> Self {
        NewsConfig {
            image_hosts: Vec::new(),
            scheduler_interval_secs: 15,
        }
    }
}

/// SMS provider settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    /// `log` (development: codes go to the server log) or `http` (a template gateway).
    pub provider: String,
    /// Gateway settings for `http`.
    pub http: crate::members::sms::HttpSmsConfig,
}

impl Default for SmsConfig {
    fn default() -> Self {
        SmsConfig {
            provider: "log".into(),
            http: Default::default(),
        }
    }
}

/// `text` for people, `json` for log collectors.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Token lifetimes in seconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Access token lifetime for staff.
    pub admin_access_ttl_secs: i64,
    /// Refresh token lifetime for staff.
    pub admin_refresh_ttl_secs: i64,
    /// Access token lifetime for members.
    pub app_access_ttl_secs: i64,
    /// Refresh token lifetime for members.
    pub app_refresh_ttl_secs: i64,
    /// Login attempts allowed per client IP per minute before 429.
    pub login_per_ip_per_minute: u32,
}

/// SQLite durability setting.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// An acknowledged write survives power loss.
    Full,
    /// Faster; the last transactions may be lost on power loss (never corrupted).
    Normal,
}

/// Database settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DbConfig {
    /// `full` (default) or `normal`.
    pub synchronous: Synchronous,
    /// Read connections in the pool.
    pub read_pool_size: u32,
    /// Most jobs the writer commits together.
    pub max_batch: usize,
    /// Litestream replicates the database (packaging/gonghui-litestream.service): leave WAL
    /// checkpoints to it. The writer then checkpoints only when the WAL passes 1 GiB (a safety
    /// net if Litestream is not running) and an account erasure does not truncate the WAL.
    pub litestream: bool,
}

/// Where files are stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// `fs` or `s3`.
    pub kind: StorageKind,
    /// Directory for `fs` (default `<data_dir>/files`).
    pub dir: Option<PathBuf>,
    /// S3 endpoint URL.
    pub endpoint: String,
    /// S3 bucket.
    pub bucket: String,
    /// S3 region.
    pub region: String,
    /// S3 access key id.
    pub access_key_id: String,
    /// S3 secret key (redacted in `check`).
    pub secret_access_key: String,
}

/// Storage back end.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// Local directory.
    Fs,
    /// S3-compatible object store.
    S3,
}

/// WeChat mini-program settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WechatConfig {
    /// Mini-program AppID.
    pub appid: String,
    /// Mini-program AppSecret (redacted in `check`).
    pub secret: String,
    /// Base URL of the WeChat server API.
    pub api_base: String,
    /// Outbound HTTP proxy for WeChat calls, if the site needs one.
    pub proxy: String,
}

/// How the HTTP server treats connections: a client that sends its request slowly, or opens
/// connections and sends nothing, must not be able to hold them for long or take them all.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Seconds a client has to send a request's headers; also how long an idle keep-alive
    /// connection is kept waiting for its next request.
    pub header_timeout_secs: u64,
    /// Seconds a request body may stall between two chunks before the request is dropped.
    pub body_timeout_secs: u64,
    /// Open connections at most; further clients wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Open connections per client IP at most (not applied to trusted proxies nor to a
    /// proxy on this host at 127.0.0.1 / ::1); more are closed at once.
    pub max_connections_per_ip: usize,
    /// Bearer token a Prometheus scraper on another host sends for `/metrics`; empty = only
    /// direct requests from this host (not through a proxy) may read the metrics.
    pub metrics_token: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            header_timeout_secs: 15,
            body_timeout_secs: 30,
            max_connections: 2048,
            max_connections_per_ip: 256,
            metrics_token: String::new(),
        }
    }
}

/// Request body limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest JSON body in bytes.
    pub json_body_bytes: usize,
    /// Largest upload body in bytes (per-purpose limits are smaller).
    pub upload_body_bytes: usize,
    /// Free bytes the data dir must keep: below it, writes answer 503 `disk_full` and
    /// `/healthz` reports `degraded` (reads go on).
    pub min_free_bytes: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            public_base_url: String::new(),
            trusted_proxies: Vec::new(),
            admin_password: None,
            field_key: None,
            log_format: LogFormat::Text,
            server: ServerConfig::default(),
            auth: AuthConfig::default(),
            db: DbConfig::default(),
            storage: StorageConfig::default(),
            wechat: WechatConfig::default(),
            limits: LimitsConfig::default(),
            sms: SmsConfig::default(),
            activities: ActivitiesConfig::default(),
            outbox: OutboxConfig::default(),
            news: NewsConfig::default(),
            uploads: Default::default(),
            backup: BackupConfig::default(),
            points: Default::default(),
            safety: Default::default(),
            tickets: Default::default(),
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            admin_access_ttl_secs: 15 * 60,
            admin_refresh_ttl_secs: 7 * 24 * 3600,
            app_access_ttl_secs: 2 * 3600,
            app_refresh_ttl_secs: 30 * 24 * 3600,
            login_per_ip_per_minute: 20,
        }
    }
}

impl Default for DbConfig {
    fn default() -> Self {
        DbConfig {
            synchronous: Synchronous::Full,
            read_pool_size: 8,
            max_batch: 512,
            litestream: false,
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            kind: StorageKind::Fs,
            dir: None,
            endpoint: String::new(),
            bucket: String::new(),
            region: "us-east-1".into(),
            access_key_id: String::new(),
            secret_access_key: String::new(),
        }
    }
}

impl Default for WechatConfig {
    fn default() -> Self {
        WechatConfig {
            appid: String::new(),
            secret: String::new(),
            api_base: "https://api.weixin.qq.com".into(),
            proxy: String::new(),
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            json_body_bytes: 1024 * 1024,
            upload_body_bytes: 25 * 1024 * 1024,
            min_free_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Command-line overrides that win over everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--listen`.
    pub listen: Option<String>,
}

impl Config {
    /// Load defaults ← config.toml ← env ← CLI overrides, then validate.
    pub fn load(over: &Overrides) -> anyhow::Result<Config> {
        // The data dir decides where config.toml lives, so resolve it first.
        let data_dir = over
            .data_dir
            .clone()
            .or_else(|| std::env::var_os("GONGHUI_DATA_DIR").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("./data"));
        let mut cfg: Config = Config::sources(&data_dir)
            .extract()
            .map_err(|e| anyhow::anyhow!("配置无效 (invalid configuration): {e}"))?;
        cfg.data_dir = data_dir;
        if let Some(l) = &over.listen {
            cfg.listen = l.clone();
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// The layered sources, defaults ← `<data_dir>/config.toml` ← `GONGHUI_*`; also read by
    /// the admin 参数设置 view to tell where each value came from.
    pub fn sources(data_dir: &std::path::Path) -> Figment {
        let toml_path = data_dir.join("config.toml");
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if toml_path.exists() {
            fig = fig.merge(Toml::file(&toml_path));
        }
        fig.merge(Env::prefixed("GONGHUI_").split("__"))
    }

    /// Check values that serde alone cannot.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.listen_addr()?;
        self.trusted_proxy_nets()?;
        if self.auth.admin_access_ttl_secs < 60 || self.auth.app_access_ttl_secs < 60 {
            anyhow::bail!("配置无效: auth.*_access_ttl_secs 不能小于 60 秒");
        }
        if self.auth.admin_refresh_ttl_secs < self.auth.admin_access_ttl_secs {
            anyhow::bail!("配置无效: auth.admin_refresh_ttl_secs 不能小于访问令牌有效期");
        }
        if !["log", "http"].contains(&self.sms.provider.as_str()) {
            anyhow::bail!("配置无效: sms.provider 只能是 log 或 http");
        }
        if self.sms.provider == "http" && self.sms.http.url.is_empty() {
            anyhow::bail!("配置无效: sms.provider = http 时必须设置 sms.http.url");
        }
        let sv = &self.server;
        if sv.header_timeout_secs == 0
            || sv.body_timeout_secs == 0
            || sv.max_connections == 0
            || sv.max_connections_per_ip == 0
        {
            anyhow::bail!("配置无效: server.* 的超时与连接数上限必须大于 0");
        }
        if self.db.read_pool_size == 0 || self.db.max_batch == 0 {
            anyhow::bail!("配置无效: db.read_pool_size 与 db.max_batch 必须大于 0");
        }
        if self.storage.kind == StorageKind::S3
            && (self.storage.endpoint.is_empty() || self.storage.bucket.is_empty())
        {
            anyhow::bail!(
                "配置无效: storage.kind = s3 时必须设置 storage.endpoint 与 storage.bucket"
            );
        }
        self.points.validate()?;
        let ttl = self.activities.checkin_code_ttl_secs;
        if !(5..=60).contains(&ttl) {
            anyhow::bail!("配置无效: activities.checkin_code_ttl_secs 必须在 5 到 60 秒之间");
        }
        if self.activities.checkin_open_before_minutes < 0
            || self.activities.default_checkin_radius_m <= 0
            || self.activities.job_interval_secs == 0
        {
            anyhow::bail!("配置无效: activities 的签到时间、半径与任务间隔必须为正数");
        }
        if self.outbox.poll_interval_ms == 0
            || self.outbox.retry_base_secs <= 0
            || self.outbox.retry_max_secs < self.outbox.retry_base_secs
            || self.outbox.max_attempts <= 0
        {
            anyhow::bail!("配置无效: outbox 的轮询间隔、重试间隔与次数必须为正数");
        }
        self.uploads.validate()?;
        self.tickets.validate()?;
        if self.backup.schedule_minutes().is_none() {
            anyhow::bail!("配置无效: backup.schedule_time 必须是 HH:MM 形式（如 02:00）");
        }
        if !COMPRESSION_LEVELS.contains(&self.backup.compression_level) {
            anyhow::bail!(
                "配置无效: backup.compression_level 必须在 {} 到 {} 之间（负数更快、归档更大）",
                COMPRESSION_LEVELS.start(),
                COMPRESSION_LEVELS.end()
            );
        }
        if self.backup.keep_daily == 0 {
            anyhow::bail!("配置无效: backup.keep_daily 至少为 1（最新的备份总要保留）");
        }
        if self.backup.destination == BackupDestination::S3 {
            let s = self.backup.s3_effective(&self.storage);
            if s.endpoint.is_empty() || s.bucket.is_empty() {
                anyhow::bail!(
                    "配置无效: backup.destination = s3 时必须设置 backup.s3.endpoint 与 backup.s3.bucket（或 storage.endpoint 与 storage.bucket）"
                );
            }
            if s.prefix.split('/').any(|p| p == "..") {
                anyhow::bail!("配置无效: backup.s3.prefix 不能包含 ..");
            }
        }
        if self.news.scheduler_interval_secs == 0 {
            anyhow::bail!("配置无效: news.scheduler_interval_secs 必须大于 0");
        }
        let url = &self.public_base_url;
        let url_ok = url.is_empty() || url.starts_with("http://") || url.starts_with("https://");
        if !url_ok {
            anyhow::bail!("配置无效: public_base_url 必须以 http:// 或 https:// 开头");
        }
        Ok(())
    }

    /// Parsed listen address.
    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listen.parse().map_err(|_| {
            anyhow::anyhow!("配置无效: listen 地址 `{}` 不是 IP:端口 形式", self.listen)
        })
    }

    /// Parsed trusted proxy networks (a bare IP is a /32 or /128).
    pub fn trusted_proxy_nets(&self) -> anyhow::Result<Vec<IpNet>> {
        self.trusted_proxies
            .iter()
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        anyhow::anyhow!("配置无效: trusted_proxies 中的 `{s}` 不是 IP 或网段")
                    })
            })
            .collect()
    }

    /// Path of the SQLite database.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("gonghui.db")
    }

    /// Directory holding key files.
    pub fn keys_dir(&self) -> PathBuf {
        self.data_dir.join("keys")
    }

    /// Directory backups are written to.
    pub fn backup_dir(&self) -> PathBuf {
        self.backup
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("backups"))
    }

    /// Directory for local file storage.
    pub fn files_dir(&self) -> PathBuf {
        self.storage
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("files"))
    }

    /// The configuration as JSON with every secret replaced by `***`.
    pub fn redacted(&self) -> serde_json::Value {
        let mut c = self.clone();
        let hide = |s: &mut String| {
            if !s.is_empty() {
                *s = "***".into();
            }
        };
        hide(&mut c.storage.secret_access_key);
        hide(&mut c.wechat.secret);
        hide(&mut c.sms.http.token);
        hide(&mut c.server.metrics_token);
        hide(&mut c.backup.passphrase);
        hide(&mut c.backup.s3.secret_access_key);
        // URLs carry secrets too: proxy credentials, a gateway key in the query string.
        for u in [
            &mut c.wechat.proxy,
            &mut c.wechat.api_base,
            &mut c.sms.http.url,
            &mut c.storage.endpoint,
            &mut c.backup.s3.endpoint,
        ] {
            *u = redact_url(u);
        }
        c.admin_password = c.admin_password.map(|_| "***".into());
        serde_json::to_value(&c).unwrap_or_default()
    }
}

/// `url` with its password and every query value replaced by `***`; a value that does not
/// parse as a URL is hidden whole, since nothing can tell which part of it is secret.
pub fn redact_url(url: &str) -> String {
    if url.is_empty() {
        return String::new();
    }
    let Ok(mut u) = reqwest::Url::parse(url) else {
        return "***".into();
    };
    if u.password().is_none() && u.query().is_none() && u.fragment().is_none() {
        return url.to_string();
    }
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, _)| (k.into_owned(), "***".to_string()))
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    if u.fragment().is_some() {
        u.set_fragment(Some("***"));
    }
    u.to_string()
}

/// Ensure a directory exists.
pub fn ensure_dir(p: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(p).map_err(|e| anyhow::anyhow!("无法创建目录 {}: {e}", p.display()))
}

/// Make `dir` (the data dir) private to this user (0700), and the database files in it 0600:
/// an installation made before this rule, or unpacked by hand, is tightened at start. New
/// files are private through the process umask (see `cli::main`) and SQLite gives the WAL
/// and shm files the database file's mode.
pub fn secure_data_dir(dir: &Path, db: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let set = |p: &Path, mode: u32| -> anyhow::Result<()> {
            match std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(anyhow::anyhow!("无法设置 {} 的权限: {e}", p.display()))
                }
                _ => Ok(()),
            }
        };
        set(dir, 0o700)?;
        for suffix in ["", "-wal", "-shm"] {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            set(Path::new(&name), 0o600)?;
        }
    }
    #[cfg(not(unix))]
    let _ = (dir, db);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Config::default().validate().unwrap();
    }

    #[test]
    fn bad_listen_is_refused_with_clear_message() {
        let c = Config {
            listen: "nonsense".into(),
            ..Config::default()
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("listen"), "{e}");
    }

    #[test]
    fn backup_compression_level_is_bounded() {
        for ok in [-7, -1, 0, 1, 19] {
            let mut c = Config::default();
            c.backup.compression_level = ok;
            c.validate().unwrap();
        }
        for bad in [-8, 20, 22] {
            let mut c = Config::default();
            c.backup.compression_level = bad;
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains("backup.compression_level"), "{e}");
        }
    }

    #[test]
    fn s3_needs_endpoint_and_bucket() {
        let mut c = Config::default();
        c.storage.kind = StorageKind::S3;
        assert!(c.validate().is_err());
    }

    #[test]
    fn secrets_are_redacted() {
        let mut c = Config::default();
        c.wechat.secret = "topsecret".into();
        c.admin_password = Some("pw".into());
        c.wechat.proxy = "http://proxyuser:proxypass@10.1.1.1:3128".into();
        c.sms.http.url = "https://sms.example.cn/send?appkey=gatewaykey&sign=abc".into();
        c.storage.endpoint = "not a url but maybe a secret".into();
        let s = c.redacted().to_string();
        assert!(!s.contains("topsecret") && !s.contains("\"pw\""), "{s}");
        for secret in ["proxypass", "gatewaykey", "sign=abc", "maybe a secret"] {
            assert!(!s.contains(secret), "{secret} in {s}");
        }
        // What an operator needs to recognise the setting stays.
        assert!(
            s.contains("proxyuser:***@10.1.1.1:3128") && s.contains("appkey=***"),
            "{s}"
        );
        assert!(
            s.contains(r#""api_base":"https://api.weixin.qq.com""#),
            "{s}"
        );
    }

    #[test]
    fn trusted_proxies_accept_ip_and_cidr() {
        let c = Config {
            trusted_proxies: vec!["10.0.0.1".into(), "192.168.0.0/16".into()],
            ..Config::default()
        };
        assert_eq!(c.trusted_proxy_nets().unwrap().len(), 2);
        let c = Config {
            trusted_proxies: vec!["x".into()],
            ..Config::default()
        };
        assert!(c.trusted_proxy_nets().is_err());
    }
}
