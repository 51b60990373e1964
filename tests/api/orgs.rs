//! Org tree: tree view within scope, create with validation, rename, move a subtree,
//! delete-if-empty, and what a county admin may touch.

use crate::session::{CLERK, COUNTY, audits, new_account, scalar, text};
use crate::support::*;
use serde_json::{Value, json};

const ORGS: &str = "/api/v1/admin/orgs";

fn org(id: i64) -> String {
    format!("{ORGS}/{id}")
}

async fn path_of(app: &TestApp, id: i64) -> String {
    text(app, format!("SELECT path FROM orgs WHERE id = {id}")).await
}

fn ids(nodes: &Value) -> Vec<i64> {
    nodes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_i64().unwrap())
        .collect()
}

/// The tree nests children under parents and shows id, parent_id, name, code, kind, status and
/// sort only.
#[tokio::test]
async fn the_tree_nests_children_under_their_parents() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let a = app.create_org(&t, root, "county-a", "county").await;
    let a1 = app.create_org(&t, a, "gr-a1", "grassroots").await;
    let a2 = app.create_org(&t, a, "gr-a2", "grassroots").await;
    let b = app.create_org(&t, root, "county-b", "county").await;
    let r = app.get(ORGS, &t).await;
    assert_eq!(r.status, 200);
    let tree = r.data();
    assert_eq!(ids(tree), vec![root]);
    assert_eq!(tree[0]["parent_id"], Value::Null);
    assert_eq!(ids(&tree[0]["children"]), vec![a, b]);
    let county = &tree[0]["children"][0];
    assert_eq!(ids(&county["children"]), vec![a1, a2]);
    assert_eq!(county["parent_id"], root);
    assert_eq!(county["code"], "county-a");
    assert_eq!(county["kind"], "county");
    assert_eq!(county["name"], "组织county-a");
    assert_eq!(tree[0]["children"][1]["children"], json!([]));
    let mut keys: Vec<_> = county.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "children",
            "code",
            "id",
            "kind",
            "name",
            "parent_id",
            "sort",
            "status"
        ]
    );
}

/// A created org gets a path under its parent, and the creation is audited.
#[tokio::test]
async fn creating_an_org_stores_its_path_and_an_audit_row() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let body =
        json!({"parent_id": root, "name": " 县总工会 ", "code": "xian-01", "kind": "county"});
    let r = app.post(ORGS, &t, body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let id = r.data()["id"].as_i64().unwrap();
    assert_eq!(r.data()["name"], "县总工会");
    assert_eq!(path_of(&app, id).await, format!("/{root}/{id}/"));
    let sql = format!(
        "SELECT count(*) FROM audit_logs WHERE action = 'org.create' AND target_id = '{id}' AND actor_id = 1"
    );
    assert_eq!(scalar(&app, sql).await, 1);
}

/// Empty name, bad code and unknown kind are all reported at once; nothing is written.
#[tokio::test]
async fn creating_with_bad_fields_reports_every_field_and_writes_nothing() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let body = json!({"parent_id": root, "name": "  ", "code": "a b/c", "kind": "city"});
    let r = app.post(ORGS, &t, body).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "validation_failed");
    let fields = r.body["error"]["fields"].as_object().unwrap();
    for k in ["name", "code", "kind"] {
        assert!(fields.contains_key(k), "{k} in {fields:?}");
    }
    let body = json!({"parent_id": 9999, "name": "x", "code": "x1", "kind": "county"});
    let r = app.post(ORGS, &t, body).await;
    assert_eq!(r.status, 404);
    assert_eq!(scalar(&app, "SELECT count(*) FROM orgs").await, 1);
    assert_eq!(audits(&app, "org.create").await, 0);
}

