//! Roles and the audit log: lifecycle, validation, no granting beyond one's own rights,
//! separated duties (三员), locked roles, token revocation, and who may read the audit log.

use crate::session::{AUDITOR, CLERK, COUNTY, SEC, SYS, audits, new_account, scalar, text};
use crate::support::*;
use serde_json::{Value, json};

const ROLES: &str = "/api/v1/admin/roles";
const AUDIT: &str = "/api/v1/admin/audit-logs";

fn role(id: i64) -> String {
    format!("{ROLES}/{id}")
}

fn fields(r: &Resp) -> Vec<String> {
    let f = r.body["error"]["fields"].as_object();
    f.map(|f| f.keys().cloned().collect()).unwrap_or_default()
}

/// A role body.
fn rb(name: &str, perms: &[&str], scope: &str) -> Value {
    json!({"name": name, "permissions": perms, "data_scope": scope})
}

/// A role body with a `custom` scope over `orgs`.
fn custom(name: &str, perms: &[&str], orgs: &[i64]) -> Value {
    let mut b = rb(name, perms, "custom");
    b["custom_org_ids"] = json!(orgs);
    b
}

/// Create a role as `t`, expecting 201; returns its id.
async fn new_role(app: &TestApp, t: &str, name: &str, perms: &[&str], scope: &str) -> i64 {
    let r = app.post(ROLES, t, rb(name, perms, scope)).await;
    assert_eq!(r.status, 201, "{name}: {:?}", r.body);
    r.data()["id"].as_i64().unwrap()
}

async fn role_perms(app: &TestApp, id: i64) -> String {
    let sql = format!(
        "SELECT group_concat(code, ',') FROM (SELECT code FROM role_permissions WHERE role_id = {id} ORDER BY code)"
    );
    text(app, sql).await
}

/// The list shows the five built-in roles: the three duties locked, the examples editable;
/// the permission catalog names every code.
#[tokio::test]
async fn the_list_shows_the_built_in_roles() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let r = app.get(ROLES, &t).await;
    assert_eq!(r.status, 200);
    let items = r.data().as_array().unwrap();
    assert_eq!(items.len(), 5);
    let locked: Vec<bool> = items
        .iter()
        .map(|r| r["locked"].as_bool().unwrap())
        .collect();
    assert_eq!(locked, [true, true, true, false, false]);
    let sys = json!([items[0]["code"], items[0]["duty"]]);
    assert_eq!(sys, json!(["system_admin", "system"]));
    let audit_perms = items[2]["permissions"].as_array().unwrap();
    assert!(
        audit_perms.contains(&json!("audit:read")),
        "{audit_perms:?}"
    );
    let county = json!([items[3]["data_scope"], items[3]["account_count"]]);
    assert_eq!(county, json!(["org_and_below", 0]));
    let cat = app.get("/api/v1/admin/permissions", &t).await;
    let cat = cat.data().as_array().unwrap();
    let named = |p: &Value| p["name"].is_string() && p["group"].is_string();
    assert!(cat.iter().all(named) && cat.iter().any(|p| p["code"] == "role:write"));
}

