//! Bad inputs answer documented 4xx codes with Chinese messages and store nothing.

use super::*;
use gonghui::activities::checkin::make_payload;

async fn counts(app: &TestApp) -> (i64, i64, i64) {
    (
        num(app, "SELECT count(*) FROM activity_registrations".into()).await,
        num(
            app,
            "SELECT count(*) FROM activity_registrations WHERE checked_in_at IS NOT NULL".into(),
        )
        .await,
        num(
            app,
            "SELECT count(*) FROM activity_registrations WHERE rating IS NOT NULL".into(),
        )
        .await,
    )
}

fn is_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Answers that break the form: each field reported with a Chinese message, nothing stored.
#[tokio::test]
async fn bad_answers_are_refused_field_by_field() {
    let w = world().await;
    let app = &w.app;
    let tpl = template(app, &w.ta).await;
    let mut body = activity_body(w.grass_a1, 5);
    body["form_template_id"] = json!(tpl);
    let id = published(app, &w.ta, body).await;
    let (_, t) = members(app, 1, Some(w.grass_a1), "active").await.remove(0);
    for (answers, field, needle) in [
        (json!({"size": "M"}), "answers.name", "请填写姓名"),
        (
            json!({"name": "张三", "size": "M", "age": "三十"}),
            "answers.age",
            "数字",
        ),
        (
            json!({"name": "张三", "size": "XL"}),
            "answers.size",
            "选项",
        ),
        (
            json!({"name": "张三丰张三丰张三丰张三丰", "size": "M"}),
            "answers.name",
            "不能超过",
        ),
        (
            json!({"name": "张三", "size": "M", "age": 80}),
            "answers.age",
            "之间",
        ),
        (
            json!({"name": "张三", "size": "M", "idno": "110105194912310021"}),
            "answers.idno",
            "身份证号",
        ),
        (
            json!({"name": "张三", "size": "M", "hack": 1}),
            "answers.hack",
            "没有此项",
        ),
    ] {
        let r = app
            .post(&reg_path(id), &t, json!({"answers": answers}))
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "validation_failed"),
            "{answers}"
        );
        let msg = r.body["error"]["fields"][field]
            .as_str()
            .unwrap_or_default();
        assert!(
            msg.contains(needle) && is_chinese(msg),
            "{field}: {:?}",
            r.body
        );
    }
    assert_eq!(counts(app).await, (0, 0, 0));
    assert_eq!(num(app, "SELECT count(*) FROM messages".into()).await, 0);
}

