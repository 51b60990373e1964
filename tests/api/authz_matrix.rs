//! The generated authorisation matrix (issue 24, item 2): every operation of the OpenAPI
//! document × {anonymous, member, staff lacking the permission, staff in scope (county A),
//! staff of the sibling county B, staff of the parent org (root)}. Expectations come from one
//! table keyed by "METHOD /path" ([`table::TABLE`]); a documented route without a row, or a row
//! without a route, fails. Refused requests must leave row counts and the audit log unchanged.
//! There is no integration-client principal: the server has no such credential.

mod table;
mod world;

use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeSet;
use table::{Aud, Rule, TABLE};
use world::{World, send, world};

/// Principals, in the order they run: refusals come before allowed calls.
const PRINCIPALS: &[&str] = &[
    "anonymous",
    "member",
    "lacking",
    "county_a",
    "county_b",
    "root",
];

/// What a principal must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    /// Exactly this refusal.
    Refused(u16),
    /// Anything but 401/403/404/500 (authorised; a minimal body may still be a 400).
    Allowed,
    /// Anything but 403/404/500: no token is needed, though a bad credential in the body (a
    /// refresh token) is a 401 of its own.
    Public,
}

/// Every (METHOD, /path) of the OpenAPI document.
fn documented(doc: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for m in ops.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&m.as_str()) {
                out.insert(format!("{} {path}", m.to_uppercase()));
            }
        }
    }
    out
}

/// The expectation for `principal` on a row.
fn want(aud: Aud, perm: &str, rule: Rule, principal: &str) -> Want {
    use Want::*;
    match (aud, principal) {
        (Aud::Public, _) => Public,
        (_, "anonymous") => Refused(401),
        (Aud::Member, "member") => Allowed,
        (Aud::Member, _) | (Aud::Staff, "member") => Refused(401),
        (Aud::Staff, "lacking") if !perm.is_empty() => Refused(403),
        (Aud::Staff, "lacking") => Allowed,
        (Aud::Staff, p) => match (rule, p) {
            (Rule::Free, _) | (Rule::Obj | Rule::Create, "county_a" | "root") => Allowed,
            (Rule::Obj | Rule::Create, _) => Refused(404),
            (Rule::Whole, "root") => Allowed,
            (Rule::Whole, _) => Refused(403),
            (Rule::Own, "county_a") => Allowed,
            (Rule::Own, _) => Refused(404),
        },
    }
}

/// The token of a principal for a row (the lacking account is the one without `perm`).
fn token<'a>(w: &'a World, principal: &str, perm: &str) -> Option<&'a str> {
    let key = match principal {
        "anonymous" => return None,
        "lacking" if perm.contains("org:read") => "lacks_ll",
        "lacking" if perm.contains("loginlog:read") => "lacks",
        "lacking" => "lacks",
        "county_a" => "staff_a",
        "county_b" => "staff_b",
        p => p,
    };
    Some(w.tokens[key].as_str())
}

/// The concrete URL: `{id}` from the row's fixture (root deletes its own copy, `…2`, so the
/// county's successful delete leaves root something to delete), other parameters fixed.
fn url(w: &World, route: &str, fixture: &str, principal: &str) -> String {
    let path = route.split_once(' ').unwrap().1;
    let mut p = path.to_string();
    if !fixture.is_empty() {
        let del = route.starts_with("DELETE ") && principal == "root";
        let spare = format!("{fixture}2");
        let key = if del && w.ids.contains_key(&spare) {
            &spare
        } else {
            fixture
        };
        let id = w.id(key).to_string();
        p = p.replace("{id}", &id).replace("{job_id}", &id);
    }
    p = p.replace("{rid}", &w.id("rid").to_string());
    p = p.replace("{dict}", "activity_category");
    if p.ends_with("/news/search") {
        p.push_str("?q=%E5%B7%A5%E4%BC%9A");
    }
    p
}

