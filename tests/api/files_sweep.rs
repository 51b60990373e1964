//! The orphan sweep (issue 24): objects left behind by a process killed between storing an
//! upload and committing its row, or between an erasure's commit and its object removal, are
//! removed at the next start; live files and anything not shaped like an upload key stay.

use crate::files::{PNG, raw_get, unhex, upload_ok};
use crate::support::{TestApp, spawn_app};
use reqwest::StatusCode;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

fn plant(root: &Path, key: &str, bytes: &[u8]) {
    let p = root.join(key);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

/// The value of an unlabelled metric line, if present.
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

async fn storage_key(app: &TestApp, id: i64) -> String {
    crate::files::file_col(app, id, "storage_key").await
}

#[tokio::test]
async fn the_sweep_runs_at_start() {
    let app = spawn_app().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = app.metrics_text().await;
        if metric(&text, "gonghui_files_orphan_sweep_timestamp").unwrap_or(0.0) > 0.0 {
            assert_eq!(
                metric(&text, "gonghui_files_orphans_removed_total"),
                Some(0.0)
            );
            break;
        }
        assert!(Instant::now() < deadline, "no sweep within 30 s:\n{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn orphans_are_swept_and_live_or_foreign_objects_stay() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let live = upload_ok(&app, &t, "image", unhex(PNG)).await;
    let erased = upload_ok(&app, &t, "attachment", crate::files::PDF.into()).await;
    let (live_key, erased_key) = (
        storage_key(&app, live).await,
        storage_key(&app, erased).await,
    );
    // An erasure whose process died after its commit: the row is deleted, the bytes stay.
    app.exec("UPDATE files SET deleted_at = 1 WHERE id = ?1", erased)
        .await;
    let root = app.dir.path().join("files");
    assert!(root.join(&erased_key).exists());
    // An upload whose process died before its row was committed.
    let orphan = "image/2026/12/0123456789abcdef0123456789abcdef.png";
    plant(&root, orphan, &unhex(PNG));
    // Not shaped like an upload key: somebody else's objects in a shared bucket.
    let foreign = ["backups/gonghui-20261205.tar", "image/2026/12/notes.txt"];
    for k in foreign {
        plant(&root, k, b"keep me");
    }

    let cutoff = SystemTime::now() + Duration::from_secs(1);
    let r = gonghui::files::sweep::sweep(&app.state, cutoff)
        .await
        .unwrap();
    assert_eq!((r.examined, r.removed, r.kept), (3, 2, 0));
    assert!(!root.join(orphan).exists(), "orphan upload not swept");
    assert!(!root.join(&erased_key).exists(), "erased bytes not swept");
    assert!(root.join(&live_key).exists(), "live file removed");
    for k in foreign {
        assert!(root.join(k).exists(), "foreign object {k} removed");
    }
    // The live file is still served.
    let (s, _, bytes) = raw_get(
        &app,
        &format!("/api/v1/admin/files/{live}/download"),
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(bytes, unhex(PNG));
}

#[tokio::test]
async fn a_sweep_never_removes_objects_newer_than_its_cutoff() {
    let app = spawn_app().await;
    let cutoff = SystemTime::now() - Duration::from_secs(60);
    let root = app.dir.path().join("files");
    // No row, but written after the cutoff: an upload that may be between store and commit.
    let key = "image/2026/12/fedcba9876543210fedcba9876543210.png";
    plant(&root, key, &unhex(PNG));
    let r = gonghui::files::sweep::sweep(&app.state, cutoff)
        .await
        .unwrap();
    assert_eq!((r.examined, r.removed, r.kept), (1, 0, 1));
    assert!(root.join(key).exists());
    // Once the cutoff passes it, it goes.
    let r = gonghui::files::sweep::sweep(&app.state, SystemTime::now() + Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!((r.examined, r.removed, r.kept), (1, 1, 0));
    assert!(!root.join(key).exists());
}
