//! The appliance benchmark: builds the release binary, starts it on a temp data dir on
//! 127.0.0.1, loads generated data, runs scenarios S1–S8 and S10 and reports every figure as a ratio
//! to a baseline measured in the same run on the same machine.
//!
//! `cargo bench --bench appliance` (full) or `cargo bench --bench appliance -- --quick`
//! (about 3 minutes). Writes `target/bench/report.json` and prints a table. Not part of
//! `cargo test`; nothing here asserts a time — only correctness (e.g. no oversell) is checked.

mod data;
mod load;
mod report;
mod s_activities;
mod s_benefits;
mod s_core;
mod s_home;
mod s_search;
mod s_stats;
mod seq;
mod server;

use std::path::PathBuf;
use std::sync::Arc;

/// Sizes and durations of one run.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Plan {
    /// `quick` or `full`.
    pub mode: &'static str,
    /// Members loaded for S2/S5.
    pub members: u64,
    /// Articles for S4.
    pub articles: u64,
    /// Seconds per saturation phase.
    pub phase_secs: f64,
    /// Closed-loop connections.
    pub conns: usize,
    /// S3: quota, requests, distinct members.
    pub quota: u64,
    /// S3 requests in the burst.
    pub burst_requests: u64,
    /// S3 distinct members in the burst.
    pub burst_members: u64,
    /// Rows in the import scenario.
    pub import_rows: u64,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                mode: "quick",
                members: 100_000,
                articles: 10_000,
                phase_secs: 4.0,
                conns: 32,
                quota: 1_000,
                burst_requests: 20_000,
                burst_members: 10_000,
                import_rows: 5_000,
            }
        } else {
            Plan {
                mode: "full",
                members: 1_000_000,
                articles: 100_000,
                phase_secs: 10.0,
                conns: 64,
                quota: 1_000,
                burst_requests: 20_000,
                burst_members: 10_000,
                import_rows: 20_000,
            }
        }
    }
}

/// Shared context of a run.
pub struct Ctx {
    /// Sizes.
    pub plan: Plan,
    /// The release binary.
    pub bin: PathBuf,
    /// Root of the temp dirs of this run.
    pub root: tempfile::TempDir,
    /// HTTP client.
    pub client: reqwest::Client,
    /// Report being built.
    pub report: report::Report,
    /// The main data dir (orgs + members), once prepared.
    pub main: Option<PathBuf>,
    /// Grassroots orgs of the main data set: (id, code).
    pub orgs: Vec<(i64, String)>,
}

impl Ctx {
    /// A fresh data dir under the run's temp root.
    pub fn data_dir(&self, name: &str) -> PathBuf {
        let d = self.root.path().join(name);
        std::fs::create_dir_all(&d).expect("data dir");
        d
    }
}

/// Log in as the bootstrap admin and return the access token.
pub async fn admin_token(client: &reqwest::Client, base: &str) -> Arc<str> {
    let v: serde_json::Value = client
        .post(format!("{base}/api/v1/admin/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": server::ADMIN_PW}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login body");
    v["data"]["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("admin login failed: {v}"))
        .into()
}

/// Member access tokens for ids `1..=n`, signed with the data dir's own key (as the server
/// would issue them after a WeChat login).
pub fn member_tokens(data_dir: &std::path::Path, ids: impl Iterator<Item = i64>) -> Vec<Arc<str>> {
    let keys = gonghui::crypto::Keys::load_or_create(&data_dir.join("keys")).expect("keys");
    ids.map(|id| {
        gonghui::auth::tokens::issue_access(&keys, gonghui::auth::tokens::AUD_APP, id, 1, 7200)
            .expect("token")
            .into()
    })
    .collect()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let only: Option<String> = std::env::args().skip_while(|a| a != "--only").nth(1);
    let mut plan = Plan::new(quick);
    // Size overrides for trying the harness out on a small data set.
    let env_u64 = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = env_u64("BENCH_MEMBERS") {
        plan.members = n;
    }
    if let Some(n) = env_u64("BENCH_ARTICLES") {
        plan.articles = n;
    }
    if let Some(n) = env_u64("BENCH_IMPORT_ROWS") {
        plan.import_rows = n;
    }
    if let Some(n) = env_u64("BENCH_PHASE_SECS") {
        plan.phase_secs = n as f64;
    }
    let bin = std::env::var("BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| server::build_release());
    let root = tempfile::Builder::new()
        .prefix("gonghui-bench-")
        .tempdir_in(
            std::env::var("BENCH_DIR")
                .unwrap_or_else(|_| std::env::temp_dir().display().to_string()),
        )
        .expect("temp root");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut ctx = Ctx {
        plan,
        bin,
        client: load::client(),
        report: report::Report::new(plan, root.path()),
        root,
        main: None,
        orgs: Vec::new(),
    };
    let want = |s: &str| only.as_deref().is_none_or(|o| o.split(',').any(|x| x == s));
    rt.block_on(async {
        if want("S1") || want("S2") || want("S6") {
            s_core::run(&mut ctx, want("S6")).await;
        }
        if want("S3") {
            s_activities::burst(&mut ctx).await;
        }
        if want("S4") {
            s_search::run(&mut ctx).await;
        }
        if want("S5") {
            s_activities::mixed(&mut ctx).await;
        }
        if want("S7") {
            s_benefits::run(&mut ctx).await;
        }
        if want("S8") {
            s_stats::run(&mut ctx).await;
        }
        if want("S10") {
            s_home::run(&mut ctx).await;
        }
    });
    ctx.report.finish();
}
