//! Member app side: WeChat and SMS login, token refresh and audiences, phone binding.
//! Consents, real name and privacy rights are in `members_app/privacy.rs`.

pub mod fake;
mod privacy;

use crate::support::*;
use fake::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

const SMS_SEND: &str = "/api/v1/app/auth/sms/send";
const SMS_LOGIN: &str = "/api/v1/app/auth/sms/login";

/// A first WeChat login creates a registered member; a later login with a new code for the same
/// openid finds that member again.
#[tokio::test]
async fn wechat_login_creates_a_member_once_and_finds_it_again() {
    let (app, wx) = spawn_with_wechat().await;
    wx.add_login("code-1", "o_alice", None);
    wx.add_login("code-2", "o_alice", None);
    let r = wechat_login(&app, "code-1").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let m = &r.data()["member"];
    assert_eq!(m["status"], "registered");
    assert_eq!(m["realname_verified"], false);
    let id = m["id"].as_i64().unwrap();
    assert!(
        r.data()["refresh_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    let token = r.data()["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/app/me", token).await.data()["id"], id);
    let q = format!("SELECT openid FROM members WHERE id = {id}");
    assert_eq!(text(&app, q).await.as_deref(), Some("o_alice"));

    let r = wechat_login(&app, "code-2").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["member"]["id"], id);
    assert_eq!(num(&app, "SELECT count(*) FROM members".into()).await, 1);
}

/// A unionid is stored when WeChat sends one, and a member already known by that unionid (but
/// without an openid yet) is linked instead of duplicated.
#[tokio::test]
async fn wechat_login_stores_the_unionid_and_links_a_member_known_by_it() {
    let (app, wx) = spawn_with_wechat().await;
    wx.add_login("c-new", "o_bob", Some("u_bob"));
    let r = wechat_login(&app, "c-new").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let bob = r.data()["member"]["id"].as_i64().unwrap();
    let q = format!("SELECT unionid FROM members WHERE id = {bob}");
    assert_eq!(text(&app, q).await.as_deref(), Some("u_bob"));

    // Carol first came through the H5 page (SMS), then the open platform told us her unionid.
    let (carol, _) = sms_member(&app, "13700001111").await;
    app.exec(
        "UPDATE members SET unionid = 'u_carol' WHERE id = ?1",
        carol,
    )
    .await;
    wx.add_login("c-carol", "o_carol", Some("u_carol"));
    let r = wechat_login(&app, "c-carol").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["member"]["id"], carol);
    let q = format!("SELECT openid FROM members WHERE id = {carol}");
    assert_eq!(text(&app, q).await.as_deref(), Some("o_carol"));
    assert_eq!(num(&app, "SELECT count(*) FROM members".into()).await, 2);
}

/// An unknown code is answered with WeChat's 40029 turned into the Chinese re-enter message, and
/// nothing is stored.
#[tokio::test]
async fn an_invalid_wechat_code_is_a_400_with_the_chinese_message() {
    let (app, _wx) = spawn_with_wechat().await;
    let r = wechat_login(&app, "never-issued").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(
        r.body["error"]["message"],
        "登录凭证无效或已过期，请重新进入小程序"
    );
    assert_eq!(num(&app, "SELECT count(*) FROM members".into()).await, 0);
    assert_eq!(
        num(&app, "SELECT count(*) FROM refresh_tokens".into()).await,
        0
    );
}

/// A login code works once: the second use is WeChat's 40163 and logs nobody in.
#[tokio::test]
async fn a_reused_wechat_code_is_refused() {
    let (app, wx) = spawn_with_wechat().await;
    wx.add_login("once", "o_dan", None);
    assert_eq!(wechat_login(&app, "once").await.status, StatusCode::OK);
    let tokens = num(&app, "SELECT count(*) FROM refresh_tokens".into()).await;
    let r = wechat_login(&app, "once").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(
        r.body["error"]["message"],
        "登录凭证已被使用，请重新进入小程序"
    );
    assert_eq!(num(&app, "SELECT count(*) FROM members".into()).await, 1);
    let after = num(&app, "SELECT count(*) FROM refresh_tokens".into()).await;
    assert_eq!(after, tokens, "no new session for a reused code");
}

