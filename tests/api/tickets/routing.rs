//! Transfer and escalation move a ticket between queues; scope (sibling county 404 on every
//! route); anonymity towards grassroots staff.

use super::*;

#[tokio::test]
async fn transfer_and_escalation_move_the_ticket_between_queues() {
    let d = desk().await;
    let app = &d.app;
    let id = open(app, &d.m.1, ticket_body("转办测试")).await;
    // A clerk may only transfer inside their scope (A2 is not theirs).
    let r = app
        .post(
            &staff(id, "/transfer"),
            &d.clerk_a1,
            json!({"org_id": d.a2, "note": "属地"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The county transfers it to A2: out of A1's queue, into A2's.
    let r = app
        .post(
            &staff(id, "/transfer"),
            &d.admin_a,
            json!({"org_id": d.a2, "note": "属于A2辖区"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["org_id"], d.a2);
    assert!(queue(app, &d.clerk_a1, "").await.is_empty());
    assert_eq!(
        app.get(&staff(id, ""), &d.clerk_a1).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(queue(app, &d.clerk_a2, "").await, vec![id]);
    let n = app.get("/api/v1/admin/tickets/notices", &d.clerk_a2).await;
    assert_eq!(n.data()["items"][0]["event"], "ticket.transfer");
    // The member sees the new org.
    assert_eq!(
        app.get(&mine(id, ""), &d.m.1).await.data()["org_name"],
        "组织ta2"
    );

    // A2's clerk escalates it to the county: gone from A2's queue.
    let r = app
        .post(
            &staff(id, "/escalate"),
            &d.clerk_a2,
            json!({"note": "需县总协调"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["org_id"], d.a);
    assert!(queue(app, &d.clerk_a2, "").await.is_empty());
    assert_eq!(
        queue(app, &d.admin_a, &format!("?org_id={}", d.a)).await,
        vec![id]
    );
    // The county escalates to the root: now only the root sees it.
    let r = app
        .post(
            &staff(id, "/escalate"),
            &d.admin_a,
            json!({"note": "请市总支持"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        app.get(&staff(id, ""), &d.admin_a).await.status,
        StatusCode::NOT_FOUND
    );
    let top = app.get(&staff(id, ""), &d.admin).await;
    assert_eq!(top.status, StatusCode::OK);
    let routes = top.data()["routes"].as_array().unwrap();
    assert_eq!(routes.len(), 3);
    assert_eq!(routes[0]["kind"], "transfer");
    assert_eq!(routes[2]["kind"], "escalate");
    // The root has no parent.
    let r = app
        .post(&staff(id, "/escalate"), &d.admin, json!({"note": "再上报"}))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "no_parent"));
}

#[tokio::test]
async fn a_sibling_county_gets_404_on_every_route() {
    let d = desk().await;
    let app = &d.app;
    let id = open(app, &d.m.1, ticket_body("范围测试")).await;
    let before = num(app, "SELECT count(*) FROM ticket_messages".into()).await;
    assert!(queue(app, &d.admin_b, "").await.is_empty());
    assert_eq!(
        app.get(&staff(id, ""), &d.admin_b).await.status,
        StatusCode::NOT_FOUND
    );
    for (tail, body) in [
        ("/messages", reply("越权回复")),
        ("/transfer", json!({"org_id": d.b, "note": "越权"})),
        ("/escalate", json!({"note": "越权"})),
        ("/resolve", json!({})),
    ] {
        let r = app.post(&staff(id, tail), &d.admin_b, body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{tail}: {:?}", r.body);
    }
    // A transfer into the sibling county is refused too.
    let r = app
        .post(
            &staff(id, "/transfer"),
            &d.admin_a,
            json!({"org_id": d.b, "note": "跨县"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Another member: 404 on every member route.
    for (tail, body) in [
        ("/messages", Some(reply("不是我的"))),
        ("/rating", Some(json!({"rating": 1}))),
        ("/reopen", Some(json!({}))),
    ] {
        let r = app.post(&mine(id, tail), &d.mb.1, body.unwrap()).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{tail}");
    }
    assert_eq!(
        app.get(&mine(id, ""), &d.mb.1).await.status,
        StatusCode::NOT_FOUND
    );
    let s = app.get("/api/v1/admin/tickets/stats", &d.admin_b).await;
    assert_eq!(s.data()["total"]["total"], 0);
    assert_eq!(
        num(app, "SELECT count(*) FROM ticket_messages".into()).await,
        before
    );
    assert_eq!(
        num(app, format!("SELECT org_id FROM tickets WHERE id = {id}")).await,
        d.a1
    );
}

#[tokio::test]
async fn anonymous_tickets_hide_the_name_below_county_level() {
    let d = desk().await;
    let app = &d.app;
    let mut body = ticket_body("匿名投诉");
    body["anonymous"] = json!(true);
    body["category_id"] = json!(4);
    let id = open(app, &d.m.1, body).await;
    let g = app.get(&staff(id, ""), &d.clerk_a1).await;
    assert_eq!(g.data()["member_name"], "匿名职工");
    assert!(g.data()["member_id"].is_null());
    assert_eq!(g.data()["callback_phone"], "138****5678");
    assert!(!g.body.to_string().contains("测试0"));
    let l = app.get("/api/v1/admin/tickets", &d.clerk_a1).await;
    assert_eq!(l.data()["items"][0]["member_name"], "匿名职工");
    let c = app.get(&staff(id, ""), &d.admin_a).await;
    assert_eq!(c.data()["member_name"], "测试0");
    assert_eq!(c.data()["member_id"], d.m.0);
    assert_eq!(c.data()["callback_phone"], "13812345678");
}