/// Create, replace and delete a role; each step is stored and audited.
#[tokio::test]
async fn a_role_can_be_created_replaced_and_deleted() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let body =
        json!({"name": "宣传干事", "permissions": ["org:read", "org:read"], "data_scope": "org"});
    let r = app.post(ROLES, &t, body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.data()["id"].as_i64().unwrap();
    assert_eq!(r.data()["permissions"], json!(["org:read"]));
    let d = r.data();
    assert_eq!(json!([d["locked"], d["account_count"]]), json!([false, 0]));
    assert_eq!(role_perms(&app, id).await, "org:read");
    assert_eq!(audits(&app, "role.create").await, 1);

    let body = json!({"name": "宣传委员", "permissions": ["org:read", "file:read"], "data_scope": "org_and_below"});
    let r = app.put(&role(id), &t, body).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.data()["name"], "宣传委员");
    assert_eq!(role_perms(&app, id).await, "file:read,org:read");
    let stored = text(
        &app,
        format!("SELECT name || data_scope FROM roles WHERE id = {id}"),
    )
    .await;
    assert_eq!(stored, "宣传委员org_and_below");
    let summary = text(
        &app,
        "SELECT summary FROM audit_logs WHERE action = 'role.update'",
    )
    .await;
    let summary: Value = serde_json::from_str(&summary).unwrap();
    let change = json!({"from": "org", "to": "org_and_below"});
    assert_eq!(summary["data_scope"], change);

    assert_eq!(app.delete(&role(id), &t).await.status, 200);
    let (roles_q, perms_q) = (
        "SELECT count(*) FROM roles",
        "SELECT count(*) FROM role_permissions",
    );
    let gone = format!("SELECT ({roles_q} WHERE id = {id}) + ({perms_q} WHERE role_id = {id})");
    assert_eq!(scalar(&app, gone).await, 0);
    assert_eq!(audits(&app, "role.delete").await, 1);
    assert_eq!(app.delete(&role(id), &t).await.status, 404);
    let body = json!({"name": "x", "permissions": [], "data_scope": "org"});
    assert_eq!(app.put(&role(999), &t, body).await.status, 404);
}

/// Unknown permission codes, unknown scopes, a taken name and misuse of `custom_org_ids`
/// are field errors; nothing is written.
#[tokio::test]
async fn bad_role_input_is_a_field_error() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let mut misplaced = rb("a", &[], "org");
    misplaced["custom_org_ids"] = json!([root]);
    let cases = [
        (rb("a", &["org:read", "org:fly"], "org"), "permissions"),
        (rb("a", &[], "galaxy"), "data_scope"),
        (rb(" ", &[], "org"), "name"),
        (rb("系统管理员", &[], "org"), "name"),
        (rb("a", &[], "custom"), "custom_org_ids"),
        (custom("a", &[], &[]), "custom_org_ids"),
        (custom("a", &[], &[9999]), "custom_org_ids"),
        (misplaced, "custom_org_ids"),
    ];
    for (body, field) in cases {
        let r = app.post(ROLES, &t, body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {:?}", r.body);
        assert!(
            fields(&r).contains(&field.to_string()),
            "{body}: {:?}",
            r.body
        );
    }
    assert_eq!(scalar(&app, "SELECT count(*) FROM roles").await, 5);
    assert_eq!(audits(&app, "role.create").await, 0);
    let body = custom("指定组织", &["org:read"], &[root]);
    let r = app.post(ROLES, &t, body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.data()["custom_org_ids"], json!([root]));
    let id = r.data()["id"].as_i64().unwrap();
    let stored = format!("SELECT org_id FROM role_orgs WHERE role_id = {id}");
    assert_eq!(scalar(&app, stored).await, root);
}

/// A security admin holds `role:write` but not `org:write`: it cannot put `org:write` in a
/// role (403), and nothing is written.
#[tokio::test]
async fn a_permission_the_caller_lacks_cannot_be_granted() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let (_, sec) = app.account_token(&t, "secadmin", root, &[SEC]).await;
    let body = rb("越权", &["org:write"], "all");
    let r = app.post(ROLES, &sec, body).await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    let before = role_perms(&app, COUNTY).await;
    let body = rb("越权", &["account:read"], "org");
    let r = app.put(&role(COUNTY), &sec, body).await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert_eq!(scalar(&app, "SELECT count(*) FROM roles").await, 5);
    assert_eq!(role_perms(&app, COUNTY).await, before);
    new_role(&app, &sec, "账号查看", &["account:read"], "all").await;
}

