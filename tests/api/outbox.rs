//! The outbox worker against a fake WeChat server: sends with the right template, openid and
//! fitted data; refusals and bad requests are final; busy answers are retried with backoff;
//! nothing is lost or sent twice across a restart; no credit, no call. Also the delivery log.

use crate::members_app::fake::*;
use crate::support::*;
use gonghui::messages::{Notice, notify_member};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, ResponseTemplate};

const SEND_PATH: &str = "/cgi-bin/message/subscribe/send";
const TEMPLATES: &str = "/api/v1/admin/settings/subscription-templates";

/// Answers the fake gives to the next sends, in order (`{"errcode":0}` once exhausted).
type Script = Arc<Mutex<VecDeque<ResponseTemplate>>>;

/// Mount subscribeMessage.send on the fake, answering from a script.
async fn mount_send(fake: &FakeWechat) -> Script {
    let script: Script = Arc::default();
    let s = script.clone();
    Mock::given(method("POST"))
        .and(path(SEND_PATH))
        .respond_with(move |req: &Request| {
            let token = req.url.query_pairs().find(|(k, _)| k == "access_token");
            if token.map(|(_, v)| v.into_owned()).as_deref() != Some("FAKE-ACCESS-TOKEN") {
                return ResponseTemplate::new(200)
                    .set_body_json(json!({"errcode": 40001, "errmsg": "invalid credential"}));
            }
            s.lock().unwrap().pop_front().unwrap_or_else(|| {
                ResponseTemplate::new(200)
                    .set_body_json(json!({"errcode": 0, "errmsg": "ok", "msgid": 1}))
            })
        })
        .mount(&fake.server)
        .await;
    script
}

fn wx_err(code: i64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"errcode": code, "errmsg": "scripted"}))
}

fn fast_outbox(cfg: &mut gonghui::config::Config) {
    cfg.outbox.poll_interval_ms = 50;
    cfg.outbox.retry_base_secs = 1;
    cfg.outbox.retry_max_secs = 2;
}

/// The app with a fake WeChat (including subscribe/send) and a fast outbox.
async fn spawn() -> (TestApp, FakeWechat, Script) {
    let fake = FakeWechat::start().await;
    let script = mount_send(&fake).await;
    let base = fake.server.uri();
    let app = spawn_with(move |cfg| {
        cfg.wechat.appid = APPID.into();
        cfg.wechat.secret = SECRET.into();
        cfg.wechat.api_base = base;
        fast_outbox(cfg);
    })
    .await;
    (app, fake, script)
}

fn templates() -> Value {
    json!({"membership.approved": {"template_id": "TPL_OK", "page": "pages/me/index",
        "data": {"thing1": "title", "phrase2": "result", "time3": "time", "thing4": "reason"}},
        "membership.rejected": {"template_id": "TPL_REJ", "data": {"thing1": "title", "thing2": "reason"}}})
}

async fn configure(app: &TestApp) -> String {
    let admin = app.admin_token().await;
    let r = app.put(TEMPLATES, &admin, templates()).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    admin
}

/// A member logged in through WeChat (so with an openid): (id, token).
async fn wx_member(app: &TestApp, fake: &FakeWechat, openid: &str) -> (i64, String) {
    let code = format!("code-{openid}");
    fake.add_login(&code, openid, None);
    let r = wechat_login(app, &code).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let id = r.data()["member"]["id"].as_i64().unwrap();
    (id, r.data()["access_token"].as_str().unwrap().to_string())
}

async fn accept(app: &TestApp, token: &str, tpl: &str) {
    let r = app
        .post(
            "/api/v1/app/subscriptions",
            token,
            json!({"template_ids": [tpl]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["accepted"], json!([tpl]));
}

/// Queue an approval notice for `member` through the public notify API.
async fn notify(state: &gonghui::app::AppState, member: i64, key: &str) {
    let notice = Notice {
        event: "membership.approved",
        title: "入会申请已通过".into(),
        content: "欢迎加入工会".into(),
        link: None,
        org_id: None,
        fields: json!({"title": "关于入会申请审核结果的通知请及时查看并确认", "result": "审核已经通过",
            "time": "2026-12-01T01:00:00Z"}),
        key: key.into(),
    };
    state
        .db
        .write(move |c| notify_member(c, member, &notice))
        .await
        .unwrap();
}

/// Status, reason code and attempts of the newest outbox row of `member`.
async fn row(app: &TestApp, member: i64) -> (String, Option<String>, i64) {
    app.state
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT status, reason_code, attempts FROM outbox WHERE member_id = ?1 ORDER BY id DESC LIMIT 1",
                [member],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?)
        })
        .await
        .unwrap()
}

