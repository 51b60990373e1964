//! The generated authorisation matrix (issue 24, item 2): every operation of the OpenAPI
//! document × {anonymous, member of A1, member of B1, staff lacking the permission, staff of
//! county A holding only the row's permission (so the table's code is enough on its own),
//! staff of county A with every permission, staff of the sibling county B with every
//! permission, the root (parent org) admin}. Expectations come from one table keyed by
//! "METHOD /path" ([`table::TABLE`]); a documented route without a row, or a row without a
//! route, fails. Refused requests must leave row counts, statuses, `updated_at`, soft deletes
//! and the audit log unchanged. Lists answered to county B or its member show nothing of A.
//! There is no integration-client principal: the server has no such credential.

mod table;
mod world;

use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeSet;
use table::{Aud, Rule, TABLE};
use world::{World, send, world};

/// Principals. Per operation the refused ones run first (between two snapshots), then the
/// allowed ones, each group in this order.
const PRINCIPALS: &[&str] = &[
    "anonymous",
    "member",
    "member_b",
    "lacking",
    "holder",
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
        (Aud::Member, "member_b") if rule == Rule::Obj => Refused(404),
        (Aud::Member, "member_b") => Allowed,
        (Aud::Member, _) | (Aud::Staff, "member" | "member_b") => Refused(401),
        (Aud::Staff, "holder") if perm.is_empty() => Allowed,
        (Aud::Staff, "lacking") if !perm.is_empty() => Refused(403),
        (Aud::Staff, "lacking") => Allowed,
        (Aud::Staff, p) => match (rule, p) {
            (Rule::Free, _) | (Rule::Obj | Rule::Create, "county_a" | "holder" | "root") => Allowed,
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
        "holder" if perm.is_empty() => "lacks_ll",
        "holder" => return Some(w.holders[perm.split('|').next().unwrap()].as_str()),
        "county_a" => "staff_a",
        "county_b" => "staff_b",
        p => p,
    };
    Some(w.tokens[key].as_str())
}

/// The concrete URL: `{id}` from the row's fixture (root and the holder delete their own
/// copies, `…2` and `…3`, so one successful delete leaves the others something to delete),
/// other parameters fixed.
fn url(w: &World, route: &str, fixture: &str, principal: &str) -> String {
    let path = route.split_once(' ').unwrap().1;
    let mut p = path.to_string();
    if !fixture.is_empty() {
        let del = route.starts_with("DELETE ") && principal != "county_a";
        let n = if principal == "root" { 2 } else { 3 };
        let spare = format!("{fixture}{n}");
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
    p = p.replace("{code}", "sports");
    p = p.replace("{topic}", "members");
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
                .replace("$APPLICATION", &w.id("application").to_string())
                .replace("$RID", &w.id("rid").to_string())
                .replace("$A1", &w.id("a1").to_string())
                .replace("$A", &w.id("a").to_string())
                .replace("$CAT", &w.id("cat_id").to_string())
                .replace("$MEMBER", &w.id("member").to_string())
                .replace("$ROLE", &w.id("grant_role").to_string())
                .replace("$GOODS", &w.id("goods").to_string())
                .replace("$CLAIM_CODE", &w.claim_code);
            serde_json::from_str(&t).unwrap_or_else(|e| panic!("body {t}: {e}"))
        }
    }
}

/// Main tables whose state a refused request must not touch.
#[rustfmt::skip]
const TABLES: &[&str] = &[
    "orgs", "roles", "role_permissions", "role_orgs", "admins", "admin_roles", "refresh_tokens",
    "audit_logs", "files", "settings", "members", "member_consents", "membership_applications",
    "outbox", "member_import_jobs", "messages", "message_recipients", "message_reads",
    "member_message_state", "dictionary_items", "form_templates", "activities",
    "activity_registrations", "news_categories", "news", "subscription_credits",
    "realname_conflicts", "file_refs", "benefits", "benefit_claims", "points_accounts",
    "points_ledger", "mall_goods", "mall_orders", "admin_sessions", "tickets", "ticket_messages",
    "ticket_routes", "ticket_notices", "sensitive_words", "moderation_items",
    "points_ledger", "mall_goods", "mall_orders", "admin_sessions", "aid_types", "aid_applications",
    "aid_steps", "aid_family_members", "aid_attachments", "aid_log", "aid_disbursements", "aid_register",
];

/// Row counts of every main table and of the audit log, as one string; where a table has
/// them, also the sum of `updated_at`, the count of `deleted_at`/`revoked_at` and the
/// statuses, so a refused update or soft delete shows too (`total(updated_at)` as a cheap
/// change detector, not a checksum).
async fn counts(w: &World) -> String {
    let read = |c: &rusqlite::Connection| {
        let mut out = String::new();
        for t in TABLES {
            let mut cols = vec!["count(*)".to_string()];
            let mut st = c.prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))?;
            let names: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
            // The outbox worker moves statuses on its own: only its row count is compared.
            for n in names.into_iter().filter(|_| *t != "outbox") {
                match n.as_str() {
                    "updated_at" => cols.push("total(updated_at)".into()),
                    "deleted_at" | "revoked_at" => cols.push(format!("count({n})")),
                    "status" => cols.push("group_concat(status)".into()),
                    _ => {}
                }
            }
            let sql = format!("SELECT {} FROM {t}", cols.join(" || '/' || "));
            let v: rusqlite::types::Value = c.query_row(&sql, [], |r| r.get(0))?;
            out.push_str(&format!("{t}={v:?} "));
        }
        Ok(out)
    };
    w.app.state.db.read(read).await.unwrap()
}