/// A county admin allowed to write roles cannot make one with `all` scope or with orgs
/// outside its subtree, but can within it.
#[tokio::test]
async fn a_county_admin_cannot_create_a_wider_role() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let a = app.create_org(&t, root, "a", "county").await;
    let a1 = app.create_org(&t, a, "a1", "grassroots").await;
    let b = app.create_org(&t, root, "b", "county").await;
    let rw = ["role:read", "role:write", "org:read"];
    let rm = new_role(&app, &t, "县角色管理", &rw, "org_and_below").await;
    let (_, ct) = app.account_token(&t, "county_a", a, &[COUNTY, rm]).await;
    let all = rb("全州", &["org:read"], "all");
    let outside = custom("邻县", &["org:read"], &[b]);
    let audit = rb("审计", &["audit:read"], "org");
    for body in [all, outside, audit] {
        let r = app.post(ROLES, &ct, body.clone()).await;
        assert_eq!(r.status, 403, "{body}: {:?}", r.body);
    }
    assert_eq!(scalar(&app, "SELECT count(*) FROM roles").await, 6);
    new_role(&app, &ct, "本县", &["org:read"], "org_and_below").await;
    let body = custom("基层", &["org:read"], &[a1]);
    let r = app.post(ROLES, &ct, body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

/// A right held only for one's own org cannot be handed out with `all` scope, even by an
/// account whose `role:write` covers everything.
#[tokio::test]
async fn a_narrow_right_cannot_be_granted_with_a_wider_scope() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let a = app.create_org(&t, root, "a", "county").await;
    let rw = ["role:read", "role:write"];
    let p = new_role(&app, &t, "全局角色管理", &rw, "all").await;
    let ow = ["org:read", "org:write"];
    let q = new_role(&app, &t, "本单位组织管理", &ow, "org").await;
    let (_, ut) = app.account_token(&t, "mixed", a, &[p, q]).await;
    let r = app.post(ROLES, &ut, rb("全州组织", &ow, "all")).await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert_eq!(scalar(&app, "SELECT count(*) FROM roles").await, 7);
    new_role(&app, &ut, "本单位只读", &["org:read"], "org").await;
}

/// Two of the three separated duties never land on one account, on create or on change.
#[tokio::test]
async fn the_three_duties_cannot_be_combined_on_one_account() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    for pair in [[1, 2], [1, 3], [2, 3]] {
        let body = json!({"username": "duo", "name": "x", "org_id": root, "role_ids": pair, "password": PW});
        let r = app.post("/api/v1/admin/accounts", &t, body).await;
        assert_eq!(r.status, 400, "{pair:?}: {:?}", r.body);
        assert_eq!(fields(&r), ["role_ids"]);
    }
    assert_eq!(scalar(&app, "SELECT count(*) FROM admins").await, 1);
    let id = new_account(&app, &t, "sys", root, &[SYS]).await;
    let body = json!({"role_ids": [SYS, AUDITOR]});
    let r = app
        .patch(&format!("/api/v1/admin/accounts/{id}"), &t, body)
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(fields(&r), ["role_ids"]);
    let held = format!("SELECT group_concat(role_id) FROM admin_roles WHERE admin_id = {id}");
    assert_eq!(text(&app, held).await, "1");
    assert_eq!(audits(&app, "account.update").await, 0);
}

/// Locked roles cannot be edited or deleted, nor can a role someone holds be deleted (409).
#[tokio::test]
async fn locked_and_held_roles_are_protected() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let before = role_perms(&app, AUDITOR).await;
    let body = rb("改掉", &["org:read"], "org");
    for id in [1, 2, 3] {
        let r = app.put(&role(id), &t, body.clone()).await;
        assert_eq!(r.status, 409, "{:?}", r.body);
        assert_eq!(r.code(), "conflict");
        assert_eq!(app.delete(&role(id), &t).await.status, 409);
    }
    assert_eq!(role_perms(&app, AUDITOR).await, before);
    let name = text(&app, "SELECT name FROM roles WHERE id = 1").await;
    assert_eq!(name, "系统管理员");
    new_account(&app, &t, "clerk", root, &[CLERK]).await;
    let r = app.delete(&role(CLERK), &t).await;
    assert_eq!(r.status, 409);
    assert_eq!(scalar(&app, "SELECT count(*) FROM roles").await, 5);
    let changes = audits(&app, "role.update").await + audits(&app, "role.delete").await;
    assert_eq!(changes, 0);
}

