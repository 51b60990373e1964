//! The calls against the fake WeChat server: login, phone, subscription messages, content
//! check, mini-program codes, and the unconfigured client.

use super::fake::{FakeWechat, PNG};
use super::*;
use crate::config::WechatConfig;
use crate::error::AppError;

/// A login code works once; the second use is 40163 with a Chinese "already used" message.
#[tokio::test]
async fn login_code_is_single_use() {
    let fake = FakeWechat::start().await;
    fake.add_login("c1", "o_member", Some("u_member"));
    let wx = fake.client();

    let s = wx.code2session("c1").await.unwrap();
    assert_eq!(s.openid, "o_member");
    assert_eq!(s.unionid.as_deref(), Some("u_member"));
    assert_eq!(s.session_key, "SESSION_KEY_SECRET==");

    let e = wx.code2session("c1").await.unwrap_err();
    assert_eq!(e.errcode(), Some(40163));
    assert!(matches!(AppError::from(e), AppError::BadRequest(m) if m.contains("已被使用")));
}

/// Without an open-platform binding WeChat sends no unionid.
#[tokio::test]
async fn unionid_is_optional() {
    let fake = FakeWechat::start().await;
    fake.add_login("c2", "o_solo", None);
    let s = fake.client().code2session("c2").await.unwrap();
    assert_eq!(s.unionid, None);
}

/// An unknown code is 40029 and answers the exact "re-enter the mini-program" message.
#[tokio::test]
async fn invalid_login_code_answers_chinese_message() {
    let fake = FakeWechat::start().await;
    let e = fake
        .client()
        .code2session("never-issued")
        .await
        .unwrap_err();
    assert_eq!(e.errcode(), Some(40029));
    match AppError::from(e) {
        AppError::BadRequest(m) => assert_eq!(m, "登录凭证无效或已过期，请重新进入小程序"),
        other => panic!("unexpected {other:?}"),
    }
}

/// Risky users are refused (403), floods rate limited (429), a busy WeChat is a 503.
#[tokio::test]
async fn login_refusals_map_to_distinct_answers() {
    let fake = FakeWechat::start().await;
    let wx = fake.client();
    let risky = AppError::from(wx.code2session("risky").await.unwrap_err());
    assert!(matches!(risky, AppError::Forbidden(_)), "{risky:?}");
    let flood = AppError::from(wx.code2session("flood").await.unwrap_err());
    assert!(matches!(flood, AppError::RateLimited), "{flood:?}");
    let busy = wx.code2session("busy").await.unwrap_err();
    assert!(busy.is_transient());
    assert!(
        matches!(AppError::from(busy), AppError::Unavailable(m) if m == "微信服务繁忙，请稍后再试")
    );
}

/// A wrong AppSecret is an operator-facing 503, and the secret is not in any error text.
#[tokio::test]
async fn wrong_secret_is_a_configuration_error_without_the_secret() {
    let fake = FakeWechat::start().await;
    let wx = WechatClient::new(&WechatConfig {
        appid: fake::APPID.into(),
        secret: "WRONG_SECRET_123".into(),
        api_base: fake.server.uri(),
        proxy: String::new(),
    })
    .unwrap();
    let e = wx.code2session("any").await.unwrap_err();
    assert_eq!(e.errcode(), Some(40125));
    let e2 = wx.phone_number("p").await.unwrap_err();
    assert_eq!(e2.errcode(), Some(40125));
    for text in [format!("{e:?} {e}"), format!("{e2:?} {e2}")] {
        assert!(!text.contains("WRONG_SECRET_123"), "{text}");
    }
    assert!(matches!(AppError::from(e2), AppError::Unavailable(m) if m.contains("wechat.secret")));
}

/// A server outside the IP whitelist gets the admin message.
#[tokio::test]
async fn ip_not_whitelisted_tells_the_admin() {
    let fake = FakeWechat::start().await;
    fake.state.lock().unwrap().ip_not_whitelisted = true;
    let e = fake.client().phone_number("p").await.unwrap_err();
    assert_eq!(e.errcode(), Some(40164));
    assert!(matches!(AppError::from(e), AppError::Unavailable(m) if m.contains("白名单")));
}