/// A duplicate code, on create or on change, is a 400 on field `code`.
#[tokio::test]
async fn a_duplicate_code_is_a_field_error() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    app.create_org(&t, root, "dup", "county").await;
    let other = app.create_org(&t, root, "other", "county").await;
    let body = json!({"parent_id": root, "name": "再来", "code": "dup", "kind": "county"});
    let r = app.post(ORGS, &t, body).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(r.body["error"]["fields"]["code"].is_string());
    let r = app
        .patch(&org(other), &t, json!({"code": "dup", "name": "改名"}))
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body["error"]["fields"]["code"].is_string());
    assert_eq!(scalar(&app, "SELECT count(*) FROM orgs").await, 3);
    let name = text(
        &app,
        format!("SELECT name || code FROM orgs WHERE id = {other}"),
    )
    .await;
    assert_eq!(name, "组织otherother");
}

/// Renaming changes the row and records the change.
#[tokio::test]
async fn renaming_an_org_is_stored_and_audited() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let a = app.create_org(&t, root, "a", "county").await;
    let r = app.patch(&org(a), &t, json!({"name": "新名称"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.data()["name"], "新名称");
    assert_eq!(
        text(&app, format!("SELECT name FROM orgs WHERE id = {a}")).await,
        "新名称"
    );
    let summary = text(
        &app,
        "SELECT summary FROM audit_logs WHERE action = 'org.update'",
    )
    .await;
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["name"], json!({"from": "组织a", "to": "新名称"}));
    let r = app.patch(&org(a), &t, json!({"name": ""})).await;
    assert_eq!(r.status, 400);
    assert!(r.body["error"]["fields"]["name"].is_string());
}

/// Moving an org carries its whole subtree: every descendant's path is rewritten.
#[tokio::test]
async fn moving_a_subtree_rewrites_every_descendant_path() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let a = app.create_org(&t, root, "a", "county").await;
    let a1 = app.create_org(&t, a, "a1", "grassroots").await;
    let a1x = app.create_org(&t, a1, "a1x", "other").await;
    let a2 = app.create_org(&t, a, "a2", "grassroots").await;
    let b = app.create_org(&t, root, "b", "county").await;
    let b1 = app.create_org(&t, b, "b1", "grassroots").await;
    let r = app.patch(&org(a), &t, json!({"parent_id": b1})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.data()["parent_id"], b1);
    let base = format!("/{root}/{b}/{b1}/{a}/");
    assert_eq!(path_of(&app, a).await, base);
    assert_eq!(path_of(&app, a1).await, format!("{base}{a1}/"));
    assert_eq!(path_of(&app, a1x).await, format!("{base}{a1}/{a1x}/"));
    assert_eq!(path_of(&app, a2).await, format!("{base}{a2}/"));
    assert_eq!(path_of(&app, b).await, format!("/{root}/{b}/"));
    let parent = format!("SELECT parent_id FROM orgs WHERE id = {a}");
    assert_eq!(scalar(&app, parent).await, b1);
    // Every path is its parent's path plus its own id.
    let bad = "SELECT count(*) FROM orgs c JOIN orgs p ON p.id = c.parent_id WHERE c.path != p.path || c.id || '/'";
    assert_eq!(scalar(&app, bad).await, 0);
    let tree = app.get(ORGS, &t).await;
    let b1_node = &tree.data()[0]["children"][0]["children"][0];
    assert_eq!(ids(&b1_node["children"]), vec![a]);
    let summary = text(
        &app,
        "SELECT summary FROM audit_logs WHERE action = 'org.update'",
    )
    .await;
    let summary: Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(summary["parent_id"], json!({"from": root, "to": b1}));
}

/// An org cannot move under itself or its own descendant, and the root cannot move; a refused
/// move also discards a rename sent with it.
#[tokio::test]
async fn moving_under_a_descendant_or_moving_the_root_is_refused() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let a = app.create_org(&t, root, "a", "county").await;
    let a1 = app.create_org(&t, a, "a1", "grassroots").await;
    let a1x = app.create_org(&t, a1, "a1x", "other").await;
    let all_paths = "SELECT group_concat(path || name, ',') FROM orgs ORDER BY id";
    let before = text(&app, all_paths).await;
    for target in [a1x, a] {
        let r = app
            .patch(&org(a), &t, json!({"parent_id": target, "name": "改名"}))
            .await;
        assert_eq!(r.status, 400, "{:?}", r.body);
        assert!(r.body["error"]["fields"]["parent_id"].is_string());
    }
    let r = app.patch(&org(root), &t, json!({"parent_id": a})).await;
    assert_eq!(r.status, 400);
    assert!(r.body["error"]["fields"]["parent_id"].is_string());
    let r = app.patch(&org(a), &t, json!({"parent_id": 9999})).await;
    assert_eq!(r.status, 404);
    assert_eq!(text(&app, all_paths).await, before);
    assert_eq!(audits(&app, "org.update").await, 0);
    assert_eq!(
        app.patch(&org(9999), &t, json!({"name": "x"})).await.status,
        404
    );
}

