//! Backups kept on an S3-compatible store (moto on loopback): made from the admin page and
//! from the command line, listed, verified again, restored into a new directory with
//! `--from-s3`; a corrupted object is refused with a clear message and changes nothing, and a
//! failed re-verification raises the dashboard banner and the metric.

use crate::backup::{PASS, gh, member, text};
use crate::s3::{BUCKET, bucket, object, start_moto};
use crate::support::*;
use reqwest::StatusCode;
use std::time::Duration;

/// The `GONGHUI_*` environment that points the binary's backups at `endpoint`.
fn s3_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("GONGHUI_BACKUP__PASSPHRASE", PASS.to_string()),
        ("GONGHUI_BACKUP__DESTINATION", "s3".into()),
        ("GONGHUI_BACKUP__S3__ENDPOINT", endpoint.to_string()),
        ("GONGHUI_BACKUP__S3__BUCKET", BUCKET.into()),
        ("GONGHUI_BACKUP__S3__REGION", "us-east-1".into()),
        ("GONGHUI_BACKUP__S3__ACCESS_KEY_ID", "testing".into()),
        ("GONGHUI_BACKUP__S3__SECRET_ACCESS_KEY", "testing".into()),
    ]
}

fn run(
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&'static str, String)],
) -> std::process::Output {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    gh(dir, args, &env)
}

