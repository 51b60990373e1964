//! Staff accounts: create, list, view, change, reset password, and who may do what to whom.

use crate::session::{AUDITOR, CLERK, COUNTY, SEC, SYS, audits, new_account, scalar, text};
use crate::support::*;
use serde_json::{Value, json};

const ACCOUNTS: &str = "/api/v1/admin/accounts";

fn acc(id: i64) -> String {
    format!("{ACCOUNTS}/{id}")
}

fn usernames(r: &Resp) -> Vec<String> {
    let items = r.data()["items"].as_array().unwrap();
    items
        .iter()
        .map(|a| a["username"].as_str().unwrap().to_string())
        .collect()
}

fn field<'a>(r: &'a Resp, name: &str) -> &'a Value {
    &r.body["error"]["fields"][name]
}

/// Create stores a hashed password, the roles and an audit row without the password;
/// the account then shows in the list and by id.
#[tokio::test]
async fn create_list_get_and_patch_an_account() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let a = app.create_org(&t, root, "a", "county").await;
    let body = json!({"username": "Zhang.San", "name": "张三", "org_id": a, "role_ids": [COUNTY], "password": PW});
    let r = app.post(ACCOUNTS, &t, body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let d = r.data();
    let id = d["id"].as_i64().unwrap();
    assert_eq!(d["username"], "zhang.san");
    assert_eq!(
        (d["org_id"].as_i64(), d["org_name"].as_str()),
        (Some(a), Some("组织a"))
    );
    assert_eq!(
        d["roles"],
        json!([{"id": COUNTY, "name": "县级工会管理员"}])
    );
    assert_eq!(
        (d["must_change_password"].as_bool(), d["disabled"].as_bool()),
        (Some(true), Some(false))
    );
    assert!(d.get("password_hash").is_none() && d.get("password").is_none());
    let hash = text(
        &app,
        format!("SELECT password_hash FROM admins WHERE id = {id}"),
    )
    .await;
    assert!(hash.starts_with("$argon2id$"));
    let held = format!("SELECT count(*) FROM admin_roles WHERE admin_id = {id} AND role_id = 4");
    assert_eq!(scalar(&app, held).await, 1);
    let summary = text(
        &app,
        "SELECT summary FROM audit_logs WHERE action = 'account.create'",
    )
    .await;
    assert!(
        summary.contains("zhang.san") && !summary.contains(PW),
        "{summary}"
    );

    let list = app.get(ACCOUNTS, &t).await;
    assert_eq!(list.status, 200);
    assert_eq!(usernames(&list), ["admin", "zhang.san"]);
    assert_eq!(list.data()["total"], 2);
    let one = app.get(&acc(id), &t).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.data()["name"], "张三");
    assert_eq!(app.get(&acc(9999), &t).await.status, 404);

    let r = app.patch(&acc(id), &t, json!({"name": "张三丰"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.data()["name"], "张三丰");
    assert_eq!(
        text(&app, format!("SELECT name FROM admins WHERE id = {id}")).await,
        "张三丰"
    );
    assert_eq!(audits(&app, "account.update").await, 1);
    // A name-only change does not sign the account out.
    assert_eq!(
        scalar(
            &app,
            format!("SELECT token_version FROM admins WHERE id = {id}")
        )
        .await,
        1
    );
}

/// Bad username, empty name and a weak password are all reported; nothing is written.
#[tokio::test]
async fn create_reports_every_bad_field_and_writes_nothing() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let body =
        json!({"username": "a/", "name": " ", "org_id": root, "role_ids": [], "password": "short"});
    let r = app.post(ACCOUNTS, &t, body).await;
    assert_eq!(r.status, 400);
    for k in ["username", "name", "password"] {
        assert!(field(&r, k).is_string(), "{k}: {:?}", r.body);
    }
    let body = json!({"username": "clerk_2026x", "name": "x", "org_id": root, "role_ids": [], "password": "Clerk_2026X"});
    let r = app.post(ACCOUNTS, &t, body).await;
    assert!(field(&r, "password").is_string(), "{:?}", r.body);
    let body =
        json!({"username": "clerk", "name": "x", "org_id": root, "role_ids": [77], "password": PW});
    let r = app.post(ACCOUNTS, &t, body).await;
    assert_eq!(r.status, 400);
    assert!(field(&r, "role_ids").is_string());
    assert_eq!(scalar(&app, "SELECT count(*) FROM admins").await, 1);
    assert_eq!(audits(&app, "account.create").await, 0);
}

/// A taken username (in any case) is a 400 on field `username`.
#[tokio::test]
async fn a_taken_username_is_a_field_error() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    new_account(&app, &t, "clerk1", root, &[]).await;
    for name in ["clerk1", "CLERK1", "Admin"] {
        let body =
            json!({"username": name, "name": "x", "org_id": root, "role_ids": [], "password": PW});
        let r = app.post(ACCOUNTS, &t, body).await;
        assert_eq!(r.status, 400, "{name}: {:?}", r.body);
        assert!(field(&r, "username").is_string());
    }
    assert_eq!(scalar(&app, "SELECT count(*) FROM admins").await, 2);
}

