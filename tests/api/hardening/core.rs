//! Hardening tests (issue 17): the shared mechanisms — pagination bounds, login lockout,
//! password resets, audit scope and chain, settings scope, roles, timeouts, metrics.

use crate::news::helpers;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;
use std::process::Command;

/// Item 1: a page far past the end (or past i64 when multiplied) is a clear 400 on every
/// list, member search included, and never wraps round to page 1.
#[tokio::test]
async fn huge_page_numbers_are_refused_with_a_clear_400() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let root = app.root_org().await;
    helpers::published(&app, &admin, root, "工会新闻", "工会的新闻正文").await;
    let member = helpers::member(&app, Some(root), "active").await;
    for path in [
        "/api/v1/app/news/search?q=工会&page=10000000000&page_size=100",
        "/api/v1/app/news/search?q=工会&page=9223372036854775807&page_size=100",
        "/api/v1/app/news/search?q=工会&page=101&page_size=100",
    ] {
        let r = app.get(path, &member).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {:?}", r.body);
        assert_eq!(r.code(), "validation_failed");
        let msg = r.body["error"]["fields"]["page"].as_str().unwrap_or("");
        assert!(msg.contains("10000"), "{msg}");
    }
    for path in [
        "/api/v1/admin/news?q=工会&page=10000000000&page_size=100",
        "/api/v1/admin/members?page=9223372036854775807&page_size=100",
        "/api/v1/admin/audit-logs?page=4611686018427387904&page_size=2",
    ] {
        let r = app.get(path, &admin).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {:?}", r.body);
    }
    // The last page inside the window is still served.
    let r = app
        .get(
            "/api/v1/app/news/search?q=工会&page=100&page_size=100",
            &member,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["total"], 1);
}

/// The real binary serving a temp data dir, logged in as the bootstrap admin.
pub struct Bin {
    /// The server (killed on drop, before the dir is removed).
    pub srv: Server,
    /// The data dir.
    pub dir: tempfile::TempDir,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// HTTP client.
    pub client: reqwest::Client,
    /// The admin's access token.
    pub token: String,
}

impl Bin {
    /// Start the binary and log in.
    pub async fn start() -> Bin {
        let dir = tempfile::tempdir().unwrap();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let srv = Server::start(dir.path(), &client, None, None).await;
        let token = srv.admin_token(&client).await;
        Bin {
            base: srv.base.clone(),
            srv,
            dir,
            client,
            token,
        }
    }

    /// True while the process runs.
    pub fn alive(&mut self) -> bool {
        self.srv.child.try_wait().unwrap().is_none()
    }
}

