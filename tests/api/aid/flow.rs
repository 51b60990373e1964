//! The approval flow: three steps across grassroots, county and prefecture accounts; return
//! and resubmit into the same step; reject with opinion; approving twice; someone else's step;
//! a sibling county; 代申请.

use super::*;

async fn status(app: &TestApp, id: i64) -> (String, i64) {
    app.state
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT status, coalesce(current_step, 0) FROM aid_applications WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .await
        .unwrap()
}

async fn events(app: &TestApp, member: i64, event: &'static str) -> i64 {
    app.state
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT count(*) FROM messages m JOIN message_recipients r ON r.message_id = m.id WHERE r.member_id = ?1 AND m.event = ?2",
                rusqlite::params![member, event],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap()
}

/// Grassroots returns (opinion required), the member resubmits into the same step, then
/// grassroots, county and prefecture approve in turn; each level sees it only from its own
/// step on; approving twice is 409; the worker enters the register; a disbursement is recorded
/// and counted; the member's timeline names steps and opinions but no approver.
#[tokio::test]
async fn three_steps_with_return_and_resubmit() {
    let w = aid_world().await;
    let (app, t) = (&w.app, &w.t);
    let (mid, mt) = &w.members[0];
    let hardship = type_id(app, "hardship").await;
    let id = submitted(app, mt, form(hardship)).await;
    assert_eq!(status(app, id).await, ("pending".into(), 1));
    assert_eq!(events(app, *mid, "aid.submitted").await, 1);
    // The county and the prefecture do not see it before their step: someone else's step is 404.
    for tok in [&t.admin_a, &w.pref] {
        assert_eq!(app.get(&one(id), tok).await.status, StatusCode::NOT_FOUND);
        let r = app.post(&act(id, "approve"), tok, json!({})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    }
    let q = app
        .get(
            "/api/v1/admin/aid/applications?waiting_for_me=true",
            &t.clerk_a1,
        )
        .await;
    assert_eq!(q.data()["items"][0]["id"], json!(id), "{:?}", q.body);
    assert_eq!(q.data()["items"][0]["member_name"], json!("测**"));
    // Return needs an opinion; with one, the member edits and resubmits into step 1.
    let r = app.post(&act(id, "return"), &t.clerk_a1, json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.body["error"]["fields"]["opinion"].is_string(),
        "{:?}",
        r.body
    );
    assert_eq!(status(app, id).await, ("pending".into(), 1));
    let r = app
        .post(
            &act(id, "return"),
            &t.clerk_a1,
            json!({"opinion": "请补充收入证明"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(status(app, id).await, ("returned".into(), 1));
    assert_eq!(events(app, *mid, "aid.returned").await, 1);
    let path = format!("/api/v1/app/aid/applications/{id}");
    let mut f = form(hardship);
    f["monthly_income"] = json!("2300.50");
    let r = app.patch(&path, mt, f).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app.post(&format!("{path}/submit"), mt, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(status(app, id).await, ("pending".into(), 1));
    // Step 1 (grassroots), then twice: 409.
    let r = app
        .post(
            &act(id, "approve"),
            &t.clerk_a1,
            json!({"opinion": "情况属实"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(status(app, id).await, ("pending".into(), 2));
    let r = app.post(&act(id, "approve"), &t.clerk_a1, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.code(), "already_decided");
    // Step 2 (county A), from its queue.
    let q = app
        .get(
            "/api/v1/admin/aid/applications?waiting_for_me=true",
            &t.admin_a,
        )
        .await;
    assert_eq!(q.data()["total"], json!(1), "{:?}", q.body);
    let r = app.post(&act(id, "approve"), &t.admin_a, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(status(app, id).await, ("pending".into(), 3));
    // A disbursement before approval is refused.
    let d = json!({"amount": "800.00", "date": "2026-12-01", "form": "cash"});
    let r = app
        .post(&act(id, "disbursements"), &t.admin_a, d.clone())
        .await;
    assert_eq!(r.code(), "not_approved", "{:?}", r.body);
    // Step 3 (prefecture), as 深度困难; then twice: 409.
    let r = app
        .post(
            &act(id, "approve"),
            &w.pref,
            json!({"opinion": "同意", "level": "deep"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(status(app, id).await, ("approved".into(), 3));
    assert_eq!(events(app, *mid, "aid.approved").await, 1);
    let r = app.post(&act(id, "approve"), &w.pref, json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "not_pending"));
    let reg = app.get("/api/v1/admin/aid/register", &t.admin_a).await;
    assert_eq!(
        reg.data()["items"][0]["level"],
        json!("deep"),
        "{:?}",
        reg.body
    );
    assert_eq!(reg.data()["items"][0]["member_id"], json!(mid));
    let r = app.post(&act(id, "disbursements"), &t.admin_a, d).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let s = app.get("/api/v1/admin/aid/stats", &t.admin_a).await;
    assert_eq!(s.data()[0]["amount"], json!("800.00"), "{:?}", s.body);
    assert_eq!(s.data()[0]["approved"], json!(1));
    // The member's progress: steps, results, opinions; never who decided.
    let r = app.get(&path, mt).await;
    let tl = r.data()["timeline"].as_array().unwrap().clone();
    let actions: Vec<&str> = tl.iter().map(|x| x["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "submit", "return", "resubmit", "approve", "approve", "approve"
        ]
    );
    assert_eq!(tl[1]["opinion"], json!("请补充收入证明"));
    assert_eq!(tl[5]["step_name"], json!("州级审批"));
    let text = r.body.to_string();
    for secret in [
        "clerk_a1",
        "county_a",
        "\"pref\"",
        "admin_name",
        "org_name",
        "组织",
    ] {
        assert!(!text.contains(secret), "member view shows {secret}: {text}");
    }
    // The staff detail names the deciding orgs.
    let r = app.get(&one(id), &t.admin_a).await;
    assert_eq!(
        r.data()["steps"][2]["name"],
        json!("州级审批"),
        "{:?}",
        r.body
    );
    assert_eq!(r.data()["timeline"][3]["admin_name"], json!("clerk_a1"));
}

/// The sibling county B sees nothing of county A's application: 404 on every route, and an
/// empty list, queue, register and statistics.
#[tokio::test]
async fn a_sibling_county_gets_404_everywhere() {
    let w = aid_world().await;
    let (app, t) = (&w.app, &w.t);
    let hardship = type_id(app, "hardship").await;
    let id = submitted(app, &w.members[0].1, form(hardship)).await;
    app.post(&act(id, "approve"), &t.clerk_a1, json!({})).await;
    app.post(&act(id, "approve"), &t.admin_a, json!({})).await;
    app.post(&act(id, "approve"), &w.pref, json!({})).await;
    assert_eq!(status(app, id).await.0, "approved");
    let base = one(id);
    let b = &t.admin_b;
    assert_eq!(app.get(&base, b).await.status, StatusCode::NOT_FOUND);
    for (a, body) in [
        ("approve", json!({})),
        ("reject", json!({"opinion": "x"})),
        ("return", json!({"opinion": "x"})),
        ("reveal", json!({})),
        (
            "disbursements",
            json!({"amount": "1", "date": "2026-12-01", "form": "cash"}),
        ),
    ] {
        let r = app.post(&act(id, a), b, body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{a}: {:?}", r.body);
    }
    let reg: i64 = app.query_i64("SELECT id FROM aid_register").await;
    for p in ["leave", "review"] {
        let r = app
            .post(
                &format!("/api/v1/admin/aid/register/{reg}/{p}"),
                b,
                json!({"reason": "x"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{p}: {:?}", r.body);
    }
    for p in [
        "applications",
        "applications?waiting_for_me=true",
        "register",
    ] {
        let r = app.get(&format!("/api/v1/admin/aid/{p}"), b).await;
        assert_eq!(r.data()["total"], json!(0), "{p}: {:?}", r.body);
    }
    let r = app.get("/api/v1/admin/aid/stats", b).await;
    assert_eq!(r.data(), &json!([]));
    // The B1 member cannot reach it either.
    let r = app
        .get(&format!("/api/v1/app/aid/applications/{id}"), &w.member_b.1)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// Reject needs an opinion; the member sees it and is notified; the application is closed and
/// a new one of the same type may then be made.
#[tokio::test]
async fn reject_with_opinion() {
    let w = aid_world().await;
    let (app, t) = (&w.app, &w.t);
    let (mid, mt) = &w.members[1];
    let illness = type_id(app, "illness").await;
    let id = submitted(app, mt, form(illness)).await;
    let r = app
        .post(&act(id, "reject"), &t.clerk_a1, json!({"opinion": "  "}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(status(app, id).await.0, "pending");
    let r = app
        .post(
            &act(id, "reject"),
            &t.clerk_a1,
            json!({"opinion": "收入高于标准"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(status(app, id).await.0, "rejected");
    assert_eq!(events(app, *mid, "aid.rejected").await, 1);
    let r = app
        .get(&format!("/api/v1/app/aid/applications/{id}"), mt)
        .await;
    assert_eq!(r.data()["status"], json!("rejected"));
    assert_eq!(r.data()["timeline"][1]["opinion"], json!("收入高于标准"));
    let r = app.post(&act(id, "approve"), &t.clerk_a1, json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "not_pending"));
    // The county's step was never reached: it does not see the application at all.
    let r = app.post(&act(id, "approve"), &t.admin_a, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .post("/api/v1/app/aid/applications", mt, form(illness))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
}

/// 代申请: the clerk files and submits for a worker with the clerk's own upload, recorded as
/// the proxy; a second open application of the type is 409; county B cannot file for A's
/// worker (404).
#[tokio::test]
async fn a_clerk_files_on_behalf_of_a_worker() {
    let w = aid_world().await;
    let (app, t) = (&w.app, &w.t);
    let mid = w.members[2].0;
    let legal = type_id(app, "legal").await;
    let file = upload(app, &t.clerk_a1, true, pdf("proxy-evidence")).await;
    let mut f = form(legal);
    f["attachments"] = json!([{"file_id": file, "label": "劳动合同"}]);
    let body = json!({"member_id": mid, "application": f});
    let r = app
        .post("/api/v1/admin/aid/applications", &t.admin_b, body.clone())
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    let r = app
        .post("/api/v1/admin/aid/applications", &t.clerk_a1, body.clone())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.data()["proxy"], json!(true));
    assert_eq!(r.data()["status"], json!("pending"));
    assert_eq!(r.data()["attachments"][0]["file_id"], json!(file));
    let id = r.data()["id"].as_i64().unwrap();
    let clerk = app
        .query_i64("SELECT id FROM admins WHERE username = 'clerk_a1'")
        .await;
    let proxy = app
        .state
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT proxy_admin_id FROM aid_applications WHERE id = ?1",
                [id],
                |r| r.get::<_, i64>(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(proxy, clerk);
    let r = app
        .post("/api/v1/admin/aid/applications", &t.clerk_a1, body)
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "open_exists"));
    // The county (legal aid's second step) can open the attachment once it reaches them.
    app.post(&act(id, "approve"), &t.clerk_a1, json!({})).await;
    let r = app
        .post(
            &format!("/api/v1/admin/files/{file}/signed-url"),
            &t.admin_a,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app
        .post(
            &format!("/api/v1/admin/files/{file}/signed-url"),
            &t.admin_b,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// The member client edits with PUT (the mini-program cannot send PATCH): a draft is replaced
/// with its family, a returned one too, and another member's or a submitted one is refused.
#[tokio::test]
async fn put_replaces_a_draft_or_returned_form() {
    let w = aid_world().await;
    let (app, t) = (&w.app, &w.t);
    let (_, mt) = &w.members[0];
    let (_, other) = &w.members[1];
    let hardship = type_id(app, "hardship").await;
    let r = app
        .post("/api/v1/app/aid/applications", mt, form(hardship))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let id = r.data()["id"].as_i64().unwrap();
    let path = format!("/api/v1/app/aid/applications/{id}");
    let mut f = form(hardship);
    f["family"] = json!([{"name": "李四", "relation": "配偶", "id_number": id_number("19900101", "123"), "age": 36}]);
    f["monthly_income"] = json!("3000");
    let r = app.put(&path, mt, f.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["form"]["per_capita_income"], json!("1000.00"));
    assert_eq!(r.data()["family"][0]["name"], json!("李四"));
    // Bad input is a field error and changes nothing.
    let mut bad = f.clone();
    bad["household_size"] = json!(0);
    let r = app.put(&path, mt, bad).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["error"]["fields"]["household_size"].is_string());
    assert_eq!(app.get(&path, mt).await.data()["household_size"], json!(3));
    // Someone else's application is 404.
    assert_eq!(
        app.put(&path, other, f.clone()).await.status,
        StatusCode::NOT_FOUND
    );
    // Submitted: 409 not_editable; returned: editable again.
    let r = app.post(&format!("{path}/submit"), mt, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app.put(&path, mt, f.clone()).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "not_editable");
    let r = app
        .post(
            &act(id, "return"),
            &t.clerk_a1,
            json!({"opinion": "请补充"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    f["monthly_income"] = json!("2700");
    let r = app.put(&path, mt, f).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["form"]["monthly_income"], json!("2700.00"));
}