/// Outside the signup window, drafts, cancelled activities and members-only activities for
/// non-members are refused; nothing stored.
#[tokio::test]
async fn registration_state_rules() {
    let w = world().await;
    let app = &w.app;
    let (_, t) = members(app, 1, Some(w.grass_a1), "active").await.remove(0);
    let (_, stranger) = members(app, 1, None, "registered").await.remove(0);
    let mut early = activity_body(w.grass_a1, 5);
    early["signup_starts_at"] = json!(at(60));
    let early = published(app, &w.ta, early).await;
    let mut late = activity_body(w.grass_a1, 5);
    late["signup_starts_at"] = json!(at(-7200));
    late["signup_ends_at"] = json!(at(-3600));
    let late = published(app, &w.ta, late).await;
    let draft = create_activity(app, &w.ta, activity_body(w.grass_a1, 5)).await;
    let cancelled = published(app, &w.ta, activity_body(w.grass_a1, 5)).await;
    let r = app
        .post(
            &format!("/api/v1/admin/activities/{cancelled}/cancel"),
            &w.ta,
            json!({"reason": "场地维修"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let members_only = published(app, &w.ta, activity_body(w.grass_a1, 5)).await;
    for (id, token, status, code) in [
        (early, &t, StatusCode::CONFLICT, "signup_closed"),
        (late, &t, StatusCode::CONFLICT, "signup_closed"),
        (draft, &t, StatusCode::NOT_FOUND, "not_found"),
        (cancelled, &t, StatusCode::CONFLICT, "activity_not_open"),
        (members_only, &stranger, StatusCode::NOT_FOUND, "not_found"),
    ] {
        let r = app.post(&reg_path(id), token, json!({"answers": {}})).await;
        assert_eq!((r.status, r.code()), (status, code), "{id}: {:?}", r.body);
        assert!(is_chinese(r.body["error"]["message"].as_str().unwrap()));
    }
    assert_eq!(counts(app).await, (0, 0, 0));
    // Staff input: impossible times and coordinates, reported together.
    let mut bad = activity_body(w.grass_a1, 0);
    bad["ends_at"] = json!(at(-100_000));
    bad["lat"] = json!(123.0);
    let r = app.post("/api/v1/admin/activities", &w.ta, bad).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let f = &r.body["error"]["fields"];
    assert!(
        f["ends_at"].is_string() && f["lat"].is_string() && f["quota"].is_string(),
        "{f}"
    );
    assert_eq!(num(app, "SELECT count(*) FROM activities".into()).await, 5);
}

/// Expired, forged and other-activity QR codes, bad or distant coordinates, check-in without
/// registration or before the window, reviews before check-in and twice.
#[tokio::test]
async fn bad_checkins_and_reviews() {
    let w = world().await;
    let app = &w.app;
    let id = published(app, &w.ta, activity_body(w.grass_a1, 5)).await;
    let other = published(app, &w.ta, activity_body(w.grass_a1, 5)).await;
    let mut later = activity_body(w.grass_a1, 5);
    later["starts_at"] = json!(at(2 * 86400));
    later["ends_at"] = json!(at(2 * 86400 + 3600));
    let later = published(app, &w.ta, later).await;
    let ms = members(app, 2, Some(w.grass_a1), "active").await;
    let (t, unregistered) = (&ms[0].1, &ms[1].1);
    for a in [id, later] {
        let r = app.post(&reg_path(a), t, json!({"answers": {}})).await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let before = counts(app).await;
    let key = &app.state.keys.signing;
    let now = gonghui::time::now();
    let good = make_payload(key, id, now + 60);
    let forged = format!("{}x", &good[..good.len() - 1]);
    let checkin = format!("/api/v1/app/activities/{id}/checkin");
    for (body, status, code) in [
        (
            json!({"qr_payload": make_payload(key, id, now - 5)}),
            StatusCode::BAD_REQUEST,
            "checkin_code_expired",
        ),
        (
            json!({"qr_payload": forged}),
            StatusCode::BAD_REQUEST,
            "checkin_code_invalid",
        ),
        (
            json!({"qr_payload": make_payload(key, other, now + 60)}),
            StatusCode::BAD_REQUEST,
            "checkin_code_invalid",
        ),
        (
            json!({"qr_payload": "hello"}),
            StatusCode::BAD_REQUEST,
            "checkin_code_invalid",
        ),
        (
            json!({"lat": 95.0, "lng": VENUE.1}),
            StatusCode::BAD_REQUEST,
            "validation_failed",
        ),
        (
            json!({"lat": VENUE.0, "lng": 200.0}),
            StatusCode::BAD_REQUEST,
            "validation_failed",
        ),
        (
            json!({"lat": VENUE.0 + 0.01, "lng": VENUE.1}),
            StatusCode::BAD_REQUEST,
            "outside_checkin_area",
        ),
        (json!({}), StatusCode::BAD_REQUEST, "validation_failed"),
    ] {
        let r = app.post(&checkin, t, body.clone()).await;
        assert_eq!((r.status, r.code()), (status, code), "{body}: {:?}", r.body);
        assert!(is_chinese(r.body["error"]["message"].as_str().unwrap()));
    }
    let r = app
        .post(&checkin, unregistered, json!({"qr_payload": good}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "not_registered")
    );
    let r = app
        .post(
            &format!("/api/v1/app/activities/{later}/checkin"),
            t,
            json!({"qr_payload": make_payload(key, later, now + 60)}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "checkin_not_open")
    );
    let review = format!("/api/v1/app/activities/{id}/review");
    let r = app.post(&review, t, json!({"rating": 5})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "not_checked_in")
    );
    assert_eq!(
        counts(app).await,
        before,
        "nothing stored by refused requests"
    );

    let r = app.post(&checkin, t, json!({"qr_payload": good})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app.post(&review, t, json!({"rating": 6})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["error"]["fields"]["rating"].is_string());
    let r = app
        .post(&review, t, json!({"rating": 5, "comment": "很好"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.post(&review, t, json!({"rating": 1})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "already_reviewed")
    );
    let q = format!("SELECT rating FROM activity_registrations WHERE activity_id = {id}");
    assert_eq!(num(app, q).await, 5);
}
