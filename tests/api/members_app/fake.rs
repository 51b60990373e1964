//! Helpers for member tests: a fake WeChat server (wiremock) that behaves as WECHAT.md says,
//! members made through SMS login, valid ID numbers, and raw looks at the database files.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// AppID the fake accepts.
pub const APPID: &str = "wx_test_app";
/// AppSecret the fake accepts.
pub const SECRET: &str = "test_secret_value";
/// The access token the fake issues and accepts.
const TOKEN: &str = "FAKE-ACCESS-TOKEN";

#[derive(Default)]
struct Codes {
    logins: HashMap<String, (String, Option<String>)>,
    phones: HashMap<String, String>,
    used: HashSet<String>,
}

/// A running fake WeChat server.
pub struct FakeWechat {
    /// The wiremock server.
    pub server: MockServer,
    codes: Arc<Mutex<Codes>>,
}

fn err(code: i64, msg: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"errcode": code, "errmsg": msg}))
}

fn query(req: &Request, key: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

impl FakeWechat {
    /// Start the fake: jscode2session, stable_token and getuserphonenumber.
    pub async fn start() -> FakeWechat {
        let server = MockServer::start().await;
        let codes = Arc::new(Mutex::new(Codes::default()));
        let s = codes.clone();
        Mock::given(method("GET"))
            .and(path("/sns/jscode2session"))
            .respond_with(move |req: &Request| {
                if query(req, "appid").as_deref() != Some(APPID)
                    || query(req, "secret").as_deref() != Some(SECRET)
                {
                    return err(40125, "invalid appsecret");
                }
                let mut st = s.lock().unwrap();
                let code = query(req, "js_code").unwrap_or_default();
                if st.used.contains(&code) {
                    return err(40163, "code been used");
                }
                let Some((openid, unionid)) = st.logins.get(&code).cloned() else {
                    return err(40029, "invalid code");
                };
                st.used.insert(code);
                let mut v = json!({"openid": openid, "session_key": "SESSION=="});
                if let Some(u) = unionid {
                    v["unionid"] = json!(u);
                }
                ResponseTemplate::new(200).set_body_json(v)
            })
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/cgi-bin/stable_token"))
            .respond_with(|req: &Request| {
                let b: Value = req.body_json().unwrap_or_default();
                if b["appid"] != APPID || b["secret"] != SECRET {
                    return err(40125, "invalid appsecret");
                }
                ResponseTemplate::new(200)
                    .set_body_json(json!({"access_token": TOKEN, "expires_in": 7200}))
            })
            .mount(&server)
            .await;
        let s = codes.clone();
        Mock::given(method("POST"))
            .and(path("/wxa/business/getuserphonenumber"))
            .respond_with(move |req: &Request| {
                if query(req, "access_token").as_deref() != Some(TOKEN) {
                    return err(40001, "invalid credential");
                }
                let mut st = s.lock().unwrap();
                let b: Value = req.body_json().unwrap_or_default();
                let code = b["code"].as_str().unwrap_or_default().to_string();
                // Phone codes are single use: a used one is answered like an unknown one.
                let phone = match st.phones.get(&code).cloned() {
                    Some(p) if !st.used.contains(&code) => p,
                    _ => return err(40029, "invalid code"),
                };
                st.used.insert(code);
                ResponseTemplate::new(200).set_body_json(json!({"errcode": 0, "errmsg": "ok",
                    "phone_info": {"phoneNumber": phone, "purePhoneNumber": phone, "countryCode": "86",
                        "watermark": {"timestamp": 1_700_000_000, "appid": APPID}}}))
            })
            .mount(&server)
            .await;
        FakeWechat { server, codes }
    }

    /// Make `code` a valid `wx.login` code for `openid` (and `unionid`).
    pub fn add_login(&self, code: &str, openid: &str, unionid: Option<&str>) {
        let v = (openid.to_string(), unionid.map(str::to_string));
        self.codes.lock().unwrap().logins.insert(code.into(), v);
    }

    /// Make `code` a valid getPhoneNumber code for `phone`.
    pub fn add_phone(&self, code: &str, phone: &str) {
        let mut st = self.codes.lock().unwrap();
        st.phones.insert(code.into(), phone.into());
    }
}

/// The app configured to talk to a fresh fake WeChat server.
pub async fn spawn_with_wechat() -> (TestApp, FakeWechat) {
    let fake = FakeWechat::start().await;
    let base = fake.server.uri();
    let app = spawn_with(move |cfg| {
        cfg.wechat.appid = APPID.into();
        cfg.wechat.secret = SECRET.into();
        cfg.wechat.api_base = base;
    })
    .await;
    (app, fake)
}

/// Log in through WeChat with a code the fake knows.
pub async fn wechat_login(app: &TestApp, code: &str) -> Resp {
    let body = json!({"code": code});
    app.call(
        reqwest::Method::POST,
        "/api/v1/app/auth/wechat",
        None,
        Some(body),
    )
    .await
}

/// POST without a token.
pub async fn post_anon(app: &TestApp, path: &str, body: Value) -> Resp {
    app.call(reqwest::Method::POST, path, None, Some(body))
        .await
}

/// Store an SMS code for `phone` as if it had been sent, expiring in `ttl` seconds.
pub async fn seed_sms_code(app: &TestApp, phone: &str, code: &str, ttl: i64) {
    let bidx = app.state.cipher.blind_index(phone);
    let hash = gonghui::crypto::sha256_hex(format!("{bidx}:{code}").as_bytes());
    app.state
        .db
        .write(move |c| {
            let now = gonghui::time::now();
            c.execute(
                "INSERT INTO sms_codes (phone_bidx, code_hash, expires_at, ip, created_at) VALUES (?1, ?2, ?3, '127.0.0.1', ?4)",
                rusqlite::params![bidx, hash, now + ttl, now - 120],
            )?;
            Ok(())
        })
        .await
        .unwrap();
}

/// Log in by SMS as `phone` (a new member the first time); returns (member id, access token).
pub async fn sms_member(app: &TestApp, phone: &str) -> (i64, String) {
    seed_sms_code(app, phone, "246810", 300).await;
    let body = json!({"phone": phone, "code": "246810"});
    let r = post_anon(app, "/api/v1/app/auth/sms/login", body).await;
    assert_eq!(r.status, StatusCode::OK, "sms login: {:?}", r.body);
    let id = r.data()["member"]["id"].as_i64().unwrap();
    (id, r.data()["access_token"].as_str().unwrap().to_string())
}

/// A member with the sensitive-data consent and a registered real name.
pub async fn verified_member(app: &TestApp, phone: &str, name: &str, id_no: &str) -> (i64, String) {
    let (id, t) = sms_member(app, phone).await;
    let c = json!({"kind": "sensitive", "version": "2026-01"});
    let r = app.post("/api/v1/app/me/consents", &t, c).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app
        .post(
            "/api/v1/app/me/realname",
            &t,
            json!({"name": name, "id_number": id_no}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "realname: {:?}", r.body);
    (id, t)
}

/// An 18-character ID number: the 17 given digits plus the GB 11643 check character.
pub fn id_number(first17: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8; 11] = b"10X98765432";
    let sum: u32 = first17
        .chars()
        .zip(W)
        .map(|(d, w)| d.to_digit(10).unwrap() * w)
        .sum();
    format!("{first17}{}", C[(sum % 11) as usize] as char)
}

/// The raw bytes of `gonghui.db` followed by those of `gonghui.db-wal` (when present).
pub fn db_bytes(app: &TestApp) -> Vec<u8> {
    let db = app.dir.path().join("gonghui.db");
    let mut out = std::fs::read(&db).expect("read db file");
    if let Ok(wal) = std::fs::read(app.dir.path().join("gonghui.db-wal")) {
        out.extend(wal);
    }
    out
}

/// True when `needle` occurs in `hay`.
pub fn has_bytes(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// One integer from a query (ids in tests are numbers, so formatting SQL is safe here).
pub async fn num(app: &TestApp, sql: String) -> i64 {
    app.state
        .db
        .read(move |c| Ok(c.query_row(&sql, [], |r| r.get(0))?))
        .await
        .unwrap()
}

/// One optional text from a query.
pub async fn text(app: &TestApp, sql: String) -> Option<String> {
    app.state
        .db
        .read(move |c| Ok(c.query_row(&sql, [], |r| r.get(0))?))
        .await
        .unwrap()
}
