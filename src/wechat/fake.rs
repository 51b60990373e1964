//! A fake WeChat server for tests (wiremock) that behaves as the docs say: login and phone codes
//! are single use, access tokens expire and are then refused, and the errcodes match WECHAT.md.

use super::WechatClient;
use crate::config::WechatConfig;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// AppID the fake accepts.
pub(crate) const APPID: &str = "wx_fake_app";
/// AppSecret the fake accepts.
pub(crate) const SECRET: &str = "fake_secret_value";
/// A tiny PNG header, enough to tell an image from JSON.
pub(crate) const PNG: &[u8] = b"\x89PNG\r\n\x1a\nfake-image";

/// How the fake is set up.
#[derive(Default)]
pub(crate) struct FakeOptions {
    /// wiremock expectation on the number of `stable_token` calls (checked on drop).
    pub token_calls: Option<u64>,
    /// Delay before `stable_token` answers (to make concurrent callers overlap).
    pub token_delay: Duration,
    /// `expires_in` of issued tokens (default 7200).
    pub expires_in: Option<u64>,
}

/// Server-side truth of the fake.
#[derive(Default)]
pub(crate) struct State {
    logins: HashMap<String, (String, Option<String>)>,
    phones: HashMap<String, String>,
    used: HashSet<String>,
    /// The one token WeChat currently accepts.
    current: Option<String>,
    minted: u32,
    expires_in: u64,
    /// Every token-using API answers 40001 (e.g. the AppSecret was reset elsewhere).
    pub reject_all_tokens: bool,
    /// `stable_token` answers 40164 (server IP not whitelisted).
    pub ip_not_whitelisted: bool,
}

/// The running fake.
pub(crate) struct FakeWechat {
    /// The wiremock server (expectations are checked when it is dropped).
    pub server: MockServer,
    /// Shared state the responders read and change.
    pub state: Arc<Mutex<State>>,
}

fn err(code: i64, msg: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"errcode": code, "errmsg": msg}))
}

fn ok(mut v: Value) -> ResponseTemplate {
    v["errcode"] = json!(0);
    v["errmsg"] = json!("ok");
    ResponseTemplate::new(200).set_body_json(v)
}

fn query(req: &Request, key: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// 40001/42001 unless the request carries the current token.
fn check_token(st: &State, req: &Request) -> Option<ResponseTemplate> {
    let token = query(req, "access_token").unwrap_or_default();
    if st.reject_all_tokens {
        return Some(err(
            40001,
            "invalid credential, access_token is invalid or not latest",
        ));
    }
    if st.current.as_deref() == Some(token.as_str()) {
        return None;
    }
    if token.starts_with("TOKEN-") {
        return Some(err(42001, "access_token expired"));
    }
    Some(err(40001, "invalid credential"))
}

impl FakeWechat {
    /// Start the fake with default options.
    pub(crate) async fn start() -> Self {
        Self::start_with(FakeOptions::default()).await
    }

    /// Start the fake.
    pub(crate) async fn start_with(opts: FakeOptions) -> Self {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State {
            expires_in: opts.expires_in.unwrap_or(7200),
            ..State::default()
        }));
        let s = state.clone();
        Mock::given(method("GET"))
            .and(path("/sns/jscode2session"))
            .respond_with(move |req: &Request| {
                let mut st = s.lock().unwrap();
                if query(req, "appid").as_deref() != Some(APPID) {
                    return err(40013, "invalid appid");
                }
                if query(req, "secret").as_deref() != Some(SECRET) {
                    return err(40125, "invalid appsecret");
                }
                let code = query(req, "js_code").unwrap_or_default();
                match code.as_str() {
                    "risky" => return err(40226, "high risk user"),
                    "flood" => return err(45011, "api minute-quota reach limit"),
                    "busy" => return err(-1, "system error"),
                    _ => {}
                }
                if st.used.contains(&code) {
                    return err(40163, "code been used");
                }
                let Some((openid, unionid)) = st.logins.get(&code).cloned() else {
                    return err(40029, "invalid code");
                };
                st.used.insert(code);
                let mut v = json!({"openid": openid, "session_key": "SESSION_KEY_SECRET=="});
                if let Some(u) = unionid {
                    v["unionid"] = json!(u);
                }
                ResponseTemplate::new(200).set_body_json(v)
            })
            .mount(&server)
            .await;

        let s = state.clone();
        let mut token_mock = Mock::given(method("POST"))
            .and(path("/cgi-bin/stable_token"))
            .respond_with(move |req: &Request| {
                let mut st = s.lock().unwrap();
                stable_token_answer(&mut st, &req.body_json().unwrap_or_default())
                    .set_delay(opts.token_delay)
            });
        if let Some(n) = opts.token_calls {
            token_mock = token_mock.expect(n);
        }
        token_mock.mount(&server).await;

        let s = state.clone();
        Mock::given(method("POST"))
            .and(path("/wxa/business/getuserphonenumber"))
            .respond_with(move |req: &Request| {
                let mut st = s.lock().unwrap();
                if let Some(r) = check_token(&st, req) {
                    return r;
                }
                let body: Value = req.body_json().unwrap_or_default();
                let code = body["code"].as_str().unwrap_or_default().to_string();
                if st.used.contains(&code) {
                    return err(40029, "invalid code");
                }
                let Some(phone) = st.phones.get(&code).cloned() else {
                    return err(40029, "invalid code");
                };
                st.used.insert(code);
                ok(json!({"phone_info": {
                    "phoneNumber": phone, "purePhoneNumber": phone, "countryCode": "86",
                    "watermark": {"timestamp": 1_700_000_000, "appid": APPID}
                }}))
            })
            .mount(&server)
            .await;

        let s = state.clone();
        Mock::given(method("POST"))
            .and(path("/cgi-bin/message/subscribe/send"))
            .respond_with(move |req: &Request| {
                let st = s.lock().unwrap();
                if let Some(r) = check_token(&st, req) {
                    return r;
                }
                subscribe_answer(&req.body_json().unwrap_or_default())
            })
            .mount(&server)
            .await;

        let s = state.clone();
        Mock::given(method("POST"))
            .and(path("/wxa/msg_sec_check"))
            .respond_with(move |req: &Request| {
                let st = s.lock().unwrap();
                if let Some(r) = check_token(&st, req) {
                    return r;
                }
                let body: Value = req.body_json().unwrap_or_default();
                let content = body["content"].as_str().unwrap_or_default();
                if !(1..=4).contains(&body["scene"].as_i64().unwrap_or(0)) {
                    return err(40129, "invalid scene");
                }
                if content.is_empty() {
                    return err(44002, "empty post data");
                }
                // errcode 0 even when risky: the verdict is in `suggest`.
                let (suggest, label) = if content.contains("赌博") {
                    ("risky", 20001)
                } else if content.contains("待审") {
                    ("review", 20006)
                } else {
                    ("pass", 100)
                };
                ok(json!({"result": {"suggest": suggest, "label": label}, "detail": []}))
            })
            .mount(&server)
            .await;

        let s = state.clone();
        Mock::given(method("POST"))
            .and(path("/wxa/getwxacodeunlimit"))
            .respond_with(move |req: &Request| {
                let st = s.lock().unwrap();
                if let Some(r) = check_token(&st, req) {
                    return r;
                }
                let body: Value = req.body_json().unwrap_or_default();
                if body["scene"].as_str().unwrap_or_default().chars().count() > 32 {
                    return err(40169, "invalid length for scene");
                }
                if body["page"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("pages/missing")
                {
                    // WeChat's own error content type.
                    return ResponseTemplate::new(200).set_body_raw(
                        r#"{"errcode":41030,"errmsg":"invalid page"}"#,
                        "application/json; encoding=utf-8",
                    );
                }
                ResponseTemplate::new(200).set_body_raw(PNG, "image/png")
            })
            .mount(&server)
            .await;

        FakeWechat { server, state }
    }

    /// A client configured for this fake (with a trailing slash on the base, as people type it).
    pub(crate) fn client(&self) -> WechatClient {
        WechatClient::new(&WechatConfig {
            appid: APPID.into(),
            secret: SECRET.into(),
            api_base: format!("{}/", self.server.uri()),
            proxy: String::new(),
        })
        .unwrap()
    }

    /// Register a `wx.login` code.
    pub(crate) fn add_login(&self, code: &str, openid: &str, unionid: Option<&str>) {
        let mut st = self.state.lock().unwrap();
        st.logins
            .insert(code.into(), (openid.into(), unionid.map(String::from)));
    }

    /// Register a phone-number button code.
    pub(crate) fn add_phone_code(&self, code: &str, phone: &str) {
        self.state
            .lock()
            .unwrap()
            .phones
            .insert(code.into(), phone.into());
    }

    /// Let the current access token expire on the WeChat side.
    pub(crate) fn expire_token(&self) {
        self.state.lock().unwrap().current = None;
    }

    /// Requests received on `p`.
    pub(crate) async fn requests(&self, p: &str) -> Vec<Request> {
        let all = self.server.received_requests().await.unwrap_or_default();
        all.into_iter().filter(|r| r.url.path() == p).collect()
    }
}

