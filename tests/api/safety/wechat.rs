//! msgSecCheck v2 after the local list, for mini-program members: risky refuses, review
//! holds, WeChat down holds (nothing lost).

use super::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// A fake WeChat answering tokens and msgSecCheck v2 (errcode 0; the verdict in `suggest`).
async fn fake() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/cgi-bin/stable_token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "T", "expires_in": 7200})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/wxa/msg_sec_check"))
        .respond_with(|req: &Request| {
            let b: Value = req.body_json().unwrap_or_default();
            let text = b["content"].as_str().unwrap_or_default();
            let (s, l) = if text.contains("赌博") {
                ("risky", 20001)
            } else if text.contains("待审") {
                ("review", 20006)
            } else {
                ("pass", 100)
            };
            assert_eq!(b["version"], 2);
            ResponseTemplate::new(200).set_body_json(json!({"errcode": 0, "errmsg": "ok", "result": {"suggest": s, "label": l}, "detail": []}))
        })
        .mount(&server)
        .await;
    server
}

/// Make the A1 member a mini-program member.
async fn give_openid(d: &Desk) {
    let id = d.m.0;
    d.app
        .exec("UPDATE members SET openid = 'o-test' WHERE id = ?1", id)
        .await;
}

fn wx(c: &mut gonghui::config::Config, base: String) {
    c.wechat.appid = "wx_test_app".into();
    c.wechat.secret = "test_secret_value".into();
    c.wechat.api_base = base;
}

#[tokio::test]
async fn wechat_risky_refuses_and_review_holds() {
    let server = fake().await;
    let base = server.uri();
    let d = desk_with(move |c| wx(c, base)).await;
    give_openid(&d).await;
    let app = &d.app;
    let mut b = ticket_body("求助");
    b["content"] = json!("有人组织赌博");
    let r = app.post("/api/v1/app/tickets", &d.m.1, b).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "content_rejected"),
        "{:?}",
        r.body
    );
    assert!(!r.body.to_string().contains("赌博"));
    let mut b = ticket_body("求助");
    b["content"] = json!("这个待审一下");
    let r = app.post("/api/v1/app/tickets", &d.m.1, b).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.data()["moderation"], "pending");
    let q = app.get("/api/v1/admin/moderation", &d.admin_a).await;
    assert_eq!(q.data()["items"][0]["rule"], "wechat:review:20006");
    // A member without an openid (H5, SMS login) is checked locally only.
    let mut b = ticket_body("求助");
    b["content"] = json!("有人组织赌博");
    assert_eq!(
        app.post("/api/v1/app/tickets", &d.mb.1, b).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.url.path() == "/wxa/msg_sec_check")
            .count(),
        2
    );
}

#[tokio::test]
async fn wechat_down_holds_the_text_for_review() {
    let port = crate::support::free_port();
    let d = desk_with(move |c| wx(c, format!("http://127.0.0.1:{port}"))).await;
    give_openid(&d).await;
    let app = &d.app;
    let id = open(app, &d.m.1, ticket_body("微信不可用")).await;
    assert_eq!(
        app.get(&mine(id, ""), &d.m.1).await.data()["moderation"],
        "pending"
    );
    assert!(queue(app, &d.clerk_a1, "").await.is_empty());
    let q = app.get("/api/v1/admin/moderation", &d.admin_a).await;
    assert_eq!(q.data()["items"][0]["rule"], "wechat:unavailable");
    // The local list still refuses while WeChat is down.
    let mut b = ticket_body("求助");
    b["content"] = json!("代开发票");
    let r = app.post("/api/v1/app/tickets", &d.m.1, b).await;
    assert_eq!(r.code(), "content_rejected");
}
