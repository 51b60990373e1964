//! Staff sign-in: login, lockout, login log, rate limit, refresh rotation, logout, password
//! change, forced first change, and revocation of live tokens.

use crate::support::*;
use reqwest::Method;
use serde_json::{Value, json};

/// Built-in role ids, short.
pub(crate) use crate::support::roles::{
    AUDIT_ADMIN as AUDITOR, COUNTY_ADMIN as COUNTY, GRASSROOTS_CLERK as CLERK,
    SECURITY_ADMIN as SEC, SYSTEM_ADMIN as SYS,
};

/// One integer from SQL run on the app's database (tests only; values are inlined).
pub(crate) async fn scalar(app: &TestApp, sql: impl Into<String>) -> i64 {
    let sql = sql.into();
    app.state
        .db
        .read(move |c| Ok(c.query_row(&sql, [], |r| r.get(0))?))
        .await
        .unwrap()
}

/// One text value from SQL run on the app's database.
pub(crate) async fn text(app: &TestApp, sql: impl Into<String>) -> String {
    let sql = sql.into();
    app.state
        .db
        .read(move |c| Ok(c.query_row(&sql, [], |r| r.get(0))?))
        .await
        .unwrap()
}

/// Number of audit rows with this action.
pub(crate) async fn audits(app: &TestApp, action: &str) -> i64 {
    scalar(
        app,
        format!("SELECT count(*) FROM audit_logs WHERE action = '{action}'"),
    )
    .await
}

/// Create an account (no first-password change) and return its id.
pub(crate) async fn new_account(
    app: &TestApp,
    t: &str,
    user: &str,
    org: i64,
    roles: &[i64],
) -> i64 {
    let body =
        json!({"username": user, "name": user, "org_id": org, "role_ids": roles, "password": PW});
    let r = app.post("/api/v1/admin/accounts", t, body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.data()["id"].as_i64().unwrap()
}

async fn refresh(app: &TestApp, token: &str) -> Resp {
    let body = json!({"refresh_token": token});
    app.call(Method::POST, "/api/v1/admin/auth/refresh", None, Some(body))
        .await
}

async fn change_pw(app: &TestApp, t: &str, old: &str, new: &str) -> Resp {
    let body = json!({"old_password": old, "new_password": new});
    app.post("/api/v1/admin/auth/password", t, body).await
}

fn refresh_of(r: &Resp) -> String {
    r.data()["refresh_token"].as_str().unwrap().to_string()
}

/// The bootstrap admin can log in and read its own profile.
#[tokio::test]
async fn bootstrap_admin_logs_in_and_reads_me() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let r = app.get("/api/v1/admin/me", &t).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.data()["username"], "admin");
    assert!(r.data()["permissions"].as_array().unwrap().len() >= 10);
}

/// A good login answers a token pair and the account, and is logged with the client IP.
#[tokio::test]
async fn login_answers_tokens_and_is_recorded_with_ip() {
    let app = spawn_app().await;
    let r = app.login_resp("  ADMIN ", ADMIN_PW).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let d = r.data();
    assert!(d["access_token"].as_str().unwrap().len() > 20);
    assert!(d["refresh_token"].as_str().unwrap().len() > 20);
    assert_eq!(d["expires_in"], 15 * 60);
    assert_eq!(d["must_change_password"], false);
    assert_eq!(d["admin"]["username"], "admin");
    let ok = "SELECT count(*) FROM login_logs WHERE username = 'admin' AND success = 1 AND reason = 'ok' AND ip = '127.0.0.1' AND admin_id = 1";
    assert_eq!(scalar(&app, ok).await, 1);
    let live = "SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL";
    assert_eq!(scalar(&app, live).await, 1);
}

/// Unknown user and wrong password give byte-identical 401 answers; both are logged.
#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_401() {
    let app = spawn_app().await;
    let wrong = app.login_resp("admin", "Wrong#2026pw").await;
    let unknown = app.login_resp("nobody", "Wrong#2026pw").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.code(), "unauthenticated");
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(wrong.body, unknown.body);
    let sql = "SELECT count(*) FROM login_logs WHERE success = 0 AND reason = 'bad_credentials' AND ip = '127.0.0.1'";
    assert_eq!(scalar(&app, sql).await, 2);
    let unknown_id =
        "SELECT count(*) FROM login_logs WHERE username = 'nobody' AND admin_id IS NULL";
    assert_eq!(scalar(&app, unknown_id).await, 1);
    assert_eq!(scalar(&app, "SELECT count(*) FROM refresh_tokens").await, 0);
}

