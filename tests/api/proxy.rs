//! Client IP behind a reverse proxy: `X-Forwarded-For` counts only from trusted proxies.

use crate::support::*;
use serde_json::json;

async fn login_ip(app: &TestApp, xff: &str) -> String {
    let r = app
        .client
        .post(format!("{}/api/v1/admin/auth/login", app.base))
        .header("x-forwarded-for", xff)
        .json(&json!({"username": "admin", "password": ADMIN_PW}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    app.state
        .db
        .read(|c| {
            Ok(c.query_row(
                "SELECT ip FROM login_logs ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get::<_, String>(0),
            )?)
        })
        .await
        .unwrap()
}

/// From a trusted proxy the forwarded client address is recorded.
#[tokio::test]
async fn forwarded_for_is_used_when_the_peer_is_a_trusted_proxy() {
    let app = spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1".into()]).await;
    assert_eq!(login_ip(&app, "203.0.113.9").await, "203.0.113.9");
}

/// From anyone else the header is ignored: a client cannot pick its own address.
#[tokio::test]
async fn forwarded_for_is_ignored_from_untrusted_peers() {
    let app = spawn_app().await;
    assert_eq!(login_ip(&app, "203.0.113.9").await, "127.0.0.1");
}

/// Rate limiting follows the real client behind the proxy, not the proxy's own address.
#[tokio::test]
async fn login_rate_limit_is_per_forwarded_client() {
    let app = spawn_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1".into()];
        c.auth.login_per_ip_per_minute = 2;
    })
    .await;
    let send = |ip: &'static str| {
        app.client
            .post(format!("{}/api/v1/admin/auth/login", app.base))
            .header("x-forwarded-for", ip)
            .json(&json!({"username": "nobody", "password": "x"}))
            .send()
    };
    assert_eq!(send("198.51.100.1").await.unwrap().status(), 401);
    assert_eq!(send("198.51.100.1").await.unwrap().status(), 401);
    assert_eq!(send("198.51.100.1").await.unwrap().status(), 429);
    assert_eq!(
        send("198.51.100.2").await.unwrap().status(),
        401,
        "another client is not limited"
    );
}