/// Item 1, on the real binary: the search that used to abort the process is answered with a
/// 400 and the server keeps serving.
#[tokio::test]
async fn the_release_binary_survives_the_huge_page_search() {
    let mut bin = Bin::start().await;
    let r = bin
        .client
        .get(format!(
            "{}/api/v1/admin/news?q=工会&page=10000000000&page_size=100",
            bin.base
        ))
        .bearer_auth(&bin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let health = bin
        .client
        .get(format!("{}/healthz", bin.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(bin.alive(), "the server exited");
}

/// Item 17: the data dir is 0700 and nothing in it (database, WAL, keys, uploads, anchor) is
/// readable by other users, on the binary as started by hand (no systemd umask).
#[tokio::test]
async fn the_data_dir_and_everything_in_it_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let bin = Bin::start().await;
    let png = crate::files::unhex(crate::files::PNG);
    let form = reqwest::multipart::Form::new()
        .text("purpose", "image")
        .part(
            "file",
            reqwest::multipart::Part::bytes(png)
                .file_name("a.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let r = bin
        .client
        .post(format!("{}/api/v1/admin/files", bin.base))
        .bearer_auth(&bin.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let mut seen = 0;
    let mut stack = vec![bin.dir.path().to_path_buf()];
    while let Some(p) = stack.pop() {
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{} is {:o}", p.display(), mode & 0o777);
        seen += 1;
        if p.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
        }
    }
    assert!(seen > 8, "only {seen} paths");
    for name in ["gonghui.db", "gonghui.db-wal", "keys/audit.key"] {
        assert!(bin.dir.path().join(name).exists(), "{name}");
    }
}

/// Item 3: twenty wrong passwords sent at once lock the account; at most five of them are ever
/// verified, and the right password afterwards answers 423.
#[tokio::test]
async fn parallel_wrong_passwords_lock_the_account() {
    let app = spawn_with(|c| c.auth.login_per_ip_per_minute = 1000).await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (client, base) = (app.client.clone(), app.base.clone());
        tasks.push(tokio::spawn(async move {
            client
                .post(format!("{base}/api/v1/admin/auth/login"))
                .json(&json!({"username": "admin", "password": format!("Wrong#{i}pass")}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let unauth = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let locked = statuses
        .iter()
        .filter(|s| **s == StatusCode::LOCKED)
        .count();
    assert_eq!((unauth, locked), (5, 15), "{statuses:?}");
    let r = app.login_resp("admin", ADMIN_PW).await;
    assert_eq!(r.status, StatusCode::LOCKED, "{:?}", r.body);
    assert_eq!(r.code(), "account_locked");
    let evaluated = app
        .query_i64("SELECT count(*) FROM login_logs WHERE reason = 'bad_credentials'")
        .await;
    assert_eq!(evaluated, 5);
}

/// Item 4: an admin cannot reset its own password through the staff reset route (no old
/// password asked); the password is unchanged and the self-service change still works.
#[tokio::test]
async fn an_admin_cannot_reset_its_own_password_without_the_old_one() {
    let app = spawn_app().await;
    let t = app.two_counties().await;
    let me = app.get("/api/v1/admin/me", &t.admin_a).await;
    let id = me.data()["id"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/admin/accounts/{id}/password"),
            &t.admin_a,
            json!({"new_password": "Taken#Over2026"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    let username = me.data()["username"].as_str().unwrap().to_string();
    assert_eq!(
        app.login_resp(&username, "Taken#Over2026").await.status,
        StatusCode::UNAUTHORIZED
    );
    // The super admin's own id is refused the same way.
    let root_id = app
        .query_i64("SELECT id FROM admins WHERE username = 'admin'")
        .await;
    let r = app
        .post(
            &format!("/api/v1/admin/accounts/{root_id}/password"),
            &t.admin,
            json!({"new_password": "Taken#Over2026"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    // Resetting someone else's still works.
    let r = app
        .post(
            &format!("/api/v1/admin/accounts/{id}/password"),
            &t.admin,
            json!({"new_password": "Reset#Other2026"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

/// Item 13: a `self`-scoped audit reader sees the rows it wrote, not a member's rows whose
/// member id happens to equal its account id.
#[tokio::test]
async fn audit_scope_self_matches_only_the_staff_accounts_own_rows() {
    let app = spawn_app().await;
    let t = app.two_counties().await;
    let r = app
        .post(
            "/api/v1/admin/roles",
            &t.admin,
            json!({"name": "本人审计", "permissions": ["audit:read"], "data_scope": "self"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let role = r.data()["id"].as_i64().unwrap();
    let (id, token) = app
        .account_token(&t.admin, "selfaudit", t.a1, &[role])
        .await;
    let org = t.a1;
    app.state
        .db
        .write(move |c| {
            let actor = gonghui::audit::Actor {
                kind: "member",
                id: Some(id),
                name: "某会员".into(),
                org_id: Some(org),
                ip: String::new(),
            };
            gonghui::audit::record(
                c,
                &actor,
                &gonghui::audit::Entry::success("member.consent", "member", id, json!({})),
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let r = app
        .get("/api/v1/admin/audit-logs?page_size=100", &token)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let items = r.data()["items"].as_array().unwrap();
    assert!(
        !items.is_empty(),
        "own rows (the password change) are listed"
    );
    for i in items {
        assert_eq!(i["actor_type"], "admin", "{i}");
        assert_eq!(i["actor_id"], id, "{i}");
    }
}

/// Item 14: a county admin cannot change what every org shares (activity categories,
/// subscription templates); the root admin can; nothing is written on refusal.
#[tokio::test]
async fn county_admins_cannot_change_installation_wide_settings() {
    let app = spawn_app().await;
    let t = app.two_counties().await;
    let before = app.query_i64("SELECT count(*) FROM dictionary_items").await;
    let r = app
        .post(
            "/api/v1/admin/dictionaries/activity_category",
            &t.admin_a,
            json!({"code": "fishing", "name": "钓鱼"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert_eq!(
        app.query_i64("SELECT count(*) FROM dictionary_items").await,
        before
    );
    let templates =
        json!({"membership.approved": {"template_id": "tpl-x", "data": {"thing1": "title"}}});
    let r = app
        .put(
            "/api/v1/admin/settings/subscription-templates",
            &t.admin_a,
            templates.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert_eq!(
        app.query_i64("SELECT count(*) FROM settings WHERE key = 'subscription_templates'")
            .await,
        0
    );
    let r = app
        .post(
            "/api/v1/admin/dictionaries/activity_category",
            &t.admin,
            json!({"code": "fishing", "name": "钓鱼"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
}

/// Run the binary's CLI on `dir` with extra environment.
fn cli(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gonghui"));
    cmd.arg("--data-dir").arg(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), text)
}

/// Item 19: `gonghui check` shows the configuration without the proxy's password or the SMS
/// gateway's key.
#[tokio::test]
async fn check_prints_no_credentials_hidden_in_urls() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = cli(
        dir.path(),
        &["check"],
        &[
            (
                "GONGHUI_WECHAT__PROXY",
                "http://pxuser:pxsecret@10.9.9.9:3128",
            ),
            (
                "GONGHUI_SMS__HTTP__URL",
                "https://sms.example.cn/api?key=gwsecret123&x=1",
            ),
        ],
    );
    assert!(ok, "{out}");
    assert!(
        !out.contains("pxsecret") && !out.contains("gwsecret123"),
        "{out}"
    );
    assert!(out.contains("10.9.9.9"), "{out}");
}

/// Item 16: `gonghui check` records the audit chain's head outside the database; cutting the
/// newest rows off afterwards leaves a chain that verifies on its own but fails the check.
#[tokio::test]
async fn check_catches_audit_rows_cut_off_the_end() {
    let dir = tempfile::tempdir().unwrap();
    {
        let app = spawn_with(|c| c.data_dir = dir.path().to_path_buf()).await;
        let t = app.admin_token().await;
        for code in ["x1", "x2", "x3"] {
            app.create_org(&t, app.root_org().await, code, "county")
                .await;
        }
        let n = app.query_i64("SELECT count(*) FROM audit_logs").await;
        assert!(n >= 3, "{n}");
    }
    let (ok, out) = cli(dir.path(), &["check"], &[]);
    assert!(ok, "{out}");
    assert!(out.contains("audit chain: ok"), "{out}");
    assert!(dir.path().join("audit-head.json").exists());
    let c = rusqlite::Connection::open(dir.path().join("gonghui.db")).unwrap();
    c.execute_batch(
        "DROP TRIGGER audit_logs_no_delete;
         DELETE FROM audit_logs WHERE id = (SELECT max(id) FROM audit_logs);",
    )
    .unwrap();
    drop(c);
    let (ok, out) = cli(dir.path(), &["check"], &[]);
    assert!(!ok, "{out}");
    assert!(out.contains("TRUNCATED"), "{out}");
}

/// Read from `s` until it closes; true when the server closed it within `secs`.
async fn closed_within(s: &mut tokio::net::TcpStream, secs: u64) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // A 408 or similar before closing is fine; keep reading to the close.
            Ok(Ok(_)) => continue,
        }
    }
}

/// Item 20: two hundred half-sent requests are dropped once the header timeout passes, and
/// the server still answers.
#[tokio::test]
async fn half_sent_requests_are_dropped_after_the_header_timeout() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_with(|c| c.server.header_timeout_secs = 1).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut socks = Vec::new();
    for _ in 0..200 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        socks.push(s);
    }
    // An idle keep-alive connection (nothing sent at all) is dropped too.
    socks.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    for s in socks.iter_mut() {
        assert!(closed_within(s, 5).await, "a slow connection was kept open");
    }
    let r = app.get("/healthz", "").await;
    assert_eq!(r.status, StatusCode::OK);
}

/// A connection to `addr` from 127.0.0.2: another client address than the local reverse
/// proxy's 127.0.0.1, which is exempt from the per-address cap.
async fn connect_from_other_address(addr: &str) -> tokio::net::TcpStream {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    sock.connect(addr.parse().unwrap()).await.unwrap()
}

/// Item 20: one address cannot hold more than its share of connections.
#[tokio::test]
async fn connections_per_address_are_capped() {
    let app = spawn_with(|c| c.server.max_connections_per_ip = 3).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_from_other_address(&addr).await);
    }
    // Give the server the time to accept those three.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut extra = connect_from_other_address(&addr).await;
    assert!(closed_within(&mut extra, 3).await, "the fourth was kept");
    // The local proxy address is not capped.
    let r = app.get("/healthz", "").await;
    assert_eq!(r.status, StatusCode::OK);
    drop(held);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut again = connect_from_other_address(&addr).await;
    {
        use tokio::io::AsyncWriteExt;
        again
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
    }
    let mut body = String::new();
    {
        use tokio::io::AsyncReadExt;
        again.read_to_string(&mut body).await.unwrap();
    }
    assert!(
        body.starts_with("HTTP/1.1 200"),
        "a freed slot is usable again: {body}"
    );
}

/// Item 21: a county admin cannot give its accounts a role that a sibling county made (it
/// answers like an unknown role), and the sibling keeps editing its own role.
#[tokio::test]
async fn roles_of_a_sibling_county_cannot_be_assigned() {
    let app = spawn_app().await;
    let t = app.two_counties().await;
    // County B's own role manager makes a role; it belongs to county B.
    let r = app
        .post(
            "/api/v1/admin/roles",
            &t.admin,
            json!({"name": "角色管理", "permissions": ["role:read", "role:write", "member:read"], "data_scope": "org_and_below"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let manager = r.data()["id"].as_i64().unwrap();
    let (_, b_roles) = app
        .account_token(&t.admin, "b_roles", t.b, &[manager])
        .await;
    let r = app
        .post(
            "/api/v1/admin/roles",
            &b_roles,
            json!({"name": "B县会员专干", "permissions": ["member:read"], "data_scope": "org_and_below"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let role_b = r.data()["id"].as_i64().unwrap();
    let before = app.query_i64("SELECT count(*) FROM admins").await;
    let r = app
        .post(
            "/api/v1/admin/accounts",
            &t.admin_a,
            json!({"username": "a_clerk2", "name": "甲", "org_id": t.a1, "role_ids": [role_b], "password": PW}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert!(
        r.body["error"]["fields"]["role_ids"].is_string(),
        "{:?}",
        r.body
    );
    assert_eq!(app.query_i64("SELECT count(*) FROM admins").await, before);
    let r = app
        .put(
            &format!("/api/v1/admin/roles/{role_b}"),
            &b_roles,
            json!({"name": "B县会员专干（改）", "permissions": ["member:read"], "data_scope": "org_and_below"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

/// Item 23: `/metrics` answers a direct request on this host, not one that came through a
/// proxy (forwarding headers) unless it carries the configured token; `/api/docs` has a CSP.
#[tokio::test]
async fn metrics_are_for_this_host_or_the_token_and_docs_carry_a_csp() {
    let app = spawn_with(|c| c.server.metrics_token = "scrape-token-1234".into()).await;
    let get = |xff: Option<&str>, token: Option<&str>| {
        let mut rb = app.client.get(format!("{}/metrics", app.base));
        if let Some(x) = xff {
            rb = rb.header("x-forwarded-for", x);
        }
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        rb.send()
    };
    assert_eq!(get(None, None).await.unwrap().status(), StatusCode::OK);
    let proxied = get(Some("203.0.113.9"), None).await.unwrap();
    assert_eq!(proxied.status(), StatusCode::FORBIDDEN);
    let body = proxied.text().await.unwrap();
    assert!(!body.contains("gonghui_http_requests_total"), "{body}");
    assert_eq!(
        get(Some("203.0.113.9"), Some("wrong-token"))
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(Some("203.0.113.9"), Some("scrape-token-1234"))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    for path in ["/api/docs/", "/api/docs/swagger-initializer.js"] {
        let r = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let csp = r
            .headers()
            .get("content-security-policy")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"),
            "{path}: {csp}"
        );
    }
}

/// Item 24: one password policy: the API states it, the server enforces exactly it.
#[tokio::test]
async fn the_password_policy_is_stated_once_and_enforced_as_stated() {
    let app = spawn_app().await;
    let r = app.get("/api/v1/admin/auth/password-policy", "").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let text = r.data()["text"].as_str().unwrap().to_string();
    assert_eq!(r.data()["min_length"], 8);
    assert!(
        text.contains("至少 8 位") && text.contains("三类"),
        "{text}"
    );
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(readme.contains(&text), "README states another policy");
    let ui = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/admin/src/pages/ChangePassword.vue"
    ))
    .unwrap();
    assert!(
        ui.contains("policy.text") && !ui.contains("至少 10 位"),
        "the UI hint is not the server's"
    );
    let admin = app.admin_token().await;
    let root = app.root_org().await;
    for (pw, ok) in [
        ("Abcdef1", false),
        ("abcdefg1", false),
        ("Abcdefg1", true),
        ("Policy01", true),
    ] {
        let r = app
            .post(
                "/api/v1/admin/accounts",
                &admin,
                json!({"username": format!("u{}", pw.to_lowercase()), "name": "测", "org_id": root, "role_ids": [], "password": pw}),
            )
            .await;
        assert_eq!(r.status.is_success(), ok, "{pw}: {:?}", r.body);
        if !ok {
            assert_eq!(r.body["error"]["fields"]["password"], text.as_str());
        }
    }
}