/// Without an AppID and AppSecret, WeChat login answers 503 "not configured".
#[tokio::test]
async fn wechat_login_without_configuration_is_503() {
    let app = spawn_app().await;
    let r = wechat_login(&app, "any").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("未配置")
    );
    assert_eq!(num(&app, "SELECT count(*) FROM members".into()).await, 0);
}

/// A malformed phone number is a 400 on `phone` and no code is created.
#[tokio::test]
async fn sms_send_refuses_a_bad_phone_number() {
    let app = spawn_app().await;
    for bad in ["1380013800", "23800138000", "1380013800a", ""] {
        let r = post_anon(&app, SMS_SEND, json!({"phone": bad})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {:?}", r.body);
        assert!(
            r.body["error"]["fields"]["phone"].is_string(),
            "{:?}",
            r.body
        );
    }
    let r = post_anon(&app, SMS_LOGIN, json!({"phone": "12345", "code": "123456"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(num(&app, "SELECT count(*) FROM sms_codes".into()).await, 0);
}

/// One code per phone per minute: the second send is 429 and stores no second code.
#[tokio::test]
async fn sms_send_is_rate_limited_per_phone() {
    let app = spawn_app().await;
    let r = post_anon(&app, SMS_SEND, json!({"phone": "13800138000"})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data(), &json!({}));
    let r = post_anon(&app, SMS_SEND, json!({"phone": "13800138000"})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", r.body);
    assert_eq!(r.code(), "rate_limited");
    assert_eq!(num(&app, "SELECT count(*) FROM sms_codes".into()).await, 1);
    // Only a keyed index of the phone is stored with the code.
    assert!(!has_bytes(&db_bytes(&app), "13800138000"));
    // Another phone is not held back.
    let r = post_anon(&app, SMS_SEND, json!({"phone": "13800138001"})).await;
    assert_eq!(r.status, StatusCode::OK);
}

/// The right code logs in (creating the member with a masked phone) and is then used up.
#[tokio::test]
async fn sms_login_with_the_right_code_works_once() {
    let app = spawn_app().await;
    seed_sms_code(&app, "13911112222", "135790", 300).await;
    let body = json!({"phone": "13911112222", "code": "135790"});
    let r = post_anon(&app, SMS_LOGIN, body.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let m = &r.data()["member"];
    assert_eq!(m["phone_masked"], "139****2222");
    let id = m["id"].as_i64().unwrap();
    let q = format!("SELECT phone_last4 FROM members WHERE id = {id}");
    assert_eq!(text(&app, q).await.as_deref(), Some("2222"));
    let q = format!("SELECT phone_enc FROM members WHERE id = {id}");
    assert!(text(&app, q).await.unwrap().starts_with("v1:"));
    let used = "SELECT count(*) FROM sms_codes WHERE used_at IS NOT NULL";
    assert_eq!(num(&app, used.into()).await, 1);

    let r = post_anon(&app, SMS_LOGIN, body).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "single use: {:?}",
        r.body
    );
    assert_eq!(
        r.body["error"]["fields"]["code"],
        "验证码无效或已过期，请重新获取"
    );
    assert_eq!(num(&app, "SELECT count(*) FROM members".into()).await, 1);
}

/// Each wrong code counts a try; after five the code is locked, even for the right digits.
#[tokio::test]
async fn sms_login_locks_the_code_after_five_wrong_tries() {
    let app = spawn_app().await;
    seed_sms_code(&app, "13922223333", "111111", 300).await;
    let wrong = json!({"phone": "13922223333", "code": "999999"});
    for n in 1..=5 {
        let r = post_anon(&app, SMS_LOGIN, wrong.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
        assert_eq!(r.body["error"]["fields"]["code"], "验证码错误");
        assert_eq!(num(&app, "SELECT tries FROM sms_codes".into()).await, n);
    }
    let right = json!({"phone": "13922223333", "code": "111111"});
    let r = post_anon(&app, SMS_LOGIN, right).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(
        r.body["error"]["fields"]["code"],
        "验证码错误次数过多，请重新获取"
    );
    assert_eq!(num(&app, "SELECT count(*) FROM members".into()).await, 0);
    let used = "SELECT count(*) FROM sms_codes WHERE used_at IS NOT NULL";
    assert_eq!(num(&app, used.into()).await, 0);
}

/// An expired code is refused like an unknown one and creates nobody.
#[tokio::test]
async fn sms_login_refuses_an_expired_code() {
    let app = spawn_app().await;
    seed_sms_code(&app, "13933334444", "222222", -1).await;
    let r = post_anon(
        &app,
        SMS_LOGIN,
        json!({"phone": "13933334444", "code": "222222"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(
        r.body["error"]["fields"]["code"],
        "验证码无效或已过期，请重新获取"
    );
    assert_eq!(num(&app, "SELECT count(*) FROM members".into()).await, 0);
}

/// Refresh hands out a new pair; the old refresh token is then dead, and replaying it ends the
/// whole token family.
#[tokio::test]
async fn app_refresh_tokens_rotate_and_replay_ends_the_family() {
    let app = spawn_app().await;
    seed_sms_code(&app, "13944445555", "333333", 300).await;
    let body = json!({"phone": "13944445555", "code": "333333"});
    let first = post_anon(&app, SMS_LOGIN, body).await;
    let old = first.data()["refresh_token"].as_str().unwrap().to_string();
    let path = "/api/v1/app/auth/refresh";
    let r = post_anon(&app, path, json!({"refresh_token": old})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let new = r.data()["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    let access = r.data()["access_token"].as_str().unwrap();
    assert_eq!(
        app.get("/api/v1/app/me", access).await.status,
        StatusCode::OK
    );

    let r = post_anon(&app, path, json!({"refresh_token": old})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{:?}", r.body);
    let r = post_anon(&app, path, json!({"refresh_token": new})).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "replay revokes the family"
    );
    // An admin refresh token is not a member one.
    let admin = app.login_resp("admin", ADMIN_PW).await;
    let admin_refresh = admin.data()["refresh_token"].as_str().unwrap();
    let r = post_anon(&app, path, json!({"refresh_token": admin_refresh})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

/// Admin tokens do not open `/app/` routes and member tokens do not open `/admin/` routes.
#[tokio::test]
async fn tokens_only_work_for_their_own_audience() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let r = app.get("/api/v1/app/me", &admin).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{:?}", r.body);
    let (_, member) = sms_member(&app, "13955556666").await;
    for path in ["/api/v1/admin/me", "/api/v1/admin/membership/applications"] {
        let r = app.get(path, &member).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}: {:?}", r.body);
    }
    let r = app.call(Method::GET, "/api/v1/app/me", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

/// getPhoneNumber binds the phone WeChat vouches for; a phone that belongs to another member is
/// 409 and leaves the caller unchanged; a used phone code is refused.
#[tokio::test]
async fn binding_a_phone_through_wechat_stores_it_once_per_member() {
    let (app, wx) = spawn_with_wechat().await;
    wx.add_login("l1", "o_erin", None);
    let t = wechat_login(&app, "l1").await.data()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    wx.add_phone("p1", "13866667777");
    let r = app
        .post("/api/v1/app/me/phone", &t, json!({"code": "p1"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["phone_masked"], "138****7777");
    assert_eq!(
        app.get("/api/v1/app/me", &t).await.data()["phone_masked"],
        "138****7777"
    );
    let bound =
        "SELECT count(*) FROM members WHERE phone_bidx IS NOT NULL AND phone_enc LIKE 'v1:%'";
    assert_eq!(num(&app, bound.into()).await, 1);

    let r = app
        .post("/api/v1/app/me/phone", &t, json!({"code": "p1"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "used code: {:?}", r.body);

    wx.add_login("l2", "o_frank", None);
    let frank = wechat_login(&app, "l2").await;
    let ft = frank.data()["access_token"].as_str().unwrap();
    let fid = frank.data()["member"]["id"].as_i64().unwrap();
    wx.add_phone("p2", "13866667777");
    let r = app
        .post("/api/v1/app/me/phone", ft, json!({"code": "p2"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.code(), "phone_taken");
    let q = format!("SELECT phone_bidx FROM members WHERE id = {fid}");
    assert_eq!(text(&app, q).await, None);
    assert!(app.get("/api/v1/app/me", ft).await.data()["phone_masked"].is_null());
}