/// Poll the backups list until row `id` is no longer running.
async fn finished(app: &TestApp, tok: &str, id: i64) -> serde_json::Value {
    for _ in 0..300 {
        let r = app.get("/api/v1/admin/backups", tok).await;
        let row = r.data()["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["id"] == id)
            .cloned()
            .unwrap();
        if row["status"] != "running" {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("backup {id} did not finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backups_on_s3_list_verify_restore_and_refuse_a_flipped_byte() {
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let Some(moto) = start_moto(&http).await else {
        assert!(
            std::env::var_os("CI").is_none(),
            "moto_server is required when CI is set"
        );
        eprintln!("NOTICE: skipping the S3 backup test: moto_server is not on PATH");
        return;
    };
    let r = http
        .put(format!("{}/{BUCKET}", moto.endpoint))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let env = s3_env(&moto.endpoint);
    let data = tempfile::tempdir().unwrap();
    let (p, e2) = (data.path().to_path_buf(), moto.endpoint.clone());
    let app = spawn_with(move |c| {
        c.data_dir = p;
        c.backup.passphrase = PASS.into();
        c.backup.destination = gonghui::config::BackupDestination::S3;
        c.backup.s3.endpoint = e2;
        c.backup.s3.bucket = BUCKET.into();
        c.backup.s3.region = "us-east-1".into();
        c.backup.s3.access_key_id = "testing".into();
        c.backup.s3.secret_access_key = "testing".into();
    })
    .await;
    let tok = app.admin_token().await;
    let mid = member(&app, &tok, "赵六", "11010519491231002X", "13812345678").await;

    // From the admin page: written, verified, uploaded; the local copy is gone.
    let r = app
        .post("/api/v1/admin/backups", &tok, serde_json::json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.data()["destination"], "s3");
    let row = finished(&app, &tok, r.data()["id"].as_i64().unwrap()).await;
    assert_eq!(row["status"], "ok", "{row}");
    let name = row["file_name"].as_str().unwrap().to_string();
    let op = bucket(&moto);
    let stored = object(&op, &format!("backups/{name}"))
        .await
        .expect("archive in the bucket");
    assert_eq!(stored.len() as i64, row["size_bytes"].as_i64().unwrap());
    assert!(!data.path().join("backups").join(&name).exists());

    // Download streams the object; verify again reads it back from the bucket.
    let id = row["id"].as_i64().unwrap();
    let dl = app
        .client
        .get(format!("{}/api/v1/admin/backups/{id}/download", app.base))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(dl.status(), StatusCode::OK);
    assert_eq!(dl.bytes().await.unwrap().to_vec(), stored);
    let v = app
        .post(
            &format!("/api/v1/admin/backups/{id}/verify"),
            &tok,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(v.data()["ok"], true, "{:?}", v.body);
    assert!(app.get("/api/v1/admin/dashboard", &tok).await.data()["backup_alert"].is_null());

    // From the command line, beside the running server, and listed.
    let d = data.path().to_path_buf();
    let e = env.clone();
    let o = tokio::task::spawn_blocking(move || run(&d, &["backup", "--to", "s3"], &e))
        .await
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("已上传到 s3://gonghui-test/backups/"),
        "{}",
        text(&o)
    );
    let d = data.path().to_path_buf();
    let e = env.clone();
    let o = tokio::task::spawn_blocking(move || run(&d, &["backup", "--list"], &e))
        .await
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("(2 个)") && text(&o).contains(&name),
        "{}",
        text(&o)
    );

    // Restore into a new directory straight from the bucket: the member is there.
    let fresh = tempfile::tempdir().unwrap();
    let target = fresh.path().join("data");
    let (t, e, n) = (target.clone(), env.clone(), name.clone());
    let o = tokio::task::spawn_blocking(move || run(&t, &["restore", "--from-s3", &n], &e))
        .await
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("恢复完成"), "{}", text(&o));
    let c = rusqlite::Connection::open(target.join("gonghui.db")).unwrap();
    let got: String = c
        .query_row("SELECT real_name FROM members WHERE id = ?1", [mid], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(got, "赵六");
    assert!(
        std::fs::read_dir(fresh.path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains(".gonghui-download")),
        "the downloaded copy was left behind"
    );

    // One byte flipped in the stored object: restore refuses, the live data is untouched.
    let mut bad = stored.clone();
    let mid_byte = bad.len() / 2;
    bad[mid_byte] ^= 0x01;
    let bad_name = "gonghui-20200101-000000.zip.enc";
    op.write(&format!("backups/{bad_name}"), bad.clone())
        .await
        .unwrap();
    let before = std::fs::read(target.join("gonghui.db")).unwrap();
    let aside = |dir: &std::path::Path| {
        std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains("before-restore")
            })
            .count()
    };
    let aside_before = aside(fresh.path());
    let (t, e) = (target.clone(), env.clone());
    let o = tokio::task::spawn_blocking(move || run(&t, &["restore", "--from-s3", bad_name], &e))
        .await
        .unwrap();
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        // One chunk only in so small an archive: the damaged last chunk reads as cut short.
        text(&o).contains("备份文件已损坏") || text(&o).contains("备份文件不完整"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read(target.join("gonghui.db")).unwrap(), before);
    assert_eq!(
        aside(fresh.path()),
        aside_before,
        "the data dir was moved aside for a refused restore"
    );
    let o = tokio::task::spawn_blocking({
        let t = target.clone();
        let e = env.clone();
        move || {
            run(
                &t,
                &["restore", "--from-s3", "gonghui-20200102-000000.zip"],
                &e,
            )
        }
    })
    .await
    .unwrap();
    assert!(
        !o.status.success() && text(&o).contains("中没有备份"),
        "{}",
        text(&o)
    );

    // The same damage to the page's backup: verify again fails, the banner and metric say so.
    op.write(&format!("backups/{name}"), bad).await.unwrap();
    let v = app
        .post(
            &format!("/api/v1/admin/backups/{id}/verify"),
            &tok,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(v.status, StatusCode::OK);
    assert_eq!(v.data()["ok"], false, "{:?}", v.body);
    let alert = app.get("/api/v1/admin/dashboard", &tok).await.data()["backup_alert"].clone();
    assert_eq!(alert["backup_id"], id, "{alert}");
    assert!(
        alert["message"].as_str().unwrap().contains("备份校验失败"),
        "{alert}"
    );
    assert!(
        app.metrics_text()
            .await
            .lines()
            .any(|l| l == "gonghui_backup_last_verify_ok 0"),
        "metric not set"
    );

    // Delete removes the object.
    let r = app
        .delete(&format!("/api/v1/admin/backups/{id}"), &tok)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(object(&op, &format!("backups/{name}")).await.is_none());
}
