//! Test harness: spawn the app, log in, call routes, look at the database.

#![allow(dead_code)]

use gonghui::app::AppState;
use gonghui::config::Config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;

/// Password of the bootstrap `admin` in tests (set through config, so no forced change).
pub const ADMIN_PW: &str = "Admin#2026pw";
/// A password that satisfies the policy, for accounts tests create.
pub const PW: &str = "Clerk#2026pw";

/// A running app.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// HTTP client.
    pub client: reqwest::Client,
    /// The state (keys, db) for arranging and asserting.
    pub state: AppState,
    /// Temp data dir, removed on drop.
    pub dir: TempDir,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// A response: status and JSON body (Null when the body is not JSON).
#[derive(Debug)]
pub struct Resp {
    /// Status.
    pub status: StatusCode,
    /// Body as JSON.
    pub body: Value,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    /// `body.data`.
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
    /// `body.error.code`.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// Start the app with defaults.
pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

/// Start the app after adjusting the config.
pub async fn spawn_with(f: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = Config {
        data_dir: dir.path().to_path_buf(),
        admin_password: Some(ADMIN_PW.into()),
        ..Config::default()
    };
    // A test run at 02:00 Beijing time must not start the daily backup in every app.
    cfg.backup.schedule_enabled = false;
    f(&mut cfg);
    let state = AppState::open(cfg).await.expect("open app");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let st = state.clone();
    tokio::spawn(async move {
        let _ = gonghui::app::serve_on(listener, st, async {
            let _ = rx.await;
        })
        .await;
    });
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::builder().no_proxy().build().unwrap(),
        state,
        dir,
        stop: Some(tx),
    }
}

