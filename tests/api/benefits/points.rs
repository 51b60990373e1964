//! The points ledger: daily sign-in once, attendance credited in the check-in transaction,
//! ledger pages by cursor, staff adjustments audited, `gonghui check` finds a corrupt balance.

use super::*;
use crate::activities::{activity_body, published, reg_path};

/// Sign-in credits once a day; the second is 409 already_signed_in.
#[tokio::test]
async fn signing_in_twice_a_day_credits_once() {
    let w = world().await;
    let app = &w.app;
    let (m, t) = members(app, 1, Some(w.grass_a1), "active").await.remove(0);
    let r = app
        .post("/api/v1/app/me/points/sign-in", &t, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        (r.data()["points"].as_i64(), r.data()["balance"].as_i64()),
        (Some(1), Some(1))
    );
    let r = app
        .post("/api/v1/app/me/points/sign-in", &t, json!({}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "already_signed_in")
    );
    let r = app.get("/api/v1/app/me/points", &t).await;
    assert_eq!(r.data()["balance"], 1);
    assert_eq!(r.data()["signed_in_today"], true);
    assert_eq!(r.data()["ledger"]["items"][0]["source_type"], "sign_in");
    let q = format!("SELECT count(*) FROM points_ledger WHERE member_id = {m}");
    assert_eq!(num(app, q).await, 1);
}

/// Checking in at an activity credits its points in the ledger, once.
#[tokio::test]
async fn attendance_points_enter_the_ledger() {
    let w = world().await;
    let app = &w.app;
    let id = published(app, &w.ta, activity_body(w.grass_a1, 10)).await;
    let (m, t) = members(app, 1, Some(w.grass_a1), "active").await.remove(0);
    let r = app.post(&reg_path(id), &t, json!({"answers": {}})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let code = app
        .get(
            &format!("/api/v1/admin/activities/{id}/checkin-code"),
            &w.ta,
        )
        .await;
    let qr = code.data()["qr_payload"].as_str().unwrap().to_string();
    let path = format!("/api/v1/app/activities/{id}/checkin");
    let r = app.post(&path, &t, json!({"qr_payload": qr})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app.get("/api/v1/app/me/points", &t).await;
    assert_eq!(r.data()["balance"], 5);
    assert_eq!(
        r.data()["ledger"]["items"][0]["source_type"],
        "activity_checkin"
    );
    let q = format!("SELECT balance FROM points_accounts WHERE member_id = {m}");
    assert_eq!(num(app, q).await, 5);
}

/// Staff adjustments are audited with their reason, notify the member, and the ledger pages
/// by cursor newest first without gaps or repeats.
#[tokio::test]
async fn adjustments_are_audited_and_the_ledger_pages_by_cursor() {
    let w = world().await;
    let app = &w.app;
    let (m, t) = members(app, 1, Some(w.grass_a1), "active").await.remove(0);
    for i in 1..=5 {
        let r = app
            .post(
                &format!("/api/v1/admin/members/{m}/points/adjust"),
                &w.ta,
                json!({"delta": i, "reason": format!("第{i}次")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    }
    let r = app
        .get(&format!("/api/v1/admin/members/{m}/points?limit=2"), &w.ta)
        .await;
    assert_eq!(r.data()["balance"], 15);
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let q = cursor
            .as_ref()
            .map(|c| format!("&cursor={c}"))
            .unwrap_or_default();
        let r = app
            .get(&format!("/api/v1/app/me/points?limit=2{q}"), &t)
            .await;
        for it in r.data()["ledger"]["items"].as_array().unwrap() {
            seen.push(it["delta"].as_i64().unwrap());
        }
        match r.data()["ledger"]["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, vec![5, 4, 3, 2, 1]);
    let q = "SELECT count(*) FROM audit_logs WHERE action = 'points.adjust'".to_string();
    assert_eq!(num(app, q).await, 5);
    let q = "SELECT count(*) FROM messages WHERE event = 'points.adjusted'".to_string();
    assert_eq!(num(app, q).await, 5);
    let r = app
        .get(&format!("/api/v1/admin/members/{m}/points"), &w.tb)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// `gonghui check` passes on a consistent ledger and fails, naming the member, once a cached
/// balance is corrupted.
#[tokio::test]
async fn check_reports_a_balance_that_disagrees_with_the_ledger() {
    let w = world().await;
    let app = &w.app;
    let (m, _) = members(app, 1, Some(w.grass_a1), "active").await.remove(0);
    give_points(app, &w.ta, m, 7).await;
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_gonghui"))
            .arg("--data-dir")
            .arg(app.dir.path())
            .arg("check")
            .output()
            .expect("run gonghui")
    };
    let o = run();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{out}");
    assert!(out.contains("points balances: ok"), "{out}");
    app.exec(
        "UPDATE points_accounts SET balance = 70 WHERE member_id = ?1",
        m,
    )
    .await;
    let o = run();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(!o.status.success(), "{out}");
    assert!(
        out.contains("MISMATCH") && out.contains(&format!("member {m}")),
        "{out}"
    );
}