/// Five failures lock the name: the sixth attempt is 423 even with the right password, and
/// an unknown name locks the same way; every attempt is in the login log.
#[tokio::test]
async fn five_failures_lock_the_account_even_for_the_right_password() {
    let app = spawn_app().await;
    for user in ["admin", "ghost"] {
        for _ in 0..5 {
            let r = app.login_resp(user, "Wrong#2026pw").await;
            assert_eq!(r.status, 401);
        }
    }
    let r = app.login_resp("admin", ADMIN_PW).await;
    assert_eq!(r.status, 423, "{:?}", r.body);
    assert_eq!(r.code(), "account_locked");
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("分钟"), "{message}");
    let ghost = app.login_resp("ghost", "Wrong#2026pw").await;
    assert_eq!(ghost.status, 423);
    let all = "SELECT count(*) FROM login_logs WHERE ip = '127.0.0.1' AND success = 0";
    assert_eq!(scalar(&app, all).await, 12);
    let locked = "SELECT count(*) FROM login_logs WHERE reason = 'locked' AND username = 'admin' AND admin_id = 1";
    assert_eq!(scalar(&app, locked).await, 1);
    assert_eq!(scalar(&app, "SELECT count(*) FROM refresh_tokens").await, 0);
}

/// Refresh rotates the token: the spent one is refused, and replaying it revokes the whole
/// family so that the newest token fails as well.
#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    let first = refresh_of(&app.login_resp("admin", ADMIN_PW).await);
    let r = refresh(&app, &first).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let second = refresh_of(&r);
    assert_ne!(first, second);
    let access = r.data()["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/admin/me", access).await.status, 200);
    let r = refresh(&app, &second).await;
    assert_eq!(r.status, 200);
    let third = refresh_of(&r);

    let replay = refresh(&app, &first).await;
    assert_eq!(replay.status, 401);
    assert_eq!(replay.code(), "unauthenticated");
    assert_eq!(refresh(&app, &third).await.status, 401);
    assert_eq!(refresh(&app, "not-a-token").await.status, 401);
    let live = "SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL";
    assert_eq!(scalar(&app, live).await, 0);
    let families = "SELECT count(DISTINCT family) FROM refresh_tokens";
    assert_eq!(scalar(&app, families).await, 1);
}

/// Logout revokes the access token and every refresh token, and is audited.
#[tokio::test]
async fn logout_makes_the_access_and_refresh_tokens_unusable() {
    let app = spawn_app().await;
    let login = app.login_resp("admin", ADMIN_PW).await;
    let t = login.data()["access_token"].as_str().unwrap().to_string();
    let r = app.post("/api/v1/admin/auth/logout", &t, json!({})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.data(), &json!({}));
    assert_eq!(app.get("/api/v1/admin/me", &t).await.status, 401);
    assert_eq!(refresh(&app, &refresh_of(&login)).await.status, 401);
    assert_eq!(audits(&app, "auth.logout").await, 1);
    let logout = "/api/v1/admin/auth/logout";
    let anon = app.call(Method::POST, logout, None, None).await;
    assert_eq!(anon.status, 401);
}

/// A wrong old password is a field error on `old_password` and changes nothing.
#[tokio::test]
async fn password_change_with_a_wrong_old_password_is_refused() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let hash = "SELECT password_hash || token_version FROM admins WHERE id = 1";
    let before = text(&app, hash).await;
    let r = change_pw(&app, &t, "Wrong#2026pw", "Brand#New2026").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "validation_failed");
    assert!(r.body["error"]["fields"]["old_password"].is_string());
    assert_eq!(text(&app, hash).await, before);
    assert_eq!(audits(&app, "auth.change_password").await, 0);
    assert_eq!(app.get("/api/v1/admin/me", &t).await.status, 200);
}

/// Too short, fewer than three classes, equal to the username or unchanged: each is a field
/// error on `new_password` and nothing is stored.
#[tokio::test]
async fn password_change_enforces_the_policy() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let root = app.root_org().await;
    let (_, t) = app
        .account_token(&admin, "clerk_2026x", root, &[CLERK])
        .await;
    let hash = "SELECT password_hash FROM admins WHERE username = 'clerk_2026x'";
    let before = text(&app, hash).await;
    for bad in [
        "Ab1#xyz",
        "abcdefgh12",
        "ABCDEFGH!!",
        "Clerk_2026X",
        "Changed#2026",
    ] {
        let r = change_pw(&app, &t, "Changed#2026", bad).await;
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
        let fields = r.body["error"]["fields"].as_object().unwrap();
        assert!(fields.contains_key("new_password"), "{bad}: {fields:?}");
    }
    assert_eq!(text(&app, hash).await, before);
    assert_eq!(app.get("/api/v1/admin/me", &t).await.status, 200);
}