impl TestApp {
    /// Send a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut rb = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("request");
        Self::read(r).await
    }

    /// Turn a reqwest response into a [`Resp`].
    pub async fn read(r: reqwest::Response) -> Resp {
        let status = r.status();
        let headers = r.headers().clone();
        let bytes = r.bytes().await.unwrap_or_default();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            body,
            headers,
        }
    }

    /// GET.
    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call(Method::GET, path, Some(token), None).await
    }
    /// POST JSON.
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }
    /// PATCH JSON.
    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }
    /// PUT JSON.
    pub async fn put(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }
    /// DELETE.
    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Log in and return the response.
    pub async fn login_resp(&self, username: &str, password: &str) -> Resp {
        self.call(
            Method::POST,
            "/api/v1/admin/auth/login",
            None,
            Some(json!({"username": username, "password": password})),
        )
        .await
    }

    /// Log in and return the access token (panics on failure).
    pub async fn login(&self, username: &str, password: &str) -> String {
        let r = self.login_resp(username, password).await;
        assert_eq!(r.status, StatusCode::OK, "login {username}: {:?}", r.body);
        r.data()["access_token"].as_str().unwrap().to_string()
    }

    /// Token of the bootstrap super admin.
    pub async fn admin_token(&self) -> String {
        self.login("admin", ADMIN_PW).await
    }

    /// Create an org under `parent_id` as `token`; returns its id.
    pub async fn create_org(&self, token: &str, parent_id: i64, code: &str, kind: &str) -> i64 {
        let r = self.post("/api/v1/admin/orgs", token, json!({"parent_id": parent_id, "name": format!("组织{code}"), "code": code, "kind": kind})).await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "create org {code}: {:?}",
            r.body
        );
        r.data()["id"].as_i64().unwrap()
    }

    /// Create an account with roles, change its first password, and return a usable token.
    pub async fn account_token(
        &self,
        admin: &str,
        username: &str,
        org_id: i64,
        role_ids: &[i64],
    ) -> (i64, String) {
        let r = self
            .post("/api/v1/admin/accounts", admin, json!({"username": username, "name": username, "org_id": org_id, "role_ids": role_ids, "password": PW}))
            .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "create account {username}: {:?}",
            r.body
        );
        let id = r.data()["id"].as_i64().unwrap();
        let t = self.login(username, PW).await;
        let r = self
            .post(
                "/api/v1/admin/auth/password",
                &t,
                json!({"old_password": PW, "new_password": "Changed#2026"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        (id, self.login(username, "Changed#2026").await)
    }

    /// Run a read query on the database.
    pub async fn query_i64(&self, sql: &'static str) -> i64 {
        self.state
            .db
            .read(move |c| Ok(c.query_row(sql, [], |r| r.get(0))?))
            .await
            .unwrap()
    }

    /// Run one statement with one parameter through the writer, as the app's own writes go
    /// (so the writer's change hooks and caches see it): arranging a state no route makes.
    pub async fn exec<P: rusqlite::ToSql + Send + 'static>(&self, sql: &'static str, param: P) {
        self.state
            .db
            .write(move |c| {
                c.execute(sql, [param])?;
                Ok(())
            })
            .await
            .unwrap();
    }

    /// The `/metrics` text, as this (loopback) test client sees it.
    pub async fn metrics_text(&self) -> String {
        self.client
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Id of the root org.
    pub async fn root_org(&self) -> i64 {
        self.query_i64("SELECT id FROM orgs WHERE parent_id IS NULL")
            .await
    }

    /// A signed member-audience token, for "app token on admin route" checks.
    pub fn app_token(&self) -> String {
        gonghui::auth::tokens::issue_access(&self.state.keys, "app", 1, 1, 600).unwrap()
    }
}

/// Built-in role ids (from migration 0001).
pub mod roles {
    /// 系统管理员.
    pub const SYSTEM_ADMIN: i64 = 1;
    /// 安全保密管理员.
    pub const SECURITY_ADMIN: i64 = 2;
    /// 安全审计员.
    pub const AUDIT_ADMIN: i64 = 3;
    /// 县级工会管理员 (org_and_below).
    pub const COUNTY_ADMIN: i64 = 4;
    /// 基层工会专干 (org).
    pub const GRASSROOTS_CLERK: i64 = 5;
}

/// A free TCP port on 127.0.0.1 (for servers started as child processes).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Watches over a child process: SIGKILLs `pid` should this test process die first (an
/// interrupted or killed test run), so that no server outlives its test. `marker` must occur
/// in the target's command line, so a recycled pid is never hit. Kill the guard when done.
pub fn guard(pid: u32, marker: &str) -> std::process::Child {
    const SCRIPT: &str = r#"while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done
if kill -0 "$2" 2>/dev/null && grep -qaF -- "$3" "/proc/$2/cmdline"; then kill -9 "$2"; fi"#;
    let me = std::process::id().to_string();
    std::process::Command::new("sh")
        .args(["-c", SCRIPT, "guard", &me, &pid.to_string(), marker])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start guard")
}

/// Root → county `a` → grassroots `a1`; county `b` → grassroots `b1`; a county admin for each
/// county and a grassroots clerk of `a1` (tokens). The common data-scope arrangement.
pub struct TwoCounties {
    /// Super admin token.
    pub admin: String,
    /// County A.
    pub a: i64,
    /// Grassroots A1 under A.
    pub a1: i64,
    /// County B (sibling of A).
    pub b: i64,
    /// Grassroots B1 under B.
    pub b1: i64,
    /// County admin of A.
    pub admin_a: String,
    /// County admin of B.
    pub admin_b: String,
    /// Grassroots clerk of A1.
    pub clerk_a1: String,
}

impl TestApp {
    /// Arrange [`TwoCounties`].
    pub async fn two_counties(&self) -> TwoCounties {
        let admin = self.admin_token().await;
        let root = self.root_org().await;
        let a = self.create_org(&admin, root, "ca", "county").await;
        let a1 = self.create_org(&admin, a, "ca1", "grassroots").await;
        let b = self.create_org(&admin, root, "cb", "county").await;
        let b1 = self.create_org(&admin, b, "cb1", "grassroots").await;
        let (_, admin_a) = self
            .account_token(&admin, "county_a", a, &[roles::COUNTY_ADMIN])
            .await;
        let (_, admin_b) = self
            .account_token(&admin, "county_b", b, &[roles::COUNTY_ADMIN])
            .await;
        let (_, clerk_a1) = self
            .account_token(&admin, "clerk_a1", a1, &[roles::GRASSROOTS_CLERK])
            .await;
        TwoCounties {
            admin,
            a,
            a1,
            b,
            b1,
            admin_a,
            admin_b,
            clerk_a1,
        }
    }
}

/// A `gonghui serve` child process on a free port with [`ADMIN_PW`] as the bootstrap
/// password; it and its [`guard`] are SIGKILLed when dropped (if still running).
pub struct Server {
    /// The process.
    pub child: std::process::Child,
    guard: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        for c in [&mut self.child, &mut self.guard] {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Server {
    /// Start the binary on `dir` and wait (60 s at most) for `/healthz`. `shell` runs it
    /// behind `sh -c "<shell>; exec …"` (e.g. `ulimit -v …`); `log` receives its stderr.
    pub async fn start(
        dir: &std::path::Path,
        http: &reqwest::Client,
        shell: Option<&str>,
        log: Option<&std::path::Path>,
    ) -> Server {
        use std::process::{Command, Stdio};
        use std::time::{Duration, Instant};
        let addr = format!("127.0.0.1:{}", free_port());
        let bin = env!("CARGO_BIN_EXE_gonghui");
        let mut cmd = match shell {
            Some(pre) => {
                let mut c = Command::new("sh");
                c.args(["-c", &format!("{pre}; exec \"$0\" \"$@\"")])
                    .arg(bin);
                c
            }
            None => Command::new(bin),
        };
        let stderr = match log {
            Some(p) => Stdio::from(std::fs::File::create(p).unwrap()),
            None => Stdio::null(),
        };
        let child = cmd
            .args([
                "--data-dir",
                dir.to_str().unwrap(),
                "--listen",
                &addr,
                "serve",
            ])
            .env("GONGHUI_ADMIN_PASSWORD", ADMIN_PW)
            .env("GONGHUI_BACKUP__SCHEDULE_ENABLED", "false")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start gonghui");
        let mut srv = Server {
            guard: guard(child.id(), dir.to_str().unwrap()),
            child,
            base: format!("http://{addr}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = http.get(format!("{}/healthz", srv.base)).send().await
                && r.status() == StatusCode::OK
            {
                return srv;
            }
            if let Some(status) = srv.child.try_wait().unwrap() {
                let log = log.map(std::fs::read_to_string);
                panic!("gonghui exited ({status}) before answering: {log:?}");
            }
            assert!(
                Instant::now() < deadline,
                "gonghui did not answer /healthz within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Log in as the bootstrap admin (no forced change); the access token.
    pub async fn admin_token(&self, http: &reqwest::Client) -> String {
        let r = http
            .post(format!("{}/api/v1/admin/auth/login", self.base))
            .json(&json!({"username": "admin", "password": ADMIN_PW}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["data"]["must_change_password"], false);
        v["data"]["access_token"].as_str().unwrap().to_string()
    }
}
