//! Authorization matrix: every staff route × {anonymous, member token, admin lacking the
//! permission, admin holding it with the target in scope, the same admin with the target in a
//! sibling org, and in the parent org}. Rows come from the route table below and run in order;
//! every failing row is reported by name. Refused requests and reads must leave the database
//! exactly as it was.
//!
//! Org tree: root → county A → grassroots A1 (+ empty A-tmp); root → county B → grassroots B1
//! (+ empty B-tmp); root → empty root-tmp.

use crate::support::{PW, Resp, TestApp, roles, spawn_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;

const API: &str = "/api/v1/admin";

/// A 1×1 greyscale PNG, hex.
const PNG: &str = "89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b550000000a49444154789c636000000002000148afa4710000000049454e44ae426082";

/// What a row sends; built from the row's target id and a tag unique to the row.
#[derive(Clone, Copy, Debug)]
enum Make {
    Empty,
    /// Multipart upload of [`PNG`] as a private `attachment`.
    Upload,
    /// A new org under the target.
    Org,
    /// `{name}` for an org or an account.
    Rename,
    /// A new clerk account in the target org.
    Account,
    /// A password reset.
    Password,
    /// A role with `role:read` and scope `org`.
    Role,
}

/// Target keys: in scope, in the sibling org, in the parent org ("" = no such case).
type Targets = [&'static str; 3];
const NONE: Targets = ["", "", ""];
const PARENTS: Targets = ["a", "b", "root"];
const ORGS: Targets = ["a1", "b1", "root"];
const EMPTY_ORGS: Targets = ["a_tmp", "b_tmp", "root_tmp"];
const ACCOUNTS: Targets = ["acc_a1", "acc_b1", "acc_root"];
const ROLES: Targets = ["role_a", "role_b", "role_root"];
const DEL_ROLES: Targets = ["role_a_del", "role_b", "role_root"];
const FILES: Targets = ["file_a", "file_b", "file_root"];
const DEL_FILES: Targets = ["file_a_del", "file_b", "file_root"];
/// The caller without the permission, and its answer.
const NO: (&str, u16) = ("lacks", 403);
/// Routes that only need a signed-in account.
const ANY: (&str, u16) = ("lacks", 200);

/// A static string.
type S = &'static str;
/// One line of the route table.
type RouteSpec = (S, S, (S, u16), u16, Targets, Make);

/// The route table: route, holder of the permission, caller lacking it, holder's status on
/// the in-scope target, targets, body. Logout is last: it revokes the caller's tokens.
#[rustfmt::skip]
const ROUTES: &[RouteSpec] = &[
    ("GET /orgs", "county_a", NO, 200, NONE, Make::Empty),
    ("POST /orgs", "county_a", NO, 201, PARENTS, Make::Org),
    ("PATCH /orgs/{id}", "county_a", NO, 200, ORGS, Make::Rename),
    ("DELETE /orgs/{id}", "county_a", NO, 200, EMPTY_ORGS, Make::Empty),
    ("GET /accounts", "county_a", NO, 200, NONE, Make::Empty),
    ("POST /accounts", "county_a", NO, 201, ORGS, Make::Account),
    ("GET /accounts/{id}", "county_a", NO, 200, ACCOUNTS, Make::Empty),
    ("PATCH /accounts/{id}", "county_a", NO, 200, ACCOUNTS, Make::Rename),
    ("POST /accounts/{id}/password", "county_a", NO, 200, ACCOUNTS, Make::Password),
    ("GET /roles", "county_a", NO, 200, NONE, Make::Empty),
    ("POST /roles", "sec_a", NO, 201, NONE, Make::Role),
    ("PUT /roles/{id}", "sec_a", NO, 200, ROLES, Make::Role),
    ("DELETE /roles/{id}", "sec_a", NO, 200, DEL_ROLES, Make::Empty),
    ("GET /permissions", "county_a", ANY, 200, NONE, Make::Empty),
    ("GET /audit-logs", "audit_a", NO, 200, NONE, Make::Empty),
    ("GET /login-logs", "audit_a", ("lacks_org", 403), 200, NONE, Make::Empty),
    ("GET /me", "county_a", ANY, 200, NONE, Make::Empty),
    ("POST /files", "county_a", NO, 201, NONE, Make::Upload),
    ("GET /files/{id}", "county_a", NO, 200, FILES, Make::Empty),
    ("GET /files/{id}/download", "county_a", NO, 200, FILES, Make::Empty),
    ("POST /files/{id}/signed-url", "county_a", NO, 200, FILES, Make::Empty),
    ("DELETE /files/{id}", "county_a", NO, 200, DEL_FILES, Make::Empty),
    ("POST /auth/logout", "quitter", ANY, 200, NONE, Make::Empty),
];

/// One line of the matrix.
struct Row {
    name: String,
    method: Method,
    path: String,
    actor: &'static str,
    body: Value,
    expected: u16,
}

/// The arranged installation: tokens by actor, ids by key.
struct World {
    app: TestApp,
    tokens: HashMap<&'static str, String>,
    ids: HashMap<&'static str, i64>,
}

impl World {
    fn id(&self, k: &str) -> i64 {
        *self.ids.get(k).unwrap_or_else(|| panic!("no id {k}"))
    }
    fn token(&self, actor: &str) -> Option<&str> {
        (actor != "anon").then(|| self.tokens[actor].as_str())
    }
}

/// Send a row's request; `body` is JSON, `null` for none or `"upload"` for the PNG upload.
async fn send(app: &TestApp, method: Method, path: &str, token: Option<&str>, body: Value) -> Resp {
    let mut rb = app.client.request(method, format!("{}{path}", app.base));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    if body == json!("upload") {
        let part = reqwest::multipart::Part::bytes(hex::decode(PNG).unwrap()).file_name("a.png");
        let form = reqwest::multipart::Form::new().text("purpose", "attachment");
        rb = rb.multipart(form.part("file", part.mime_str("image/png").unwrap()));
    } else if !body.is_null() {
        rb = rb.json(&body);
    }
    TestApp::read(rb.send().await.expect("request")).await
}

/// The body of a row as JSON (`null`: none, `"upload"`: the multipart upload).
fn body(m: Make, target: i64, tag: &str) -> Value {
    let clerk = roles::GRASSROOTS_CLERK;
    match m {
        Make::Empty => Value::Null,
        Make::Upload => json!("upload"),
        Make::Org => json!({"parent_id": target, "name": tag, "code": tag, "kind": "grassroots"}),
        Make::Rename => json!({"name": format!("改名{tag}")}),
        Make::Account => {
            json!({"username": tag, "name": tag, "org_id": target, "role_ids": [clerk], "password": PW})
        }
        Make::Password => json!({"new_password": "Reset#2026pw"}),
        Make::Role => json!({"name": tag, "permissions": ["role:read"], "data_scope": "org"}),
    }
}

/// POST under the staff API, expecting 201; the new id.
async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> i64 {
    let url = format!("{API}{path}");
    let r = send(app, Method::POST, &url, Some(token), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "POST {path}: {:?}", r.body);
    r.data()["id"].as_i64().unwrap()
}

/// Everything authorization can affect, as one string: orgs, accounts and their roles, roles
/// and their grants, live files, audit rows, refresh tokens.
async fn fingerprint(app: &TestApp) -> String {
    const SQL: &[&str] = &[
        "SELECT group_concat(id||','||ifnull(parent_id,'')||','||name||','||code||','||path, ';') FROM (SELECT * FROM orgs ORDER BY id)",
        "SELECT group_concat(id||','||name||','||org_id||','||disabled||','||token_version||','||must_change_password||','||password_hash, ';') FROM (SELECT * FROM admins ORDER BY id)",
        "SELECT group_concat(admin_id||','||role_id, ';') FROM (SELECT * FROM admin_roles ORDER BY 1, 2)",
        "SELECT group_concat(id||','||name||','||data_scope||','||updated_at, ';') FROM (SELECT * FROM roles ORDER BY id)",
        "SELECT group_concat(role_id||','||code, ';') FROM (SELECT * FROM role_permissions ORDER BY 1, 2)",
        "SELECT group_concat(id||','||ifnull(deleted_at,''), ';') FROM (SELECT * FROM files ORDER BY id)",
        "SELECT count(*) FROM audit_logs",
        "SELECT count(*)||'/'||count(revoked_at) FROM refresh_tokens",
    ];
    let read = |c: &rusqlite::Connection| {
        let mut out = String::new();
        for sql in SQL {
            let v: rusqlite::types::Value = c.query_row(sql, [], |r| r.get(0))?;
            out.push_str(&format!("{v:?}\n"));
        }
        Ok(out)
    };
    app.state.db.read(read).await.unwrap()
}

/// One integer from SQL.
async fn count(app: &TestApp, sql: String) -> i64 {
    let read = move |c: &rusqlite::Connection| Ok(c.query_row(&sql, [], |r| r.get(0))?);
    app.state.db.read(read).await.unwrap()
}

/// The org tree below the root: (key, parent key, code, kind).
#[rustfmt::skip]
const TREE: &[(&str, &str, &str, &str)] = &[
    ("a", "root", "county-a", "county"), ("a1", "a", "grass-a1", "grassroots"),
    ("b", "root", "county-b", "county"), ("b1", "b", "grass-b1", "grassroots"),
    ("a_tmp", "a", "tmp-a", "grassroots"), ("b_tmp", "b", "tmp-b", "grassroots"),
    ("root_tmp", "root", "tmp-root", "other"),
];

/// Roles the super admin makes (named by their key): permissions and data scope.
#[rustfmt::skip]
const CUSTOM_ROLES: &[(&str, &[&str], &str)] = &[
    ("sec", &["role:read", "role:write"], "org_and_below"),
    ("aud", &["audit:read", "loginlog:read"], "org_and_below"),
    ("only_ll", &["loginlog:read"], "org_and_below"),
    ("only_org", &["org:read"], "org_and_below"),
    ("role_root", &["role:read"], "org"),
];

/// Signed-in actors: (username, org key, role key).
#[rustfmt::skip]
const ACTORS: &[(&str, &str, &str)] = &[
    ("lacks", "a", "only_ll"), ("lacks_org", "a", "only_org"), ("county_a", "a", "county"),
    ("sec_a", "a", "sec"), ("sec_b", "b", "sec"), ("audit_a", "a", "aud"),
    ("clerk_a1", "a1", "clerk"), ("quitter", "a1", "clerk"), ("clerk_b1", "b1", "clerk"),
];

/// Targets: (key, made by, org key for accounts, kind). Roles and files land in the maker's org.
#[rustfmt::skip]
const FIXTURES: &[(&str, &str, &str, Make)] = &[
    ("acc_a1", "su", "a1", Make::Account), ("acc_b1", "su", "b1", Make::Account),
    ("acc_root", "su", "root", Make::Account),
    ("role_a", "sec_a", "", Make::Role), ("role_a_del", "sec_a", "", Make::Role),
    ("role_b", "sec_b", "", Make::Role),
    ("file_a", "clerk_a1", "", Make::Upload), ("file_a_del", "clerk_a1", "", Make::Upload),
    ("file_b", "clerk_b1", "", Make::Upload), ("file_root", "su", "", Make::Upload),
];

/// Build the org tree, the actors and one target per (kind, org).
async fn world() -> World {
    let app = spawn_with(|c| c.auth.login_per_ip_per_minute = 10_000).await;
    let su = app.admin_token().await;
    let mut ids = HashMap::from([("root", app.root_org().await)]);
    ids.insert("county", roles::COUNTY_ADMIN);
    ids.insert("clerk", roles::GRASSROOTS_CLERK);
    for &(key, parent, code, kind) in TREE {
        ids.insert(key, app.create_org(&su, ids[parent], code, kind).await);
    }
    for &(key, perms, scope) in CUSTOM_ROLES {
        let body = json!({"name": key, "permissions": perms, "data_scope": scope});
        ids.insert(key, created(&app, &su, "/roles", body).await);
    }
    let mut tokens = HashMap::from([("app", app.app_token()), ("su", su.clone())]);
    for &(name, org, role) in ACTORS {
        let (_, token) = app.account_token(&su, name, ids[org], &[ids[role]]).await;
        tokens.insert(name, token);
    }
    for &(key, maker, org, make) in FIXTURES {
        let path = match make {
            Make::Account => "/accounts",
            Make::Role => "/roles",
            _ => "/files",
        };
        let b = body(make, ids.get(org).copied().unwrap_or(0), key);
        ids.insert(key, created(&app, &tokens[maker], path, b).await);
    }
    World { app, tokens, ids }
}

/// Expand the route table into rows: anonymous, member token, lacking, in scope, sibling,
/// parent; then the public file route, where a private file without a signature is 404.
fn matrix(w: &World) -> Vec<Row> {
    let mut rows = Vec::new();
    for &(route, holder, lacks, ok, targets, make) in ROUTES {
        let (method, path) = route.split_once(' ').unwrap();
        let id = |k: &str| if k.is_empty() { 0 } else { w.id(k) };
        let mut cases = vec![
            ("anonymous", "anon", id(targets[0]), 401),
            ("member token", "app", id(targets[0]), 401),
            ("lacking the permission", lacks.0, id(targets[0]), lacks.1),
            ("in scope", holder, id(targets[0]), ok),
        ];
        if !targets[1].is_empty() {
            cases.push(("target in sibling org", holder, id(targets[1]), 404));
            cases.push(("target in parent org", holder, id(targets[2]), 404));
        }
        for (case, actor, target, expected) in cases {
            rows.push(Row {
                name: format!("{route} — {case} ({actor})"),
                method: method.parse().unwrap(),
                path: format!("{API}{}", path.replace("{id}", &target.to_string())),
                actor,
                body: body(make, target, &format!("row{}", rows.len())),
                expected,
            });
        }
    }
    for actor in ["anon", "app", "county_a"] {
        rows.push(Row {
            name: format!("public GET /files/{{private id}} without signature ({actor})"),
            method: Method::GET,
            path: format!("/files/{}", w.id("file_a")),
            actor,
            body: Value::Null,
            expected: 404,
        });
    }
    rows
}

/// Every staff route answers each kind of caller with the status the matrix expects, in the
/// error shape for refusals, and a refused request (or a read) leaves the database unchanged.
#[tokio::test]
async fn every_staff_route_answers_each_kind_of_caller_as_the_matrix_expects() {
    let w = world().await;
    let rows = matrix(&w);
    let mut fails = Vec::new();
    for row in &rows {
        let before = fingerprint(&w.app).await;
        let (method, token) = (row.method.clone(), w.token(row.actor));
        let r = send(&w.app, method, &row.path, token, row.body.clone()).await;
        let got = r.status.as_u16();
        let code = [
            (401, "unauthenticated"),
            (403, "forbidden"),
            (404, "not_found"),
        ]
        .into_iter()
        .find_map(|(s, c)| (s == got).then_some(c));
        if got != row.expected {
            let want = row.expected;
            fails.push(format!(
                "{}: {} expected {want}, got {got} {}",
                row.name, row.path, r.body
            ));
        } else if code.is_some_and(|c| c != r.code()) {
            fails.push(format!("{}: error code {:?} for {got}", row.name, r.code()));
        }
        let must_not_write = row.expected >= 400 || row.method == Method::GET;
        if must_not_write && fingerprint(&w.app).await != before {
            fails.push(format!("{}: the database changed", row.name));
        }
    }
    // Refused deletes left their targets in place, bytes included; logout took effect.
    let checks = [
        (
            "su",
            format!("{API}/files/{}/download", w.id("file_b")),
            200,
        ),
        (
            "su",
            format!("{API}/files/{}/download", w.id("file_root")),
            200,
        ),
        ("lacks", format!("{API}/me"), 401),
        ("quitter", format!("{API}/me"), 401),
    ];
    for (actor, path, want) in checks {
        let got = w.app.get(&path, w.token(actor).unwrap()).await.status;
        if got != want {
            fails.push(format!(
                "afterwards: {actor} GET {path} expected {want}, got {got}"
            ));
        }
    }
    for sql in [
        "SELECT count(*) = 2 FROM orgs WHERE code IN ('tmp-b', 'tmp-root')",
        "SELECT count(*) = 2 FROM roles WHERE name IN ('role_b', 'role_root')",
    ] {
        if count(&w.app, sql.into()).await != 1 {
            fails.push(format!(
                "afterwards: a refused change or delete took place: {sql}"
            ));
        }
    }
    let (n, msg) = (rows.len(), fails.join("\n"));
    assert!(
        fails.is_empty(),
        "{} problems in {n} rows:\n{msg}",
        fails.len()
    );
}

fn tree_ids(nodes: &Value, out: &mut Vec<i64>) {
    for n in nodes.as_array().unwrap() {
        out.push(n["id"].as_i64().unwrap());
        tree_ids(&n["children"], out);
    }
}

/// `key` of every item of a list answer (paged or plain), as text.
fn values(list: &Resp, key: &str) -> Vec<String> {
    let d = list.data();
    let items = d["items"].as_array().or(d.as_array()).unwrap();
    items
        .iter()
        .map(|i| i[key].to_string().replace('"', ""))
        .collect()
}

/// A list check: caller, path, item key, values expected (all of them, or with a total
/// query: only these), values that must be absent, query counting every row in scope.
type ListCheck<'a> = (S, S, S, Vec<&'a str>, &'a [S], Option<String>);

/// Lists answer 200 to an admin with a limited scope and leave out every row outside it:
/// the org tree starts at the admin's county; accounts, roles, audit and login logs are the
/// county's own.
#[tokio::test]
async fn lists_leave_out_rows_outside_the_callers_scope() {
    let w = world().await;
    let r = w
        .app
        .get(&format!("{API}/orgs"), w.token("county_a").unwrap())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        r.data().as_array().unwrap().len(),
        1,
        "one tree: {:?}",
        r.body
    );
    assert_eq!(r.data()[0]["id"], w.id("a"));
    let (mut ids, mut a_orgs) = (Vec::new(), vec![w.id("a"), w.id("a1"), w.id("a_tmp")]);
    tree_ids(r.data(), &mut ids);
    ids.sort();
    a_orgs.sort();
    assert_eq!(ids, a_orgs, "orgs visible to county A");

    let subtree = "(SELECT id FROM orgs WHERE path GLOB (SELECT path FROM orgs WHERE code = 'county-a') || '*')";
    let a_orgs: Vec<String> = a_orgs.iter().map(i64::to_string).collect();
    let audits = format!("SELECT count(*) FROM audit_logs WHERE org_id IN {subtree}");
    let logins =
        format!("SELECT count(*) FROM login_logs WHERE audience = 'admin' AND org_id IN {subtree}");
    #[rustfmt::skip]
    let lists: [ListCheck; 4] = [
        ("county_a", "/accounts?page_size=100", "username",
            vec!["county_a", "clerk_a1", "acc_a1", "sec_a"], &["admin", "sec_b", "clerk_b1", "acc_b1", "acc_root"], None),
        ("sec_a", "/roles", "name", vec!["role_a", "role_a_del"], &["role_b"], None),
        ("audit_a", "/audit-logs?page_size=100", "org_id", a_orgs.iter().map(String::as_str).collect(), &[], Some(audits)),
        ("audit_a", "/login-logs?page_size=100", "username", ACTORS.iter().filter(|a| a.1.starts_with('a')).map(|a| a.0).collect(),
            &["admin", "sec_b", "clerk_b1"], Some(logins)),
    ];
    for (actor, path, key, allowed, outside, total) in lists {
        let r = w
            .app
            .get(&format!("{API}{path}"), w.token(actor).unwrap())
            .await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {:?}", r.body);
        let got = values(&r, key);
        assert!(!got.is_empty(), "{path} is empty");
        for v in outside {
            assert!(
                !got.contains(&v.to_string()),
                "{path}: {v} leaked to {actor}: {got:?}"
            );
        }
        if let Some(sql) = total {
            // Every row is from the county, and every row of the county is counted.
            assert!(
                got.iter().all(|v| allowed.contains(&v.as_str())),
                "{path}: {got:?}"
            );
            assert_eq!(r.data()["total"], json!(count(&w.app, sql).await), "{path}");
        } else {
            for v in allowed {
                assert!(
                    got.contains(&v.to_string()),
                    "{path}: {v} missing for {actor}: {got:?}"
                );
            }
        }
    }
}
