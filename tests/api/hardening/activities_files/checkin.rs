//! Check-in (items 11, 12) and activity descriptions (item 18).

use crate::activities::{VENUE, activity_body, members, num, published, reg_path, world};
use reqwest::StatusCode;
use serde_json::json;

/// A fresh check-in code of activity `id`.
async fn qr(app: &crate::support::TestApp, token: &str, id: i64) -> String {
    let r = app
        .get(
            &format!("/api/v1/admin/activities/{id}/checkin-code"),
            token,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.data()["qr_payload"].as_str().unwrap().to_string()
}

/// Item 12: check-in → cancel → re-register → check-in earns the points once: cancelling after
/// check-in is refused, and a second check-in is refused.
#[tokio::test]
async fn points_for_attendance_are_earned_once() {
    let w = world().await;
    let app = &w.app;
    let id = published(app, &w.ta, activity_body(w.grass_a1, 10)).await;
    let ms = members(app, 1, Some(w.grass_a1), "active").await;
    let (m, t) = (ms[0].0, &ms[0].1);
    let checkin = format!("/api/v1/app/activities/{id}/checkin");
    let mine = format!("/api/v1/app/activities/{id}/registrations/mine");
    for round in 0..3 {
        let r = app.post(&reg_path(id), t, json!({"answers": {}})).await;
        if round == 0 {
            assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        }
        let code = qr(app, &w.ta, id).await;
        let r = app.post(&checkin, t, json!({"qr_payload": code})).await;
        if round == 0 {
            assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        } else {
            assert_eq!(
                (r.status, r.code()),
                (StatusCode::CONFLICT, "already_checked_in"),
                "round {round}: {:?}",
                r.body
            );
        }
        let r = app.delete(&mine, t).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::CONFLICT, "already_checked_in"),
            "round {round}: {:?}",
            r.body
        );
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("已签到")
        );
    }
    let points = num(
        app,
        format!("SELECT coalesce(sum(points_awarded), 0) FROM activity_registrations WHERE member_id = {m}"),
    )
    .await;
    assert_eq!(points, 5);
    let checkins = num(
        app,
        format!("SELECT count(*) FROM activity_registrations WHERE member_id = {m} AND checked_in_at IS NOT NULL"),
    )
    .await;
    assert_eq!(checkins, 1);
}

/// Item 11: staff can require the QR code; then a position is refused (409), the QR code works
/// and the method is recorded; the member's detail says position check-in is not possible.
#[tokio::test]
async fn qr_only_checkin_refuses_positions_and_records_the_method() {
    let w = world().await;
    let app = &w.app;
    let mut body = activity_body(w.grass_a1, 10);
    body["checkin_method"] = json!("qr");
    let id = published(app, &w.ta, body).await;
    let r = app
        .get(&format!("/api/v1/admin/activities/{id}"), &w.ta)
        .await;
    assert_eq!(r.data()["checkin_method"], "qr");
    assert_eq!(r.data()["lat"], VENUE.0);
    let mut wrong = activity_body(w.grass_a1, 10);
    wrong["checkin_method"] = json!("gps");
    let bad = app.post("/api/v1/admin/activities", &w.ta, wrong).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{:?}", bad.body);
    assert!(bad.body["error"]["fields"]["checkin_method"].is_string());

    let ms = members(app, 1, Some(w.grass_a1), "active").await;
    let t = &ms[0].1;
    let r = app.post(&reg_path(id), t, json!({"answers": {}})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let checkin = format!("/api/v1/app/activities/{id}/checkin");
    let r = app
        .post(&checkin, t, json!({"lat": VENUE.0, "lng": VENUE.1}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "checkin_qr_required"),
        "{:?}",
        r.body
    );
    let code = qr(app, &w.ta, id).await;
    let r = app.post(&checkin, t, json!({"qr_payload": code})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let method: String = app
        .state
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT checkin_method FROM activity_registrations WHERE activity_id = ?1",
                [id],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(method, "qr");
    let regs = app
        .get(
            &format!("/api/v1/admin/activities/{id}/registrations"),
            &w.ta,
        )
        .await;
    assert_eq!(
        regs.data()["items"][0]["checkin_method"],
        "qr",
        "{:?}",
        regs.body
    );
    let detail = app.get(&format!("/api/v1/app/activities/{id}"), t).await;
    assert_eq!(detail.data()["location_checkin"], false);
    assert!(detail.data()["lat"].is_null());
}

/// Item 11: members never receive the venue's coordinates or check-in radius (detail and list),
/// only whether a position check-in is possible; a refused position does not tell the distance.
#[tokio::test]
async fn members_never_receive_the_venue_coordinates() {
    let w = world().await;
    let app = &w.app;
    let id = published(app, &w.ta, activity_body(w.grass_a1, 10)).await;
    let ms = members(app, 1, Some(w.grass_a1), "active").await;
    let t = &ms[0].1;
    let detail = app.get(&format!("/api/v1/app/activities/{id}"), t).await;
    assert_eq!(detail.status, StatusCode::OK);
    let list = app.get("/api/v1/app/activities", t).await;
    assert_eq!(list.status, StatusCode::OK);
    for (what, v) in [
        ("detail", detail.data()),
        ("list", &list.data()["items"][0]),
    ] {
        assert_eq!(v["id"], id, "{what}");
        for k in ["lat", "lng", "checkin_radius_m"] {
            assert!(v[k].is_null(), "{what} carries {k}: {v}");
        }
        let text = v.to_string();
        assert!(
            !text.contains("25.04") && !text.contains("102.71"),
            "{text}"
        );
    }
    assert_eq!(detail.data()["location_checkin"], true);
    let r = app.post(&reg_path(id), t, json!({"answers": {}})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = app
        .post(
            &format!("/api/v1/app/activities/{id}/checkin"),
            t,
            json!({"lat": VENUE.0 + 0.01, "lng": VENUE.1}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "outside_checkin_area")
    );
    let msg = r.body["error"]["message"].as_str().unwrap();
    assert!(!msg.chars().any(|c| c.is_ascii_digit()), "{msg}");
}

/// Item 18: an activity description keeps images from our own files only (the articles'
/// sanitiser); a remote image is dropped when staff save it.
#[tokio::test]
async fn activity_descriptions_drop_remote_images_like_articles() {
    let w = world().await;
    let app = &w.app;
    let mut body = activity_body(w.grass_a1, 10);
    body["description"] = json!(
        r#"<p>路线</p><img src="https://tracker.example/pixel.gif"><img src="/files/0123456789abcdef0123456789abcdef">"#
    );
    let r = app.post("/api/v1/admin/activities", &w.ta, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let d = r.data()["description"].as_str().unwrap();
    assert!(!d.contains("tracker.example"), "{d}");
    assert!(d.contains("/files/0123456789abcdef0123456789abcdef"), "{d}");
    let id = r.data()["id"].as_i64().unwrap();
    let r = app
        .patch(
            &format!("/api/v1/admin/activities/{id}"),
            &w.ta,
            json!({"description": "<img src=\"http://evil.example/a.png\">好"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert!(
        !r.data()["description"]
            .as_str()
            .unwrap()
            .contains("evil.example")
    );
}
