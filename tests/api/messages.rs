//! Message center: broadcasts stored once and seen by the right members, direct messages, read
//! state, staff scope and statistics, subscription templates and acceptance.

use crate::members_app::fake::{num, text};
use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const SEND: &str = "/api/v1/admin/messages";
const MINE: &str = "/api/v1/app/messages";
const UNREAD: &str = "/api/v1/app/messages/unread-count";
const TEMPLATES: &str = "/api/v1/admin/settings/subscription-templates";

/// Root → county A → grassroots A1; county B → grassroots B1; a county admin for each county
/// and a clerk for A1.
struct Scene {
    app: TestApp,
    admin: String,
    a: i64,
    a1: i64,
    b1: i64,
    admin_a: String,
    admin_b: String,
    clerk_a1: String,
}

async fn scene() -> Scene {
    let app = spawn_app().await;
    let w = app.two_counties().await;
    Scene {
        app,
        admin: w.admin,
        a: w.a,
        a1: w.a1,
        b1: w.b1,
        admin_a: w.admin_a,
        admin_b: w.admin_b,
        clerk_a1: w.clerk_a1,
    }
}

/// A member row in `org` with `status` (joined now) and an app token for it.
async fn member(app: &TestApp, org: i64, status: &'static str) -> (i64, String) {
    let id = app
        .state
        .db
        .write(move |c| {
            let now = gonghui::time::now();
            c.execute(
                "INSERT INTO members (status, org_id, org_since, real_name, created_at, updated_at) VALUES (?1, ?2, ?3, '王小明', ?3, ?3)",
                rusqlite::params![status, org, now],
            )?;
            Ok(c.last_insert_rowid())
        })
        .await
        .unwrap();
    let t = gonghui::auth::tokens::issue_access(&app.state.keys, "app", id, 1, 600).unwrap();
    (id, t)
}

async fn send(app: &TestApp, token: &str, title: &str, audience: Value) -> i64 {
    let body = json!({"title": title, "content": "请各位会员按时参加。\n地点：县工人文化宫", "link": "pages/news/detail?id=1", "audience": audience});
    let r = app.post(SEND, token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "send: {:?}", r.body);
    r.data()["id"].as_i64().unwrap()
}

async fn titles(app: &TestApp, token: &str) -> Vec<String> {
    let r = app.get(MINE, token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["title"].as_str().unwrap().to_string())
        .collect()
}