/// stable_token as WeChat answers it: the current token, or a new one when there is none or a
/// forced refresh is asked for.
fn stable_token_answer(st: &mut State, body: &Value) -> ResponseTemplate {
    if body["grant_type"] != "client_credential" {
        return err(40002, "invalid grant_type");
    }
    if body["appid"] != APPID {
        return err(40013, "invalid appid");
    }
    if body["secret"] != SECRET {
        return err(40125, "invalid appsecret");
    }
    if st.ip_not_whitelisted {
        return err(40164, "invalid ip, not in whitelist");
    }
    if body["force_refresh"] == true || st.current.is_none() {
        st.minted += 1;
        // Longer than 512 characters, as WeChat asks callers to allow.
        st.current = Some(format!("TOKEN-{}-{}", st.minted, "x".repeat(600)));
    }
    ok(json!({"access_token": st.current, "expires_in": st.expires_in}))
}

/// subscribeMessage.send as WeChat judges it.
fn subscribe_answer(body: &Value) -> ResponseTemplate {
    match body["touser"].as_str().unwrap_or_default() {
        "o_refused" => return err(43101, "user refuse to accept the msg"),
        "o_busy" => return err(-1, "system error"),
        "o_broken" => {
            return ResponseTemplate::new(502).set_body_raw("<html>502</html>", "text/html");
        }
        "o_unknown" => return err(40003, "invalid openid"),
        _ => {}
    }
    if body["template_id"] != "TPL_OK" {
        return err(40037, "invalid template_id");
    }
    if body["page"]
        .as_str()
        .is_some_and(|p| p.starts_with("pages/missing"))
    {
        return err(41030, "invalid page");
    }
    let data = body["data"].as_object().cloned().unwrap_or_default();
    for (key, v) in data {
        let value = v["value"].as_str().unwrap_or_default();
        let n = value.chars().count();
        let kind = key.trim_end_matches(|c: char| c.is_ascii_digit());
        let bad = match kind {
            "thing" => n > 20 || n == 0,
            "phrase" => n > 5,
            "character_string" => n > 32,
            "time" => !value.starts_with("20"),
            _ => false,
        };
        if bad {
            return err(
                47003,
                &format!("argument invalid! data.{key}.value invalid"),
            );
        }
    }
    ok(json!({"msgid": 1}))
}
