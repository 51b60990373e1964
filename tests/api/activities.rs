//! Activities: form templates, life cycle, data scope, registration under concurrency, bad
//! inputs, check-in, reviews, stats, export and the background job.

mod bad_input;
mod concurrency;
mod gate;
mod lifecycle;

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Valid ID number (GB 11643 sample).
pub const ID_A: &str = "11010519491231002X";
/// Venue coordinates used by the tests.
pub const VENUE: (f64, f64) = (25.0406, 102.7123);

/// Two sibling counties, a grassroots org under A, and a county admin in each.
pub struct World {
    pub app: TestApp,
    pub admin: String,
    pub county_a: i64,
    pub grass_a1: i64,
    pub county_b: i64,
    pub ta: String,
    pub tb: String,
}

pub async fn world() -> World {
    // The background job is driven by hand (`run_due`) in these tests.
    world_on(spawn_with(|c| c.activities.job_interval_secs = 3600).await).await
}

/// The same orgs and county admins on an app configured by the caller.
pub async fn world_on(app: TestApp) -> World {
    let admin = app.admin_token().await;
    let root = app.root_org().await;
    let county_a = app.create_org(&admin, root, "ca", "county").await;
    let grass_a1 = app.create_org(&admin, county_a, "ga1", "grassroots").await;
    let county_b = app.create_org(&admin, root, "cb", "county").await;
    let (_, ta) = app
        .account_token(&admin, "county_a", county_a, &[roles::COUNTY_ADMIN])
        .await;
    let (_, tb) = app
        .account_token(&admin, "county_b", county_b, &[roles::COUNTY_ADMIN])
        .await;
    World {
        app,
        admin,
        county_a,
        grass_a1,
        county_b,
        ta,
        tb,
    }
}

/// Insert `n` members in one writer job (`status`, `org`) and mint an app token for each.
pub async fn members(
    app: &TestApp,
    n: usize,
    org: Option<i64>,
    status: &str,
) -> Vec<(i64, String)> {
    let status = status.to_string();
    let ids: Vec<i64> = app
        .state
        .db
        .write(move |c| {
            let now = gonghui::time::now();
            let mut st = c.prepare(
                "INSERT INTO members (status, org_id, nickname, real_name, created_at, updated_at, org_since) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?5)",
            )?;
            let mut ids = Vec::with_capacity(n);
            for i in 0..n {
                st.execute(rusqlite::params![status, org, format!("职工{i}"), format!("测试{i}"), now])?;
                ids.push(c.last_insert_rowid());
            }
            Ok(ids)
        })
        .await
        .unwrap();
    ids.into_iter()
        .map(|id| {
            let t =
                gonghui::auth::tokens::issue_access(&app.state.keys, "app", id, 1, 3600).unwrap();
            (id, t)
        })
        .collect()
}

/// An RFC 3339 time `secs` from now.
pub fn at(secs: i64) -> String {
    gonghui::time::fmt(gonghui::time::now() + secs)
}

/// An activity body open for signup now, starting in 10 minutes (check-in already open).
pub fn activity_body(org: i64, quota: i64) -> Value {
    json!({
        "org_id": org, "title": "职工健步走", "category": "sports",
        "description": "<p>欢迎参加</p><script>alert(1)</script>",
        "location_name": "县体育场", "lat": VENUE.0, "lng": VENUE.1, "checkin_radius_m": 200,
        "starts_at": at(600), "ends_at": at(7200),
        "signup_starts_at": at(-3600), "signup_ends_at": at(300),
        "quota": quota, "members_only": true, "needs_review": false, "points": 5
    })
}

/// Create an activity as `token` and return its id (asserts 201).
pub async fn create_activity(app: &TestApp, token: &str, body: Value) -> i64 {
    let r = app.post("/api/v1/admin/activities", token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.data()["id"].as_i64().unwrap()
}

/// Create and publish.
pub async fn published(app: &TestApp, token: &str, body: Value) -> i64 {
    let id = create_activity(app, token, body).await;
    let r = app
        .post(
            &format!("/api/v1/admin/activities/{id}/publish"),
            token,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    id
}

/// Create a form template and return its id.
pub async fn template(app: &TestApp, token: &str) -> i64 {
    let r = app
        .post(
            "/api/v1/admin/form-templates",
            token,
            json!({"name": "健步走报名表", "fields": [
                {"key": "name", "label": "姓名", "type": "text", "required": true, "max": 10},
                {"key": "size", "label": "服装尺码", "type": "select", "required": true, "options": ["S", "M", "L"]},
                {"key": "age", "label": "年龄", "type": "number", "min": 18, "max": 65},
                {"key": "idno", "label": "身份证号", "type": "id_number"}
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.data()["id"].as_i64().unwrap()
}

/// Register path.
pub fn reg_path(id: i64) -> String {
    format!("/api/v1/app/activities/{id}/registrations")
}

/// One integer from a query.
pub async fn num(app: &TestApp, sql: String) -> i64 {
    app.state
        .db
        .read(move |c| Ok(c.query_row(&sql, [], |r| r.get(0))?))
        .await
        .unwrap()
}