/// Editing a role signs out every holder at once; other accounts keep working.
#[tokio::test]
async fn editing_a_role_revokes_its_holders_tokens() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let (id, holder) = app.account_token(&t, "clerk", root, &[CLERK]).await;
    let (_, other) = app.account_token(&t, "county", root, &[COUNTY]).await;
    let body = rb("基层专干", &["org:read", "account:read"], "org");
    let r = app.put(&role(CLERK), &t, body).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.data()["account_count"], 1);
    assert_eq!(app.get("/api/v1/admin/me", &holder).await.status, 401);
    assert_eq!(app.get("/api/v1/admin/me", &other).await.status, 200);
    let live = format!(
        "SELECT count(*) FROM refresh_tokens WHERE subject_id = {id} AND revoked_at IS NULL"
    );
    assert_eq!(scalar(&app, live).await, 0);
    let fresh = app.login("clerk", "Changed#2026").await;
    assert_eq!(app.get("/api/v1/admin/accounts", &fresh).await.status, 200);
}

/// Roles belong to the org they were made in: a county's role admin neither sees nor changes
/// a sibling county's roles (404), edits built-in roles only with an `all` scope (403), and
/// cannot edit its own role once an account outside its scope holds it (403).
#[tokio::test]
async fn roles_are_scoped_by_the_org_that_made_them() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let a = app.create_org(&t, root, "a", "county").await;
    let b = app.create_org(&t, root, "b", "county").await;
    let rw = ["role:read", "role:write", "org:read"];
    let rm = new_role(&app, &t, "县角色管理", &rw, "org_and_below").await;
    let (_, at) = app.account_token(&t, "sec_a", a, &[rm]).await;
    let (_, bt) = app.account_token(&t, "sec_b", b, &[rm]).await;
    let role_a = new_role(&app, &at, "甲县专干", &["org:read"], "org").await;
    let role_b = new_role(&app, &bt, "乙县专干", &["org:read"], "org").await;
    let owner = format!("SELECT org_id FROM roles WHERE id = {role_a}");
    assert_eq!(scalar(&app, owner).await, a);
    let listed = app.get(ROLES, &at).await;
    let ids: Vec<&Value> = listed
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    // Built-in roles show; roles made at the root or in county B do not.
    assert_eq!(ids, [1, 2, 3, 4, 5, role_a]);
    let body = rb("改", &["org:read"], "org");
    for id in [role_b, rm] {
        assert_eq!(app.put(&role(id), &at, body.clone()).await.status, 404);
        assert_eq!(app.delete(&role(id), &at).await.status, 404);
    }
    let clerk_perms = role_perms(&app, CLERK).await;
    let r = app.put(&role(CLERK), &at, body.clone()).await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert_eq!(role_perms(&app, CLERK).await, clerk_perms);
    let kept = format!("SELECT count(*) FROM roles WHERE id = {role_b}");
    assert_eq!(scalar(&app, kept).await, 1);
    // Once the super admin gives 甲县专干 to an account in B, A may no longer widen it.
    let (_, ct) = app.account_token(&t, "clerk_b", b, &[role_a]).await;
    let wider = rb("甲县专干", &["org:read", "role:read"], "org");
    let r = app.put(&role(role_a), &at, wider).await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert_eq!(role_perms(&app, role_a).await, "org:read");
    assert_eq!(app.get("/api/v1/admin/me", &ct).await.status, 200);
    let changes = audits(&app, "role.update").await + audits(&app, "role.delete").await;
    assert_eq!(changes, 0);
}

/// `total` of an audit-log query as `tok`, which must succeed.
async fn audit_total(app: &TestApp, tok: &str, query: &str) -> Value {
    let r = app.get(&format!("{AUDIT}?{query}"), tok).await;
    assert_eq!(r.status, 200, "{query}: {:?}", r.body);
    r.data()["total"].clone()
}

