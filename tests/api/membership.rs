//! Membership applications and their review within data scope, and the electronic member card.

use crate::members_app::fake::*;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

const APPLY: &str = "/api/v1/app/membership/applications";
const LIST: &str = "/api/v1/admin/membership/applications";
const CARD: &str = "/api/v1/app/me/card";
const VERIFY: &str = "/api/v1/admin/members/verify-card";

/// Root → county A → grassroots A1, and a sibling county B, each county with its admin.
struct Scene {
    app: TestApp,
    admin: String,
    a1: i64,
    admin_a: String,
    admin_b: String,
    clerk_a1: String,
}

async fn scene() -> Scene {
    let app = spawn_app().await;
    let w = app.two_counties().await;
    Scene {
        app,
        admin: w.admin,
        a1: w.a1,
        admin_a: w.admin_a,
        admin_b: w.admin_b,
        clerk_a1: w.clerk_a1,
    }
}

/// Member `n` with a real name who applied to `org`: (member id, token, application id).
async fn applicant(app: &TestApp, n: u32, org: i64) -> (i64, String, i64) {
    let idn = id_number(&format!("32010219900101{n:03}"));
    let (id, t) = verified_member(app, &format!("1370000{n:04}"), "李建国", &idn).await;
    let r = app
        .post(
            APPLY,
            &t,
            json!({"org_id": org, "work_unit": "县第一中学", "job_title": "教师"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "apply: {:?}", r.body);
    (id, t, r.data()["id"].as_i64().unwrap())
}

fn approve_path(id: i64) -> String {
    format!("{LIST}/{id}/approve")
}

fn reject_path(id: i64) -> String {
    format!("{LIST}/{id}/reject")
}

/// Queued notices of event `kind` for `member` (subscription rows carry the event in the payload).
async fn outbox(app: &TestApp, kind: &str, member: i64) -> i64 {
    let q = format!(
        "SELECT count(*) FROM outbox WHERE kind = 'subscribe' AND json_extract(payload, '$.event') = '{kind}' AND member_id = {member}"
    );
    num(app, q).await
}

/// Applying needs a registered real name first (409 `realname_required`), and stores nothing.
#[tokio::test]
async fn applying_without_a_real_name_is_refused() {
    let app = spawn_app().await;
    let root = app.root_org().await;
    let (id, t) = sms_member(&app, "13700009999").await;
    let r = app
        .post(APPLY, &t, json!({"org_id": root, "work_unit": "某单位"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.code(), "realname_required");
    assert_eq!(
        num(&app, "SELECT count(*) FROM membership_applications".into()).await,
        0
    );
    let q = format!("SELECT status FROM members WHERE id = {id}");
    assert_eq!(text(&app, q).await.as_deref(), Some("registered"));
}

/// An application is pending and moves the member to `pending` at that org; a second one is
/// 409; bad input stores nothing.
#[tokio::test]
async fn an_application_is_pending_and_cannot_be_repeated() {
    let s = scene().await;
    let app = &s.app;
    let idn = id_number("32010219900101500");
    let (id, t) = verified_member(app, "13700000500", "李建国", &idn).await;
    let r = app
        .post(APPLY, &t, json!({"org_id": 999_999, "work_unit": "x"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert!(r.body["error"]["fields"]["org_id"].is_string());
    let r = app
        .post(APPLY, &t, json!({"org_id": s.a1, "work_unit": " "}))
        .await;
    assert!(
        r.body["error"]["fields"]["work_unit"].is_string(),
        "{:?}",
        r.body
    );
    assert_eq!(
        num(app, "SELECT count(*) FROM membership_applications".into()).await,
        0
    );

    let body = json!({"org_id": s.a1, "work_unit": "县第一中学", "answers": {"dept": "语文组"}});
    let r = app.post(APPLY, &t, body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.data()["status"], "pending");
    let me = app.get("/api/v1/app/me", &t).await;
    assert_eq!(me.data()["status"], "pending");
    assert_eq!(me.data()["org_id"], s.a1);
    let r = app.post(APPLY, &t, body).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.code(), "already_applied");
    let q = format!(
        "SELECT count(*) FROM membership_applications WHERE member_id = {id} AND status = 'pending'"
    );
    assert_eq!(num(app, q).await, 1);
}

/// The county admin above the org and the org's own clerk see the application; the sibling
/// county's admin sees nothing and gets 404 on approve and reject.
#[tokio::test]
async fn applications_are_visible_and_reviewable_only_in_scope() {
    let s = scene().await;
    let app = &s.app;
    let (member, _, aid) = applicant(app, 1, s.a1).await;
    for (who, t) in [
        ("county A", &s.admin_a),
        ("clerk A1", &s.clerk_a1),
        ("super", &s.admin),
    ] {
        let r = app.get(&format!("{LIST}?status=pending"), t).await;
        assert_eq!(r.status, StatusCode::OK, "{who}: {:?}", r.body);
        assert_eq!(r.data()["total"], 1, "{who}");
        let item = &r.data()["items"][0];
        assert_eq!(item["id"], aid);
        assert_eq!(item["name"], "李建国");
        assert_eq!(item["phone_masked"], "137****0001");
        assert!(item["id_number_masked"].as_str().unwrap().contains("****"));
    }
    let r = app.get(LIST, &s.admin_b).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["total"], 0);
    assert_eq!(r.data()["items"], json!([]));
    let r = app
        .get(&format!("{LIST}?org_id={}", s.a1), &s.admin_b)
        .await;
    assert_eq!(
        r.data()["total"],
        0,
        "filtering by a foreign org reveals nothing"
    );

    let detail = format!("/api/v1/admin/members/{member}");
    assert_eq!(app.get(&detail, &s.admin_a).await.status, StatusCode::OK);
    let r = app.get(&detail, &s.admin_b).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "member detail: {:?}",
        r.body
    );
    let r = app.post(&approve_path(aid), &s.admin_b, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    let r = app
        .post(
            &reject_path(aid),
            &s.admin_b,
            json!({"reason": "不符合条件"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    let r = app
        .post(&approve_path(aid + 1000), &s.admin_a, json!({}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "missing looks the same as foreign"
    );
    let q = format!("SELECT status FROM members WHERE id = {member}");
    assert_eq!(text(app, q).await.as_deref(), Some("pending"));
    assert_eq!(outbox(app, "membership.approved", member).await, 0);

    let r = app.get(&format!("{LIST}?status=bogus"), &s.admin_a).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

/// Approval makes the member active with a member number, queues the notice in the outbox and
/// is audited; approving or rejecting again is 409.
#[tokio::test]
async fn approval_activates_the_member_once() {
    let s = scene().await;
    let app = &s.app;
    let (member, t, aid) = applicant(app, 2, s.a1).await;
    let r = app.post(&approve_path(aid), &s.admin_a, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let no = r.data()["member_no"].as_str().unwrap().to_string();
    assert!(no.starts_with("GH") && no.len() == 12, "{no}");
    let me = app.get("/api/v1/app/me", &t).await;
    assert_eq!(me.data()["status"], "active");
    assert_eq!(me.data()["member_no"], no.as_str());
    let q = format!(
        "SELECT count(*) FROM members WHERE id = {member} AND joined_at > 0 AND org_id = {}",
        s.a1
    );
    assert_eq!(num(app, q).await, 1);
    let q = format!("SELECT status FROM membership_applications WHERE id = {aid}");
    assert_eq!(text(app, q).await.as_deref(), Some("approved"));
    assert_eq!(outbox(app, "membership.approved", member).await, 1);
    let q = format!(
        "SELECT count(*) FROM audit_logs WHERE action = 'membership.approve' AND target_id = '{aid}'"
    );
    assert_eq!(num(app, q).await, 1);

    let r = app.post(&approve_path(aid), &s.admin_a, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.code(), "already_reviewed");
    let r = app
        .post(&reject_path(aid), &s.admin_a, json!({"reason": "重复"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(outbox(app, "membership.approved", member).await, 1);
    let q = format!("SELECT member_no FROM members WHERE id = {member}");
    assert_eq!(text(app, q).await, Some(no));

    // A second approved member gets a different number.
    let (_, _, aid2) = applicant(app, 3, s.a1).await;
    let r = app.post(&approve_path(aid2), &s.clerk_a1, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_ne!(r.data()["member_no"], me.data()["member_no"]);
}

/// Rejection needs a reason (400 without one, nothing changes); with one the application and the
/// member are `rejected`, the notice is queued, and the member may apply again.
#[tokio::test]
async fn rejection_needs_a_reason_and_is_queued_for_the_member() {
    let s = scene().await;
    let app = &s.app;
    let (member, t, aid) = applicant(app, 4, s.a1).await;
    for body in [json!({"reason": ""}), json!({"reason": "   "}), json!({})] {
        let r = app.post(&reject_path(aid), &s.admin_a, body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {:?}", r.body);
    }
    let q = format!("SELECT status FROM membership_applications WHERE id = {aid}");
    assert_eq!(text(app, q.clone()).await.as_deref(), Some("pending"));
    assert_eq!(outbox(app, "membership.rejected", member).await, 0);

    let r = app
        .post(
            &reject_path(aid),
            &s.admin_a,
            json!({"reason": "工作单位不在本工会范围"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["status"], "rejected");
    assert_eq!(text(app, q).await.as_deref(), Some("rejected"));
    let reason = format!("SELECT reason FROM membership_applications WHERE id = {aid}");
    assert_eq!(
        text(app, reason).await.as_deref(),
        Some("工作单位不在本工会范围")
    );
    assert_eq!(
        app.get("/api/v1/app/me", &t).await.data()["status"],
        "rejected"
    );
    assert_eq!(outbox(app, "membership.rejected", member).await, 1);
    let q = format!(
        "SELECT count(*) FROM audit_logs WHERE action = 'membership.reject' AND target_id = '{aid}'"
    );
    assert_eq!(num(app, q).await, 1);

    let r = app
        .post(
            APPLY,
            &t,
            json!({"org_id": s.a1, "work_unit": "县第二中学"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "a rejected applicant may apply again: {:?}",
        r.body
    );
}

/// No card before approval (409 `not_member`, also for the PNG); afterwards the card carries a
/// signed payload that verifies as valid, while altered, expired and inactive payloads are told
/// apart.
#[tokio::test]
async fn the_member_card_verifies_and_tells_failures_apart() {
    let s = scene().await;
    let app = &s.app;
    let (member, t, aid) = applicant(app, 5, s.a1).await;
    for path in [CARD, "/api/v1/app/me/card/qr.png"] {
        let r = app.get(path, &t).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{path}: {:?}", r.body);
        assert_eq!(r.code(), "not_member");
    }
    let no = app
        .post(&approve_path(aid), &s.admin_a, json!({}))
        .await
        .data()["member_no"]
        .clone();

    let r = app.get(CARD, &t).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let card = r.data().clone();
    assert_eq!(card["member_no"], no);
    assert_eq!(card["name"], "李建国");
    assert_eq!(card["org_name"], "组织ca1");
    assert!(card["joined_at"].as_str().is_some_and(|j| !j.is_empty()));
    assert!(
        card["qr_expires_at"]
            .as_str()
            .is_some_and(|j| !j.is_empty())
    );
    let payload = card["qr_payload"].as_str().unwrap().to_string();
    assert!(payload.starts_with("GHCARD1."), "{payload}");

    let staff = s.admin_a.as_str();
    let verify = |p: String| async move { app.post(VERIFY, staff, json!({"qr_payload": p})).await };
    let r = verify(payload.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["valid"], true);
    assert_eq!(r.data()["reason"], "ok");
    assert_eq!(r.data()["member_no"], no);
    assert_eq!(r.data()["org_name"], "组织ca1");

    // Alter one character of the signature, then of the member id.
    let mut chars: Vec<char> = payload.chars().collect();
    let last = chars.len() - 1;
    chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
    let forged_id = payload.replacen(&format!(".{member}."), &format!(".{}.", member + 1), 1);
    for bad in [
        chars.into_iter().collect::<String>(),
        forged_id,
        "hello".into(),
    ] {
        let r = verify(bad.clone()).await;
        assert_eq!(r.data()["valid"], false, "{bad}");
        assert_eq!(r.data()["reason"], "tampered", "{bad}");
        assert!(r.data()["member_no"].is_null());
    }
    let keys = &app.state.keys.signing;
    let expired = gonghui::members::card::payload(keys, member, gonghui::time::now() - 10);
    let r = verify(expired).await;
    assert_eq!(
        (r.data()["valid"].clone(), r.data()["reason"].clone()),
        (json!(false), json!("expired"))
    );

    let (other, _) = sms_member(app, "13700008888").await;
    let fresh = gonghui::members::card::payload(keys, other, gonghui::time::now() + 60);
    let r = verify(fresh).await;
    assert_eq!(r.data()["valid"], false);
    assert_eq!(r.data()["reason"], "not_active");
    assert!(r.data()["name"].is_null());

    // A member token cannot verify cards.
    let r = app.post(VERIFY, &t, json!({"qr_payload": payload})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

/// The H5 page gets the card's QR code as a PNG image that is never cached.
#[tokio::test]
async fn the_card_qr_code_is_served_as_png() {
    let s = scene().await;
    let app = &s.app;
    let (_, t, aid) = applicant(app, 6, s.a1).await;
    app.post(&approve_path(aid), &s.admin, json!({})).await;
    let r = app
        .client
        .get(format!("{}/api/v1/app/me/card/qr.png", app.base))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
}

/// Deleting the account withdraws a pending application, so staff cannot approve (or reject) the
/// anonymised account back into an active member.
#[tokio::test]
async fn a_deleted_applicant_cannot_be_approved() {
    let s = scene().await;
    let app = &s.app;
    let (member, t, aid) = applicant(app, 7, s.a1).await;
    assert_eq!(
        app.delete("/api/v1/app/me", &t).await.status,
        StatusCode::OK
    );
    let q = format!("SELECT status FROM membership_applications WHERE id = {aid}");
    assert_eq!(text(app, q).await.as_deref(), Some("withdrawn"));
    let r = app.get(&format!("{LIST}?status=pending"), &s.admin_a).await;
    assert_eq!(r.data()["total"], 0, "{:?}", r.body);
    for path in [approve_path(aid), reject_path(aid)] {
        let r = app.post(&path, &s.admin_a, json!({"reason": "x"})).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{path}: {:?}", r.body);
        assert_eq!(r.code(), "application_withdrawn");
    }
    let q = format!(
        "SELECT count(*) FROM members WHERE id = {member} AND status = 'deleted' AND member_no IS NULL"
    );
    assert_eq!(num(app, q).await, 1);
    assert_eq!(outbox(app, "membership.approved", member).await, 0);
}

/// Once admitted, a member cannot replace their own real name and ID number (409
/// `realname_locked`); the stored identity is unchanged.
#[tokio::test]
async fn an_active_member_cannot_replace_their_real_name() {
    let s = scene().await;
    let (id, t, app_id) = applicant(&s.app, 7, s.a1).await;
    let r = s
        .app
        .post(&approve_path(app_id), &s.admin_a, json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let other = id_number("32010219900101099");
    let r = s
        .app
        .post(
            "/api/v1/app/me/realname",
            &t,
            json!({"name": "王小二", "id_number": other}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.code(), "realname_locked");
    let name = text(
        &s.app,
        format!("SELECT real_name FROM members WHERE id = {id}"),
    )
    .await;
    assert_eq!(name.as_deref(), Some("李建国"));
}

/// 批量通过: the ticked applications are approved in one transaction, each activated, told
/// and audited as by the single approval; a batch holding one application outside the scope
/// (404) or one already reviewed (409, naming the row) changes nothing; bad id lists are 400.
#[tokio::test]
async fn bulk_approval_is_all_or_nothing_and_scoped() {
    let app = spawn_app().await;
    let w = app.two_counties().await;
    let bulk = format!("{LIST}/bulk-approve");
    let (m1, _, a1) = applicant(&app, 11, w.a1).await;
    let (m2, _, a2) = applicant(&app, 12, w.a1).await;
    let (_, _, b1) = applicant(&app, 13, w.b1).await;
    let (_, _, a3) = applicant(&app, 14, w.a1).await;

    // County A may not touch B's application: nothing of the batch happens.
    let r = app.post(&bulk, &w.admin_a, json!({"ids": [a1, b1]})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    let pending = format!(
        "SELECT count(*) FROM membership_applications WHERE status = 'pending' AND id IN ({a1}, {a2}, {b1}, {a3})"
    );
    assert_eq!(num(&app, pending.clone()).await, 4);

    let r = app.post(&bulk, &w.admin_a, json!({"ids": [a1, a2]})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["count"], 2);
    for m in [m1, m2] {
        assert_eq!(outbox(&app, "membership.approved", m).await, 1);
    }
    let q = format!(
        "SELECT count(*) FROM audit_logs WHERE action = 'membership.approve' AND target_id IN ('{a1}', '{a2}')"
    );
    assert_eq!(num(&app, q).await, 2);

    // One already approved: 409 naming it, a3 stays pending.
    let r = app.post(&bulk, &w.admin_a, json!({"ids": [a3, a1]})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("编号 {a1}"))
    );
    assert_eq!(num(&app, pending).await, 2);

    for body in [
        json!({"ids": []}),
        json!({"ids": [a3, a3]}),
        json!({"ids": (1..=101).collect::<Vec<i64>>()}),
        json!({}),
    ] {
        let r = app.post(&bulk, &w.admin_a, body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    }
}
