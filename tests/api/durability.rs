//! Crash safety of the single writer: the real binary is killed with SIGKILL while it is
//! acknowledging writes under load; after a restart every acknowledged write is there and the
//! database passes `PRAGMA integrity_check`.

use crate::support::Server;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Concurrent writers.
const TASKS: usize = 16;
/// Upper bound of requests per writer, whatever the machine's speed.
const MAX_PER_TASK: usize = 5_000;
/// How long the load runs before the kill.
const LOAD: Duration = Duration::from_millis(1500);

/// Start the binary on `dir`, its stderr kept beside the dir as `<dir>.<run>.log`.
async fn start(dir: &Path, http: &reqwest::Client, run: &str) -> Server {
    let log = dir.with_extension(format!("{run}.log"));
    Server::start(dir, http, None, Some(&log)).await
}

/// One writer: create orgs until the server stops answering; returns (id, code) of every
/// creation answered 201 and the number of requests sent.
async fn writer(
    http: reqwest::Client,
    base: String,
    token: String,
    root: i64,
    task: usize,
    killed: Arc<AtomicBool>,
) -> (Vec<(i64, String)>, usize) {
    let mut acked = Vec::new();
    let mut sent = 0;
    for i in 0..MAX_PER_TASK {
        let code = format!("d{task}-{i}");
        sent += 1;
        let res = http
            .post(format!("{base}/api/v1/admin/orgs"))
            .bearer_auth(&token)
            .json(&json!({"parent_id": root, "name": format!("压测{code}"), "code": code, "kind": "grassroots"}))
            .send()
            .await;
        // After the kill the connection fails; before it, that would be a server fault. A
        // half-read answer at the moment of the kill is not an acknowledgement.
        let answer = match res {
            Ok(r) => (r.status(), r.json::<Value>().await),
            Err(e) if !killed.load(Ordering::SeqCst) => panic!("org {code}: {e}"),
            Err(_) => break,
        };
        let (status, Ok(v)) = answer else {
            assert!(
                killed.load(Ordering::SeqCst),
                "org {code}: unreadable answer"
            );
            break;
        };
        match status {
            StatusCode::CREATED => acked.push((v["data"]["id"].as_i64().unwrap(), code)),
            // Before the kill every request must succeed.
            s if !killed.load(Ordering::SeqCst) => panic!("org {code}: {s} {v}"),
            _ => break,
        }
    }
    (acked, sent)
}

/// Writes acknowledged by the real binary under concurrent load survive a SIGKILL in the
/// middle of the load: after a restart each acknowledged org is present with its code, and
/// the database file is intact (`integrity_check`, `gonghui check`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_kill_9_under_load() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();

    let srv = start(&dir, &http, "first").await;
    let token = srv.admin_token(&http).await;
    let root: i64 = {
        let r = http
            .get(format!("{}/api/v1/admin/orgs", srv.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        v["data"][0]["id"].as_i64().expect("root org")
    };

    let killed = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            tokio::spawn(writer(
                http.clone(),
                srv.base.clone(),
                token.clone(),
                root,
                task,
                killed.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(LOAD).await;
    // The kill lands while the writers are still sending.
    let mut srv = srv;
    killed.store(true, Ordering::SeqCst);
    srv.child.kill().expect("SIGKILL");
    let status = srv.child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "the server must die from the SIGKILL, not before it: {status}"
    );
    let mut acked: HashMap<i64, String> = HashMap::new();
    let mut sent = 0;
    for t in tasks {
        let (a, n) = tokio::time::timeout(Duration::from_secs(60), t)
            .await
            .expect("writers stop after the kill")
            .unwrap();
        sent += n;
        for (id, code) in a {
            assert!(
                acked.insert(id, code).is_none(),
                "id {id} acknowledged twice"
            );
        }
    }
    assert!(
        acked.len() >= TASKS,
        "too few writes acknowledged before the kill: {}",
        acked.len()
    );
    assert!(
        sent < TASKS * MAX_PER_TASK,
        "the writers ran out of work before the kill; raise MAX_PER_TASK"
    );
    eprintln!(
        "kill -9 test: {} writes acknowledged, {} sent",
        acked.len(),
        sent
    );
    drop(srv);

    // Restart on the same data dir; every acknowledged org is served.
    let srv = start(&dir, &http, "second").await;
    let token = srv.admin_token(&http).await;
    let r = http
        .get(format!("{}/api/v1/admin/orgs", srv.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let tree: Value = r.json().await.unwrap();
    let served: HashMap<i64, String> = tree["data"][0]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["id"].as_i64().unwrap(),
                o["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (id, code) in &acked {
        assert_eq!(served.get(id), Some(code), "acknowledged org {id} lost");
    }
    // Stop the second run cleanly, then look at the file itself.
    let pid = srv.child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let mut srv = srv;
    let deadline = Instant::now() + Duration::from_secs(20);
    while srv.child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(srv);

    let db = rusqlite::Connection::open_with_flags(
        dir.join("gonghui.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let integrity: Vec<String> = db
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(integrity, ["ok"]);
    let mut stmt = db.prepare("SELECT code FROM orgs WHERE id = ?1").unwrap();
    for (id, code) in &acked {
        let stored: String = stmt.query_row([id], |r| r.get(0)).unwrap();
        assert_eq!(&stored, code);
    }
    // Each org's audit row was committed with it.
    let audited: i64 = db
        .query_row(
            "SELECT count(*) FROM audit_logs WHERE action = 'org.create'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(audited as usize >= acked.len());
    drop(stmt);
    drop(db);

    // The binary's own check agrees: integrity and the audit hash chain.
    let out = Command::new(env!("CARGO_BIN_EXE_gonghui"))
        .args(["--data-dir", dir.to_str().unwrap(), "check"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gonghui check failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}