/// The request body of a row.
fn body(w: &World, template: &str) -> Value {
    match template {
        "" => Value::Null,
        "upload" => Value::String("upload".into()),
        "$ACTIVITY" => crate::activities::activity_body(w.id("a"), 5),
        t => {
            let t = t
                .replace("$A1", &w.id("a1").to_string())
                .replace("$A", &w.id("a").to_string())
                .replace("$CAT", &w.id("cat_id").to_string())
                .replace("$MEMBER", &w.id("member").to_string());
            serde_json::from_str(&t).unwrap_or_else(|e| panic!("body {t}: {e}"))
        }
    }
}

/// Row counts of every main table and of the audit log, as one string.
async fn counts(w: &World) -> String {
    const TABLES: &[&str] = &[
        "orgs",
        "roles",
        "role_permissions",
        "role_orgs",
        "admins",
        "admin_roles",
        "refresh_tokens",
        "audit_logs",
        "files",
        "settings",
        "members",
        "member_consents",
        "membership_applications",
        "outbox",
        "member_import_jobs",
        "messages",
        "message_recipients",
        "message_reads",
        "dictionary_items",
        "form_templates",
        "activities",
        "activity_registrations",
        "news_categories",
        "news",
        "subscription_credits",
        "realname_conflicts",
        "file_refs",
    ];
    let sql: Vec<String> = TABLES
        .iter()
        .map(|t| format!("(SELECT '{t}=' || count(*) FROM {t})"))
        .collect();
    let sql = format!("SELECT {}", sql.join(" || ' ' || "));
    let read = move |c: &rusqlite::Connection| Ok(c.query_row(&sql, [], |r| r.get(0))?);
    w.app.state.db.read(read).await.unwrap()
}

/// Every documented operation answers every principal as the table says; refusals change
/// nothing; no route answers 500; the table and the document list the same routes.
#[tokio::test]
async fn every_documented_operation_answers_every_principal_as_the_table_says() {
    let w = world().await;
    let doc = w
        .app
        .call(Method::GET, "/api/openapi.json", None, None)
        .await
        .body;
    let ops = documented(&doc);
    let rows: BTreeSet<String> = TABLE.iter().map(|r| r.0.to_string()).collect();
    assert_eq!(rows.len(), TABLE.len(), "a route has two rows in the table");
    let missing: Vec<_> = ops.difference(&rows).collect();
    let stale: Vec<_> = rows.difference(&ops).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "documented routes without a row in authz_matrix/table.rs: {missing:#?}\nrows whose route is no longer documented: {stale:#?}"
    );
    let mut fails = Vec::new();
    let mut checks = 0;
    for &(route, aud, perm, rule, fixture, tpl) in TABLE {
        let method: Method = route.split_once(' ').unwrap().0.parse().unwrap();
        let before = counts(&w).await;
        let mut refusing = true;
        for &p in PRINCIPALS {
            let expected = want(aud, perm, rule, p);
            if refusing && !matches!(expected, Want::Refused(_)) {
                // The refusals of this operation are over: nothing may have changed.
                let after = counts(&w).await;
                if after != before {
                    fails.push(format!(
                        "{route}: refused requests changed the database:\n  {before}\n  {after}"
                    ));
                }
                refusing = false;
            }
            let path = url(&w, route, fixture, p);
            let r = send(
                &w.app,
                method.clone(),
                &path,
                token(&w, p, perm),
                &body(&w, tpl),
            )
            .await;
            let got = r.status.as_u16();
            checks += 1;
            let ok = match expected {
                Want::Refused(s) => got == s,
                Want::Allowed => ![401, 403, 404, 500].contains(&got),
                Want::Public => ![403, 404, 500].contains(&got),
            };
            if !ok {
                fails.push(format!(
                    "{route} as {p}: expected {expected:?}, got {got} {}",
                    r.body
                ));
            }
        }
        if refusing && counts(&w).await != before {
            fails.push(format!("{route}: refused requests changed the database"));
        }
    }
    let (n, p) = (TABLE.len(), PRINCIPALS.len());
    assert!(
        fails.is_empty(),
        "{} of {checks} checks failed:\n{}",
        fails.len(),
        fails.join("\n")
    );
    assert_eq!(checks, n * p);
    println!("authz matrix: {n} operations × {p} principals = {checks} checks, all as expected");
}