/// A county admin cannot place an account outside its subtree (400 on `org_id`), nor see or
/// change accounts there (404), nor hand out a role wider than its own (403).
#[tokio::test]
async fn a_county_admin_is_held_to_its_subtree() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let a = app.create_org(&t, root, "a", "county").await;
    let a1 = app.create_org(&t, a, "a1", "grassroots").await;
    let b = app.create_org(&t, root, "b", "county").await;
    let other = new_account(&app, &t, "clerk_b", b, &[CLERK]).await;
    let (_, ct) = app.account_token(&t, "county_a", a, &[COUNTY]).await;
    for org in [b, root, 9999] {
        let body = json!({"username": "x_user", "name": "x", "org_id": org, "role_ids": [], "password": PW});
        let r = app.post(ACCOUNTS, &ct, body).await;
        // Out of scope answers exactly like a missing org.
        assert_eq!(r.status, 404, "{org}: {:?}", r.body);
        assert_eq!(r.code(), "not_found");
    }
    for role in [SYS, SEC, AUDITOR] {
        let body = json!({"username": "x_user", "name": "x", "org_id": a1, "role_ids": [role], "password": PW});
        let r = app.post(ACCOUNTS, &ct, body).await;
        assert_eq!(r.status, 403, "{role}: {:?}", r.body);
    }
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM admins WHERE username = 'x_user'"
        )
        .await,
        0
    );
    let mine = new_account(&app, &ct, "clerk_a1", a1, &[CLERK]).await;
    let list = app.get(ACCOUNTS, &ct).await;
    assert_eq!(usernames(&list), ["county_a", "clerk_a1"]);
    assert_eq!(app.get(&acc(other), &ct).await.status, 404);
    assert_eq!(app.get(&acc(1), &ct).await.status, 404);
    let r = app.patch(&acc(other), &ct, json!({"disabled": true})).await;
    assert_eq!(r.status, 404);
    let r = app.patch(&acc(mine), &ct, json!({"org_id": b})).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM admins WHERE disabled = 1").await,
        0
    );
    assert_eq!(
        scalar(&app, format!("SELECT org_id FROM admins WHERE id = {mine}")).await,
        a1
    );
}

/// Lists page (size ≤ 100) and filter by keyword on username or name.
#[tokio::test]
async fn the_list_pages_and_filters_by_keyword() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    for u in ["wang1", "wang2", "li_si", "zhao"] {
        new_account(&app, &t, u, root, &[]).await;
    }
    app.patch(&acc(5), &t, json!({"name": "王五"})).await;
    let r = app.get(&format!("{ACCOUNTS}?page=2&page_size=2"), &t).await;
    assert_eq!(r.status, 200);
    assert_eq!(usernames(&r), ["wang2", "li_si"]);
    let d = r.data();
    assert_eq!(
        (
            d["total"].as_i64(),
            d["page"].as_i64(),
            d["page_size"].as_i64()
        ),
        (Some(5), Some(2), Some(2))
    );
    assert_eq!(
        usernames(&app.get(&format!("{ACCOUNTS}?page=9"), &t).await),
        Vec::<String>::new()
    );
    for bad in ["page_size=101", "page_size=0", "page=0"] {
        let r = app.get(&format!("{ACCOUNTS}?{bad}"), &t).await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.code(), "validation_failed");
    }
    assert!(
        field(
            &app.get(&format!("{ACCOUNTS}?page_size=101"), &t).await,
            "page_size"
        )
        .is_string()
    );
    let r = app.get(&format!("{ACCOUNTS}?q=wang"), &t).await;
    assert_eq!(usernames(&r), ["wang1", "wang2"]);
    assert_eq!(r.data()["total"], 2);
    let r = app.get(&format!("{ACCOUNTS}?q=%E7%8E%8B"), &t).await;
    assert_eq!(usernames(&r), ["zhao"]);
    assert_eq!(
        app.get(&format!("{ACCOUNTS}?q=%25"), &t).await.data()["total"],
        5
    );
    let r = app.get(&format!("{ACCOUNTS}?org_id={root}&q=li"), &t).await;
    assert_eq!(usernames(&r), ["li_si"]);
}

/// A system admin (role 1) cannot modify or reset the super admin, and nothing changes.
#[tokio::test]
async fn a_system_admin_cannot_modify_the_super_admin() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let (_, st) = app.account_token(&t, "sysadmin", root, &[SYS]).await;
    let state =
        "SELECT name || disabled || token_version || password_hash FROM admins WHERE id = 1";
    let before = text(&app, state).await;
    for body in [
        json!({"name": "改名"}),
        json!({"disabled": true}),
        json!({"role_ids": [1]}),
    ] {
        let r = app.patch(&acc(1), &st, body).await;
        assert_eq!(r.status, 403, "{:?}", r.body);
    }
    let r = app
        .post(
            &format!("{}/password", acc(1)),
            &st,
            json!({"new_password": "Taken#Over2026"}),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(text(&app, state).await, before);
    assert_eq!(app.get("/api/v1/admin/me", &t).await.status, 200);
    assert_eq!(
        audits(&app, "account.update").await + audits(&app, "account.reset_password").await,
        0
    );
}

