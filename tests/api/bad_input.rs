//! Bad input: malformed, mistyped or over-long JSON, unknown fields, a missing content type,
//! broken or foreign tokens, hostile uploads, unknown routes and out-of-range paging. Each gets
//! the documented 4xx in the error shape `{"error":{"code","message"(中文),"fields"?}}`,
//! changes nothing, and none ever answers 500.

use crate::support::{ADMIN_PW, Resp, TestApp, spawn_app, spawn_with};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use gonghui::auth::tokens::{Claims, issue_access};
use gonghui::crypto::Keys;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Body;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

const J: &str = "application/json";
const ORGS: &str = "POST /api/v1/admin/orgs";
const FILES: &str = "POST /api/v1/admin/files";
/// A 1×1 greyscale PNG, hex.
const PNG: &str = "89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b550000000a49444154789c636000000002000148afa4710000000049454e44ae426082";

fn png() -> Vec<u8> {
    hex::decode(PNG).unwrap()
}

fn has_chinese(v: &Value) -> bool {
    let s = v.as_str().unwrap_or_default();
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// The documented error code of a status.
#[rustfmt::skip]
fn code_of(status: u16) -> &'static str {
    match status {
        400 => "validation_failed", 401 => "unauthenticated", 403 => "forbidden",
        404 => "not_found", 413 => "payload_too_large", 415 => "unsupported_media_type", _ => "?",
    }
}

/// What is wrong with an error answer: status, code or shape (only `error`, holding `code`,
/// a Chinese `message`, and `fields` of Chinese messages only for validation).
fn error_problem(r: &Resp, status: u16) -> Result<(), String> {
    let (e, code) = (&r.body["error"], code_of(status));
    let top_ok = r.body.as_object().is_some_and(|o| o.len() == 1);
    let fields = e
        .get("fields")
        .map(|f| f.as_object().map(|f| f.values().all(has_chinese)));
    let fields_ok = fields.is_none() || (code == "validation_failed" && fields == Some(Some(true)));
    let keys = |k: &String| ["code", "message", "fields"].contains(&k.as_str());
    let keys_ok = e.as_object().is_some_and(|o| o.keys().all(keys));
    let ok = r.status.as_u16() == status && e["code"] == code && has_chinese(&e["message"]);
    if !(ok && top_ok && fields_ok && keys_ok) {
        let ct = r.headers.get("content-type").and_then(|v| v.to_str().ok());
        let got = format!("{} ({}) {}", r.status, ct.unwrap_or(""), r.body);
        return Err(format!("want {status} {code} JSON error, got {got}"));
    }
    Ok(())
}

/// Check the status, its documented code and the error shape; never a 5xx.
fn check(r: &Resp, status: u16, what: &str) {
    let s = r.status.as_u16();
    assert!(s < 500, "{what}: server error {s} {:?}", r.body);
    if let Err(e) = error_problem(r, status) {
        panic!("{what}: {e}");
    }
}

/// Any 4xx in our error shape (never a 5xx).
fn check_4xx(r: &Resp, what: &str) {
    let s = r.status.as_u16();
    assert!((400..500).contains(&s), "{what}: {s} {:?}", r.body);
    check(r, s, what);
}

/// `fields.<name>` of an error is a message.
fn names_field(r: &Resp, name: &str) -> bool {
    r.body["error"]["fields"][name].is_string()
}

