//! 系统诊断: `gonghui diag` and `GET /api/v1/admin/system/diag` report every section and
//! never a secret; `/metrics` carries the backup age and the last verification result.

use crate::backup::{gh, text};
use crate::support::*;
use reqwest::StatusCode;

/// Secrets set through the environment, each of which must never be printed.
const SECRETS: [(&str, &str); 5] = [
    ("GONGHUI_BACKUP__PASSPHRASE", "diag-passphrase-Zq81"),
    (
        "GONGHUI_BACKUP__S3__SECRET_ACCESS_KEY",
        "diag-s3-secret-Kp02",
    ),
    ("GONGHUI_WECHAT__SECRET", "diag-wechat-secret-Xy77"),
    ("GONGHUI_SERVER__METRICS_TOKEN", "diag-metrics-token-Ab12"),
    (
        "GONGHUI_STORAGE__SECRET_ACCESS_KEY",
        "diag-storage-secret-Ww55",
    ),
];

#[test]
fn cli_diag_prints_every_section_and_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    assert!(gh(dir.path(), &["migrate"], &[]).status.success());
    let o = gh(dir.path(), &["backup"], &SECRETS);
    assert!(o.status.success(), "{}", text(&o));
    let o = gh(dir.path(), &["diag"], &SECRETS);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    for section in [
        "== 版本 versions",
        "== 时钟 clock",
        "== 磁盘与大小 disk",
        "== 备份 backups",
        "== 消息发送队列 outbox",
        "== 搜索索引 search",
        "== 最近错误 recent errors",
        "== 配置 config",
        "SQLite 3.",
        "可用空间",
        // Backups made by the command line are not rows of the backups page.
        "尚无备份",
        "已加密",
    ] {
        assert!(out.contains(section), "missing {section} in:\n{out}");
    }
    for (_, secret) in SECRETS {
        assert!(!out.contains(secret), "{secret} printed:\n{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_diag_is_for_system_admins_and_hides_secrets() {
    let app = spawn_with(|c| {
        c.backup.passphrase = SECRETS[0].1.into();
        c.backup.s3.secret_access_key = SECRETS[1].1.into();
        c.wechat.secret = SECRETS[2].1.into();
    })
    .await;
    let tok = app.admin_token().await;
    let r = app.get("/api/v1/admin/system/diag", &tok).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let d = r.data();
    for k in [
        "versions",
        "clock",
        "storage",
        "backups",
        "outbox",
        "search",
        "recent_errors",
        "config",
    ] {
        assert!(!d[k].is_null(), "missing {k}: {d}");
    }
    assert!(d["storage"]["db_bytes"].as_u64().unwrap() > 0);
    assert_eq!(d["backups"]["encrypted"], true);
    assert_eq!(d["config"]["backup"]["passphrase"], "***");
    let body = d.to_string();
    for (_, secret) in &SECRETS[..3] {
        assert!(!body.contains(secret), "{secret} in {body}");
    }
    // Before any backup the age metric says so; the verification result is there too.
    let m = app.metrics_text().await;
    assert!(
        m.lines().any(|l| l == "gonghui_backup_age_seconds -1"),
        "{m}"
    );
    assert!(
        m.lines().any(|l| l == "gonghui_backup_last_verify_ok -1"),
        "{m}"
    );
    let r = app
        .post("/api/v1/admin/backups", &tok, serde_json::json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    for _ in 0..300 {
        if app
            .metrics_text()
            .await
            .lines()
            .any(|l| l == "gonghui_backup_last_verify_ok 1")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let m = app.metrics_text().await;
    let rows = app.get("/api/v1/admin/backups", &tok).await;
    assert!(
        m.lines().any(|l| l == "gonghui_backup_last_verify_ok 1"),
        "{:?}",
        rows.body
    );
    let age: i64 = m
        .lines()
        .find_map(|l| l.strip_prefix("gonghui_backup_age_seconds "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!((0..60).contains(&age), "{m}");
}
