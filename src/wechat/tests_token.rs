//! The access-token cache against the fake WeChat server: cached, refreshed once on expiry,
//! one refresh for many concurrent callers, never a retry loop.

use super::fake::{FakeOptions, FakeWechat};
use super::*;
use std::time::Duration;

/// Many token-using calls cost one `stable_token` call.
#[tokio::test]
async fn token_is_fetched_once_and_cached() {
    let fake = FakeWechat::start_with(FakeOptions {
        token_calls: Some(1),
        ..Default::default()
    })
    .await;
    let wx = fake.client();
    for i in 0..5 {
        fake.add_phone_code(&format!("p{i}"), "13900000000");
        wx.phone_number(&format!("p{i}")).await.unwrap();
    }
    // A clone shares the cache.
    let again = wx.clone().access_token().await.unwrap();
    assert!(again.len() > 512, "long tokens are kept whole");
    fake.server.verify().await;
}

/// A token WeChat no longer accepts (42001) is refreshed once and the call retried once.
#[tokio::test]
async fn expired_token_is_refreshed_and_the_call_retried() {
    let fake = FakeWechat::start_with(FakeOptions {
        token_calls: Some(2),
        ..Default::default()
    })
    .await;
    let wx = fake.client();
    fake.add_phone_code("p1", "13900000001");
    fake.add_phone_code("p2", "13900000002");
    let old = wx.access_token().await.unwrap();
    wx.phone_number("p1").await.unwrap();

    fake.expire_token();
    let p = wx.phone_number("p2").await.unwrap();
    assert_eq!(p.pure_phone_number, "13900000002");

    let calls = fake.requests("/wxa/business/getuserphonenumber").await;
    assert_eq!(calls.len(), 3, "one good call, one refused, one retried");
    let new = wx.access_token().await.unwrap();
    assert_ne!(old, new);
    // Our cache was bypassed, but WeChat's normal mode sufficed: no forced refresh spent.
    for r in fake.requests("/cgi-bin/stable_token").await {
        let body: serde_json::Value = r.body_json().unwrap();
        assert_eq!(body["force_refresh"], false);
    }
    fake.server.verify().await;
}

/// Concurrent callers with an empty cache wait for one refresh instead of each calling WeChat.
#[tokio::test]
async fn concurrent_callers_share_one_refresh() {
    let fake = FakeWechat::start_with(FakeOptions {
        token_calls: Some(1),
        token_delay: Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    let wx = fake.client();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let code = format!("c{i}");
        fake.add_phone_code(&code, "13700000000");
        let wx = wx.clone();
        tasks.push(tokio::spawn(async move { wx.phone_number(&code).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    fake.server.verify().await;
}

/// Callers waiting on a failed refresh share its error rather than each retrying.
#[tokio::test]
async fn waiters_share_a_failed_refresh() {
    let fake = FakeWechat::start_with(FakeOptions {
        token_calls: Some(1),
        token_delay: Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    fake.state.lock().unwrap().ip_not_whitelisted = true;
    let wx = fake.client();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let wx = wx.clone();
            tokio::spawn(async move { wx.access_token().await })
        })
        .collect();
    for t in tasks {
        let e = t.await.unwrap().unwrap_err();
        assert_eq!(e.errcode(), Some(40164));
    }
    fake.server.verify().await;
}

/// If the fresh token is refused too, the error is returned: one retry, never a loop. When
/// WeChat hands back the very token it refused, one forced refresh is spent.
#[tokio::test]
async fn refused_again_after_refresh_gives_up() {
    let fake = FakeWechat::start_with(FakeOptions {
        token_calls: Some(3),
        ..Default::default()
    })
    .await;
    let wx = fake.client();
    wx.access_token().await.unwrap();
    fake.state.lock().unwrap().reject_all_tokens = true;

    let e = wx
        .msg_sec_check("o1", SecScene::Comment, "你好")
        .await
        .unwrap_err();
    assert_eq!(e.errcode(), Some(40001));
    assert_eq!(fake.requests("/wxa/msg_sec_check").await.len(), 2);
    let forced: Vec<bool> = fake
        .requests("/cgi-bin/stable_token")
        .await
        .iter()
        .map(|r| r.body_json::<serde_json::Value>().unwrap()["force_refresh"] == true)
        .collect();
    assert_eq!(forced, [false, false, true]);
    fake.server.verify().await;
}

/// A token that expires within the five-minute margin is not reused.
#[tokio::test]
async fn short_lived_token_is_not_cached() {
    let fake = FakeWechat::start_with(FakeOptions {
        token_calls: Some(2),
        expires_in: Some(300),
        ..Default::default()
    })
    .await;
    let wx = fake.client();
    wx.access_token().await.unwrap();
    wx.access_token().await.unwrap();
    fake.server.verify().await;
}