/// Row counts of the tables a request could touch, accounts' secrets, stored object count.
async fn snapshot(app: &TestApp) -> String {
    let sql = "SELECT (SELECT count(*) FROM orgs)||'/'||(SELECT count(*) FROM admins)||'/'||
        (SELECT count(*) FROM roles)||'/'||(SELECT count(*) FROM admin_roles)||'/'||
        (SELECT count(*) FROM files)||'/'||(SELECT count(*) FROM audit_logs)||'/'||
        (SELECT group_concat(name||token_version||password_hash) FROM admins)";
    let read = move |c: &rusqlite::Connection| Ok(c.query_row(sql, [], |r| r.get(0))?);
    let db: String = app.state.db.read(read).await.unwrap();
    let objects = files_under(&app.dir.path().join("files")).len();
    format!("{db} objects={objects}")
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
    for p in entries.map(|e| e.path()) {
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Send `b` to `"METHOD /path"` with `Authorization` and `Content-Type` (when not empty).
async fn raw(app: &TestApp, route: &str, auth: &str, ct: &str, b: impl Into<Body>) -> Resp {
    let (method, path) = route.split_once(' ').unwrap();
    let url = format!("{}{path}", app.base);
    let mut rb = app.client.request(method.parse().unwrap(), url).body(b);
    for (k, v) in [("authorization", auth), ("content-type", ct)] {
        if !v.is_empty() {
            rb = rb.header(k, v);
        }
    }
    TestApp::read(rb.send().await.expect("request")).await
}

/// An app, an `Authorization` header of the super admin, and the root org id.
async fn setup(app: TestApp) -> (TestApp, String, i64) {
    let auth = format!("Bearer {}", app.admin_token().await);
    let root = app.root_org().await;
    (app, auth, root)
}

/// A valid new org under `root`.
fn new_org(root: i64) -> String {
    json!({"parent_id": root, "name": "新组织", "code": "new-org", "kind": "county"}).to_string()
}

/// A file part: name and bytes.
type File<'a> = Option<(&'a str, Vec<u8>)>;

/// Upload with an optional `purpose` and an optional `file` part declared `image/png`.
async fn upload(app: &TestApp, auth: &str, purpose: Option<&str>, file: File<'_>) -> Resp {
    let mut form = Form::new();
    if let Some(p) = purpose {
        form = form.text("purpose", p.to_string());
    }
    if let Some((name, bytes)) = file {
        let part = Part::bytes(bytes).file_name(name.to_string());
        form = form.part("file", part.mime_str("image/png").unwrap());
    }
    let url = format!("{}/api/v1/admin/files", app.base);
    let rb = app.client.post(url).header("authorization", auth);
    TestApp::read(rb.multipart(form).send().await.expect("request")).await
}

#[rustfmt::skip]
const MALFORMED: &[&str] = &["{\"parent_id\": 1, \"name\": ", "not json", "", "{} x", "[1]", "null", "{'a': 1}"];

/// Malformed JSON of every sort is `400 validation_failed` and creates nothing.
#[tokio::test]
async fn malformed_json_is_400_and_creates_nothing() {
    let (app, auth, _) = setup(spawn_app().await).await;
    let before = snapshot(&app).await;
    for &body in MALFORMED {
        let r = raw(&app, ORGS, &auth, J, body).await;
        check(&r, 400, &format!("body {body:?}"));
    }
    assert_eq!(snapshot(&app).await, before);
}

/// Bodies with one unknown field each, and the field's name (`{root}` is the root org id).
#[rustfmt::skip]
const UNKNOWN_FIELDS: &[(&str, &str, &str)] = &[
    (ORGS, r#"{"parent_id": {root}, "name": "x", "code": "x1", "kind": "county", "path": "/"}"#, "path"),
    ("POST /api/v1/admin/accounts", r#"{"username": "eve", "name": "eve", "org_id": {root}, "role_ids": [], "password": "Clerk#2026pw", "is_super": true}"#, "is_super"),
    ("PATCH /api/v1/admin/accounts/1", r#"{"token_version": 0}"#, "token_version"),
    ("POST /api/v1/admin/roles", r#"{"name": "r", "permissions": [], "data_scope": "org", "locked": true}"#, "locked"),
    ("PATCH /api/v1/admin/orgs/{root}", r#"{"name": "根", "colour": 1}"#, "colour"),
    ("POST /api/v1/admin/auth/login", r#"{"username": "admin", "password": "x", "remember": true}"#, "remember"),
];

/// An unknown field is refused with `400` naming it under `fields` (no mass assignment).
#[tokio::test]
async fn unknown_fields_are_refused_and_named() {
    let (app, auth, root) = setup(spawn_app().await).await;
    let before = snapshot(&app).await;
    for (route, body, name) in UNKNOWN_FIELDS {
        let fill = |s: &str| s.replace("{root}", &root.to_string());
        let r = raw(&app, &fill(route), &auth, J, fill(body)).await;
        check(&r, 400, route);
        assert!(names_field(&r, name), "{route}: {:?}", r.body);
    }
    assert_eq!(snapshot(&app).await, before);
}

/// Bodies with one field of the wrong type, or a required field missing.
#[rustfmt::skip]
const WRONG_TYPES: &[(&str, &str)] = &[
    (ORGS, r#"{"parent_id": "1", "name": "x", "code": "x1", "kind": "county"}"#),
    (ORGS, r#"{"parent_id": 1.5, "name": "x", "code": "x1", "kind": "county"}"#),
    (ORGS, r#"{"parent_id": null, "name": "x", "code": "x1", "kind": "county"}"#),
    (ORGS, r#"{"parent_id": 9223372036854775808, "name": "x", "code": "x1", "kind": "county"}"#),
    (ORGS, r#"{"parent_id": 1e400, "name": "x", "code": "x1", "kind": "county"}"#),
    (ORGS, r#"{"parent_id": [1], "name": "x", "code": "x1", "kind": "county"}"#),
    (ORGS, r#"{"parent_id": 1, "name": 123, "code": "x1", "kind": "county"}"#),
    (ORGS, r#"{"parent_id": 1, "name": "x", "code": "x1", "kind": ["county"]}"#),
    (ORGS, r#"{"name": "x", "code": "x1", "kind": "county"}"#),
    ("POST /api/v1/admin/accounts", r#"{"username": "eve", "name": "eve", "org_id": 1, "role_ids": "5", "password": "Clerk#2026pw"}"#),
    ("POST /api/v1/admin/roles", r#"{"name": "r", "permissions": "org:read", "data_scope": "org"}"#),
    ("PATCH /api/v1/admin/accounts/1", r#"{"disabled": "yes"}"#),
];

/// A field of the wrong type (string for an id, fraction, overflow, null, array) or a missing
/// field is `400 validation_failed` and creates nothing.
#[tokio::test]
async fn wrong_types_are_400_and_create_nothing() {
    let (app, auth, _) = setup(spawn_app().await).await;
    let before = snapshot(&app).await;
    for (route, body) in WRONG_TYPES {
        check(&raw(&app, route, &auth, J, *body).await, 400, body);
    }
    assert_eq!(snapshot(&app).await, before);
}

/// A JSON body without `Content-Type: application/json` is `415`.
#[tokio::test]
async fn a_body_without_the_json_content_type_is_415() {
    let (app, auth, root) = setup(spawn_app().await).await;
    let before = snapshot(&app).await;
    for ct in ["", "text/plain", "application/x-www-form-urlencoded"] {
        let r = raw(&app, ORGS, &auth, ct, new_org(root)).await;
        check(&r, 415, &format!("content type {ct:?}"));
    }
    assert_eq!(snapshot(&app).await, before);
}

/// A JSON body over the configured limit is `413 payload_too_large`, signed in or not.
#[tokio::test]
async fn a_json_body_over_the_limit_is_413() {
    let app = spawn_with(|c| c.limits.json_body_bytes = 1024).await;
    let (app, auth, root) = setup(app).await;
    let before = snapshot(&app).await;
    let name = "名".repeat(1400);
    let big = json!({"parent_id": root, "name": name, "code": "big", "kind": "county"});
    assert!(big.to_string().len() >= 4096);
    let r = raw(&app, ORGS, &auth, J, big.to_string()).await;
    check(&r, 413, "org body of 4 KiB");
    let login = json!({"username": "admin", "password": "x".repeat(4096)}).to_string();
    let r = raw(&app, "POST /api/v1/admin/auth/login", "", J, login).await;
    check(&r, 413, "login body of 4 KiB");
    assert_eq!(snapshot(&app).await, before);
}

/// Expired, tampered, foreign-key, wrong-audience, `alg: none`, wrong-algorithm and
/// prefix-less tokens are all `401` and create nothing; the same claims signed properly work.
#[tokio::test]
async fn broken_or_foreign_tokens_are_401_and_change_nothing() {
    let (app, _, root) = setup(spawn_app().await).await;
    let ver = app.query_i64("SELECT token_version FROM admins").await;
    let keys = &app.state.keys;
    let sid = app
        .query_i64("SELECT max(id) FROM admin_sessions WHERE admin_id = 1")
        .await;
    let good = gonghui::auth::tokens::issue_admin_access(keys, 1, ver, sid, 600).unwrap();
    let expired = issue_access(keys, "admin", 1, ver, -5).unwrap();
    let foreign = issue_access(&Keys::ephemeral(), "admin", 1, ver, 600).unwrap();
    let (head, rest) = good.split_once('.').unwrap();
    let (payload, sig) = rest.split_once('.').unwrap();
    let flip = if &sig[5..6] == "A" { "B" } else { "A" };
    let bad_sig = format!("{head}.{payload}.{}{flip}{}", &sig[..5], &sig[6..]);
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"sub": "1", "aud": "admin", "iat": now, "exp": now + 600, "ver": ver});
    let mut other = claims.clone();
    other["sub"] = json!("2");
    let bad_payload = format!("{head}.{}.{sig}", B64.encode(other.to_string()));
    let none_head = B64.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let none = format!("{none_head}.{}.", B64.encode(claims.to_string()));
    let c: Claims = serde_json::from_value(claims).unwrap();
    let key = EncodingKey::from_secret(&keys.jwt);
    let hs512 = jsonwebtoken::encode(&Header::new(Algorithm::HS512), &c, &key).unwrap();
    let basic = B64.encode(format!("admin:{ADMIN_PW}"));
    let cases = [
        ("expired", format!("Bearer {expired}")),
        ("tampered signature", format!("Bearer {bad_sig}")),
        ("tampered payload", format!("Bearer {bad_payload}")),
        ("signed with another key", format!("Bearer {foreign}")),
        ("member audience", format!("Bearer {}", app.app_token())),
        ("alg none", format!("Bearer {none}")),
        ("alg HS512 with the right key", format!("Bearer {hs512}")),
        ("no Bearer prefix", good.clone()),
        ("Basic scheme", format!("Basic {basic}")),
        ("empty bearer", "Bearer ".to_string()),
        ("garbage", "Bearer abc.def.ghi".to_string()),
    ];
    let before = snapshot(&app).await;
    for (what, auth) in &cases {
        check(&raw(&app, ORGS, auth, J, new_org(root)).await, 401, what);
        let r = raw(&app, "GET /api/v1/admin/me", auth, "", "").await;
        check(&r, 401, &format!("{what} on /me"));
    }
    assert_eq!(snapshot(&app).await, before);
    let r = raw(&app, ORGS, &format!("Bearer {good}"), J, new_org(root)).await;
    assert_eq!(r.status.as_u16(), 201, "the control token: {:?}", r.body);
}

#[rustfmt::skip]
const TRAVERSAL: &[&str] = &["../../etc/passwd.png", "/etc/passwd.png", "..\\..\\passwd.png", "a/../../passwd.png"];

/// A path in the multipart file name never reaches storage: the key is generated, no file
/// lands outside the store, and the download name is the file's token.
#[tokio::test]
async fn path_traversal_in_the_file_name_does_not_reach_storage() {
    let (app, auth, _) = setup(spawn_app().await).await;
    for name in TRAVERSAL {
        let r = upload(&app, &auth, Some("image"), Some((name, png()))).await;
        assert_eq!(r.status.as_u16(), 201, "{name}: {:?}", r.body);
        let id = r.data()["id"].as_i64().unwrap();
        let sql = "SELECT storage_key FROM files WHERE id = ?1";
        let read = move |c: &rusqlite::Connection| Ok(c.query_row(sql, [id], |r| r.get(0))?);
        let key: String = app.state.db.read(read).await.unwrap();
        let clean = !key.contains("..") && !key.contains("passwd") && !key.contains('\\');
        let clean = clean && key.starts_with("image/") && key.ends_with(".png");
        assert!(clean, "{name}: {key}");
        let path = r.data()["url"].as_str().unwrap().to_string();
        let d = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(d.status().as_u16(), 200);
        let disp = d.headers()["content-disposition"].to_str().unwrap();
        // Public files are named by their URL token (issue 17), never by the client's name.
        let named_by_token = disp.contains(&format!("{}.png", &path["/files/".len()..]));
        assert!(!disp.contains("passwd") && named_by_token, "{disp}");
    }
    let all = files_under(app.dir.path());
    let leaked = all.iter().any(|p| p.to_string_lossy().contains("passwd"));
    assert!(!leaked, "{all:?}");
    let tmp = app.dir.path().parent().unwrap();
    assert!(!tmp.join("etc/passwd.png").exists() && !tmp.join("passwd.png").exists());
}

/// Hostile uploads: HTML or SVG declared as PNG (415), unknown or missing purpose (400), empty
/// or missing file (400), an avatar over 2 MiB (413), a JSON or broken body (415/400). None
/// stores a row, an object or an audit entry.
#[tokio::test]
async fn hostile_uploads_are_refused_and_store_nothing() {
    let (app, auth, _) = setup(spawn_app().await).await;
    let before = snapshot(&app).await;
    let html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>".to_vec();
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec();
    let mut big = png();
    big.resize(2 * 1024 * 1024 + 1, 0);
    #[rustfmt::skip]
    let cases = [
        ("HTML declared image/png", Some("image"), Some(("evil.png", html)), 415, None),
        ("SVG declared image/png", Some("avatar"), Some(("x.png", svg)), 415, None),
        ("unknown purpose", Some("secret"), Some(("a.png", png())), 400, Some("purpose")),
        ("purpose with a path", Some("../etc"), Some(("a.png", png())), 400, Some("purpose")),
        ("empty purpose", Some(""), Some(("a.png", png())), 400, Some("purpose")),
        ("no purpose", None, Some(("a.png", png())), 400, Some("purpose")),
        ("empty file", Some("image"), Some(("a.png", Vec::new())), 400, Some("file")),
        ("no file part", Some("image"), None, 400, Some("file")),
        ("avatar over 2 MiB", Some("avatar"), Some(("big.png", big)), 413, None),
    ];
    for (what, purpose, file, status, field) in cases {
        let r = upload(&app, &auth, purpose, file).await;
        check(&r, status, what);
        let named = field.is_none_or(|f| names_field(&r, f));
        assert!(named, "{what}: {:?}", r.body);
    }
    #[rustfmt::skip]
    let raw_cases = [
        ("JSON body", J, r#"{"purpose": "image", "file": "iVBORw0KGgo="}"#, 415),
        ("no content type", "", "purpose=image", 415),
        ("multipart without boundary", "multipart/form-data", "x", 415),
        ("truncated multipart", "multipart/form-data; boundary=XYZ", "--XYZ\r\nbroken", 400),
    ];
    for (what, ct, body, status) in raw_cases {
        check(&raw(&app, FILES, &auth, ct, body).await, status, what);
    }
    assert_eq!(snapshot(&app).await, before);
}

/// Unknown routes answer `404 not_found` in our JSON shape, signed in or not.
#[tokio::test]
async fn unknown_routes_are_404_json() {
    let (app, auth, _) = setup(spawn_app().await).await;
    #[rustfmt::skip]
    let routes = ["GET /api/v1/admin/nope", "POST /api/v1/nope", "GET /api/v2/admin/orgs", "DELETE /x/y", "GET /files/9/x"];
    for route in routes {
        for a in ["", auth.as_str()] {
            check(&raw(&app, route, a, "", "").await, 404, route);
        }
    }
}

/// `page_size` outside 1..=100 and `page` below 1 are `400` with the parameter named.
#[tokio::test]
async fn page_size_and_page_out_of_range_are_400() {
    let (app, auth, _) = setup(spawn_app().await).await;
    #[rustfmt::skip]
    let queries = [("page_size=0", "page_size"), ("page_size=101", "page_size"), ("page=0", "page"), ("page=-1", "page")];
    for (query, name) in queries {
        for list in ["accounts", "audit-logs", "login-logs"] {
            let route = format!("GET /api/v1/admin/{list}?{query}");
            let r = raw(&app, &route, &auth, "", "").await;
            check(&r, 400, &route);
            assert!(names_field(&r, name), "{route}: {:?}", r.body);
            let route = format!("GET /api/v1/admin/{list}?page_size=100");
            let ok = raw(&app, &route, &auth, "", "").await;
            assert_eq!(ok.status.as_u16(), 200, "{route}");
        }
    }
}

#[rustfmt::skip]
const UNPARSABLE: &[&str] = &[
    "GET /api/v1/admin/accounts?page_size=abc", "GET /api/v1/admin/audit-logs?actor_id=x",
    "GET /api/v1/admin/login-logs?success=maybe", "GET /api/v1/admin/accounts/abc",
    "GET /api/v1/admin/accounts/99999999999999999999", "DELETE /api/v1/admin/orgs/abc",
    "GET /api/v1/admin/files/1.5", "GET /files/abc", "GET /files/1?exp=soon&sig=x",
];

/// Query and path parameters that do not parse (`page_size=abc`, `/accounts/abc`, ids past
/// i64) are refused in our JSON error shape (400, or 404 for a path), not with a framework
/// text body.
#[tokio::test]
async fn unparsable_query_and_path_parameters_answer_in_our_error_shape() {
    let (app, auth, _) = setup(spawn_app().await).await;
    let before = snapshot(&app).await;
    let mut failures = Vec::new();
    for route in UNPARSABLE {
        let r = raw(&app, route, &auth, "", "").await;
        let want = if r.status == 404 { 404 } else { 400 };
        if let Err(e) = error_problem(&r, want) {
            failures.push(format!("{route}: {e}"));
        }
    }
    assert_eq!(snapshot(&app).await, before);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[rustfmt::skip]
const EXTREME_READS: &[&str] = &[
    "GET /api/v1/admin/accounts/9223372036854775807", "GET /api/v1/admin/accounts/-1",
    "GET /api/v1/admin/files/9223372036854775807/download", "GET /api/v1/admin/audit-logs?from=yesterday",
    "GET /api/v1/admin/audit-logs?to=2026-13-45T99:00:00%2B08:00", "DELETE /api/v1/admin/orgs/9223372036854775807",
    "GET /files/9223372036854775807", "GET /files/0",
];

/// Extreme but well-formed values (huge or negative ids, control characters, path-like codes,
/// unknown permissions or kinds, bad times) are 4xx, never 500, and change nothing.
#[tokio::test]
async fn extreme_values_never_cause_a_500() {
    let (app, auth, root) = setup(spawn_app().await).await;
    let before = snapshot(&app).await;
    let max = i64::MAX;
    #[rustfmt::skip]
    let posts = [
        ("orgs", json!({"parent_id": max, "name": "x", "code": "x1", "kind": "county"})),
        ("orgs", json!({"parent_id": -1, "name": "x", "code": "x2", "kind": "county"})),
        ("orgs", json!({"parent_id": root, "name": "a\u{0}b", "code": "x3", "kind": "county"})),
        ("orgs", json!({"parent_id": root, "name": "x", "code": "../x", "kind": "county"})),
        ("orgs", json!({"parent_id": root, "name": "x", "code": "x4", "kind": "planet"})),
        ("accounts", json!({"username": "eve", "name": "eve", "org_id": root, "role_ids": [max, -1], "password": "Clerk#2026pw"})),
        ("accounts", json!({"username": "../eve", "name": "eve", "org_id": max, "role_ids": [], "password": "x"})),
        ("roles", json!({"name": "r", "permissions": ["*"], "data_scope": "org"})),
        ("roles", json!({"name": "r", "permissions": [], "data_scope": "custom", "custom_org_ids": [max]})),
        ("roles", json!({"name": "r", "permissions": [], "data_scope": "everything"})),
        ("accounts/9223372036854775807/password", json!({"new_password": "Reset#2026pw"})),
    ];
    for (path, body) in posts {
        let route = format!("POST /api/v1/admin/{path}");
        let r = raw(&app, &route, &auth, J, body.to_string()).await;
        check_4xx(&r, &format!("{route} {body}"));
    }
    for route in EXTREME_READS {
        check_4xx(&raw(&app, route, &auth, "", "").await, route);
    }
    assert_eq!(snapshot(&app).await, before);
}
