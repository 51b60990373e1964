//! Points rules on the app clock: yearly expiry with FIFO spending, the "expiring soon" view
//! and notice, and a sign-in the daily cap cuts to nothing.

use super::*;
use gonghui::points::expiry::{RunReport, run_due, year_of, year_start};

/// An app with `[points]` adjusted, a county with a grassroots org and its county admin.
async fn points_world(f: impl FnOnce(&mut gonghui::points::config::PointsConfig)) -> World {
    let app = spawn_with(|c| {
        c.activities.job_interval_secs = 3600;
        f(&mut c.points);
    })
    .await;
    crate::activities::world_on(app).await
}

/// Move the app clock forward to unix time `t`.
fn clock_to(app: &TestApp, t: i64) {
    let now = app.state.clock.now();
    assert!(t >= now, "the clock only moves forward");
    app.state.clock.advance(t - now);
}

async fn run(app: &TestApp) -> RunReport {
    run_due(&app.state, app.state.clock.now()).await.unwrap()
}

/// Earn 100 in year Y and 50 in Y+1, spend 70 in Y+1 (FIFO: from Y's points): one notice 20
/// days before the end of Y+1, then at 1 January Y+2 exactly the 30 unspent points of Y
/// expire, once; the Y+1 points stay and are next to expire; `gonghui check` passes.
#[tokio::test]
async fn unspent_points_expire_at_the_end_of_the_next_year_oldest_first() {
    let w = points_world(|p| p.expiry_enabled = true).await;
    let app = &w.app;
    let y = year_of(app.state.clock.now());
    let (m, t) = members(app, 1, Some(w.grass_a1), "active").await.remove(0);
    let (other, _) = members(app, 1, Some(w.grass_a1), "active").await.remove(0);
    give_points(app, &w.ta, m, 100).await;
    clock_to(app, year_start(y + 1) + 10 * 86_400);
    give_points(app, &w.ta, m, 50).await;
    give_points(app, &w.ta, other, 40).await;
    let body = json!({"org_id": w.grass_a1, "title": "保温杯", "points_price": 70, "stock": 5,
        "per_member_limit": 1, "on_shelf": true});
    let r = app.post("/api/v1/admin/mall/goods", &w.ta, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let g = r.data()["id"].as_i64().unwrap();
    let r = app
        .post("/api/v1/app/mall/orders", &t, json!({"goods_id": g}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);

    let r = app.get("/api/v1/app/me/points", &t).await;
    assert_eq!(r.data()["balance"], 80);
    let e = &r.data()["expiring"];
    assert_eq!(e["points"], 30, "{:?}", r.body);
    assert_eq!(e["last_day"], format!("{}-12-31", y + 1));
    assert_eq!(e["expires_at"], format!("{}-01-01T00:00:00+08:00", y + 2));
    assert_eq!(e["soon"], false);
    // Nothing is due yet: Y's points are valid through Y+1; the member earning only in Y+1
    // has nothing expiring this year.
    assert_eq!(run(app).await, RunReport::default());
    let r = app
        .get(&format!("/api/v1/admin/members/{other}/points"), &w.ta)
        .await;
    assert_eq!(r.data()["expiring"], Value::Null, "{:?}", r.body);

    // 20 days before the expiry date: one notice, however often the job runs.
    clock_to(app, year_start(y + 2) - 20 * 86_400);
    assert_eq!(run(app).await.notified, 1);
    assert_eq!(run(app).await.notified, 0);
    let q = format!(
        "SELECT count(*) FROM messages x JOIN message_recipients r ON r.message_id = x.id
         WHERE x.event = 'points.expiring' AND r.member_id = {m} AND x.content LIKE '%30 积分%'"
    );
    assert_eq!(num(app, q).await, 1);
    let q = format!(
        "SELECT count(*) FROM outbox WHERE member_id = {m} AND payload LIKE '%points.expiring%'"
    );
    assert_eq!(num(app, q).await, 1);
    assert_eq!(
        rows(app, "messages WHERE event = 'points.expiring'").await,
        1
    );
    let r = app.get("/api/v1/app/me/points", &t).await;
    assert_eq!(r.data()["expiring"]["soon"], true);

    // New year Y+2: exactly the unspent 30 of Y expire, once. Before the job runs they cannot
    // be spent: 80 on the books, but only 50 still valid, so a 60-point order is refused (and
    // its failed job leaves the expiry to the job).
    clock_to(app, year_start(y + 2) + 60);
    let body = json!({"org_id": w.grass_a1, "title": "雨伞", "points_price": 60, "stock": 5,
        "per_member_limit": 1, "on_shelf": true});
    let r = app.post("/api/v1/admin/mall/goods", &w.ta, body).await;
    let g2 = r.data()["id"].as_i64().unwrap();
    let r = app
        .post("/api/v1/app/mall/orders", &t, json!({"goods_id": g2}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "insufficient_points"),
        "{:?}",
        r.body
    );
    let rep = run(app).await;
    assert_eq!((rep.expired_members, rep.expired_points), (1, 30));
    assert_eq!(run(app).await.expired_points, 0);
    let r = app.get("/api/v1/app/me/points", &t).await;
    assert_eq!(r.data()["balance"], 50);
    let top = &r.data()["ledger"]["items"][0];
    assert_eq!(
        (top["source_type"].as_str(), top["delta"].as_i64()),
        (Some("expiry"), Some(-30))
    );
    assert_eq!(top["source_label"], "积分过期");
    // Y+1's 50 are next, at the end of Y+2.
    assert_eq!(r.data()["expiring"]["points"], 50);
    assert_eq!(r.data()["expiring"]["last_day"], format!("{}-12-31", y + 2));
    let q = "SELECT count(*) FROM points_ledger WHERE source_type = 'expiry'".to_string();
    assert_eq!(num(app, q).await, 1);
    let q = format!("SELECT balance FROM points_accounts WHERE member_id = {other}");
    assert_eq!(num(app, q).await, 40);

    let o = std::process::Command::new(env!("CARGO_BIN_EXE_gonghui"))
        .arg("--data-dir")
        .arg(app.dir.path())
        .arg("check")
        .output()
        .expect("run gonghui");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.contains("points balances: ok"), "{out}");
}

/// With expiry off (the default) nothing expires and nothing is shown as expiring.
#[tokio::test]
async fn without_expiry_nothing_expires() {
    let w = points_world(|_| {}).await;
    let app = &w.app;
    let y = year_of(app.state.clock.now());
    let (m, t) = members(app, 1, Some(w.grass_a1), "active").await.remove(0);
    give_points(app, &w.ta, m, 10).await;
    clock_to(app, year_start(y + 3));
    assert_eq!(run(app).await, RunReport::default());
    let r = app.get("/api/v1/app/me/points", &t).await;
    assert_eq!(r.data()["balance"], 10);
    assert_eq!(r.data()["expiring"], Value::Null);
}

/// A sign-in the daily cap cuts to nothing is 409 sign_in_cap_reached and records nothing;
/// one the cap only shortens credits what is left.
#[tokio::test]
async fn a_sign_in_over_the_daily_cap_is_refused() {
    let w = points_world(|p| {
        p.sign_in_points = 3;
        p.daily_cap = 5;
    })
    .await;
    let app = &w.app;
    let ms = members(app, 2, Some(w.grass_a1), "active").await;
    let (full, short) = (ms[0].0, ms[1].0);
    // Earlier automatic earnings today: 5 (at the cap) and 4 (one left).
    for (m, pts) in [(full, 5), (short, 4)] {
        app.state
            .db
            .write(move |c| {
                let p = gonghui::points::ledger::Posting {
                    member_id: m,
                    delta: pts,
                    source: gonghui::points::ledger::Source::Membership,
                    source_id: m,
                    reason: None,
                    operator_id: None,
                };
                gonghui::points::ledger::post(c, &p, 5)?;
                Ok(())
            })
            .await
            .unwrap();
    }
    let audits = rows(app, "audit_logs WHERE action = 'points.sign_in'").await;
    let r = app
        .post("/api/v1/app/me/points/sign-in", &ms[0].1, json!({}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "sign_in_cap_reached"),
        "{:?}",
        r.body
    );
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("上限")
    );
    let q = format!("SELECT count(*) FROM points_ledger WHERE member_id = {full}");
    assert_eq!(num(app, q).await, 1);
    assert_eq!(
        rows(app, "audit_logs WHERE action = 'points.sign_in'").await,
        audits
    );
    let r = app.get("/api/v1/app/me/points", &ms[0].1).await;
    assert_eq!(
        (
            r.data()["balance"].as_i64(),
            r.data()["signed_in_today"].as_bool()
        ),
        (Some(5), Some(false))
    );
    let r = app
        .post("/api/v1/app/me/points/sign-in", &ms[1].1, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        (r.data()["points"].as_i64(), r.data()["balance"].as_i64()),
        (Some(1), Some(5))
    );
    let q = format!("SELECT sum(delta) FROM points_ledger WHERE member_id = {short}");
    assert_eq!(num(app, q).await, 5);
}
