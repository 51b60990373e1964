//! A ticket's whole life: open with an image → staff reply → member adds → resolve → reopen
//! once (not twice) → resolve → rate → closed; notices to both sides; the member never sees
//! the staff account.

use super::*;

#[tokio::test]
async fn a_ticket_lives_from_opening_to_rating() {
    let d = desk().await;
    let app = &d.app;
    let img = upload(app, &d.m.1, false).await;
    let mut body = ticket_body("拖欠工资");
    body["file_ids"] = json!([img]);
    let r = app.post("/api/v1/app/tickets", &d.m.1, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.data()["status"], "open");
    assert_eq!(r.data()["moderation"], "visible");
    assert_eq!(r.data()["org_name"], "组织ta1");
    let id = r.data()["id"].as_i64().unwrap();
    // The phone is sealed at rest.
    let enc = num(app, format!("SELECT count(*) FROM tickets WHERE id = {id} AND callback_phone_enc NOT LIKE '%13812345678%' AND callback_phone_masked = '138****5678'")).await;
    assert_eq!(enc, 1);

    // The clerk of A1 has it in the queue, and a notice.
    assert_eq!(queue(app, &d.clerk_a1, "").await, vec![id]);
    let n = app.get("/api/v1/admin/tickets/notices", &d.clerk_a1).await;
    assert_eq!(n.data()["items"][0]["event"], "ticket.created");
    let t = app.get(&staff(id, ""), &d.clerk_a1).await;
    assert_eq!(t.status, StatusCode::OK, "{:?}", t.body);
    assert_eq!(t.data()["member_name"], "测试0");
    assert_eq!(t.data()["callback_phone"], "13812345678");
    assert_eq!(t.data()["images"][0]["id"], img);
    // The clerk reaches the member's private image through the ticket.
    let f = app
        .get(&format!("/api/v1/admin/files/{img}"), &d.clerk_a1)
        .await;
    assert_eq!(f.status, StatusCode::OK, "{:?}", f.body);

    // Staff reply with their own image.
    let simg = upload(app, &d.clerk_a1, true).await;
    let r = app
        .post(
            &staff(id, "/messages"),
            &d.clerk_a1,
            json!({"content": "已联系单位，请耐心等待。", "file_ids": [simg]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.data()["overdue"], false);
    // The member sees the org, never the account.
    let th = app.get(&mine(id, ""), &d.m.1).await;
    assert_eq!(th.status, StatusCode::OK);
    let msgs = th.data()["messages"]["items"].as_array().unwrap().clone();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["author"], "staff");
    assert_eq!(msgs[0]["org_name"], "组织ta1");
    assert!(!th.body.to_string().contains("t_clerk_a1"), "{}", th.body);
    assert!(
        msgs[0]["images"][0]["url"]
            .as_str()
            .unwrap()
            .contains("sig=")
    );
    // … and got a message-center notice and a subscription row.
    let notified = num(app, format!("SELECT count(*) FROM message_recipients mr JOIN messages m ON m.id = mr.message_id WHERE mr.member_id = {} AND m.event = 'ticket.replied'", d.m.0)).await;
    assert_eq!(notified, 1);
    let outbox = num(
        app,
        format!(
            "SELECT count(*) FROM outbox WHERE kind = 'subscribe' AND member_id = {}",
            d.m.0
        ),
    )
    .await;
    assert!(outbox >= 1);

    // The member adds to it; staff are told.
    let r = app
        .post(
            &mine(id, "/messages"),
            &d.m.1,
            reply("补充：工资条已上传。"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let st = app.get(&staff(id, ""), &d.clerk_a1).await;
    assert_eq!(st.data()["messages"]["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        st.data()["messages"]["items"][0]["staff_name"],
        "t_clerk_a1"
    );

    // Resolve; the member may rate or reopen.
    let r = app
        .post(&staff(id, "/resolve"), &d.clerk_a1, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let th = app.get(&mine(id, ""), &d.m.1).await;
    assert_eq!(th.data()["status"], "resolved");
    assert_eq!(th.data()["can_rate"], true);
    assert_eq!(th.data()["can_reopen"], true);
    // Adding to a resolved ticket is refused: reopen first.
    let r = app
        .post(&mine(id, "/messages"), &d.m.1, reply("还没解决"))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "ticket_not_open")
    );

    // Reopen once: open again with a fresh deadline.
    let r = app.post(&mine(id, "/reopen"), &d.m.1, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["status"], "open");
    let r = app
        .post(&staff(id, "/resolve"), &d.clerk_a1, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // Not twice.
    let r = app.post(&mine(id, "/reopen"), &d.m.1, json!({})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "reopen_not_allowed")
    );

    // Rate: the ticket closes.
    let r = app
        .post(
            &mine(id, "/rating"),
            &d.m.1,
            json!({"rating": 5, "comment": "解决得很及时"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["status"], "closed");
    assert_eq!(r.data()["rating"], 5);
    let st = app.get(&staff(id, ""), &d.clerk_a1).await;
    assert_eq!(st.data()["rating_comment"], "解决得很及时");

    // Every step is audited.
    for a in [
        "ticket.create",
        "ticket.reply",
        "ticket.message",
        "ticket.resolve",
        "ticket.reopen",
        "ticket.rate",
    ] {
        let n = num(
            app,
            format!("SELECT count(*) FROM audit_logs WHERE action = '{a}' AND target_id = '{id}'"),
        )
        .await;
        assert!(n >= 1, "{a}");
    }
    // My tickets list it.
    let l = app.get("/api/v1/app/tickets", &d.m.1).await;
    assert_eq!(l.data()["items"][0]["id"], id);
    // Stats count the satisfaction.
    let s = app.get("/api/v1/admin/tickets/stats", &d.admin_a).await;
    assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
    assert_eq!(s.data()["total"]["total"], 1);
    assert_eq!(s.data()["total"]["mean_rating"], 5.0);
    assert_eq!(s.data()["by_category"][0]["name"], "劳动维权");
}

/// A resolved ticket not rated within 7 days is closed by the job and can no longer be reopened.
#[tokio::test]
async fn the_reopen_window_closes_after_seven_days() {
    let d = desk().await;
    let app = &d.app;
    let id = open(app, &d.m.1, ticket_body("咨询")).await;
    app.post(&staff(id, "/resolve"), &d.clerk_a1, json!({}))
        .await;
    app.state.clock.advance(8 * 86_400);
    let rep = gonghui::tickets::jobs::run_due(&app.state, app.state.clock.now())
        .await
        .unwrap();
    assert_eq!(rep.closed, 1);
    let r = app.post(&mine(id, "/reopen"), &d.m.1, json!({})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "reopen_not_allowed")
    );
}

/// The export is xlsx, masked, and audited.
#[tokio::test]
async fn export_is_masked_and_audited() {
    let d = desk().await;
    let app = &d.app;
    open(app, &d.m.1, ticket_body("导出测试")).await;
    let r = app
        .client
        .get(format!("{}/api/v1/admin/tickets/export", app.base))
        .bearer_auth(&d.admin_a)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK");
    let n = num(
        app,
        "SELECT count(*) FROM audit_logs WHERE action = 'ticket.export'".into(),
    )
    .await;
    assert_eq!(n, 1);
}

/// Deleting the account erases the call-back phone from the member's tickets.
#[tokio::test]
async fn account_deletion_erases_the_callback_phone() {
    let d = desk().await;
    let app = &d.app;
    let id = open(app, &d.m.1, ticket_body("注销测试")).await;
    let r = app.delete("/api/v1/app/me", &d.m.1).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let left = num(app, format!("SELECT count(*) FROM tickets WHERE id = {id} AND (callback_phone_enc IS NOT NULL OR callback_phone_masked IS NOT NULL)")).await;
    assert_eq!(left, 0);
}
