//! Backups and restore through the real binary: a round trip under concurrent writes (data,
//! encrypted fields, files, search), wrong passphrase, a corrupted archive, restore refused
//! while the server runs, the erasure journal re-applied, and the admin API.

use crate::files::{PNG, unhex, upload_ok};
use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub(crate) const PASS: &str = "县工会 备份口令 2026";

pub(crate) fn gh(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gonghui"));
    cmd.arg("--data-dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run gonghui")
}

pub(crate) fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The one archive in `dir`.
fn archive_in(dir: &Path) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("gonghui-")
        })
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].clone()
}

/// A member with encrypted phone and ID number; returns its id.
pub(crate) async fn member(
    app: &TestApp,
    token: &str,
    name: &str,
    id_number: &str,
    phone: &str,
) -> i64 {
    let org = app.root_org().await;
    let r = app
        .post(
            "/api/v1/admin/members",
            token,
            json!({"name": name, "id_number": id_number, "phone": phone, "org_id": org, "work_unit": "县供电公司"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.data()["id"].as_i64().unwrap()
}

/// Populate (members with encrypted fields, a file, an article, audit rows), back up through
/// the binary while 16 writers keep writing, restore into a new directory, start the binary
/// on it: every write acknowledged before the backup began is there, encrypted fields
/// decrypt, the file downloads, search finds the article, and check passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn round_trip_under_writes_restores_everything_acknowledged() {
    let app = spawn_with(|c| c.backup.passphrase = PASS.into()).await;
    let tok = app.admin_token().await;
    let m1 = member(&app, &tok, "张三", "11010519491231002X", "13812345678").await;
    member(&app, &tok, "李四", "440524199001010018", "13900001111").await;
    let png = unhex(PNG);
    let fid = upload_ok(&app, &tok, "attachment", png.clone()).await;
    let root = app.root_org().await;
    crate::news::helpers::published(&app, &tok, root, "疗养报名通知", "<p>职工疗养安排</p>").await;
    let root = app.root_org().await;

    // 16 writers create orgs until told to stop; each remembers what was acknowledged when.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..16 {
        let (base, tok, stop) = (app.base.clone(), tok.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let http = reqwest::Client::builder().no_proxy().build().unwrap();
            let mut acked = Vec::new();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let code = format!("w{w}-{i}");
                let r = http
                    .post(format!("{base}/api/v1/admin/orgs"))
                    .bearer_auth(&tok)
                    .json(&json!({"parent_id": root, "name": format!("写入{code}"), "code": code, "kind": "grassroots"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED, "write failed during the backup");
                acked.push((code, std::time::Instant::now()));
                i += 1;
            }
            acked
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let out = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let (dir, to) = (app.dir.path().to_path_buf(), out.path().to_path_buf());
    let o = tokio::task::spawn_blocking(move || {
        gh(
            &dir,
            &["backup", "--to", to.to_str().unwrap()],
            &[("GONGHUI_BACKUP__PASSPHRASE", PASS)],
        )
    })
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut before = Vec::new();
    let mut total = 0;
    for w in writers {
        let acked = w.await.unwrap();
        total += acked.len();
        before.extend(
            acked
                .into_iter()
                .filter(|(_, t)| *t < started)
                .map(|(c, _)| c),
        );
    }
    assert!(o.status.success(), "{}", text(&o));
    let out_text = text(&o);
    assert!(
        out_text.contains("已加密，含密钥") && out_text.contains("审计日志链: ok"),
        "{out_text}"
    );
    assert!(
        !before.is_empty() && total > before.len(),
        "writes before {} / total {total}",
        before.len()
    );
    let archive = archive_in(out.path());
    assert!(archive.to_str().unwrap().ends_with(".zip.enc"));
    drop(app);

    // Restore into a directory that never held this installation.
    let fresh = tempfile::tempdir().unwrap();
    let target = fresh.path().join("data");
    let o = gh(
        &target,
        &["restore", archive.to_str().unwrap()],
        &[("GONGHUI_BACKUP__PASSPHRASE", PASS)],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("恢复完成") && text(&o).contains("audit chain: ok"),
        "{}",
        text(&o)
    );

    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let srv = Server::start(&target, &http, None, None).await;
    let t = srv.admin_token(&http).await;
    let get = |p: String| http.get(format!("{}{p}", srv.base)).bearer_auth(&t).send();
    let v: serde_json::Value = get("/api/v1/admin/members".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"]["total"], 2, "{v}");
    let r: serde_json::Value = http
        .post(format!("{}/api/v1/admin/members/{m1}/reveal", srv.base))
        .bearer_auth(&t)
        .json(&json!({"field": "phone"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        r.to_string().contains("13812345678"),
        "encrypted phone did not decrypt: {r}"
    );
    let bytes = get(format!("/api/v1/admin/files/{fid}/download"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.to_vec(), png);
    let orgs: serde_json::Value = get("/api/v1/admin/orgs".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let orgs = orgs.to_string();
    for code in &before {
        assert!(
            orgs.contains(&format!("\"{code}\"")),
            "acknowledged org {code} lost"
        );
    }
    // The index is not archived: the server rebuilds it from the database at start.
    let mut found = false;
    for _ in 0..50 {
        let s: serde_json::Value = get(format!("/api/v1/admin/news?q={}", "疗养"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if s["data"]["total"].as_i64().unwrap_or(0) >= 1 {
            found = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(found, "search does not find the restored article");
}

/// An encrypted archive opened with the wrong passphrase is refused with a clear message,
/// and a restore with it changes nothing.
#[test]
fn wrong_passphrase_is_refused_clearly_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("GONGHUI_BACKUP__PASSPHRASE", PASS)];
    assert!(gh(dir.path(), &["migrate"], &[]).status.success());
    let o = gh(dir.path(), &["backup"], &env);
    assert!(o.status.success(), "{}", text(&o));
    let archive = archive_in(&dir.path().join("backups"));
    let wrong = [("GONGHUI_BACKUP__PASSPHRASE", "not the passphrase")];
    let o = gh(
        dir.path(),
        &["backup", "--verify", archive.to_str().unwrap()],
        &wrong,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("备份口令不正确"), "{}", text(&o));
    let o = gh(
        dir.path(),
        &["backup", "--verify", archive.to_str().unwrap()],
        &[],
    );
    assert!(
        !o.status.success() && text(&o).contains("该备份已加密，需要备份口令"),
        "{}",
        text(&o)
    );
    let db = std::fs::read(dir.path().join("gonghui.db")).unwrap();
    let o = gh(dir.path(), &["restore", archive.to_str().unwrap()], &wrong);
    assert!(
        !o.status.success() && text(&o).contains("备份口令不正确"),
        "{}",
        text(&o)
    );
    assert_eq!(
        std::fs::read(dir.path().join("gonghui.db")).unwrap(),
        db,
        "live database changed"
    );
}

/// One flipped byte inside the database entry: verification fails naming the entry, and a
/// restore refuses before touching the live data; for the stored database entry (the default)
/// and for the compressed one.
#[test]
fn corrupted_archive_fails_verification_naming_the_entry() {
    for (level, entry) in [("0", "gonghui.db"), ("-3", "gonghui.db.zst")] {
        corrupted_archive_is_refused(level, entry);
    }
}

fn corrupted_archive_is_refused(level: &str, entry: &str) {
    let dir = tempfile::tempdir().unwrap();
    assert!(gh(dir.path(), &["migrate"], &[]).status.success());
    let o = gh(
        dir.path(),
        &["backup"],
        &[("GONGHUI_BACKUP__COMPRESSION_LEVEL", level)],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("未加密，不含密钥"), "{}", text(&o));
    let archive = archive_in(&dir.path().join("backups"));
    let o = gh(
        dir.path(),
        &["backup", "--verify", archive.to_str().unwrap()],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let start = {
        let mut z = zip::ZipArchive::new(std::fs::File::open(&archive).unwrap()).unwrap();
        let f = z.by_name(entry).unwrap();
        (f.data_start().unwrap(), f.compressed_size())
    };
    let mut bytes = std::fs::read(&archive).unwrap();
    bytes[(start.0 + start.1 / 2) as usize] ^= 0x55;
    std::fs::write(&archive, &bytes).unwrap();
    let o = gh(
        dir.path(),
        &["backup", "--verify", archive.to_str().unwrap()],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("条目 gonghui.db"), "{}", text(&o));
    let before = std::fs::read(dir.path().join("gonghui.db")).unwrap();
    let o = gh(dir.path(), &["restore", archive.to_str().unwrap()], &[]);
    assert!(
        !o.status.success() && text(&o).contains("未做任何改动"),
        "{}",
        text(&o)
    );
    assert_eq!(
        std::fs::read(dir.path().join("gonghui.db")).unwrap(),
        before
    );
    let siblings = std::fs::read_dir(dir.path().parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.contains(".before-restore-")
                && n.starts_with(&*dir.path().file_name().unwrap().to_string_lossy())
        });
    assert_eq!(
        siblings.count(),
        0,
        "the data dir was moved aside for a refused restore"
    );
}

/// A restore refuses while the server runs on the data dir; a drill may run beside it and
/// reports check results without changing anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_is_refused_while_the_server_runs_but_a_drill_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let srv = Server::start(dir.path(), &http, None, None).await;
    let d = dir.path().to_path_buf();
    let o = tokio::task::spawn_blocking(move || gh(&d, &["backup"], &[]))
        .await
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let archive = archive_in(&dir.path().join("backups"));
    let (d, a) = (dir.path().to_path_buf(), archive.clone());
    let o = tokio::task::spawn_blocking(move || gh(&d, &["restore", a.to_str().unwrap()], &[]))
        .await
        .unwrap();
    assert!(
        !o.status.success() && text(&o).contains("正被运行中的 gonghui 服务"),
        "{}",
        text(&o)
    );
    let (d, a) = (dir.path().to_path_buf(), archive.clone());
    let o = tokio::task::spawn_blocking(move || {
        gh(&d, &["restore", "--drill", a.to_str().unwrap()], &[])
    })
    .await
    .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("恢复演练完成") && text(&o).contains("integrity: ok"),
        "{}",
        text(&o)
    );
    // Still serving the same data.
    let r = http
        .get(format!("{}/healthz", srv.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    drop(srv);
}

/// A member who deletes the account after a backup stays deleted when that backup is
/// restored: from the live journal on the same machine, and from `--erasures` on a new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasures_after_the_backup_are_reapplied_on_restore() {
    // The data dir outlives the app (a TestApp removes its own when dropped).
    let data = tempfile::tempdir().unwrap();
    let p = data.path().to_path_buf();
    let app = spawn_with(move |c| {
        c.data_dir = p;
        c.backup.passphrase = PASS.into();
    })
    .await;
    let tok = app.admin_token().await;
    let mid = member(&app, &tok, "王五", "11010519491231002X", "13812345678").await;
    let mtok = gonghui::auth::tokens::issue_access(&app.state.keys, "app", mid, 1, 600).unwrap();
    let dir = data.path().to_path_buf();
    let env = [("GONGHUI_BACKUP__PASSPHRASE", PASS)];
    let d = dir.clone();
    let o = tokio::task::spawn_blocking(move || gh(&d, &["backup"], &env))
        .await
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let archive = archive_in(&dir.join("backups"));
    let r = app.delete("/api/v1/app/me", &mtok).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let journal = std::fs::read_to_string(dir.join("erasures.log")).unwrap();
    assert!(
        journal.contains(&format!("\"member_id\":{mid}")),
        "{journal}"
    );
    let saved = tempfile::tempdir().unwrap();
    let saved_journal = saved.path().join("erasures.log");
    std::fs::copy(dir.join("erasures.log"), &saved_journal).unwrap();
    drop(app);
    // Let the in-process server's writer let go of the files.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let check = |data: &Path| {
        let c = rusqlite::Connection::open(data.join("gonghui.db")).unwrap();
        let (status, name, phone): (String, Option<String>, Option<String>) = c
            .query_row(
                "SELECT status, real_name, phone_enc FROM members WHERE id = ?1",
                [mid],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((status.as_str(), name, phone), ("deleted", None, None));
        let n: i64 = c
            .query_row("SELECT count(*) FROM audit_logs WHERE action = 'member.erase_reapplied' AND target_id = ?1", [mid.to_string()], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    };
    let (d, a) = (dir.clone(), archive.clone());
    let o = tokio::task::spawn_blocking(move || gh(&d, &["restore", a.to_str().unwrap()], &env))
        .await
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("重新删除 1 名会员"), "{}", text(&o));
    check(&dir);
    // A new machine: the data dir is gone, the journal was kept elsewhere.
    let fresh = tempfile::tempdir().unwrap();
    let target = fresh.path().join("data");
    let o = gh(
        &target,
        &[
            "restore",
            "--erasures",
            saved_journal.to_str().unwrap(),
            archive.to_str().unwrap(),
        ],
        &env,
    );
    assert!(o.status.success(), "{}", text(&o));
    check(&target);
    // The first restore moved the live data dir aside (never deleted): clean it up here.
    let name = data
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    for e in std::fs::read_dir(data.path().parent().unwrap())
        .unwrap()
        .flatten()
    {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.starts_with(&format!("{name}.before-restore-")) {
            std::fs::remove_dir_all(e.path()).unwrap();
        }
    }
}

/// The admin API: run a backup, see it verified in the list, verify again, download the
/// same bytes, delete; the metrics report it; a county admin is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_runs_verifies_downloads_and_deletes_backups() {
    let app = spawn_app().await;
    let tok = app.admin_token().await;
    member(&app, &tok, "赵六", "11010519491231002X", "13812345678").await;
    let r = app.post("/api/v1/admin/backups", &tok, json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let id = r.data()["id"].as_i64().unwrap();
    let mut row = serde_json::Value::Null;
    for _ in 0..200 {
        let l = app.get("/api/v1/admin/backups", &tok).await;
        row = l.data()["items"][0].clone();
        if row["status"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(row["id"], id);
    assert_eq!(row["status"], "ok", "{row}");
    assert_eq!(row["verify_ok"], true);
    assert_eq!(row["counts"]["members"], 1);
    let name = row["file_name"].as_str().unwrap().to_string();
    let path = app.dir.path().join("backups").join(&name);
    let v = app
        .post(
            &format!("/api/v1/admin/backups/{id}/verify"),
            &tok,
            json!({}),
        )
        .await;
    assert_eq!(v.status, StatusCode::OK, "{:?}", v.body);
    assert_eq!(v.data()["ok"], true, "{:?}", v.body);
    let d = app
        .client
        .get(format!("{}/api/v1/admin/backups/{id}/download", app.base))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(d.status(), StatusCode::OK);
    assert_eq!(
        d.bytes().await.unwrap().to_vec(),
        std::fs::read(&path).unwrap()
    );
    let m = app.metrics_text().await;
    assert!(
        m.lines().any(|l| l == "gonghui_backup_last_verify_ok 1"),
        "{m}"
    );
    assert!(
        !m.contains("gonghui_backup_last_success_timestamp 0\n"),
        "{m}"
    );
    // Corrupt the file on disk: verifying again reports it and the metric drops.
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 3;
    bytes[mid] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let v = app
        .post(
            &format!("/api/v1/admin/backups/{id}/verify"),
            &tok,
            json!({}),
        )
        .await;
    assert_eq!(v.data()["ok"], false, "{:?}", v.body);
    let m = app.metrics_text().await;
    assert!(
        m.lines().any(|l| l == "gonghui_backup_last_verify_ok 0"),
        "{m}"
    );
    let r = app
        .delete(&format!("/api/v1/admin/backups/{id}"), &tok)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!path.exists());
    let r = app
        .post(
            &format!("/api/v1/admin/backups/{id}/verify"),
            &tok,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let audits = app
        .query_i64("SELECT count(*) FROM audit_logs WHERE target_type = 'backup'")
        .await;
    assert_eq!(audits, 5, "create, verify ×2, download, delete");
    let tc = app.two_counties().await;
    let r = app.get("/api/v1/admin/backups", &tc.admin_a).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
}
