//! The whole life cycle, visibility, data scope, review, check-in, stats, export and jobs.

use super::*;
use calamine::{Reader, Xlsx};

fn sheet(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut wb = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("xlsx");
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

async fn download(app: &TestApp, path: &str, token: &str) -> (StatusCode, Vec<u8>) {
    let r = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status(), r.bytes().await.unwrap().to_vec())
}

/// Draft → published → registration with review → approve → QR check-in → rating → stats →
/// export → cancel, with notices and audit rows along the way.
#[tokio::test]
async fn full_life_cycle_with_review_checkin_and_cancel() {
    let w = world().await;
    let app = &w.app;
    let tpl = template(app, &w.ta).await;
    let mut body = activity_body(w.grass_a1, 2);
    body["needs_review"] = json!(true);
    body["form_template_id"] = json!(tpl);
    let id = create_activity(app, &w.ta, body).await;
    let r = app
        .get(&format!("/api/v1/admin/activities/{id}"), &w.ta)
        .await;
    assert_eq!(r.data()["status"], "draft");
    assert_eq!(
        r.data()["description"],
        "<p>欢迎参加</p>",
        "HTML is sanitised"
    );
    assert_eq!(r.data()["category_name"], "体育");

    let ms = members(app, 3, Some(w.grass_a1), "active").await;
    let (m1, t1) = (&ms[0].0, &ms[0].1);
    // Drafts are invisible to members.
    let r = app.get(&format!("/api/v1/app/activities/{id}"), t1).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/app/activities", t1).await.data()["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    let r = app
        .post(
            &format!("/api/v1/admin/activities/{id}/publish"),
            &w.ta,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app.get(&format!("/api/v1/app/activities/{id}"), t1).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.data()["remaining"], 2);
    assert!(r.data()["my_registration"].is_null());
    assert_eq!(r.data()["form_fields"].as_array().unwrap().len(), 4);
    let r = app
        .get("/api/v1/app/activities?status=upcoming&category=sports", t1)
        .await;
    assert_eq!(
        r.data()["items"].as_array().unwrap().len(),
        1,
        "{:?}",
        r.body
    );
    assert_eq!(
        app.get("/api/v1/app/activities?status=ended", t1)
            .await
            .data()["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // Register: pending (needs review), notice in the same job.
    let answers = json!({"answers": {"name": "张三", "size": "M", "age": 30, "idno": ID_A}});
    let r = app.post(&reg_path(id), t1, answers.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.data()["status"], "pending");
    let rid = r.data()["id"].as_i64().unwrap();
    assert_eq!(num(app, format!("SELECT count(*) FROM messages m JOIN message_recipients r ON r.message_id = m.id WHERE r.member_id = {m1} AND m.event = 'activity.registered'")).await, 1);
    assert_eq!(
        num(
            app,
            format!("SELECT count(*) FROM outbox WHERE kind = 'subscribe' AND member_id = {m1}")
        )
        .await,
        1
    );
    // The clear ID is stored only encrypted.
    assert_eq!(num(app, format!("SELECT count(*) FROM activity_registrations WHERE id = {rid} AND answers LIKE '%{ID_A}%'")).await, 0);
    assert_eq!(num(app, format!("SELECT count(*) FROM activity_registrations WHERE id = {rid} AND answers_enc LIKE '%{ID_A}%'")).await, 0);
    let r = app.post(&reg_path(id), t1, answers.clone()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "already_registered")
    );

    let r = app
        .get(
            &format!("/api/v1/admin/activities/{id}/registrations?status=pending"),
            &w.ta,
        )
        .await;
    assert_eq!(r.data()["total"], 1);
    assert_eq!(
        r.data()["items"][0]["answers"]["idno"],
        "110105**********2X"
    );

    // Check-in is refused before approval.
    let code = app
        .get(
            &format!("/api/v1/admin/activities/{id}/checkin-code"),
            &w.ta,
        )
        .await;
    assert_eq!(code.status, StatusCode::OK, "{:?}", code.body);
    let qr = code.data()["qr_payload"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/api/v1/app/activities/{id}/checkin"),
            t1,
            json!({"qr_payload": qr}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "not_registered")
    );

    let r = app
        .post(
            &format!("/api/v1/admin/activities/{id}/registrations/{rid}/approve"),
            &w.ta,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["status"], "approved");
    let r = app
        .post(
            &format!("/api/v1/admin/activities/{id}/registrations/{rid}/approve"),
            &w.ta,
            json!({}),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "not_pending"));
    assert_eq!(num(app, format!("SELECT count(*) FROM messages WHERE event = 'activity.approved' AND dedupe_key = 'activity.approved:{rid}'")).await, 1);

    // Second member is rejected with a reason; the reason is required.
    let (m2, t2) = (&ms[1].0, &ms[1].1);
    let r = app
        .post(
            &reg_path(id),
            t2,
            json!({"answers": {"name": "李四", "size": "L"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let rid2 = r.data()["id"].as_i64().unwrap();
    let reject = format!("/api/v1/admin/activities/{id}/registrations/{rid2}/reject");
    let r = app.post(&reject, &w.ta, json!({"reason": " "})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = app
        .post(&reject, &w.ta, json!({"reason": "名额优先给一线职工"}))
        .await;
    assert_eq!(r.data()["status"], "rejected");
    assert_eq!(num(app, format!("SELECT count(*) FROM messages m JOIN message_recipients r ON r.message_id = m.id WHERE r.member_id = {m2} AND m.event = 'activity.rejected'")).await, 1);

    // QR check-in, once; points recorded on the registration.
    let r = app
        .post(
            &format!("/api/v1/app/activities/{id}/checkin"),
            t1,
            json!({"qr_payload": qr}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(r.data()["checked_in_at"].is_string());
    assert_eq!(r.data()["points_awarded"], 5);
    let r = app
        .post(
            &format!("/api/v1/app/activities/{id}/checkin"),
            t1,
            json!({"lat": VENUE.0, "lng": VENUE.1}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "already_checked_in")
    );

    let r = app
        .post(
            &format!("/api/v1/app/activities/{id}/review"),
            t1,
            json!({"rating": 4, "comment": "组织得很好"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app.get(&format!("/api/v1/app/activities/{id}"), t1).await;
    assert_eq!(r.data()["my_registration"]["rating"], 4);
    let r = app.get("/api/v1/app/me/activities", t1).await;
    assert_eq!(r.data()["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.data()["items"][0]["title"], "职工健步走");

    let s = app
        .get(&format!("/api/v1/admin/activities/{id}/stats"), &w.ta)
        .await;
    assert_eq!(s.status, StatusCode::OK);
    let d = s.data();
    assert_eq!(
        (
            d["registered"].as_i64(),
            d["approved"].as_i64(),
            d["checked_in"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(d["rejected"], 1);
    assert_eq!(d["avg_rating"], 4.0);
    assert_eq!(d["by_org"][0]["org_id"], w.grass_a1);

    // Export: masked for the county admin, who may not ask for clear IDs.
    let (st, bytes) = download(
        app,
        &format!("/api/v1/admin/activities/{id}/registrations/export"),
        &w.ta,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let rows = sheet(&bytes);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows[0].contains(&"身份证号".to_string()));
    assert!(
        rows[1].contains(&"110105**********2X".to_string()),
        "{rows:?}"
    );
    let (st, _) = download(
        app,
        &format!("/api/v1/admin/activities/{id}/registrations/export?reveal=true"),
        &w.ta,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, bytes) = download(
        app,
        &format!("/api/v1/admin/activities/{id}/registrations/export?reveal=true"),
        &w.admin,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(sheet(&bytes)[1].contains(&ID_A.to_string()));
    assert_eq!(
        num(
            app,
            "SELECT count(*) FROM audit_logs WHERE action = 'activity.export'".into()
        )
        .await,
        2
    );

    // The template is in use by a published activity: fields are frozen, the name is not.
    let r = app
        .patch(
            &format!("/api/v1/admin/form-templates/{tpl}"),
            &w.ta,
            json!({"fields": []}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "template_in_use")
    );
    let r = app
        .patch(
            &format!("/api/v1/admin/form-templates/{tpl}"),
            &w.ta,
            json!({"name": "新名称"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .delete(&format!("/api/v1/admin/form-templates/{tpl}"), &w.ta)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "template_in_use")
    );

    // Cancel: every live registrant is told, in one job.
    let r = app
        .post(
            &format!("/api/v1/admin/activities/{id}/cancel"),
            &w.ta,
            json!({"reason": "天气原因"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["status"], "cancelled");
    assert_eq!(
        num(
            app,
            "SELECT count(*) FROM messages WHERE event = 'activity.cancelled'".into()
        )
        .await,
        1
    );
    let r = app
        .post(
            &reg_path(id),
            &ms[2].1,
            json!({"answers": {"name": "王五", "size": "S"}}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "activity_not_open")
    );
    let r = app
        .post(
            &format!("/api/v1/admin/activities/{id}/cancel"),
            &w.ta,
            json!({"reason": "再取消"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app
        .delete(&format!("/api/v1/admin/activities/{id}"), &w.ta)
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "activity_not_draft")
    );
    assert!(num(app, "SELECT count(*) FROM audit_logs WHERE action IN ('activity.create', 'activity.publish', 'activity.cancel', 'activity.register', 'activity.checkin')".into()).await >= 5);
}

/// A sibling county admin can neither see nor touch county A's activities or templates: 404.
#[tokio::test]
async fn sibling_county_cannot_see_or_edit() {
    let w = world().await;
    let app = &w.app;
    let tpl = template(app, &w.ta).await;
    let id = published(app, &w.ta, activity_body(w.grass_a1, 5)).await;
    let list = app.get("/api/v1/admin/activities", &w.tb).await;
    assert_eq!(list.data()["total"], 0);
    assert_eq!(
        app.get("/api/v1/admin/activities", &w.ta).await.data()["total"],
        1
    );
    assert_eq!(
        app.get("/api/v1/admin/form-templates", &w.tb).await.data()["total"],
        0
    );
    let base = format!("/api/v1/admin/activities/{id}");
    for (m, p, b) in [
        ("GET", base.clone(), None),
        ("PATCH", base.clone(), Some(json!({"title": "改"}))),
        ("DELETE", base.clone(), None),
        ("POST", format!("{base}/publish"), Some(json!({}))),
        (
            "POST",
            format!("{base}/cancel"),
            Some(json!({"reason": "x"})),
        ),
        ("GET", format!("{base}/registrations"), None),
        ("GET", format!("{base}/registrations/export"), None),
        ("GET", format!("{base}/checkin-code"), None),
        ("GET", format!("{base}/stats"), None),
        ("GET", format!("/api/v1/admin/form-templates/{tpl}"), None),
        (
            "PATCH",
            format!("/api/v1/admin/form-templates/{tpl}"),
            Some(json!({"name": "x"})),
        ),
    ] {
        let r = app.call(m.parse().unwrap(), &p, Some(&w.tb), b).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{m} {p}: {:?}", r.body);
    }
    // Creating in a sibling's org is 404 as well; nothing changed.
    let r = app
        .post(
            "/api/v1/admin/activities",
            &w.tb,
            activity_body(w.county_a, 5),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(num(app, "SELECT count(*) FROM activities".into()).await, 1);
    let r = app.get(&base, &w.ta).await;
    assert_eq!(r.data()["title"], "职工健步走");
    assert_eq!(r.data()["status"], "published");
    // B's own activity in B is fine.
    create_activity(app, &w.tb, activity_body(w.county_b, 5)).await;
}

/// Members-only activities are visible to active members of the org chain only; open ones to
/// any logged-in user. Cancelling one's registration frees the place.
#[tokio::test]
async fn audience_rules_and_cancelling_frees_the_place() {
    let w = world().await;
    let app = &w.app;
    let closed = published(app, &w.ta, activity_body(w.county_a, 1)).await;
    let mut open = activity_body(w.county_a, 1);
    open["members_only"] = json!(false);
    let open = published(app, &w.ta, open).await;
    let outsider = members(app, 1, None, "registered").await.remove(0).1;
    let other_county = members(app, 1, Some(w.county_b), "active")
        .await
        .remove(0)
        .1;
    let inside = members(app, 2, Some(w.grass_a1), "active").await;
    for t in [&outsider, &other_county] {
        let r = app
            .get(&format!("/api/v1/app/activities/{closed}"), t)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = app.post(&reg_path(closed), t, json!({"answers": {}})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(
            app.get("/api/v1/app/activities", t).await.data()["items"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
    assert_eq!(
        app.get("/api/v1/app/activities", &inside[0].1).await.data()["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        num(
            app,
            format!("SELECT count(*) FROM activity_registrations WHERE activity_id = {closed}")
        )
        .await,
        0
    );
    // Quota 1: the outsider takes the open activity's place, then frees it.
    let r = app
        .post(&reg_path(open), &outsider, json!({"answers": {}}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = app
        .post(&reg_path(open), &inside[0].1, json!({"answers": {}}))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "quota_full"));
    let mine = format!("/api/v1/app/activities/{open}/registrations/mine");
    let r = app.delete(&mine, &outsider).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["status"], "cancelled");
    let r = app.delete(&mine, &outsider).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "not_registered")
    );
    let r = app
        .post(&reg_path(open), &inside[0].1, json!({"answers": {}}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let s = app
        .get(&format!("/api/v1/admin/activities/{open}/stats"), &w.ta)
        .await;
    assert_eq!(
        (
            s.data()["registered"].as_i64(),
            s.data()["cancelled"].as_i64()
        ),
        (Some(1), Some(1))
    );
}

/// Geofence check-in inside the radius works; the job finishes ended activities and sends one
/// reminder per approved registrant an hour before the start, never twice.
#[tokio::test]
async fn geofence_checkin_reminders_and_finishing() {
    let w = world().await;
    let app = &w.app;
    let id = published(app, &w.ta, activity_body(w.grass_a1, 10)).await;
    let ms = members(app, 3, Some(w.grass_a1), "active").await;
    for (_, t) in &ms {
        let r = app.post(&reg_path(id), t, json!({"answers": {}})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    // ~50 m north of the venue.
    let r = app
        .post(
            &format!("/api/v1/app/activities/{id}/checkin"),
            &ms[0].1,
            json!({"lat": VENUE.0 + 0.00045, "lng": VENUE.1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);

    let starts = num(
        app,
        format!("SELECT starts_at FROM activities WHERE id = {id}"),
    )
    .await;
    let ends = num(
        app,
        format!("SELECT ends_at FROM activities WHERE id = {id}"),
    )
    .await;
    // Two hours before the start nothing is due.
    let r = gonghui::activities::jobs::run_due(&app.state, starts - 7200)
        .await
        .unwrap();
    assert_eq!((r.finished, r.reminded), (0, 0));
    let r = gonghui::activities::jobs::run_due(&app.state, starts - 1800)
        .await
        .unwrap();
    assert_eq!(r.reminded, 3);
    let r = gonghui::activities::jobs::run_due(&app.state, starts - 1700)
        .await
        .unwrap();
    assert_eq!(r.reminded, 0, "a reminder is sent once");
    assert_eq!(num(app, format!("SELECT count(*) FROM messages WHERE event = 'activity.reminder' AND dedupe_key = 'activity.reminder:{id}:{}'", ms[1].0)).await, 1);
    let r = gonghui::activities::jobs::run_due(&app.state, ends + 1)
        .await
        .unwrap();
    assert_eq!(r.finished, 1);
    let r = app
        .get(&format!("/api/v1/admin/activities/{id}"), &w.ta)
        .await;
    assert_eq!(r.data()["status"], "finished");
    let s = app
        .get(&format!("/api/v1/admin/activities/{id}/stats"), &w.ta)
        .await;
    assert_eq!(s.data()["checked_in"], 1);
    // Finished activities are listed as ended to members, and no longer take registrations.
    let r = app
        .get("/api/v1/app/activities?status=ended", &ms[0].1)
        .await;
    assert_eq!(r.data()["items"].as_array().unwrap().len(), 1);
}

/// Categories come from the dictionary; the top-level staff may add one; unknown codes are refused.
#[tokio::test]
async fn category_dictionary() {
    let w = world().await;
    let app = &w.app;
    let r = app
        .get("/api/v1/admin/dictionaries/activity_category", &w.ta)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.data().as_array().unwrap().len(), 6);
    let mut body = activity_body(w.county_a, 5);
    body["category"] = json!("chess");
    let r = app
        .post("/api/v1/admin/activities", &w.ta, body.clone())
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["error"]["fields"]["category"].is_string());
    // The dictionary is shared by every org: the top-level union's staff maintain it.
    let r = app
        .post(
            "/api/v1/admin/dictionaries/activity_category",
            &w.admin,
            json!({"code": "chess", "name": "棋类"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = app
        .post(
            "/api/v1/admin/dictionaries/activity_category",
            &w.admin,
            json!({"code": "chess", "name": "棋类"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    create_activity(app, &w.ta, body).await;
    let r = app.get("/api/v1/admin/dictionaries/nope", &w.ta).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// 批量通过 of registrations: the ticked pending registrations of one activity are approved
/// in one transaction, each told and audited; a batch holding one that is not pending (409,
/// naming it) or not of this activity (404) changes nothing; a sibling county gets 404.
#[tokio::test]
async fn registrations_are_approved_in_bulk_all_or_nothing() {
    let w = world().await;
    let app = &w.app;
    let mut body = activity_body(w.grass_a1, 10);
    body["needs_review"] = json!(true);
    let id = published(app, &w.ta, body).await;
    let other = published(app, &w.ta, activity_body(w.grass_a1, 10)).await;
    let ms = members(app, 4, Some(w.grass_a1), "active").await;
    let mut rids = Vec::new();
    for (_, t) in &ms[..3] {
        let r = app.post(&reg_path(id), t, json!({})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        rids.push(r.data()["id"].as_i64().unwrap());
    }
    let r = app.post(&reg_path(other), &ms[3].1, json!({})).await;
    let foreign = r.data()["id"].as_i64().unwrap();
    let bulk = format!("/api/v1/admin/activities/{id}/registrations/bulk-approve");
    let pending = format!(
        "SELECT count(*) FROM activity_registrations WHERE activity_id = {id} AND status = 'pending'"
    );

    let r = app
        .post(&bulk, &w.ta, json!({"ids": [rids[0], foreign]}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    let r = app.post(&bulk, &w.tb, json!({"ids": [rids[0]]})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    assert_eq!(num(app, pending.clone()).await, 3);

    let r = app
        .post(&bulk, &w.ta, json!({"ids": [rids[0], rids[1]]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["count"], 2);
    assert_eq!(num(app, pending.clone()).await, 1);
    let q = format!(
        "SELECT count(*) FROM audit_logs WHERE action = 'activity.registration.approve' AND target_id IN ('{}', '{}')",
        rids[0], rids[1]
    );
    assert_eq!(num(app, q).await, 2);
    let q = format!(
        "SELECT count(*) FROM messages WHERE event = 'activity.approved' AND dedupe_key IN ('activity.approved:{}', 'activity.approved:{}')",
        rids[0], rids[1]
    );
    assert_eq!(num(app, q).await, 2);

    let r = app
        .post(&bulk, &w.ta, json!({"ids": [rids[2], rids[0]]}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "not_pending"),
        "{:?}",
        r.body
    );
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("第 2 条报名")
    );
    assert_eq!(num(app, pending).await, 1);
}