/// The audit admin reads the log and filters it by action, actor and time; the rows form an
/// intact hash chain. Accounts without `audit:read` (county admin, system admin) get 403.
#[tokio::test]
async fn only_the_audit_admin_reads_and_filters_the_audit_log() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let (sys_id, sys) = app.account_token(&t, "sys", root, &[SYS]).await;
    let (_, aud) = app.account_token(&t, "auditor", root, &[AUDITOR]).await;
    let (_, county) = app.account_token(&t, "county", root, &[COUNTY]).await;
    app.create_org(&sys, root, "by-sys", "county").await;
    app.create_org(&t, root, "by-admin", "county").await;
    let r = app.get(AUDIT, &aud).await;
    let total = scalar(&app, "SELECT count(*) FROM audit_logs").await;
    assert_eq!(r.data()["total"], total);
    let first = &r.data()["items"][0];
    let who = json!([first["action"], first["actor_name"]]);
    assert_eq!(who, json!(["org.create", "admin"]));
    assert_eq!(first["ip"], "127.0.0.1");
    assert_eq!(audit_total(&app, &aud, "action=org.create").await, 2);
    let mine = format!("action=org.create&actor_id={sys_id}");
    assert_eq!(audit_total(&app, &aud, &mine).await, 1);
    let at = |secs: i64| gonghui::time::fmt(gonghui::time::now() + secs).replace('+', "%2B");
    let window = format!("from={}&to={}", at(-3600), at(3600));
    assert_eq!(audit_total(&app, &aud, &window).await, total);
    let later = format!("from={}", at(3600));
    assert_eq!(audit_total(&app, &aud, &later).await, 0);
    assert_eq!(audit_total(&app, &aud, "to=2000-01-01T00:00:00Z").await, 0);
    for bad in ["from=yesterday", "to=2026-13-01"] {
        let r = app.get(&format!("{AUDIT}?{bad}"), &aud).await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(fields(&r), [bad.split('=').next().unwrap()]);
    }
    for tok in [&county, &sys] {
        let r = app.get(AUDIT, tok).await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "forbidden"));
    }
    assert_eq!(app.get(AUDIT, &app.app_token()).await.status, 401);
    let key = app.state.keys.audit.clone();
    let chain = app
        .state
        .db
        .read(move |c| gonghui::audit::verify_chain(c, &key, None));
    let rows = scalar(&app, "SELECT count(*) FROM audit_logs").await;
    let status = chain.await.unwrap();
    assert!(
        matches!(status, gonghui::audit::ChainStatus::Ok { rows: n, .. } if n == rows),
        "{status:?}"
    );
}

/// The log catalogue names every operation in Chinese, the audit and login log lists carry
/// those names, and only log readers get the catalogue.
#[tokio::test]
async fn logs_speak_chinese_through_one_catalogue() {
    let app = spawn_app().await;
    let t = app.two_counties().await;
    let r = app.get("/api/v1/admin/log-catalogue", &t.admin).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let actions = r.data()["actions"].as_array().unwrap();
    assert!(
        actions
            .iter()
            .any(|a| a["code"] == "member.reveal" && a["label"] == "查看会员完整信息")
    );
    assert!(r.data()["login_reasons"].as_array().unwrap().len() >= 6);
    let r = app
        .get(&format!("{AUDIT}?action=org.create&page_size=1"), &t.admin)
        .await;
    let item = &r.data()["items"][0];
    assert_eq!(item["action"], "org.create", "{item}");
    assert_eq!(item["action_label"], "新建组织");
    assert_eq!(item["target_label"], "组织");
    let r = app.get("/api/v1/admin/login-logs", &t.admin).await;
    assert_eq!(r.data()["items"][0]["reason_label"], "成功");
    let r = app.get("/api/v1/admin/log-catalogue", &t.clerk_a1).await;
    assert_eq!(r.status, 403);
}
