//! Registration throughput through the real HTTP server (token check, visibility, form,
//! quota check and insert with notice and audit row in one writer job), next to the raw
//! grouped-insert rate of the same writer in the same run. synchronous=FULL.
//! Run with `cargo bench --bench registration` (`-- --quick` for a short run).

use futures::StreamExt;
use gonghui::app::AppState;
use gonghui::config::{Config, Synchronous};
use std::time::Instant;

const QUOTA: i64 = 1000;
const CONCURRENCY: usize = 64;

async fn open() -> (tempfile::TempDir, AppState) {
    let dir = tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| ".".into()))
        .expect("tempdir");
    let mut cfg = Config {
        data_dir: dir.path().to_path_buf(),
        admin_password: Some("Bench#2026pw".into()),
        ..Config::default()
    };
    cfg.db.synchronous = Synchronous::Full;
    let state = AppState::open(cfg).await.expect("open");
    (dir, state)
}

/// One published activity with quota [`QUOTA`] in the root org and `n` active members there.
async fn arrange(state: &AppState, n: usize) -> (i64, Vec<String>) {
    let (activity, ids) = state
        .db
        .write(move |c| {
            let now = gonghui::time::now();
            let root: i64 = c.query_row("SELECT id FROM orgs WHERE parent_id IS NULL", [], |r| r.get(0))?;
            c.execute(
                "INSERT INTO activities (org_id, title, category, location_name, starts_at, ends_at, signup_starts_at, signup_ends_at,
                    quota, members_only, status, created_at, updated_at)
                 VALUES (?1, '压测活动', 'sports', '体育场', ?2 + 86400, ?2 + 90000, ?2 - 60, ?2 + 3600, ?3, 1, 'published', ?2, ?2)",
                rusqlite::params![root, now, QUOTA],
            )?;
            let activity = c.last_insert_rowid();
            let mut st = c.prepare(
                "INSERT INTO members (status, org_id, nickname, created_at, updated_at, org_since) VALUES ('active', ?1, 'bench', ?2, ?2, ?2)",
            )?;
            let mut ids = Vec::with_capacity(n);
            for _ in 0..n {
                st.execute(rusqlite::params![root, now])?;
                ids.push(c.last_insert_rowid());
            }
            Ok((activity, ids))
        })
        .await
        .expect("arrange");
    let tokens = ids
        .into_iter()
        .map(|id| gonghui::auth::tokens::issue_access(&state.keys, "app", id, 1, 3600).unwrap())
        .collect();
    (activity, tokens)
}

/// The raw writer: `n` single-row inserts from [`CONCURRENCY`] tasks, grouped commits.
async fn raw_writer(state: &AppState, n: usize) -> f64 {
    state
        .db
        .write(|c| {
            Ok(c.execute_batch("CREATE TABLE bench_w(id INTEGER PRIMARY KEY, k INTEGER, v TEXT)")?)
        })
        .await
        .unwrap();
    let start = Instant::now();
    futures::stream::iter(0..n)
        .map(|i| {
            let db = state.db.clone();
            async move {
                db.write(move |c| {
                    c.execute("INSERT INTO bench_w(k, v) VALUES (?1, '报名')", [i as i64])?;
                    Ok(())
                })
                .await
                .expect("write")
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n: usize = if quick { 1200 } else { 3000 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (_dir, state) = open().await;
        let (activity, tokens) = arrange(&state, n).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(gonghui::app::serve_on(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder().no_proxy().pool_max_idle_per_host(CONCURRENCY).build().unwrap();
        let url = format!("{base}/api/v1/app/activities/{activity}/registrations");
        let start = Instant::now();
        let statuses: Vec<u16> = futures::stream::iter(tokens)
            .map(|t| {
                let (client, url) = (client.clone(), url.clone());
                async move {
                    client
                        .post(&url)
                        .bearer_auth(t)
                        .json(&serde_json::json!({"answers": {}}))
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0)
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let secs = start.elapsed().as_secs_f64();
        let created = statuses.iter().filter(|s| **s == 201).count();
        let full = statuses.iter().filter(|s| **s == 409).count();
        let other = statuses.len() - created - full;
        let live: i64 = state
            .db
            .read(move |c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM activity_registrations WHERE activity_id = ?1 AND status IN ('pending', 'approved')",
                    [activity],
                    |r| r.get(0),
                )?)
            })
            .await
            .unwrap();
        assert_eq!(created as i64, QUOTA, "exactly quota registrations succeed");
        assert_eq!(live, QUOTA, "exactly quota live registrations stored");
        assert_eq!(other, 0, "no other status than 201 / 409");
        let raw = raw_writer(&state, n).await;
        let _ = stop.send(());
        let _ = server.await;
        println!("\nregistration burst: {n} members, quota {QUOTA}, concurrency {CONCURRENCY}, synchronous=FULL");
        println!("{:<44} {:>10}", "requests (201 + 409)", statuses.len());
        println!("{:<44} {:>10} / {full}", "201 created / 409 quota_full", created);
        println!("{:<44} {:>10.3}", "seconds", secs);
        println!("{:<44} {:>10.0}", "HTTP registration requests/s", n as f64 / secs);
        println!("{:<44} {:>10.0}", "raw writer grouped inserts/s (same run)", raw);
    });
}