/// A successful change revokes every token; only the new password logs in afterwards.
#[tokio::test]
async fn password_change_succeeds_and_revokes_old_tokens() {
    let app = spawn_app().await;
    let login = app.login_resp("admin", ADMIN_PW).await;
    let t = login.data()["access_token"].as_str().unwrap().to_string();
    let other = app.admin_token().await;
    let r = change_pw(&app, &t, ADMIN_PW, "Brand#New2026").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    for old in [&t, &other] {
        assert_eq!(app.get("/api/v1/admin/me", old).await.status, 401);
    }
    assert_eq!(refresh(&app, &refresh_of(&login)).await.status, 401);
    assert_eq!(app.login_resp("admin", ADMIN_PW).await.status, 401);
    let fresh = app.login("admin", "Brand#New2026").await;
    assert_eq!(app.get("/api/v1/admin/me", &fresh).await.status, 200);
    assert_eq!(audits(&app, "auth.change_password").await, 1);
    let stored = text(&app, "SELECT password_hash FROM admins WHERE id = 1").await;
    assert!(stored.starts_with("$argon2id$") && !stored.contains("Brand#New2026"));
}

/// With a generated bootstrap password the first login must change it: everything but `me`
/// and the password change is 403 until then.
#[tokio::test]
async fn generated_bootstrap_password_forces_a_change_first() {
    let app = spawn_with(|c| c.admin_password = None).await;
    let must = "SELECT must_change_password FROM admins WHERE id = 1";
    assert_eq!(scalar(&app, must).await, 1);
    let boot = "SELECT summary FROM audit_logs WHERE action = 'system.bootstrap'";
    let boot: Value = serde_json::from_str(&text(&app, boot).await).unwrap();
    assert_eq!(boot["generated_password"], true);
    // The generated password is only printed; give the account a known one, flag untouched.
    let hash = gonghui::auth::password::hash("Known#2026pw").unwrap();
    app.exec("UPDATE admins SET password_hash = ?1 WHERE id = 1", hash)
        .await;
    let r = app.login_resp("admin", "Known#2026pw").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.data()["must_change_password"], true);
    let t = r.data()["access_token"].as_str().unwrap().to_string();
    let orgs = app.get("/api/v1/admin/orgs", &t).await;
    assert_eq!(orgs.status, 403);
    assert_eq!(orgs.code(), "forbidden");
    let me = app.get("/api/v1/admin/me", &t).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.data()["must_change_password"], true);
    let r = change_pw(&app, &t, "Known#2026pw", "Brand#New2026").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(scalar(&app, must).await, 0);
    let r = app.login_resp("admin", "Brand#New2026").await;
    assert_eq!(r.data()["must_change_password"], false);
    let t = r.data()["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/admin/orgs", t).await.status, 200);
}

/// Past the per-IP limit the login route answers 429 (even with the right password), and the
/// refused attempt is logged.
#[tokio::test]
async fn login_is_rate_limited_per_ip() {
    let app = spawn_with(|c| c.auth.login_per_ip_per_minute = 3).await;
    let t = app.admin_token().await;
    for _ in 0..2 {
        assert_eq!(app.login_resp("admin", "Wrong#2026pw").await.status, 401);
    }
    let r = app.login_resp("admin", ADMIN_PW).await;
    assert_eq!(r.status, 429, "{:?}", r.body);
    assert_eq!(r.code(), "rate_limited");
    let sql = "SELECT count(*) FROM login_logs WHERE reason = 'rate_limited' AND ip = '127.0.0.1'";
    assert_eq!(scalar(&app, sql).await, 1);
    // Only the login route is limited.
    assert_eq!(app.get("/api/v1/admin/me", &t).await.status, 200);
}