/// Wait until the newest row of `member` is no longer pending.
async fn settled(app: &TestApp, member: i64, within: Duration) -> (String, Option<String>, i64) {
    let start = Instant::now();
    loop {
        let r = row(app, member).await;
        if r.0 != "pending" || start.elapsed() > within {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn sends(fake: &FakeWechat) -> Vec<Value> {
    let all = fake.server.received_requests().await.unwrap_or_default();
    all.into_iter()
        .filter(|r| r.url.path() == SEND_PATH)
        .map(|r| r.body_json().unwrap())
        .collect()
}

async fn credits(app: &TestApp, member: i64) -> i64 {
    num(
        app,
        format!(
            "SELECT COALESCE(sum(credits), 0) FROM subscription_credits WHERE member_id = {member}"
        ),
    )
    .await
}

/// A subscribed member gets the message with the configured template, their openid and data
/// fitted to WeChat's limits; the credit is spent, so the next notice is not sent.
#[tokio::test]
async fn subscribed_member_gets_the_message_once_per_credit() {
    let (app, fake, _) = spawn().await;
    configure(&app).await;
    let (m, t) = wx_member(&app, &fake, "o_member_1").await;
    accept(&app, &t, "TPL_OK").await;
    notify(&app.state, m, "k1").await;
    let (status, _, attempts) = settled(&app, m, Duration::from_secs(5)).await;
    assert_eq!((status.as_str(), attempts), ("sent", 1));
    let got = sends(&fake).await;
    assert_eq!(got.len(), 1);
    let b = &got[0];
    assert_eq!(b["touser"], "o_member_1");
    assert_eq!(b["template_id"], "TPL_OK");
    assert_eq!(b["page"], "pages/me/index");
    assert_eq!(
        b["data"]["thing1"]["value"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        20
    );
    assert_eq!(b["data"]["phrase2"]["value"], "审核已经通");
    assert_eq!(b["data"]["time3"]["value"], "2026-12-01 09:00");
    assert_eq!(b["data"]["thing4"]["value"], "-");
    assert_eq!(credits(&app, m).await, 0);

    // No credit left: closed as skipped without calling WeChat.
    notify(&app.state, m, "k2").await;
    let (status, code, _) = settled(&app, m, Duration::from_secs(5)).await;
    assert_eq!(
        (status.as_str(), code.as_deref()),
        ("failed", Some("skipped_no_credit"))
    );
    assert_eq!(sends(&fake).await.len(), 1);
}

/// No template for the event, or no subscription at all: skipped with a reason, no call.
#[tokio::test]
async fn nothing_is_sent_without_template_or_credit() {
    let (app, fake, _) = spawn().await;
    let (m, _) = wx_member(&app, &fake, "o_member_2").await;
    notify(&app.state, m, "k1").await;
    let (status, code, _) = settled(&app, m, Duration::from_secs(5)).await;
    assert_eq!(
        (status.as_str(), code.as_deref()),
        ("failed", Some("skipped_no_template"))
    );
    configure(&app).await;
    notify(&app.state, m, "k2").await;
    let (_, code, _) = settled(&app, m, Duration::from_secs(5)).await;
    assert_eq!(code.as_deref(), Some("skipped_no_credit"));
    let q = format!("SELECT last_error FROM outbox WHERE member_id = {m} ORDER BY id DESC LIMIT 1");
    assert!(text(&app, q).await.unwrap().contains("未订阅"));
    assert!(sends(&fake).await.is_empty());
}

/// 43101 is recorded as refused and never retried.
#[tokio::test]
async fn refusal_is_recorded_and_not_retried() {
    let (app, fake, script) = spawn().await;
    configure(&app).await;
    let (m, t) = wx_member(&app, &fake, "o_member_3").await;
    accept(&app, &t, "TPL_OK").await;
    script.lock().unwrap().push_back(wx_err(43101));
    notify(&app.state, m, "k1").await;
    let (status, code, attempts) = settled(&app, m, Duration::from_secs(5)).await;
    assert_eq!(
        (status.as_str(), code.as_deref(), attempts),
        ("refused", Some("refused"), 1)
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sends(&fake).await.len(), 1, "no retry after 43101");
    assert_eq!(credits(&app, m).await, 0);
}

/// A busy answer (-1) and a 502 are retried after the backoff, then the send succeeds; a bad
/// template (40037) is final with its reason.
#[tokio::test]
async fn transient_errors_are_retried_with_backoff() {
    let (app, fake, script) = spawn().await;
    configure(&app).await;
    let (m, t) = wx_member(&app, &fake, "o_member_4").await;
    accept(&app, &t, "TPL_OK").await;
    script.lock().unwrap().push_back(wx_err(-1));
    script
        .lock()
        .unwrap()
        .push_back(ResponseTemplate::new(502).set_body_raw("<html>502</html>", "text/html"));
    let start = Instant::now();
    notify(&app.state, m, "k1").await;
    let (status, _, attempts) = settled(&app, m, Duration::from_secs(10)).await;
    assert_eq!((status.as_str(), attempts), ("sent", 3));
    // Backoff 1 s then 2 s (whole seconds, so at least one second in all).
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(sends(&fake).await.len(), 3);

    accept(&app, &t, "TPL_OK").await;
    script.lock().unwrap().push_back(wx_err(40037));
    notify(&app.state, m, "k2").await;
    let (status, code, attempts) = settled(&app, m, Duration::from_secs(5)).await;
    assert_eq!(
        (status.as_str(), code.as_deref(), attempts),
        ("failed", Some("wechat_rejected"), 1)
    );
    let q = format!("SELECT last_error FROM outbox WHERE member_id = {m} ORDER BY id DESC LIMIT 1");
    assert!(text(&app, q).await.unwrap().contains("40037"));
}

/// A row queued while no worker runs is sent exactly once by the next server on the same data.
#[tokio::test]
async fn restart_between_enqueue_and_send_sends_exactly_once() {
    let fake = FakeWechat::start().await;
    mount_send(&fake).await;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_path_buf();
    let member = {
        // The first "server": state only, no worker running.
        let cfg = gonghui::config::Config {
            data_dir: data_dir.clone(),
            admin_password: Some(ADMIN_PW.into()),
            ..Default::default()
        };
        let state = gonghui::app::AppState::open(cfg).await.unwrap();
        let tpl = templates().to_string();
        let m = state
            .db
            .write(move |c| {
                c.execute(
                    "INSERT INTO members (openid, status, created_at, updated_at) VALUES ('o_restart', 'active', 0, 0)",
                    [],
                )?;
                let m = c.last_insert_rowid();
                c.execute(
                    "INSERT INTO settings (key, value, updated_at) VALUES ('subscription_templates', ?1, 0)",
                    [tpl],
                )?;
                c.execute(
                    "INSERT INTO subscription_credits (member_id, template_id, credits, updated_at) VALUES (?1, 'TPL_OK', 5, 0)",
                    [m],
                )?;
                Ok(m)
            })
            .await
            .unwrap();
        notify(&state, m, "restart-1").await;
        m
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(sends(&fake).await.is_empty());

    let base = fake.server.uri();
    let app = spawn_with(move |cfg| {
        cfg.data_dir = data_dir;
        cfg.wechat.appid = APPID.into();
        cfg.wechat.secret = SECRET.into();
        cfg.wechat.api_base = base;
        fast_outbox(cfg);
    })
    .await;
    let (status, _, attempts) = settled(&app, member, Duration::from_secs(5)).await;
    assert_eq!((status.as_str(), attempts), ("sent", 1));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sends(&fake).await.len(), 1);
    assert_eq!(credits(&app, member).await, 4);
    drop(app);
    drop(dir);
}

/// Membership approval: the member sees the notice in the message center, WeChat gets the
/// subscription message, and the delivery log shows it masked to staff in scope only.
#[tokio::test]
async fn approval_notifies_in_app_and_through_wechat() {
    let (app, fake, _) = spawn().await;
    let admin = configure(&app).await;
    let root = app.root_org().await;
    let a = app.create_org(&admin, root, "ca", "county").await;
    let b = app.create_org(&admin, root, "cb", "county").await;
    let (_, admin_a) = app
        .account_token(&admin, "county_a", a, &[roles::COUNTY_ADMIN])
        .await;
    let (_, admin_b) = app
        .account_token(&admin, "county_b", b, &[roles::COUNTY_ADMIN])
        .await;
    let (m, t) = wx_member(&app, &fake, "o_applicant").await;
    let r = app
        .post(
            "/api/v1/app/me/consents",
            &t,
            json!({"kind": "sensitive", "version": "2026-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let idn = id_number("32010219900101123");
    let r = app
        .post(
            "/api/v1/app/me/realname",
            &t,
            json!({"name": "李建国", "id_number": idn}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    accept(&app, &t, "TPL_OK").await;
    let r = app
        .post(
            "/api/v1/app/membership/applications",
            &t,
            json!({"org_id": a, "work_unit": "县第一中学"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let aid = r.data()["id"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/admin/membership/applications/{aid}/approve"),
            &admin_a,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);

    let r = app.get("/api/v1/app/messages", &t).await;
    let items = r.data()["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{:?}", r.body);
    assert_eq!(items[0]["title"], "入会申请已通过");
    assert_eq!(items[0]["event"], "membership.approved");
    assert_eq!(items[0]["read"], false);
    let (status, _, _) = settled(&app, m, Duration::from_secs(5)).await;
    assert_eq!(status, "sent");
    let got = sends(&fake).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["touser"], "o_applicant");
    assert_eq!(got[0]["data"]["thing1"]["value"], "入会申请");
    assert_eq!(got[0]["data"]["phrase2"]["value"], "已通过");

    let r = app
        .get("/api/v1/admin/outbox?status=sent&kind=subscribe", &admin_a)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["total"], 1);
    let d = &r.data()["items"][0];
    assert_eq!(d["event"], "membership.approved");
    assert_eq!(d["member_name"], "李**");
    assert!(!r.body.to_string().contains("李建国"));
    let r = app.get("/api/v1/admin/outbox", &admin_b).await;
    assert_eq!(
        r.data()["total"],
        0,
        "other county's deliveries are out of scope"
    );
    let r = app.get("/api/v1/admin/outbox?status=bogus", &admin_a).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}
