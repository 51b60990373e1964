//! Issue 19, the server side of the admin UI: staff sessions (list, force out, revocation at
//! the next request), locked accounts and their unlock, one's own login log, the one-request
//! dashboard and the read-only installation settings.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn scalar(app: &TestApp, sql: String) -> i64 {
    app.state
        .db
        .read(move |c| Ok(c.query_row(&sql, [], |r| r.get(0))?))
        .await
        .unwrap()
}

/// Ids of the listed items.
fn ids(r: &Resp) -> Vec<i64> {
    r.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

/// A forced-out session is refused at its next request and cannot be refreshed; the other
/// session of the same account keeps working; the kick is audited.
#[tokio::test]
async fn a_session_forced_out_stops_at_the_next_request() {
    let app = spawn_app().await;
    let w = app.two_counties().await;
    let first = app.login_resp("county_a", "Changed#2026").await;
    let (t1, r1) = (
        first.data()["access_token"].as_str().unwrap().to_string(),
        first.data()["refresh_token"].as_str().unwrap().to_string(),
    );
    let t2 = app.login("county_a", "Changed#2026").await;
    let list = app
        .get("/api/v1/admin/sessions?page_size=100", &w.admin)
        .await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    let items = list.data()["items"].as_array().unwrap().clone();
    let mine: Vec<&Value> = items
        .iter()
        .filter(|s| s["username"] == "county_a")
        .collect();
    // Login by account_token (ended by its password change), then two: only these two live.
    assert_eq!(mine.len(), 3, "{items:?}");
    assert!(
        items
            .iter()
            .any(|s| s["username"] == "admin" && s["current"] == true)
    );
    let sid1 = scalar(
        &app,
        "SELECT max(id) - 1 FROM admin_sessions WHERE admin_id = (SELECT id FROM admins WHERE username = 'county_a')".into(),
    )
    .await;
    assert!(ids(&list).contains(&sid1));
    // County B may not see or end county A's sessions.
    let b = app.get("/api/v1/admin/sessions", &w.admin_b).await;
    assert!(!b.body.to_string().contains("county_a"), "{:?}", b.body);
    let r = app
        .delete(&format!("/api/v1/admin/sessions/{sid1}"), &w.admin_b)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/admin/me", &t1).await.status,
        StatusCode::OK
    );
    let r = app
        .delete(&format!("/api/v1/admin/sessions/{sid1}"), &w.admin)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app.get("/api/v1/admin/me", &t1).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .call(
            reqwest::Method::POST,
            "/api/v1/admin/auth/refresh",
            None,
            Some(json!({"refresh_token": r1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/api/v1/admin/me", &t2).await.status,
        StatusCode::OK
    );
    // Ending it again: it is gone.
    let r = app
        .delete(&format!("/api/v1/admin/sessions/{sid1}"), &w.admin)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let audited = scalar(
        &app,
        format!("SELECT count(*) FROM audit_logs WHERE action = 'session.revoke' AND target_id = '{sid1}'"),
    )
    .await;
    assert_eq!(audited, 1);
    let listed = app
        .get("/api/v1/admin/sessions?page_size=100", &w.admin)
        .await;
    assert!(!ids(&listed).contains(&sid1));
    // A refresh keeps the session (same id) and moves its last activity on.
    let fresh = app.login_resp("clerk_a1", "Changed#2026").await;
    let rt = fresh.data()["refresh_token"].as_str().unwrap().to_string();
    let r = app
        .call(
            reqwest::Method::POST,
            "/api/v1/admin/auth/refresh",
            None,
            Some(json!({"refresh_token": rt})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let t = r.data()["access_token"].as_str().unwrap().to_string();
    assert_eq!(app.get("/api/v1/admin/me", &t).await.status, StatusCode::OK);
    let sessions = scalar(
        &app,
        "SELECT count(*) FROM admin_sessions WHERE admin_id = (SELECT id FROM admins WHERE username = 'clerk_a1')".into(),
    )
    .await;
    assert_eq!(sessions, 3, "account_token's two logins and this one");
}

/// Five failures lock an account; it is listed as locked to whom may see it, unlocked by
/// whom may manage it (audited), and signs in again; unlocking what is not locked is 409.
#[tokio::test]
async fn a_locked_account_is_listed_and_unlocked() {
    let app = spawn_with(|c| c.auth.login_per_ip_per_minute = 1000).await;
    let w = app.two_counties().await;
    for _ in 0..5 {
        let r = app.login_resp("clerk_a1", "wrong-password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        app.login_resp("clerk_a1", "Changed#2026").await.status,
        StatusCode::LOCKED
    );
    let id = scalar(
        &app,
        "SELECT id FROM admins WHERE username = 'clerk_a1'".into(),
    )
    .await;
    let r = app.get("/api/v1/admin/accounts/locked", &w.admin_a).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(ids(&r), vec![id]);
    assert!(r.data()["items"][0]["locked_until"].as_str().is_some());
    let r = app.get("/api/v1/admin/accounts/locked", &w.admin_b).await;
    assert_eq!(r.data()["total"], 0, "{:?}", r.body);
    let url = format!("/api/v1/admin/accounts/{id}/unlock");
    assert_eq!(
        app.post(&url, &w.admin_b, json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(&url, &w.clerk_a1, json!({})).await.status,
        StatusCode::FORBIDDEN
    );
    let r = app.post(&url, &w.admin_a, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        app.get("/api/v1/admin/accounts/locked", &w.admin_a)
            .await
            .data()["total"],
        0
    );
    app.login("clerk_a1", "Changed#2026").await;
    let r = app.post(&url, &w.admin_a, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let audited = scalar(
        &app,
        "SELECT count(*) FROM audit_logs WHERE action = 'account.unlock'".into(),
    )
    .await;
    assert_eq!(audited, 1);
    // The clerk's own login log shows the refusals, the unlock and the success, in Chinese.
    let t = app.login("clerk_a1", "Changed#2026").await;
    let r = app
        .get("/api/v1/admin/me/login-logs?page_size=100", &t)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let labels: Vec<&str> = r.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["reason_label"].as_str().unwrap())
        .collect();
    for l in ["成功", "密码错误", "账号已锁定", "管理员已解锁"] {
        assert!(labels.contains(&l), "{labels:?}");
    }
    assert!(
        r.data()["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["username"] == "clerk_a1")
    );
}

/// One request answers every card, each within scope: county A counts its members, county B
/// none of them; the per-org chart covers every child org, not the first few.
#[tokio::test]
async fn the_dashboard_is_one_scoped_request() {
    let app = spawn_app().await;
    let w = app.two_counties().await;
    let body = json!({"org_id": w.a1, "name": "赵六", "id_number": "11010519491231002X", "work_unit": "县第一中学"});
    let r = app.post("/api/v1/admin/members", &w.admin, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let status = r.data()["status"].as_str().unwrap().to_string();
    let a = app.get("/api/v1/admin/dashboard", &w.admin_a).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(a.data()["members"][&status], 1, "{:?}", a.body);
    let b = app.get("/api/v1/admin/dashboard", &w.admin_b).await;
    assert_eq!(b.data()["members"][&status], 0, "{:?}", b.body);
    let root = app.get("/api/v1/admin/dashboard", &w.admin).await;
    let orgs = root.data()["members"]["by_org"].as_array().unwrap().clone();
    let names: Vec<&str> = orgs.iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["组织ca", "组织cb"]);
    let want_a = i64::from(status == "active");
    assert_eq!(orgs[0]["active"], want_a);
    let by_org_a = a.data()["members"]["by_org"].as_array().unwrap().clone();
    assert_eq!(by_org_a.len(), 1);
    assert_eq!(by_org_a[0]["org_id"], w.a1);
    assert!(a.data()["activities"]["recent"].is_array());
    assert!(a.data()["news"]["latest"].is_array());
    // The grassroots clerk holds no review permission: that card is absent, not zero.
    let c = app.get("/api/v1/admin/dashboard", &w.clerk_a1).await;
    assert_eq!(c.status, StatusCode::OK);
    let perms = app.get("/api/v1/admin/me", &w.clerk_a1).await;
    let may_review = perms.data()["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("member:review"));
    assert_eq!(c.data()["pending_applications"].is_null(), !may_review);
}

/// The installation settings are shown to the whole-tree holder of `setting:read` only,
/// each with its source and environment variable, secrets hidden.
#[tokio::test]
async fn the_installation_settings_show_their_sources() {
    let app = spawn_with(|c| c.wechat.secret = "top-secret-value".into()).await;
    let w = app.two_counties().await;
    let r = app.get("/api/v1/admin/settings/config", &w.admin).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(!r.body.to_string().contains("top-secret-value"));
    let items = r.data().as_array().unwrap();
    let secret = items.iter().find(|i| i["key"] == "wechat.secret").unwrap();
    assert_eq!(secret["value"], "***");
    let ttl = items
        .iter()
        .find(|i| i["key"] == "auth.admin_access_ttl_secs")
        .unwrap();
    assert_eq!(ttl["env_var"], "GONGHUI_AUTH__ADMIN_ACCESS_TTL_SECS");
    assert!(["default", "file", "env"].contains(&ttl["source"].as_str().unwrap()));
    assert!(ttl["source_label"].as_str().is_some());
    let r = app.get("/api/v1/admin/settings/config", &w.admin_a).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// 参数设置: the system admin changes a runtime setting and the next request uses it (the
/// daily sign-in credits the new amount, the mini-program package gets the new address); a
/// value out of range is refused at its field; `null` goes back to the configured value; a
/// setting config.toml pins is read-only; county admins may not change anything; each change
/// is audited with the old and new value.
#[tokio::test]
async fn runtime_settings_are_changed_on_the_settings_page() {
    let app = spawn_with(|c| {
        c.wechat.appid = "wx0123456789abcdef".into();
        // The file pins the check-in code lifetime: it wins and is read-only.
        std::fs::write(
            c.data_dir.join("config.toml"),
            "[activities]\ncheckin_code_ttl_secs = 20\n",
        )
        .unwrap();
        c.activities.checkin_code_ttl_secs = 20;
    })
    .await;
    let w = app.two_counties().await;
    const URL: &str = "/api/v1/admin/settings/config";
    let item = |r: &Resp, k: &str| -> Value {
        r.data()
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["key"] == k)
            .unwrap()
            .clone()
    };
    let r = app.get(URL, &w.admin).await;
    let sign_in = item(&r, "points.sign_in_points");
    assert_eq!(
        (sign_in["editable"].as_bool(), sign_in["source"].as_str()),
        (Some(true), Some("default"))
    );
    assert_eq!(sign_in["label"], "每日签到积分");
    let ttl = item(&r, "activities.checkin_code_ttl_secs");
    assert_eq!(
        (ttl["editable"].as_bool(), ttl["source"].as_str()),
        (Some(false), Some("file"))
    );
    assert_eq!(item(&r, "auth.admin_access_ttl_secs")["editable"], false);

    // No package without a public address; then set it here.
    let pkg = "/api/v1/admin/miniprogram/package";
    assert_eq!(app.get(pkg, &w.admin).await.status, StatusCode::CONFLICT);
    let r = app
        .put(
            URL,
            &w.admin,
            json!({"points.sign_in_points": 5, "public_base_url": " https://gh.example.test/ "}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let sign_in = item(&r, "points.sign_in_points");
    assert_eq!(
        (sign_in["value"].as_i64(), sign_in["source"].as_str()),
        (Some(5), Some("database"))
    );
    assert_eq!(sign_in["source_label"], "参数设置");
    assert_eq!(
        item(&r, "public_base_url")["value"],
        "https://gh.example.test"
    );
    assert_eq!(app.get(pkg, &w.admin).await.status, StatusCode::OK);
    let (_, t) = crate::activities::members(&app, 1, Some(w.a1), "active")
        .await
        .remove(0);
    let s = app
        .post("/api/v1/app/me/points/sign-in", &t, json!({}))
        .await;
    assert_eq!(s.data()["points"], 5, "{:?}", s.body);
    let audit = app
        .query_i64("SELECT count(*) FROM audit_logs WHERE action = 'setting.update' AND summary LIKE '%每日签到积分%' AND summary LIKE '%对外访问地址%'")
        .await;
    assert_eq!(audit, 1);

    // Out of range, wrong type, pinned: 400 at each field, nothing changed.
    let r = app
        .put(URL, &w.admin, json!({"points.daily_cap": -1, "activities.checkin_code_ttl_secs": 30, "public_base_url": "ftp://x"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    let f = &r.body["error"]["fields"];
    assert!(
        f["points.daily_cap"]
            .as_str()
            .unwrap()
            .contains("0 到 1000000")
    );
    assert!(
        f["activities.checkin_code_ttl_secs"]
            .as_str()
            .unwrap()
            .contains("配置文件")
    );
    assert!(f["public_base_url"].as_str().unwrap().contains("http"));
    let r = app
        .put(URL, &w.admin, json!({"points.daily_cap": "many"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app.put(URL, &w.admin, json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app.put(URL, &w.admin, json!({"listen": "0.0.0.0:1"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.state.live.get().points.daily_cap, 0);

    // Back to the configured value.
    let r = app
        .put(URL, &w.admin, json!({"points.sign_in_points": null}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let sign_in = item(&r, "points.sign_in_points");
    assert_eq!(
        (sign_in["value"].as_i64(), sign_in["source"].as_str()),
        (Some(1), Some("default"))
    );
    let rows = app
        .query_i64("SELECT count(*) FROM settings WHERE key = 'config:points.sign_in_points'")
        .await;
    assert_eq!(rows, 0);

    // A county admin holds no setting:write over the whole tree.
    let r = app
        .put(URL, &w.admin_a, json!({"points.sign_in_points": 9}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.state.live.get().points.sign_in_points, 1);
}

/// 字典管理: every dictionary (built-in statuses and the stored activity categories, ticket
/// categories and aid types) comes with each item's tag colour; the system admin changes a
/// colour (audited, and every later read shows it), picking the default again removes the
/// change; an unknown dictionary, item or colour is refused; a county admin may read but not
/// change.
#[tokio::test]
async fn dictionary_tag_colours_are_stored_and_served() {
    let app = spawn_app().await;
    let w = app.two_counties().await;
    const URL: &str = "/api/v1/admin/dictionaries";
    let color_of = |r: &Resp, d: &str, k: &str| -> String {
        let dict = r
            .data()
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["code"] == d)
            .unwrap()
            .clone();
        let item = dict["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["code"] == k)
            .unwrap()
            .clone();
        item["color"].as_str().unwrap().to_string()
    };
    let r = app.get(URL, &w.admin_a).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let codes: Vec<&str> = r
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    for d in [
        "activity_category",
        "ticket_category",
        "aid_type",
        "member_status",
        "org_status",
    ] {
        assert!(codes.contains(&d), "{d} missing from {codes:?}");
    }
    assert_eq!(color_of(&r, "member_status", "active"), "success");
    assert_eq!(color_of(&r, "activity_category", "sports"), "primary");
    assert_eq!(color_of(&r, "ticket_category", "rights"), "primary");

    let put = |d: &str, k: &str| format!("{URL}/{d}/{k}/color");
    let r = app
        .put(
            &put("member_status", "active"),
            &w.admin,
            json!({"color": "danger"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["color"], "danger");
    let r = app
        .put(
            &put("activity_category", "sports"),
            &w.admin,
            json!({"color": "warning"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app.get(URL, &w.clerk_a1).await;
    assert_eq!(color_of(&r, "member_status", "active"), "danger");
    assert_eq!(color_of(&r, "activity_category", "sports"), "warning");
    let audited = app
        .query_i64("SELECT count(*) FROM audit_logs WHERE action = 'dictionary.update' AND target_id = 'member_status:active' AND summary LIKE '%danger%'")
        .await;
    assert_eq!(audited, 1);

    // Back to the default: no row left.
    let r = app
        .put(
            &put("member_status", "active"),
            &w.admin,
            json!({"color": "success"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let rows = app
        .query_i64("SELECT count(*) FROM dictionary_colors WHERE dict = 'member_status'")
        .await;
    assert_eq!(rows, 0);

    for (path, body, want) in [
        (
            put("no_such", "active"),
            json!({"color": "danger"}),
            StatusCode::NOT_FOUND,
        ),
        (
            put("member_status", "nope"),
            json!({"color": "danger"}),
            StatusCode::NOT_FOUND,
        ),
        (
            put("member_status", "active"),
            json!({"color": "pink"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            put("member_status", "active"),
            json!({}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let r = app.put(&path, &w.admin, body).await;
        assert_eq!(r.status, want, "{path}: {:?}", r.body);
    }
    let r = app
        .put(
            &put("member_status", "left"),
            &w.admin_a,
            json!({"color": "danger"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