async fn unread(app: &TestApp, token: &str) -> i64 {
    let r = app.get(UNREAD, token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.data()["count"].as_i64().unwrap()
}

/// A broadcast to a county with descendants reaches its grassroots members once stored, not a
/// sibling county's members, not pending applicants, and not members who joined later.
#[tokio::test]
async fn broadcast_reaches_the_subtree_from_the_time_members_joined() {
    let s = scene().await;
    let app = &s.app;
    let (_, t_a1) = member(app, s.a1, "active").await;
    let (b_id, t_b1) = member(app, s.b1, "active").await;
    let (_, t_pending) = member(app, s.a1, "pending").await;
    let id = send(
        app,
        &s.admin_a,
        "县工会通知",
        json!({"org_ids": [s.a], "include_descendants": true}),
    )
    .await;

    assert_eq!(titles(app, &t_a1).await, vec!["县工会通知"]);
    assert_eq!(unread(app, &t_a1).await, 1);
    assert!(titles(app, &t_b1).await.is_empty());
    assert!(titles(app, &t_pending).await.is_empty());
    assert_eq!(unread(app, &t_b1).await, 0);
    // Stored once: one message, one audience row, no per-member copies.
    let q = format!("SELECT count(*) FROM message_orgs WHERE message_id = {id}");
    assert_eq!(num(app, q).await, 1);
    let q = format!("SELECT count(*) FROM message_recipients WHERE message_id = {id}");
    assert_eq!(num(app, q).await, 0);
    let r = app.get(&format!("{SEND}/{id}"), &s.admin_a).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.data()["stats"], json!({"recipients": 1, "read": 0}));
    assert_eq!(r.data()["audience_orgs"][0]["org_id"], s.a);
    let q = format!(
        "SELECT count(*) FROM audit_logs WHERE action = 'message.send' AND target_id = '{id}'"
    );
    assert_eq!(num(app, q).await, 1);

    // The B1 member moves into A1 after the broadcast: old broadcasts stay invisible.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = app
        .post(
            &format!("/api/v1/admin/members/{b_id}/transfer"),
            &s.admin,
            json!({"org_id": s.a1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let mine = titles(app, &t_b1).await;
    assert_eq!(mine, vec!["会员关系已转移"], "only the transfer notice");
    send(app, &s.clerk_a1, "基层通知", json!({"org_ids": [s.a1]})).await;
    assert_eq!(titles(app, &t_b1).await, vec!["基层通知", "会员关系已转移"]);

    // Without descendants the county's own members only.
    send(
        app,
        &s.admin_a,
        "仅县本级",
        json!({"org_ids": [s.a], "include_descendants": false}),
    )
    .await;
    assert!(!titles(app, &t_a1).await.contains(&"仅县本级".to_string()));
}

/// Unread count, reading one, reading all, idempotent reads, and statistics for staff.
#[tokio::test]
async fn read_state_and_statistics() {
    let s = scene().await;
    let app = &s.app;
    let (m1, t1) = member(app, s.a1, "active").await;
    let (_, t2) = member(app, s.a1, "active").await;
    let (_, t_b) = member(app, s.b1, "active").await;
    let direct = send(
        app,
        &s.clerk_a1,
        "个人通知",
        json!({"member_ids": [m1, m1]}),
    )
    .await;
    let cast = send(app, &s.admin_a, "全县通知", json!({"org_ids": [s.a]})).await;
    let other = send(app, &s.admin_b, "B县通知", json!({"org_ids": [s.b1]})).await;
    assert_eq!(unread(app, &t1).await, 2);
    assert_eq!(unread(app, &t2).await, 1);

    let r = app
        .post(&format!("{MINE}/{cast}/read"), &t1, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app
        .post(&format!("{MINE}/{cast}/read"), &t1, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "reading twice is fine");
    assert_eq!(unread(app, &t1).await, 1);
    let r = app.get(MINE, &t1).await;
    let items = r.data()["items"].as_array().unwrap();
    assert_eq!(items[0]["id"], cast, "newest first");
    assert_eq!(items[0]["read"], true);
    assert_eq!(items[1]["id"], direct);
    assert_eq!(items[1]["read"], false);

    // Not visible to this member: 404 like a missing message, and nothing is counted.
    let r = app
        .post(&format!("{MINE}/{other}/read"), &t1, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .post(&format!("{MINE}/{direct}/read"), &t2, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .post(&format!("{MINE}/999999/read"), &t1, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = app.post(&format!("{MINE}/read-all"), &t1, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["marked"], 1);
    assert_eq!(unread(app, &t1).await, 0);
    assert_eq!(unread(app, &t2).await, 1);
    assert_eq!(unread(app, &t_b).await, 1);
    let r = app.get(MINE, &t1).await;
    assert!(
        r.data()["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["read"] == true)
    );

    let r = app.get(&format!("{SEND}/{cast}"), &s.admin_a).await;
    assert_eq!(r.data()["stats"], json!({"recipients": 2, "read": 1}));
    let r = app.get(&format!("{SEND}/{direct}"), &s.admin_a).await;
    assert_eq!(r.data()["stats"], json!({"recipients": 1, "read": 1}));
    let r = app.get(&format!("{SEND}?page_size=10"), &s.admin_a).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.data()["total"], 2, "A's messages only: {:?}", r.body);
    // Member tokens are not staff tokens, and the other way round.
    let r = app.get(SEND, &t1).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app.get(MINE, &s.admin_a).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

/// Staff cannot send to, or see messages of, orgs and members outside their scope; bad
/// audiences are 400 with field messages.
#[tokio::test]
async fn staff_scope_and_validation() {
    let s = scene().await;
    let app = &s.app;
    let (m_a1, _) = member(app, s.a1, "active").await;
    let body = |aud: Value| json!({"title": "通知", "content": "内容", "audience": aud});
    let r = app
        .post(SEND, &s.admin_b, body(json!({"org_ids": [s.a]})))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .post(SEND, &s.admin_b, body(json!({"org_ids": [s.b1, s.a1]})))
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "one foreign org spoils the lot"
    );
    let r = app
        .post(SEND, &s.admin_b, body(json!({"member_ids": [m_a1]})))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .post(SEND, &s.admin_a, body(json!({"org_ids": [987654]})))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let q = "SELECT count(*) FROM messages".to_string();
    assert_eq!(num(app, q).await, 0, "nothing half-written");

    let id = send(app, &s.admin_a, "A县通知", json!({"org_ids": [s.a1]})).await;
    let r = app.get(&format!("{SEND}/{id}"), &s.admin_b).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get(SEND, &s.admin_b).await;
    assert_eq!(r.data()["total"], 0);

    let r = app.post(SEND, &s.admin_a, body(json!({}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body["error"]["fields"]["audience"].is_string(),
        "{:?}",
        r.body
    );
    let r = app
        .post(
            SEND,
            &s.admin_a,
            body(json!({"org_ids": [s.a], "member_ids": [m_a1]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .post(
            SEND,
            &s.admin_a,
            json!({"title": " ", "content": "x".repeat(2001), "audience": {"org_ids": [s.a]}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let f = &r.body["error"]["fields"];
    assert!(
        f["title"].is_string() && f["content"].is_string(),
        "{:?}",
        r.body
    );
    let r = app
        .post(
            SEND,
            &s.admin_a,
            json!({"title": "t", "content": "c", "audience": {"org_ids": [s.a]}, "sender": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "unknown field");
    let r = app.get(&format!("{SEND}?kind=bogus"), &s.admin_a).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

/// Templates: validated, audited, readable with setting:read only; acceptance credits only
/// templates some event uses.
#[tokio::test]
async fn subscription_templates_and_acceptance() {
    let s = scene().await;
    let app = &s.app;
    let good = json!({"membership.approved": {"template_id": "TPL_OK", "page": "pages/me/index",
        "data": {"thing1": "title", "phrase2": "result", "time3": "time"}}});
    let r = app.put(TEMPLATES, &s.clerk_a1, good.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.get(TEMPLATES, &s.admin_a).await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "county admins hold no setting:read"
    );
    let bad = json!({"bogus.event": {"template_id": "T", "data": {"thing1": "title"}},
        "membership.rejected": {"template_id": "含中文", "data": {"thingx": "title", "phrase2": "salary"}}});
    let r = app.put(TEMPLATES, &s.admin, bad).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let f = &r.body["error"]["fields"];
    for k in [
        "bogus.event",
        "membership.rejected.template_id",
        "membership.rejected.data.thingx",
        "membership.rejected.data.phrase2",
    ] {
        assert!(f[k].is_string(), "{k}: {:?}", r.body);
    }
    let r = app.put(TEMPLATES, &s.admin, good.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app.get(TEMPLATES, &s.admin).await;
    assert_eq!(r.data(), &good);
    let q = "SELECT count(*) FROM audit_logs WHERE action = 'setting.update'".to_string();
    assert_eq!(num(app, q).await, 1);

    let (m, t) = member(app, s.a1, "active").await;
    let path = "/api/v1/app/subscriptions";
    let r = app
        .post(path, &t, json!({"template_ids": ["TPL_OK", "TPL_UNUSED"]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["accepted"], json!(["TPL_OK"]));
    assert_eq!(r.data()["ignored"], json!(["TPL_UNUSED"]));
    app.post(path, &t, json!({"template_ids": ["TPL_OK"]}))
        .await;
    let q = format!(
        "SELECT credits FROM subscription_credits WHERE member_id = {m} AND template_id = 'TPL_OK'"
    );
    assert_eq!(num(app, q).await, 2);
    let q = format!("SELECT count(*) FROM subscription_credits WHERE member_id = {m}");
    assert_eq!(num(app, q).await, 1);
    let r = app.post(path, &t, json!({"template_ids": []})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app.post(path, &t, json!({"template_ids": ["a b"]})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let q = format!(
        "SELECT summary FROM audit_logs WHERE action = 'subscription.accept' AND target_id = '{m}' LIMIT 1"
    );
    assert!(text(app, q).await.unwrap().contains("TPL_OK"));
}