/// Every call of an unconfigured client answers "not configured" (503) without reaching WeChat.
#[tokio::test]
async fn unconfigured_client_refuses_every_call() {
    let fake = FakeWechat::start().await;
    let wx = WechatClient::new(&WechatConfig {
        appid: String::new(),
        secret: String::new(),
        api_base: fake.server.uri(),
        proxy: String::new(),
    })
    .unwrap();
    assert!(!wx.is_configured());
    assert!(matches!(
        wx.code2session("c").await,
        Err(WechatError::NotConfigured)
    ));
    assert!(matches!(
        wx.phone_number("c").await,
        Err(WechatError::NotConfigured)
    ));
    assert!(matches!(
        wx.access_token().await,
        Err(WechatError::NotConfigured)
    ));
    let sec = wx.msg_sec_check("o", SecScene::Comment, "hi").await;
    assert!(matches!(sec, Err(WechatError::NotConfigured)));
    let outcome = wx
        .send_subscribe(&SubscribeMessage::new("o", "TPL_OK"))
        .await;
    assert!(outcome.is_retryable(), "{outcome:?}");
    let e = AppError::from(WechatError::NotConfigured);
    assert!(matches!(e, AppError::Unavailable(m) if m.contains("微信小程序未配置")));
    assert!(
        WechatError::NotConfigured
            .to_string()
            .contains("not configured")
    );
    assert!(fake.server.received_requests().await.unwrap().is_empty());
}

/// A phone code gives the number once; reused, it is 40029 with the phone-specific message.
#[tokio::test]
async fn phone_code_is_single_use() {
    let fake = FakeWechat::start().await;
    fake.add_phone_code("pc1", "13800138000");
    let wx = fake.client();
    let p = wx.phone_number("pc1").await.unwrap();
    assert_eq!(p.pure_phone_number, "13800138000");
    assert_eq!(p.country_code, "86");
    let e = wx.phone_number("pc1").await.unwrap_err();
    assert_eq!(e.errcode(), Some(40029));
    assert!(e.user_message().contains("手机号"));
}