/// Nobody, not even the super admin, can change their own roles, org or disabled flag; the
/// display name is fine.
#[tokio::test]
async fn nobody_can_change_their_own_roles_or_status() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let a = app.create_org(&t, root, "a", "county").await;
    let (id, st) = app.account_token(&t, "sysadmin", root, &[SYS]).await;
    let (cid, ct) = app.account_token(&t, "county_a", a, &[COUNTY]).await;
    let cases = [
        (1, &t, json!({"disabled": true})),
        (id, &st, json!({"role_ids": [SYS, COUNTY]})),
        (id, &st, json!({"disabled": true})),
        (id, &st, json!({"org_id": a})),
        (cid, &ct, json!({"role_ids": []})),
    ];
    for (who, tok, body) in cases {
        let r = app.patch(&acc(who), tok, body.clone()).await;
        assert_eq!(r.status, 403, "{who} {body}: {:?}", r.body);
    }
    let roles_held = format!("SELECT count(*) FROM admin_roles WHERE admin_id = {id}");
    assert_eq!(scalar(&app, roles_held).await, 1);
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM admins WHERE disabled = 1").await,
        0
    );
    let r = app
        .patch(&acc(id), &st, json!({"name": "系统管理员甲"}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(app.get("/api/v1/admin/me", &st).await.status, 200);
}

/// A reset password must be changed at next login, signs the account out and lifts a lockout.
#[tokio::test]
async fn resetting_a_password_forces_a_change_and_lifts_a_lockout() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let (id, ct) = app.account_token(&t, "clerk1", root, &[CLERK]).await;
    for _ in 0..5 {
        app.login_resp("clerk1", "Wrong#2026pw").await;
    }
    assert_eq!(app.login_resp("clerk1", "Changed#2026").await.status, 423);
    let path = format!("{}/password", acc(id));
    let r = app.post(&path, &t, json!({"new_password": "short"})).await;
    assert!(field(&r, "new_password").is_string(), "{:?}", r.body);
    let r = app
        .post(&path, &t, json!({"new_password": "Reset#2026pw"}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(app.get("/api/v1/admin/me", &ct).await.status, 401);
    let r = app.login_resp("clerk1", "Reset#2026pw").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.data()["must_change_password"], true);
    assert_eq!(audits(&app, "account.reset_password").await, 1);
}

/// Setting a password lets one sign in as the account, so a system admin cannot reset the
/// security or audit admin's password (403, nothing stored), only accounts it could create.
#[tokio::test]
async fn a_password_reset_cannot_take_over_wider_rights() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let (_, sys) = app.account_token(&t, "sys", root, &[SYS]).await;
    let sec = new_account(&app, &t, "sec", root, &[SEC]).await;
    let aud = new_account(&app, &t, "aud", root, &[AUDITOR]).await;
    let body = json!({"name": "只读", "permissions": ["org:read"], "data_scope": "org"});
    let r = app.post("/api/v1/admin/roles", &t, body).await;
    let reader = new_account(
        &app,
        &t,
        "reader",
        root,
        &[r.data()["id"].as_i64().unwrap()],
    )
    .await;
    let hashes =
        format!("SELECT group_concat(password_hash) FROM admins WHERE id IN ({sec}, {aud})");
    let before = text(&app, &hashes).await;
    let taken = json!({"new_password": "Taken#Over2026"});
    for id in [sec, aud] {
        let r = app
            .post(&format!("{}/password", acc(id)), &sys, taken.clone())
            .await;
        assert_eq!(r.status, 403, "{:?}", r.body);
    }
    assert_eq!(text(&app, &hashes).await, before);
    assert_eq!(app.login_resp("sec", "Taken#Over2026").await.status, 401);
    let r = app
        .post(&format!("{}/password", acc(reader)), &sys, taken)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(audits(&app, "account.reset_password").await, 1);
}

/// Separation of duties: a system admin cannot disable, re-home or re-role the security or
/// audit admin (their roles are beyond what it may grant), but may disable an ordinary account.
#[tokio::test]
async fn a_system_admin_cannot_switch_off_the_other_duties() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let (_, sys) = app.account_token(&t, "sys", root, &[SYS]).await;
    let sec = new_account(&app, &t, "sec", root, &[SEC]).await;
    let aud = new_account(&app, &t, "aud", root, &[AUDITOR]).await;
    let r = app
        .post(
            "/api/v1/admin/roles",
            &t,
            json!({"name": "只读", "permissions": ["org:read"], "data_scope": "org"}),
        )
        .await;
    let clerk = new_account(
        &app,
        &t,
        "reader",
        root,
        &[r.data()["id"].as_i64().unwrap()],
    )
    .await;
    for id in [sec, aud] {
        for body in [json!({"disabled": true}), json!({"role_ids": []})] {
            let r = app.patch(&acc(id), &sys, body).await;
            assert_eq!(r.status, 403, "{id}: {:?}", r.body);
        }
    }
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM admins WHERE disabled = 1").await,
        0
    );
    let r = app
        .patch(&acc(clerk), &sys, json!({"disabled": true}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}