/// Delete refuses an org with children or accounts (409) and the root; an empty org goes.
#[tokio::test]
async fn delete_refuses_orgs_with_children_or_accounts() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let a = app.create_org(&t, root, "a", "county").await;
    let a1 = app.create_org(&t, a, "a1", "grassroots").await;
    let b = app.create_org(&t, root, "b", "county").await;
    new_account(&app, &t, "clerk_b", b, &[CLERK]).await;
    for id in [a, b, root] {
        let r = app.delete(&org(id), &t).await;
        assert_eq!(r.status, 409, "{id}: {:?}", r.body);
        assert_eq!(r.code(), "conflict");
    }
    assert!(
        app.delete(&org(a), &t).await.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("下级组织")
    );
    assert_eq!(scalar(&app, "SELECT count(*) FROM orgs").await, 4);
    let r = app.delete(&org(a1), &t).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(app.delete(&org(a), &t).await.status, 200);
    assert_eq!(scalar(&app, "SELECT count(*) FROM orgs").await, 2);
    assert_eq!(audits(&app, "org.delete").await, 2);
    assert_eq!(app.delete(&org(a), &t).await.status, 404);
}

/// A county admin sees only its own subtree and cannot touch a sibling county (404) nor
/// create or move anything out of its scope.
#[tokio::test]
async fn a_county_admin_sees_and_changes_only_its_subtree() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let a = app.create_org(&t, root, "a", "county").await;
    let a1 = app.create_org(&t, a, "a1", "grassroots").await;
    let b = app.create_org(&t, root, "b", "county").await;
    let b1 = app.create_org(&t, b, "b1", "grassroots").await;
    let (_, ct) = app.account_token(&t, "county_a", a, &[COUNTY]).await;
    let r = app.get(ORGS, &ct).await;
    assert_eq!(r.status, 200);
    assert_eq!(ids(r.data()), vec![a]);
    assert_eq!(r.data()[0]["parent_id"], root);
    assert_eq!(ids(&r.data()[0]["children"]), vec![a1]);

    let before = scalar(&app, "SELECT count(*) FROM orgs").await;
    assert_eq!(
        app.patch(&org(b1), &ct, json!({"name": "x"})).await.status,
        404
    );
    assert_eq!(app.delete(&org(b1), &ct).await.status, 404);
    assert_eq!(app.delete(&org(root), &ct).await.status, 404);
    let body = json!({"parent_id": b, "name": "越界", "code": "x1", "kind": "grassroots"});
    let r = app.post(ORGS, &ct, body).await;
    assert_eq!(r.status, 404, "{:?}", r.body);
    let r = app.patch(&org(a1), &ct, json!({"parent_id": b})).await;
    assert_eq!(r.status, 404, "{:?}", r.body);
    assert_eq!(path_of(&app, a1).await, format!("/{root}/{a}/{a1}/"));
    assert_eq!(scalar(&app, "SELECT count(*) FROM orgs").await, before);
    let mine = app.create_org(&ct, a1, "a1-sub", "other").await;
    assert_eq!(
        path_of(&app, mine).await,
        format!("/{root}/{a}/{a1}/{mine}/")
    );
    let r = app.patch(&org(mine), &ct, json!({"parent_id": a})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// Deleting an org in which a role was once created does not fail with a 500.
#[tokio::test]
async fn deleting_an_org_that_owned_a_role_does_not_fail() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let x = app.create_org(&t, root, "x", "county").await;
    let body = json!({"name": "角色管理", "permissions": ["role:read", "role:write"], "data_scope": "all"});
    let r = app.post("/api/v1/admin/roles", &t, body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let rm = r.data()["id"].as_i64().unwrap();
    let (uid, ut) = app.account_token(&t, "roleman", x, &[rm]).await;
    let body = json!({"name": "只读", "permissions": ["role:read"], "data_scope": "org"});
    assert_eq!(app.post("/api/v1/admin/roles", &ut, body).await.status, 201);
    let r = app
        .patch(
            &format!("/api/v1/admin/accounts/{uid}"),
            &t,
            json!({"org_id": root}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.delete(&org(x), &t).await;
    assert_ne!(r.status, 500, "{:?}", r.body);
    assert_eq!(r.status, 200, "{:?}", r.body);
    let owner = "SELECT org_id FROM roles WHERE name = '只读'";
    assert_eq!(scalar(&app, owner).await, root);
}

/// With a `custom` scope of single orgs, an org whose descendants are outside the scope
/// cannot be moved (the move would carry them along); nothing changes.
#[tokio::test]
async fn a_move_needs_the_whole_subtree_in_scope() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let a = app.create_org(&t, root, "a", "county").await;
    let a1 = app.create_org(&t, a, "a1", "grassroots").await;
    let b = app.create_org(&t, root, "b", "county").await;
    let body = json!({"name": "两县组织", "permissions": ["org:read", "org:write"], "data_scope": "custom", "custom_org_ids": [a, b]});
    let r = app.post("/api/v1/admin/roles", &t, body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let role = r.data()["id"].as_i64().unwrap();
    let (_, ut) = app.account_token(&t, "two_orgs", root, &[role]).await;
    let r = app.patch(&org(a), &ut, json!({"parent_id": b})).await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert_eq!(path_of(&app, a1).await, format!("/{root}/{a}/{a1}/"));
    assert_eq!(audits(&app, "org.update").await, 0);
    let r = app.patch(&org(a), &ut, json!({"name": "可以改名"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// An org that owns an activity or is the audience of a message cannot be deleted (409 naming
/// them), never a foreign-key 500.
#[tokio::test]
async fn delete_refuses_orgs_with_activities_or_messages() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let a = app.create_org(&t, root, "acta", "county").await;
    crate::activities::create_activity(&app, &t, crate::activities::activity_body(a, 10)).await;
    let r = app.delete(&org(a), &t).await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("活动")
    );
    let b = app.create_org(&t, root, "msgb", "county").await;
    let m = app
        .post(
            "/api/v1/admin/messages",
            &t,
            json!({"title": "通知", "content": "内容", "audience": {"org_ids": [b], "include_descendants": true}}),
        )
        .await;
    assert_eq!(m.status, 201, "{:?}", m.body);
    let r = app.delete(&org(b), &t).await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("消息")
    );
    assert_eq!(scalar(&app, "SELECT count(*) FROM orgs").await, 3);
}

/// The tree-table edits status and sort: siblings follow their sort order, a disabled org
/// takes no new child org, account or member (400 at the org field) but keeps what it has,
/// the root cannot be disabled, bad values are 400 at their field, and each change is audited
/// with its old and new value. A county admin cannot touch a sibling county (404).
#[tokio::test]
async fn status_and_sort_are_edited_on_the_tree_table() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let a = app.create_org(&t, root, "county-a", "county").await;
    let b = app.create_org(&t, root, "county-b", "county").await;
    let r = app.patch(&org(b), &t, json!({"sort": 5})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.data()["sort"], 5);
    let r = app.patch(&org(a), &t, json!({"sort": 9})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let tree = app.get(ORGS, &t).await;
    assert_eq!(ids(&tree.data()[0]["children"]), vec![b, a]);

    let r = app.patch(&org(a), &t, json!({"status": "disabled"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.data()["status"], "disabled");
    let r = app
        .post(
            ORGS,
            &t,
            json!({"parent_id": a, "name": "基层", "code": "g-1", "kind": "grassroots"}),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(
        r.body["error"]["fields"]["parent_id"]
            .as_str()
            .unwrap()
            .contains("已停用")
    );
    let r = app
        .post("/api/v1/admin/accounts", &t, json!({"username": "in_disabled", "name": "张三", "org_id": a, "password": PW, "role_ids": []}))
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(
        r.body["error"]["fields"]["org_id"]
            .as_str()
            .unwrap()
            .contains("已停用")
    );
    let r = app
        .post("/api/v1/admin/members", &t, json!({"name": "李四", "id_number": "11010519491231002X", "phone": "13800138000", "org_id": a, "work_unit": "县医院"}))
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(
        r.body["error"]["fields"]["org_id"]
            .as_str()
            .unwrap()
            .contains("已停用")
    );

    for (body, field) in [
        (json!({"status": "closed"}), "status"),
        (json!({"sort": -1}), "sort"),
        (json!({"sort": 10000}), "sort"),
    ] {
        let r = app.patch(&org(b), &t, body).await;
        assert_eq!(r.status, 400, "{:?}", r.body);
        assert!(r.body["error"]["fields"][field].is_string(), "{:?}", r.body);
    }
    let r = app
        .patch(&org(root), &t, json!({"status": "disabled"}))
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);

    // Enabled again, it takes children once more.
    let r = app.patch(&org(a), &t, json!({"status": "active"})).await;
    assert_eq!(r.status, 200);
    app.create_org(&t, a, "g-2", "grassroots").await;
    let n = scalar(
        &app,
        format!("SELECT count(*) FROM audit_logs WHERE action = 'org.update' AND target_id = '{a}' AND summary LIKE '%\"status\"%'"),
    )
    .await;
    assert_eq!(n, 2);

    let (_, county_b) = app
        .account_token(&t, "county_b_admin", b, &[roles::COUNTY_ADMIN])
        .await;
    let r = app
        .patch(&org(a), &county_b, json!({"status": "disabled"}))
        .await;
    assert_eq!(r.status, 404);
}

/// Nobody can disable the org they work in or one above it (that would shut them out): 400 at
/// the status field, the org unchanged and no audit row. A county admin may still disable an
/// org below its own, and an account higher up may disable the county.
#[tokio::test]
async fn nobody_disables_their_own_org_or_an_ancestor() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let root = app.root_org().await;
    let a = app.create_org(&t, root, "county-own", "county").await;
    let a1 = app.create_org(&t, a, "school-own", "grassroots").await;
    let (_, county) = app
        .account_token(&t, "county_own", a, &[roles::COUNTY_ADMIN])
        .await;
    // An installation-wide org manager working in the school, below the county.
    let body = json!({"name": "全县组织管理", "permissions": ["org:read", "org:write"], "data_scope": "all"});
    let r = app.post("/api/v1/admin/roles", &t, body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let wide = r.data()["id"].as_i64().unwrap();
    let (_, school) = app.account_token(&t, "school_wide", a1, &[wide]).await;
    let before = audits(&app, "org.update").await;
    for (tok, id) in [(&county, a), (&school, a1), (&school, a)] {
        let r = app
            .patch(&org(id), tok, json!({"status": "disabled"}))
            .await;
        assert_eq!(r.status, 400, "{:?}", r.body);
        assert!(
            r.body["error"]["fields"]["status"]
                .as_str()
                .unwrap()
                .contains("您所在的组织"),
            "{:?}",
            r.body
        );
    }
    let disabled = "SELECT count(*) FROM orgs WHERE status = 'disabled'";
    assert_eq!(scalar(&app, disabled).await, 0);
    assert_eq!(audits(&app, "org.update").await, before);
    // Renaming or re-sorting the own org is still fine.
    let r = app.patch(&org(a), &county, json!({"sort": 3})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // Below its own org the county admin may disable; above it, the super admin may.
    let r = app
        .patch(&org(a1), &county, json!({"status": "disabled"}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.patch(&org(a), &t, json!({"status": "disabled"})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}