/// Documented routes without a row, and rows whose route is not documented.
fn compare(ops: &BTreeSet<String>, rows: &BTreeSet<String>) -> (Vec<String>, Vec<String>) {
    let missing = ops.difference(rows).cloned().collect();
    let stale = rows.difference(ops).cloned().collect();
    (missing, stale)
}

/// The error code a refusal must carry.
fn code(status: u16) -> &'static str {
    match status {
        401 => "unauthenticated",
        403 => "forbidden",
        _ => "not_found",
    }
}

/// Text found only in county A's fixtures (its org name, member, news, activity, form
/// template and roles): a list answered to county B or its member must contain none of it.
const A_ONLY: &[&str] = &[
    "组织mx-a",
    "王小明",
    "工会新闻",
    "职工健步走",
    "健步走报名表",
    "可授予",
    "role_del",
];

/// One principal's call on one row; a failure is pushed to `fails`. Returns the status.
async fn check(
    w: &World,
    row: &table::Row,
    p: &str,
    expected: Want,
    fails: &mut Vec<String>,
) -> u16 {
    let &(route, _, perm, _, fixture, tpl) = row;
    let method: Method = route.split_once(' ').unwrap().0.parse().unwrap();
    let path = url(w, route, fixture, p);
    let r = send(&w.app, method, &path, token(w, p, perm), &body(w, tpl)).await;
    let got = r.status.as_u16();
    let ok = match expected {
        Want::Refused(s) => got == s && r.code() == code(s),
        Want::Allowed => ![401, 403, 404, 500].contains(&got),
        Want::Public => ![403, 404, 500].contains(&got),
    };
    if !ok {
        fails.push(format!(
            "{route} as {p} ({path}): expected {expected:?}, got {got} {}",
            r.body
        ));
    }
    let sibling = ["county_b", "member_b"].contains(&p);
    if sibling && row.3 == Rule::Free && route.starts_with("GET ") && got < 300 {
        let text = r.body.to_string();
        for m in A_ONLY.iter().filter(|m| text.contains(*m)) {
            fails.push(format!(
                "{route} as {p}: the answer shows {m:?} of county A: {text}"
            ));
        }
    }
    got
}

/// Every documented operation answers every principal as the table says; refusals carry the
/// error code of their status and change nothing; no route answers 500; the table and the
/// document list the same routes.
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
    let (missing, stale) = compare(&ops, &rows);
    assert!(
        missing.is_empty() && stale.is_empty(),
        "documented routes without a row in authz_matrix/table.rs: {missing:#?}\nrows whose route is no longer documented: {stale:#?}"
    );
    let (mut fails, mut checks, mut refusals) = (Vec::new(), 0, 0);
    // Allowed calls by status class: a 4xx there is the minimal body, not authorisation.
    let mut passed = std::collections::BTreeMap::new();
    for row in TABLE {
        let &(route, aud, perm, rule, _, _) = row;
        let wants: Vec<(&str, Want)> = PRINCIPALS
            .iter()
            .map(|&p| (p, want(aud, perm, rule, p)))
            .collect();
        // Refusals first, between two snapshots; then the allowed calls.
        let before = counts(&w).await;
        for &(p, expected) in wants.iter().filter(|x| matches!(x.1, Want::Refused(_))) {
            check(&w, row, p, expected, &mut fails).await;
            checks += 1;
            refusals += 1;
        }
        let after = counts(&w).await;
        if after != before {
            fails.push(format!(
                "{route}: refused requests changed the database:\n  {before}\n  {after}"
            ));
        }
        for &(p, expected) in wants.iter().filter(|x| !matches!(x.1, Want::Refused(_))) {
            let got = check(&w, row, p, expected, &mut fails).await;
            checks += 1;
            *passed.entry(got / 100).or_insert(0) += 1;
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
    println!(
        "authz matrix: {n} operations × {p} principals = {checks} checks ({refusals} refusals, each leaving row counts, statuses and the audit log unchanged), all as expected"
    );
    println!(
        "authz matrix: allowed and public calls by status class (2 = 2xx, 4 = 4xx): {passed:?}"
    );
}

/// The table check names what is missing and what is stale (it is what makes a new route
/// without a row fail the matrix).
#[test]
fn a_route_without_a_row_and_a_row_without_a_route_are_both_named() {
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let ops = set(&["GET /a", "POST /b", "DELETE /new"]);
    let rows = set(&["GET /a", "POST /b", "PATCH /gone"]);
    let (missing, stale) = compare(&ops, &rows);
    assert_eq!(missing, vec!["DELETE /new".to_string()]);
    assert_eq!(stale, vec!["PATCH /gone".to_string()]);
    assert_eq!(compare(&ops, &ops), (vec![], vec![]));
}

/// The expectation rules, spot-checked: wrong audience is 401, a missing permission 403, an
/// object of a sibling county 404, a whole-tree change refused to a county.
#[test]
fn expectations_follow_the_audience_permission_and_scope_rule() {
    use Want::*;
    assert_eq!(
        want(Aud::Staff, "news:read", Rule::Obj, "member"),
        Refused(401)
    );
    assert_eq!(want(Aud::Member, "", Rule::Free, "root"), Refused(401));
    assert_eq!(
        want(Aud::Staff, "news:read", Rule::Obj, "lacking"),
        Refused(403)
    );
    assert_eq!(
        want(Aud::Staff, "news:read", Rule::Obj, "county_b"),
        Refused(404)
    );
    assert_eq!(
        want(Aud::Staff, "news:write", Rule::Whole, "county_a"),
        Refused(403)
    );
    assert_eq!(want(Aud::Staff, "news:write", Rule::Whole, "root"), Allowed);
    assert_eq!(want(Aud::Member, "", Rule::Obj, "member_b"), Refused(404));
    assert_eq!(want(Aud::Public, "", Rule::Free, "anonymous"), Public);
}