/// Disabling an account makes its live token 401 on the very next request, and it can no
/// longer log in or refresh.
#[tokio::test]
async fn disabling_an_account_revokes_its_token_at_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let root = app.root_org().await;
    let (id, t) = app.account_token(&admin, "clerk1", root, &[CLERK]).await;
    let login = app.login_resp("clerk1", "Changed#2026").await;
    assert_eq!(app.get("/api/v1/admin/me", &t).await.status, 200);
    let path = format!("/api/v1/admin/accounts/{id}");
    let r = app.patch(&path, &admin, json!({"disabled": true})).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.data()["disabled"], true);
    assert_eq!(app.get("/api/v1/admin/me", &t).await.status, 401);
    assert_eq!(refresh(&app, &refresh_of(&login)).await.status, 401);
    let again = app.login_resp("clerk1", "Changed#2026").await;
    assert_eq!(again.status, 401);
    let sql =
        format!("SELECT count(*) FROM login_logs WHERE admin_id = {id} AND reason = 'disabled'");
    assert_eq!(scalar(&app, sql).await, 1);
    let sql = format!(
        "SELECT summary FROM audit_logs WHERE action = 'account.update' AND target_id = '{id}'"
    );
    let summary: Value = serde_json::from_str(&text(&app, sql).await).unwrap();
    assert_eq!(summary["disabled"], json!({"from": false, "to": true}));
}

/// Changing an account's roles makes its live token 401; a new login carries the new rights.
#[tokio::test]
async fn changing_roles_revokes_the_token_and_new_login_has_new_rights() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let root = app.root_org().await;
    let (id, t) = app.account_token(&admin, "clerk1", root, &[CLERK]).await;
    assert_eq!(app.get("/api/v1/admin/accounts", &t).await.status, 403);
    let body = json!({"role_ids": [COUNTY]});
    let r = app
        .patch(&format!("/api/v1/admin/accounts/{id}"), &admin, body)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(app.get("/api/v1/admin/me", &t).await.status, 401);
    let t = app.login("clerk1", "Changed#2026").await;
    let me = app.get("/api/v1/admin/me", &t).await;
    assert_eq!(me.data()["roles"][0]["id"], COUNTY);
    assert!(
        me.data()["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("account:write"))
    );
    assert_eq!(app.get("/api/v1/admin/accounts", &t).await.status, 200);
}

/// An expired access token is 401, while the same claims unexpired are accepted.
#[tokio::test]
async fn an_expired_access_token_is_refused() {
    let app = spawn_app().await;
    let ver = scalar(&app, "SELECT token_version FROM admins WHERE id = 1").await;
    let keys = &app.state.keys;
    let expired = gonghui::auth::tokens::issue_access(keys, "admin", 1, ver, -5).unwrap();
    let r = app.get("/api/v1/admin/me", &expired).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "unauthenticated");
    app.admin_token().await;
    let sid = scalar(
        &app,
        "SELECT max(id) FROM admin_sessions WHERE admin_id = 1",
    )
    .await;
    let live = gonghui::auth::tokens::issue_admin_access(keys, 1, ver, sid, 60).unwrap();
    assert_eq!(app.get("/api/v1/admin/me", &live).await.status, 200);
    // The same claims without a session are refused: every staff token names its session.
    let sessionless = gonghui::auth::tokens::issue_access(keys, "admin", 1, ver, 60).unwrap();
    assert_eq!(app.get("/api/v1/admin/me", &sessionless).await.status, 401);
    let stale = gonghui::auth::tokens::issue_admin_access(keys, 1, ver - 1, sid, 60).unwrap();
    assert_eq!(app.get("/api/v1/admin/me", &stale).await.status, 401);
}

/// A successful login clears earlier failures, even within the same second: four failures,
/// a success and one more failure do not lock the account.
#[tokio::test]
async fn a_success_resets_the_failure_count() {
    let app = spawn_app().await;
    for _ in 0..4 {
        app.login_resp("admin", "Wrong#2026pw").await;
    }
    assert_eq!(app.login_resp("admin", ADMIN_PW).await.status, 200);
    app.login_resp("admin", "Wrong#2026pw").await;
    let r = app.login_resp("admin", ADMIN_PW).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

/// Guessing the old password through the password-change route counts toward the lockout:
/// after five wrong guesses even the right one is 423, and login is locked too.
#[tokio::test]
async fn wrong_old_passwords_count_toward_the_lockout() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    for i in 0..5 {
        let r = change_pw(&app, &t, &format!("Guess#{i}xyz"), "Brand#New2026").await;
        assert_eq!(r.status, 400, "{:?}", r.body);
    }
    let r = change_pw(&app, &t, ADMIN_PW, "Brand#New2026").await;
    assert_eq!(r.status, 423, "{:?}", r.body);
    assert_eq!(r.code(), "account_locked");
    assert_eq!(app.login_resp("admin", ADMIN_PW).await.status, 423);
    let n = app
        .query_i64("SELECT count(*) FROM login_logs WHERE reason = 'bad_credentials'")
        .await;
    assert_eq!(n, 5);
}
