//! Review photos (issue 22): members' photos for public display wait in the moderation queue
//! unless `[safety] trusted_image_uploaders` trusts the uploader; approved photos appear in the
//! activity's reviews, rejected ones never do and their author is told.

use super::*;
use crate::activities::{VENUE, activity_body, members, published};
use crate::tickets::upload;
use gonghui::safety::config::ImageTrust;
use reqwest::StatusCode;
use serde_json::json;

/// A published activity of county A with `m` checked in; (activity id, a second member of A1).
async fn attended(d: &Desk) -> (i64, (i64, String)) {
    let app = &d.app;
    let id = published(app, &d.admin_a, activity_body(d.a, 10)).await;
    let r = app
        .post(
            &format!("/api/v1/app/activities/{id}/registrations"),
            &d.m.1,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = app
        .post(
            &format!("/api/v1/app/activities/{id}/checkin"),
            &d.m.1,
            json!({"lat": VENUE.0, "lng": VENUE.1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let other = members(app, 1, Some(d.a1), "active").await.remove(0);
    (id, other)
}

fn reviews(id: i64) -> String {
    format!("/api/v1/app/activities/{id}/reviews")
}

#[tokio::test]
async fn review_photos_are_held_until_approved_and_rejected_ones_never_shown() {
    let d = desk().await;
    let app = &d.app;
    let (id, other) = attended(&d).await;
    let (p1, p2) = (
        upload(app, &d.m.1, false).await,
        upload(app, &d.m.1, false).await,
    );
    let r = app
        .post(
            &format!("/api/v1/app/activities/{id}/review"),
            &d.m.1,
            json!({"rating": 5, "comment": "很开心", "file_ids": [p1, p2]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["images_held"], 2);

    // Others see the review without the photos; the author sees them as pending.
    let o = app.get(&reviews(id), &other.1).await;
    assert_eq!(o.status, StatusCode::OK, "{:?}", o.body);
    assert_eq!(o.data()["items"][0]["comment"], "很开心");
    assert_eq!(o.data()["items"][0]["mine"], false);
    assert_eq!(o.data()["items"][0]["images"].as_array().unwrap().len(), 0);
    let mine = app.get(&reviews(id), &d.m.1).await;
    let imgs = mine.data()["items"][0]["images"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(imgs.len(), 2);
    assert!(imgs.iter().all(|i| i["moderation"] == "pending"));

    // The organising county moderates; a sibling county sees nothing to decide.
    let q = app
        .get("/api/v1/admin/moderation?kind=review_image", &d.admin_a)
        .await;
    assert_eq!(q.data()["total"], 2, "{:?}", q.body);
    let items = q.data()["items"].as_array().unwrap().clone();
    assert_eq!(items[0]["rule"], "image:untrusted_uploader");
    assert!(
        items[0]["image_url"]
            .as_str()
            .is_some_and(|u| u.contains("/files/"))
    );
    let b = app
        .get("/api/v1/admin/moderation?kind=review_image", &d.admin_b)
        .await;
    assert_eq!(b.data()["total"], 0);
    let (i1, i2) = (
        items[0]["id"].as_i64().unwrap(),
        items[1]["id"].as_i64().unwrap(),
    );
    let r = app
        .post(
            &format!("/api/v1/admin/moderation/{i1}/approve"),
            &d.admin_b,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .post(
            &format!("/api/v1/admin/moderation/{i1}/approve"),
            &d.admin_a,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app
        .post(
            &format!("/api/v1/admin/moderation/{i2}/reject"),
            &d.admin_a,
            json!({"reason": "照片与活动无关"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);

    // Others now see the approved photo only; the author sees the rejected one marked.
    let o = app.get(&reviews(id), &other.1).await;
    let shown = o.data()["items"][0]["images"].as_array().unwrap().clone();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0]["moderation"], "visible");
    // The signed URL serves the photo itself to whoever reads the reviews.
    let url = format!("{}{}", app.base, shown[0]["url"].as_str().unwrap());
    let img = app.client.get(url).send().await.unwrap();
    assert_eq!(img.status(), StatusCode::OK);
    assert_eq!(
        img.bytes().await.unwrap().to_vec(),
        hex::decode(crate::tickets::PNG).unwrap()
    );
    let mine = app.get(&reviews(id), &d.m.1).await;
    let states: Vec<_> = mine.data()["items"][0]["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["moderation"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(states, ["visible", "rejected"]);
    let told = num(
        app,
        format!(
            "SELECT count(*) FROM message_recipients r JOIN messages m ON m.id = r.message_id
             WHERE r.member_id = {} AND m.event = 'content.rejected' AND m.content LIKE '%照片%'",
            d.m.0
        ),
    )
    .await;
    assert_eq!(told, 1);

    // A member outside the members-only activity's chain: 404.
    let r = app.get(&reviews(id), &d.mb.1).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_review_photos_change_nothing() {
    let d = desk().await;
    let app = &d.app;
    let (id, other) = attended(&d).await;
    let theirs = upload(app, &other.1, false).await;
    let staff_file = upload(app, &d.admin_a, true).await;
    let mine = upload(app, &d.m.1, false).await;
    let path = format!("/api/v1/app/activities/{id}/review");
    for files in [
        json!([theirs]),
        json!([staff_file]),
        json!([mine, mine]),
        json!([mine, 2, 3, 4, 5, 6, 7]),
        json!([9_999_999]),
    ] {
        let r = app
            .post(&path, &d.m.1, json!({"rating": 4, "file_ids": files}))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{files}: {:?}", r.body);
    }
    assert_eq!(
        num(app, "SELECT count(*) FROM activity_review_images".into()).await,
        0
    );
    assert_eq!(
        num(
            app,
            "SELECT count(*) FROM activity_registrations WHERE rating IS NOT NULL".into()
        )
        .await,
        0
    );
    assert_eq!(
        num(app, "SELECT count(*) FROM moderation_items".into()).await,
        0
    );
}

#[tokio::test]
async fn trusted_members_photos_are_shown_at_once() {
    let d = desk_with(|c| c.safety.trusted_image_uploaders = ImageTrust::Members).await;
    let app = &d.app;
    let (id, other) = attended(&d).await;
    let p = upload(app, &d.m.1, false).await;
    let r = app
        .post(
            &format!("/api/v1/app/activities/{id}/review"),
            &d.m.1,
            json!({"rating": 3, "file_ids": [p]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["images_held"], 0);
    let o = app.get(&reviews(id), &other.1).await;
    assert_eq!(
        o.data()["items"][0]["images"][0]["moderation"],
        "visible",
        "{:?}",
        o.body
    );
    assert_eq!(
        num(app, "SELECT count(*) FROM moderation_items".into()).await,
        0
    );
}