/// Long template values are truncated so WeChat accepts them instead of answering 47003.
#[tokio::test]
async fn subscribe_sent_with_truncated_values() {
    let fake = FakeWechat::start().await;
    let msg = SubscribeMessage::new("o_member", "TPL_OK")
        .page("pages/msg/detail?id=1")
        .value("thing1", "关于开展二〇二五年度职工疗休养活动报名工作的通知")
        .value("phrase2", "已审核通过啦")
        .value("time3", "2025-06-01 09:00");
    assert_eq!(fake.client().send_subscribe(&msg).await, SendOutcome::Sent);
    let sent: serde_json::Value = fake.requests("/cgi-bin/message/subscribe/send").await[0]
        .body_json()
        .unwrap();
    assert_eq!(
        sent["data"]["thing1"]["value"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        20
    );
    assert_eq!(sent["data"]["phrase2"]["value"], "已审核通过");
    assert_eq!(sent["lang"], "zh_CN");
}

/// 43101 (refused / no quota) is the routine Refused outcome, not a retryable failure.
#[tokio::test]
async fn subscribe_refused_is_routine() {
    let fake = FakeWechat::start().await;
    let outcome = fake
        .client()
        .send_subscribe(&SubscribeMessage::new("o_refused", "TPL_OK"))
        .await;
    assert_eq!(outcome, SendOutcome::Refused);
    assert!(!outcome.is_retryable());
}

/// Bad data (47003), bad template (40037), bad openid (40003), bad page (41030) are permanent.
#[tokio::test]
async fn subscribe_permanent_failures() {
    let fake = FakeWechat::start().await;
    let wx = fake.client();
    let cases = [
        (
            SubscribeMessage::new("o_member", "TPL_OK").value("time1", "明天上午"),
            47003,
        ),
        (SubscribeMessage::new("o_member", "TPL_GONE"), 40037),
        (SubscribeMessage::new("o_unknown", "TPL_OK"), 40003),
        (
            SubscribeMessage::new("o_member", "TPL_OK").page("pages/missing/x"),
            41030,
        ),
        (SubscribeMessage::new("", "TPL_OK"), 40003),
    ];
    for (msg, code) in cases {
        match wx.send_subscribe(&msg).await {
            SendOutcome::Permanent { errcode, reason } => {
                assert_eq!(errcode, code);
                assert!(!reason.is_empty());
            }
            other => panic!("{code}: unexpected {other:?}"),
        }
    }
}

/// WeChat busy (-1) and an HTTP 502 are transient: the outbox retries them.
#[tokio::test]
async fn subscribe_transient_failures() {
    let fake = FakeWechat::start().await;
    let wx = fake.client();
    let busy = wx
        .send_subscribe(&SubscribeMessage::new("o_busy", "TPL_OK"))
        .await;
    assert!(
        matches!(
            busy,
            SendOutcome::Transient {
                errcode: Some(-1),
                ..
            }
        ),
        "{busy:?}"
    );
    let broken = wx
        .send_subscribe(&SubscribeMessage::new("o_broken", "TPL_OK"))
        .await;
    assert!(
        matches!(broken, SendOutcome::Transient { errcode: None, .. }),
        "{broken:?}"
    );
}

/// errcode 0 with `suggest: risky` is a risky verdict, not a success.
#[tokio::test]
async fn msg_sec_check_decides_on_suggest() {
    let fake = FakeWechat::start().await;
    let wx = fake.client();
    let risky = wx
        .msg_sec_check("o1", SecScene::Comment, "一起去赌博吧")
        .await
        .unwrap();
    assert_eq!(risky.suggest, Suggest::Risky);
    assert_eq!(risky.label, 20001);
    let review = wx
        .msg_sec_check("o1", SecScene::Forum, "这个待审一下")
        .await
        .unwrap();
    assert_eq!(review.suggest, Suggest::Review);
    let pass = wx
        .msg_sec_check("o1", SecScene::Profile, "工会活动真好")
        .await
        .unwrap();
    assert_eq!(pass.suggest, Suggest::Pass);
    let empty = wx
        .msg_sec_check("o1", SecScene::Profile, "   ")
        .await
        .unwrap();
    assert_eq!(empty.suggest, Suggest::Pass);
}

/// Texts over the 2500-character limit are checked in parts; a risky tail is caught.
#[tokio::test]
async fn long_text_is_checked_in_parts() {
    let fake = FakeWechat::start().await;
    let text = format!("{}赌博", "好".repeat(2600));
    let r = fake
        .client()
        .msg_sec_check("o1", SecScene::Forum, &text)
        .await
        .unwrap();
    assert_eq!(r.suggest, Suggest::Risky);
    assert_eq!(fake.requests("/wxa/msg_sec_check").await.len(), 2);
}

/// getUnlimited answers the image bytes, or the JSON error it carries.
#[tokio::test]
async fn unlimited_code_image_or_json_error() {
    let fake = FakeWechat::start().await;
    let wx = fake.client();
    let req = UnlimitedCode {
        scene: "a=12&m=3".into(),
        page: "pages/activity/detail".into(),
        ..Default::default()
    };
    assert_eq!(wx.unlimited_code(&req).await.unwrap().as_ref(), PNG);

    let missing = UnlimitedCode {
        page: "pages/missing/page".into(),
        ..req.clone()
    };
    let e = wx.unlimited_code(&missing).await.unwrap_err();
    assert_eq!(e.errcode(), Some(41030));
    assert!(matches!(AppError::from(e), AppError::BadRequest(_)));

    let too_long = UnlimitedCode {
        scene: "x".repeat(33),
        ..req
    };
    let e = wx.unlimited_code(&too_long).await.unwrap_err();
    assert!(matches!(e, WechatError::InvalidInput { .. }));
    assert_eq!(fake.requests("/wxa/getwxacodeunlimit").await.len(), 2);
}
