//! "What you see is what you may do": `/me` carries the effective scope of every permission
//! and the permissions that cover the whole tree; `/roles/assignable` offers exactly the roles
//! that account creation accepts.

use crate::support::*;
use serde_json::{Value, json};

const ME: &str = "/api/v1/admin/me";
const ASSIGNABLE: &str = "/api/v1/admin/roles/assignable";

fn ids(v: &Value) -> Vec<i64> {
    let a = v.as_array().expect("array");
    a.iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

/// Create a role as the super admin; returns its id.
async fn role(app: &TestApp, t: &str, name: &str, perms: &[&str], scope: &str) -> i64 {
    let b = json!({"name": name, "permissions": perms, "data_scope": scope});
    let r = app.post("/api/v1/admin/roles", t, b).await;
    assert_eq!(r.status, 201, "{name}: {:?}", r.body);
    r.data()["id"].as_i64().unwrap()
}

/// Make org `org` the owner of role `id`, as if its staff had created it.
async fn own_role(app: &TestApp, id: i64, org: i64) {
    app.state
        .db
        .write(move |c| Ok(c.execute("UPDATE roles SET org_id = ?1 WHERE id = ?2", [org, id])?))
        .await
        .unwrap();
}

/// The super admin: every permission has an `all` scope and covers the whole tree.
#[tokio::test]
async fn super_admin_sees_all_scopes() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let me = app.get(ME, &t).await;
    assert_eq!(me.status, 200);
    let d = me.data();
    let perms: Vec<String> = serde_json::from_value(d["permissions"].clone()).unwrap();
    assert!(perms.len() > 10);
    let scopes = d["scopes"].as_object().unwrap();
    assert_eq!(scopes.len(), perms.len());
    for p in &perms {
        assert_eq!(scopes[p]["kind"], "all", "{p}");
    }
    let whole: Vec<String> = serde_json::from_value(d["whole_tree"].clone()).unwrap();
    assert_eq!(whole, perms);
}

/// A county admin: limited to the county's subtree, nothing covers the whole tree, and the
/// server indeed refuses the shared news categories to it while `/me` says so; an account
/// that must change its password is told it may do nothing yet.
#[tokio::test]
async fn county_admin_scopes_match_what_the_server_enforces() {
    let app = spawn_app().await;
    let tc = app.two_counties().await;
    let news = role(
        &app,
        &tc.admin,
        "县级新闻",
        &["news:read", "news:write"],
        "org_and_below",
    )
    .await;
    let (_, t) = app
        .account_token(&tc.admin, "news_a", tc.a, &[roles::COUNTY_ADMIN, news])
        .await;
    let me = app.get(ME, &t).await;
    let d = me.data();
    let scopes = d["scopes"].as_object().unwrap();
    assert!(scopes.contains_key("account:write") && scopes.contains_key("news:write"));
    assert!(!scopes.contains_key("role:write"), "not held, not listed");
    for (code, s) in scopes {
        assert_eq!(s["kind"], "limited", "{code}");
        assert_eq!(s["subtree_org_ids"], json!([tc.a]), "{code}");
        assert_eq!(s["org_ids"], json!([]), "{code}");
        assert_eq!(s["own"], false, "{code}");
    }
    assert_eq!(d["whole_tree"], json!([]));
    let r = app
        .post(
            "/api/v1/admin/news-categories",
            &t,
            json!({"name": "县里栏目"}),
        )
        .await;
    assert_eq!(r.status, 403, "not whole_tree, so refused: {:?}", r.body);
    let r = app
        .post(
            "/api/v1/admin/news-categories",
            &tc.admin,
            json!({"name": "全县栏目"}),
        )
        .await;
    assert_eq!(r.status, 201, "whole_tree, so accepted: {:?}", r.body);

    // A grassroots clerk (`org` scope) sees its single org.
    let d = app.get(ME, &tc.clerk_a1).await.data().clone();
    assert_eq!(d["scopes"]["org:read"]["org_ids"], json!([tc.a1]));
    assert_eq!(d["scopes"]["org:read"]["subtree_org_ids"], json!([]));

    // First login, password not yet changed: no scope at all.
    let body = json!({"username": "fresh", "name": "fresh", "org_id": tc.a, "role_ids": [roles::COUNTY_ADMIN], "password": PW});
    assert_eq!(
        app.post("/api/v1/admin/accounts", &tc.admin, body)
            .await
            .status,
        201
    );
    let fresh = app.login("fresh", PW).await;
    let d = app.get(ME, &fresh).await.data().clone();
    assert_eq!(d["must_change_password"], true);
    assert_eq!(d["scopes"], json!({}));
    assert_eq!(d["whole_tree"], json!([]));
}

/// For every role that exists, county A's admin is offered it for an account in A1 exactly
/// when account creation accepts it: the 三员 roles, a role owned by county B and a role
/// wider than the admin's own rights are neither offered nor accepted.
#[tokio::test]
async fn offered_roles_are_exactly_the_accepted_ones() {
    let app = spawn_app().await;
    let tc = app.two_counties().await;
    let wide = role(&app, &tc.admin, "全局组织", &["org:read"], "all").await;
    let more = role(&app, &tc.admin, "会员管理", &["member:read"], "org").await;
    let narrow = role(&app, &tc.admin, "组织查看", &["org:read"], "org").await;
    let in_b = role(&app, &tc.admin, "B县角色", &["org:read"], "org").await;
    // Roles made by the super admin belong to the root org; hand two to the counties.
    own_role(&app, narrow, tc.a).await;
    own_role(&app, in_b, tc.b).await;
    let r = app
        .get(&format!("{ASSIGNABLE}?org_id={}", tc.a1), &tc.admin_a)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let offered = ids(r.data());
    assert!(
        offered.contains(&roles::COUNTY_ADMIN) && offered.contains(&narrow),
        "{offered:?}"
    );
    for refused in [
        roles::SYSTEM_ADMIN,
        roles::SECURITY_ADMIN,
        roles::AUDIT_ADMIN,
        wide,
        more,
        in_b,
    ] {
        assert!(
            !offered.contains(&refused),
            "role {refused} offered: {offered:?}"
        );
    }
    let all = ids(app.get("/api/v1/admin/roles", &tc.admin).await.data());
    assert!(all.contains(&in_b));
    for (n, id) in all.iter().enumerate() {
        let body = json!({"username": format!("try{n}"), "name": "试", "org_id": tc.a1, "role_ids": [id], "password": PW});
        let r = app.post("/api/v1/admin/accounts", &tc.admin_a, body).await;
        let accepted = r.status == 201;
        assert!(
            accepted || r.status == 403 || r.status == 400,
            "{:?}",
            r.body
        );
        assert_eq!(accepted, offered.contains(id), "role {id}: {:?}", r.body);
    }
    // Own org by default; an org outside the scope is 404; no account:write is 403.
    let own = ids(app.get(ASSIGNABLE, &tc.admin_a).await.data());
    assert!(own.contains(&roles::COUNTY_ADMIN));
    let r = app
        .get(&format!("{ASSIGNABLE}?org_id={}", tc.b1), &tc.admin_a)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(app.get(ASSIGNABLE, &tc.clerk_a1).await.status, 403);
    // The 三员 roles are offered to the super admin, with their duty.
    let r = app.get(ASSIGNABLE, &tc.admin).await;
    let d = r.data().as_array().unwrap();
    let duties: Vec<&str> = d.iter().filter_map(|r| r["duty"].as_str()).collect();
    assert_eq!(duties.len(), 3, "{d:?}");
}
