//! Item 8: whoever receives the SMS code of a staff-created member's phone gets in, but must
//! prove the identity (the ID number's last 6 characters) before the full ID number, the full
//! name or the member card is shown. Attempts are counted and limited.

use super::*;

const ME_IDENTITY: &str = "/api/v1/app/me/identity";

/// A staff-created member (phone 13900000009) and an SMS login to it; (member id, token).
async fn claimed(app: &TestApp) -> (i64, String) {
    let w = app.two_counties().await;
    let mid = staff_member(app, &w.admin_a, w.a1, &zhang_id(), "13900000009").await;
    let r = sms_login(app, "13900000009").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        r.data()["member"]["id"],
        mid,
        "the SMS login lands on the staff record"
    );
    (mid, r.data()["access_token"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn an_sms_code_alone_does_not_disclose_the_id_number() {
    let app = spawn_app().await;
    let (_, t) = claimed(&app).await;
    let idn = zhang_id();
    let me = app.get("/api/v1/app/me", &t).await;
    assert_eq!(me.data()["identity_confirmed"], false, "{:?}", me.body);
    let r = app.get("/api/v1/app/me/export", &t).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(
        !mentions(&r.body, &idn),
        "full ID before the proof: {:?}",
        r.body
    );
    assert!(!mentions(&r.body, "1990-03-07"), "{:?}", r.body);
    assert!(!mentions(&r.body, "张三丰"), "full name before the proof");
    assert_eq!(r.data()["member"]["identity_confirmed"], false);
    let r = app.get("/api/v1/app/me/card", &t).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.code(), "identity_unconfirmed");
}

#[tokio::test]
async fn the_last_six_characters_prove_the_identity_and_wrong_ones_are_limited() {
    let app = spawn_app().await;
    let (mid, t) = claimed(&app).await;
    let idn = zhang_id();
    let r = app.post(ME_IDENTITY, &t, json!({"id_last6": "12"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert!(r.body["error"]["fields"]["id_last6"].is_string());
    let wrong = if &idn[12..] == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..4 {
        let r = app.post(ME_IDENTITY, &t, json!({"id_last6": wrong})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    }
    // The right answer still works after 4 misses.
    let last6 = idn[12..].to_lowercase();
    let r = app.post(ME_IDENTITY, &t, json!({"id_last6": last6})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["identity_confirmed"], true);
    let r = app.get("/api/v1/app/me/export", &t).await;
    assert_eq!(r.data()["member"]["id_number"], idn.as_str());
    assert_eq!(r.data()["member"]["real_name"], "张三丰");
    assert_eq!(
        app.get("/api/v1/app/me/card", &t).await.status,
        StatusCode::OK
    );
    let q = format!(
        "SELECT count(*) FROM audit_logs WHERE action = 'member.identity_confirm' AND target_id = '{mid}'"
    );
    assert_eq!(num(&app, q).await, 5, "every attempt is audited");

    // A second staff record: five wrong answers lock the proof, the right one is then refused.
    let w2 = app.admin_token().await;
    let root = app.root_org().await;
    let other = id_number_of("53290119850615321");
    staff_member(&app, &w2, root, &other, "13900000010").await;
    let r = sms_login(&app, "13900000010").await;
    let t2 = r.data()["access_token"].as_str().unwrap().to_string();
    let wrong = if &other[12..] == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        let r = app.post(ME_IDENTITY, &t2, json!({"id_last6": wrong})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    }
    let r = app
        .post(ME_IDENTITY, &t2, json!({"id_last6": &other[12..]}))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", r.body);
    let r = app.get("/api/v1/app/me/export", &t2).await;
    assert!(!mentions(&r.body, &other));
}

/// A member who typed the real name in themselves has proven it: nothing changes for them.
#[tokio::test]
async fn self_entered_real_names_need_no_proof() {
    let app = spawn_app().await;
    let (_, t) =
        crate::members_app::fake::verified_member(&app, "13900000011", "李四", &zhang_id()).await;
    let me = app.get("/api/v1/app/me", &t).await;
    assert_eq!(me.data()["identity_confirmed"], true, "{:?}", me.body);
    let r = app.get("/api/v1/app/me/export", &t).await;
    assert_eq!(r.data()["member"]["id_number"], zhang_id().as_str());
}

fn id_number_of(first17: &str) -> String {
    id_number(first17)
}
