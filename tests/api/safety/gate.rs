//! The local list and the moderation queue.

use super::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_blocked_word_in_full_width_with_spaces_is_refused_without_naming_it() {
    let d = desk().await;
    let app = &d.app;
    // Only the whole tree may change the list.
    let r = app
        .post(
            "/api/v1/admin/sensitive-words",
            &d.admin_a,
            json!({"word": "FaPiao", "level": "block"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(
            "/api/v1/admin/sensitive-words",
            &d.admin,
            json!({"word": "FaPiao", "level": "block"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let wid = r.data()["id"].as_i64().unwrap();
    let r = app
        .post(
            "/api/v1/admin/sensitive-words",
            &d.admin,
            json!({"word": "fa piao", "level": "review"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "word_exists"));
    let before = num(app, "SELECT count(*) FROM tickets".into()).await;
    for text in [
        "专业开 ｆａ　Ｐｉａｏ 联系我",
        "代 开 发 票",
        "代开\u{3000}发票",
    ] {
        let mut b = ticket_body("求助");
        b["content"] = json!(text);
        let r = app.post("/api/v1/app/tickets", &d.m.1, b).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "content_rejected"),
            "{text}"
        );
        let msg = r.body["error"]["message"].as_str().unwrap();
        for w in ["fapiao", "FaPiao", "发票", "代开"] {
            assert!(!msg.contains(w), "{msg}");
        }
    }
    assert_eq!(
        num(app, "SELECT count(*) FROM tickets".into()).await,
        before
    );
    // Listed, then deleted: the text passes.
    let l = app
        .get("/api/v1/admin/sensitive-words?level=block&q=fa", &d.admin_a)
        .await;
    assert_eq!(l.data()["total"], 1);
    let r = app
        .delete(&format!("/api/v1/admin/sensitive-words/{wid}"), &d.admin)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let mut b = ticket_body("求助");
    b["content"] = json!("ｆａ　Ｐｉａｏ");
    assert_eq!(
        app.post("/api/v1/app/tickets", &d.m.1, b).await.status,
        StatusCode::CREATED
    );
    let n = num(
        app,
        "SELECT count(*) FROM audit_logs WHERE action IN ('safety.word_add', 'safety.word_delete')"
            .into(),
    )
    .await;
    assert_eq!(n, 2);
}

#[tokio::test]
async fn a_review_word_is_held_and_invisible_until_approved() {
    let d = desk().await;
    let app = &d.app;
    let mut b = ticket_body("情况反映");
    b["content"] = json!("厂里可能发生群 体 事 件，请关注");
    let r = app.post("/api/v1/app/tickets", &d.m.1, b).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.data()["moderation"], "pending");
    let id = r.data()["id"].as_i64().unwrap();
    // Invisible to staff until approved; the member sees it, marked.
    assert!(queue(app, &d.clerk_a1, "").await.is_empty());
    assert_eq!(
        app.get(&staff(id, ""), &d.admin_a).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&mine(id, ""), &d.m.1).await.data()["moderation"],
        "pending"
    );
    // The moderation queue of the county shows the matched rule; the sibling county's does not.
    let q = app.get("/api/v1/admin/moderation", &d.admin_a).await;
    assert_eq!(q.status, StatusCode::OK, "{:?}", q.body);
    assert_eq!(q.data()["total"], 1);
    assert_eq!(q.data()["items"][0]["rule"], "word:群体事件");
    let item = q.data()["items"][0]["id"].as_i64().unwrap();
    assert_eq!(
        app.get("/api/v1/admin/moderation", &d.admin_b).await.data()["total"],
        0
    );
    assert_eq!(
        app.post(
            &format!("/api/v1/admin/moderation/{item}/approve"),
            &d.admin_b,
            json!({})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    // The clerk lacks the permission.
    assert_eq!(
        app.get("/api/v1/admin/moderation", &d.clerk_a1)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = app
        .post(
            &format!("/api/v1/admin/moderation/{item}/approve"),
            &d.admin_a,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["status"], "approved");
    assert_eq!(queue(app, &d.clerk_a1, "").await, vec![id]);
    let r = app
        .post(
            &format!("/api/v1/admin/moderation/{item}/approve"),
            &d.admin_a,
            json!({}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "already_decided")
    );

    // A held member message: staff don't see it until approved; rejected stays hidden and the
    // member is told.
    let r = app
        .post(
            &mine(id, "/messages"),
            &d.m.1,
            reply("再说一次集体上访的事"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let msgs = |v: &serde_json::Value| v["messages"]["items"].as_array().unwrap().len();
    assert_eq!(msgs(app.get(&staff(id, ""), &d.clerk_a1).await.data()), 0);
    assert_eq!(
        app.get(&mine(id, ""), &d.m.1).await.data()["messages"]["items"][0]["moderation"],
        "pending"
    );
    let q = app
        .get("/api/v1/admin/moderation?kind=ticket_message", &d.admin_a)
        .await;
    let item = q.data()["items"][0]["id"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/admin/moderation/{item}/reject"),
            &d.admin_a,
            json!({"reason": ""}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .post(
            &format!("/api/v1/admin/moderation/{item}/reject"),
            &d.admin_a,
            json!({"reason": "内容不实"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(msgs(app.get(&staff(id, ""), &d.clerk_a1).await.data()), 0);
    assert_eq!(
        app.get(&mine(id, ""), &d.m.1).await.data()["messages"]["items"][0]["moderation"],
        "rejected"
    );
    let told = num(app, format!("SELECT count(*) FROM message_recipients mr JOIN messages m ON m.id = mr.message_id WHERE mr.member_id = {} AND m.event = 'content.rejected'", d.m.0)).await;
    assert_eq!(told, 1);
    let n = num(
        app,
        "SELECT count(*) FROM audit_logs WHERE action IN ('safety.approve', 'safety.reject')"
            .into(),
    )
    .await;
    assert_eq!(n, 2);
}

#[tokio::test]
async fn nicknames_and_activity_reviews_pass_the_gate() {
    let d = desk().await;
    let app = &d.app;
    let r = app
        .patch("/api/v1/app/me", &d.m.1, json!({"nickname": "六 合 彩"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "content_rejected")
    );
    // A review word: the old nickname stays until approved.
    let r = app
        .patch("/api/v1/app/me", &d.m.1, json!({"nickname": "群体事件"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["nickname"], "职工0");
    let q = app
        .get("/api/v1/admin/moderation?kind=nickname", &d.admin_a)
        .await;
    assert_eq!(q.data()["total"], 1, "{:?}", q.body);
    let item = q.data()["items"][0]["id"].as_i64().unwrap();
    app.post(
        &format!("/api/v1/admin/moderation/{item}/approve"),
        &d.admin_a,
        json!({}),
    )
    .await;
    let me = app.get("/api/v1/app/me", &d.m.1).await;
    assert_eq!(me.data()["nickname"], "群体事件");
}
