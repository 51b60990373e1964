//! Overdue on the app's injected clock: flagged, first in the queue, counted, its org's staff
//! told once; a staff reply clears it.

use super::*;

#[tokio::test]
async fn overdue_tickets_come_first_are_counted_and_notified() {
    let d = desk().await;
    let app = &d.app;
    // 劳动维权 answers within 1 working day, 意见建议 within 3: whatever weekday the test
    // runs on, the first deadline passes at least two working days before the second.
    let urgent = open(app, &d.m.1, ticket_body("维权")).await;
    let mut body = ticket_body("建议");
    body["category_id"] = json!(3);
    let later = open(app, &d.m.1, body).await;
    assert_eq!(queue(app, &d.clerk_a1, "").await, vec![later, urgent]);
    assert!(queue(app, &d.clerk_a1, "?overdue=true").await.is_empty());

    let due = |v: &Resp| gonghui::time::parse(v.data()["deadline_at"].as_str().unwrap()).unwrap();
    let urgent_due = due(&app.get(&staff(urgent, ""), &d.clerk_a1).await);
    let later_due = due(&app.get(&staff(later, ""), &d.clerk_a1).await);
    assert!(
        later_due - urgent_due >= 2 * 86_400,
        "{urgent_due} {later_due}"
    );
    let waited = urgent_due + 60 - app.state.clock.now();
    app.state.clock.advance(waited);
    assert_eq!(queue(app, &d.clerk_a1, "").await, vec![urgent, later]);
    assert_eq!(queue(app, &d.clerk_a1, "?overdue=true").await, vec![urgent]);
    let g = app.get(&staff(urgent, ""), &d.clerk_a1).await;
    assert_eq!(g.data()["overdue"], true);
    let s = app.get("/api/v1/admin/tickets/stats", &d.clerk_a1).await;
    assert_eq!(s.data()["total"]["overdue"], 1);
    assert_eq!(s.data()["total"]["overdue_rate"], 0.5);

    // The job tells A1's staff once.
    let rep = gonghui::tickets::jobs::run_due(&app.state, app.state.clock.now())
        .await
        .unwrap();
    assert_eq!(rep.overdue, 1);
    let rep = gonghui::tickets::jobs::run_due(&app.state, app.state.clock.now())
        .await
        .unwrap();
    assert_eq!(rep.overdue, 0);
    let n = app.get("/api/v1/admin/tickets/notices", &d.clerk_a1).await;
    assert_eq!(n.data()["items"][0]["event"], "ticket.overdue");
    assert_eq!(n.data()["items"][0]["ticket_id"], urgent);

    // A reply clears the flag (the late first reply still counts in the stats).
    let r = app
        .post(
            &staff(urgent, "/messages"),
            &d.clerk_a1,
            reply("抱歉回复晚了"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.data()["overdue"], false);
    assert!(queue(app, &d.clerk_a1, "?overdue=true").await.is_empty());
    let s = app.get("/api/v1/admin/tickets/stats", &d.clerk_a1).await;
    assert_eq!(s.data()["total"]["overdue"], 1);
    assert!(s.data()["total"]["mean_first_reply_secs"].as_f64().unwrap() >= waited as f64);
}
