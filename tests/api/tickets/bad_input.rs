//! Bad inputs: documented 4xx, nothing changed.

use super::*;

async fn snapshot(app: &TestApp) -> String {
    let mut out = String::new();
    for t in [
        "tickets",
        "ticket_messages",
        "file_refs",
        "moderation_items",
        "messages",
    ] {
        out.push_str(
            &num(app, format!("SELECT count(*) FROM {t}"))
                .await
                .to_string(),
        );
        out.push(',');
    }
    out.push_str(
        &num(
            app,
            "SELECT coalesce(sum(updated_at), 0) FROM tickets".into(),
        )
        .await
        .to_string(),
    );
    out
}

#[tokio::test]
async fn bad_inputs_are_refused_and_change_nothing() {
    let d = desk().await;
    let app = &d.app;
    let id = open(app, &d.m.1, ticket_body("坏输入")).await;
    let before = snapshot(app).await;

    // Empty text.
    let mut b = ticket_body("空");
    b["content"] = json!("   ");
    let r = app.post("/api/v1/app/tickets", &d.m.1, b).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body["error"]["fields"]["content"].is_string(),
        "{:?}",
        r.body
    );
    let r = app.post(&mine(id, "/messages"), &d.m.1, reply("")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .post(&staff(id, "/messages"), &d.clerk_a1, reply(" "))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Ten images.
    let mut b = ticket_body("十张");
    b["file_ids"] = json!((1..=10).collect::<Vec<i64>>());
    let r = app.post("/api/v1/app/tickets", &d.m.1, b).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body["error"]["fields"]["file_ids"]
            .as_str()
            .unwrap()
            .contains("9")
    );
    // Someone else's image.
    let other = upload(app, &d.mb.1, false).await;
    let mut b = ticket_body("别人的图");
    b["file_ids"] = json!([other]);
    let r = app.post("/api/v1/app/tickets", &d.m.1, b).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    let r = app
        .post(
            &mine(id, "/messages"),
            &d.m.1,
            json!({"content": "图", "file_ids": [other]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .post(
            &staff(id, "/messages"),
            &d.clerk_a1,
            json!({"content": "图", "file_ids": [other]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Bad category, phone, rating value, unknown field.
    let mut b = ticket_body("分类");
    b["category_id"] = json!(99);
    assert_eq!(
        app.post("/api/v1/app/tickets", &d.m.1, b).await.status,
        StatusCode::BAD_REQUEST
    );
    let mut b = ticket_body("电话");
    b["callback_phone"] = json!("12345");
    assert_eq!(
        app.post("/api/v1/app/tickets", &d.m.1, b).await.status,
        StatusCode::BAD_REQUEST
    );
    let mut b = ticket_body("字段");
    b["evil"] = json!(1);
    assert_eq!(
        app.post("/api/v1/app/tickets", &d.m.1, b).await.status,
        StatusCode::BAD_REQUEST
    );
    let r = app
        .post(&mine(id, "/rating"), &d.m.1, json!({"rating": 6}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Rating an open ticket.
    let r = app
        .post(&mine(id, "/rating"), &d.m.1, json!({"rating": 4}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "ticket_not_resolved")
    );
    // Empty transfer note, transfer to the same org.
    let r = app
        .post(
            &staff(id, "/transfer"),
            &d.admin_a,
            json!({"org_id": d.a2, "note": ""}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .post(
            &staff(id, "/transfer"),
            &d.admin_a,
            json!({"org_id": d.a1, "note": "同一组织"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "same_org"));
    // Bad filters.
    assert_eq!(
        app.get("/api/v1/admin/tickets?status=lost", &d.admin_a)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get("/api/v1/admin/tickets/stats?days=0", &d.admin_a)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(snapshot(app).await, before);

    // Rating twice; replying to a closed ticket.
    app.post(&staff(id, "/resolve"), &d.clerk_a1, json!({}))
        .await;
    let r = app
        .post(&mine(id, "/rating"), &d.m.1, json!({"rating": 3}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let closed = snapshot(app).await;
    let r = app
        .post(&mine(id, "/rating"), &d.m.1, json!({"rating": 1}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "already_rated")
    );
    let r = app
        .post(&staff(id, "/messages"), &d.clerk_a1, reply("关闭后回复"))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "ticket_not_open")
    );
    let r = app
        .post(&mine(id, "/messages"), &d.m.1, reply("关闭后留言"))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "ticket_not_open")
    );
    let r = app
        .post(&staff(id, "/resolve"), &d.clerk_a1, json!({}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "ticket_not_open")
    );
    let r = app.post(&mine(id, "/reopen"), &d.m.1, json!({})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "reopen_not_allowed")
    );
    assert_eq!(snapshot(app).await, closed);
    assert_eq!(
        num(app, format!("SELECT rating FROM tickets WHERE id = {id}")).await,
        3
    );
}
