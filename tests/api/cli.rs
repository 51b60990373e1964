//! The command line of the real binary: check, migrate, admin reset-password, bad config.

use crate::support::*;
use serde_json::json;
use std::process::{Command, Output, Stdio};

fn gonghui(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gonghui"));
    cmd.arg("--data-dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run gonghui")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `migrate` creates the schema, `check` reports version, redacted config, migrations,
/// integrity and the audit chain, and exits 0.
#[test]
fn migrate_and_check_report_the_installation() {
    let dir = tempfile::tempdir().unwrap();
    let o = gonghui(dir.path(), &["migrate"], &[]);
    assert!(o.status.success(), "{o:?}");
    let o = gonghui(
        dir.path(),
        &["check"],
        &[("GONGHUI_WECHAT__SECRET", "very-secret-value")],
    );
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    for needle in [
        "SQLite 3.",
        "0001_core",
        "integrity: ok",
        "audit chain: ok",
        "\"secret\": \"***\"",
    ] {
        assert!(out.contains(needle), "missing {needle} in:\n{out}");
    }
    assert!(!out.contains("very-secret-value"), "secret printed:\n{out}");
}

/// An invalid configuration stops the program with a clear Chinese message and exit code 2.
#[test]
fn invalid_config_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let o = gonghui(
        dir.path(),
        &["check"],
        &[("GONGHUI_DB__SYNCHRONOUS", "sometimes")],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("配置无效"),
        "{o:?}"
    );
    std::fs::write(
        dir.path().join("config.toml"),
        "listen = \"not an address\"\n",
    )
    .unwrap();
    let o = gonghui(dir.path(), &["check"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("listen"),
        "{o:?}"
    );
}

/// `admin reset-password` prints a one-time password that works and must be changed, and
/// answers exit code 1 for an unknown account.
#[tokio::test]
async fn reset_password_prints_a_working_one_time_password() {
    let dir = tempfile::tempdir().unwrap();
    let o = gonghui(
        dir.path(),
        &["admin", "reset-password", "admin"],
        &[("GONGHUI_ADMIN_PASSWORD", ADMIN_PW)],
    );
    assert!(o.status.success(), "{o:?}");
    let out = stdout(&o);
    let pw = out.rsplit(": ").next().unwrap().trim().to_string();
    assert!(pw.len() >= 8, "{out}");
    let o = gonghui(dir.path(), &["admin", "reset-password", "nobody"], &[]);
    assert_eq!(o.status.code(), Some(1));
    // Serve the same data dir and log in with the printed password.
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gonghui"))
        .args([
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut body = serde_json::Value::Null;
    for _ in 0..100 {
        if let Ok(r) = client
            .post(format!("{base}/api/v1/admin/auth/login"))
            .json(&json!({"username": "admin", "password": pw}))
            .send()
            .await
        {
            body = r.json().await.unwrap_or_default();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(body["data"]["must_change_password"], true, "{body}");
}
