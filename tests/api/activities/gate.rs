//! Sign-up refusals are answered from memory (the gate); every change that matters to them —
//! a cancelled or rejected place, a raised quota, a cancelled activity — is seen
//! by the very next request.

use super::*;

async fn reg(app: &TestApp, id: i64, token: &str) -> Resp {
    app.post(&reg_path(id), token, json!({"answers": {}})).await
}

/// Staff set activity `id`'s quota to `quota`.
async fn set_quota(app: &TestApp, staff: &str, id: i64, quota: i64) {
    let r = app
        .patch(
            &format!("/api/v1/admin/activities/{id}"),
            staff,
            json!({"quota": quota}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

/// Each refusal below is cached by the request that gets it; the next step changes the
/// activity through another route and the following request must see the change.
#[tokio::test]
async fn refusals_from_memory_follow_every_change() {
    let w = world().await;
    let app = &w.app;
    let mut body = activity_body(w.grass_a1, 1);
    body["needs_review"] = json!(true);
    let id = published(app, &w.ta, body).await;
    let ms = members(app, 3, Some(w.grass_a1), "active").await;
    let (m1, m2, m3) = (&ms[0].1, &ms[1].1, &ms[2].1);
    let r = reg(app, id, m1).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let rid = r.data()["id"].as_i64().unwrap();
    assert_eq!(reg(app, id, m1).await.code(), "already_registered");
    assert_eq!(reg(app, id, m2).await.code(), "quota_full");
    // A rejected registration frees the place.
    let r = app
        .post(
            &format!("/api/v1/admin/activities/{id}/registrations/{rid}/reject"),
            &w.ta,
            json!({"reason": "名额调整"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = reg(app, id, m2).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(reg(app, id, m1).await.code(), "quota_full");
    // A raised quota opens a place.
    set_quota(app, &w.ta, id, 2).await;
    let r = reg(app, id, m1).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(reg(app, id, m3).await.code(), "quota_full");
    // Cancelling one's own registration frees the place again.
    let mine = format!("/api/v1/app/activities/{id}/registrations/mine");
    assert_eq!(app.delete(&mine, m1).await.status, StatusCode::OK);
    assert_eq!(reg(app, id, m2).await.code(), "already_registered");
    // A cancelled activity refuses everyone.
    let r = app
        .post(
            &format!("/api/v1/admin/activities/{id}/cancel"),
            &w.ta,
            json!({"reason": "天气原因"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = reg(app, id, m3).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_ne!(r.code(), "quota_full");
    assert_eq!(
        num(app, format!("SELECT count(*) FROM activity_registrations WHERE activity_id = {id} AND status IN ('pending', 'approved')")).await,
        1
    );
}

/// An activity still filling up is cached without its registrations: a second sign-up is still
/// refused (by the writer), and an edit made while it fills is seen by the next request.
#[tokio::test]
async fn a_filling_activity_refuses_twice_and_follows_edits() {
    let w = world().await;
    let app = &w.app;
    let id = published(app, &w.ta, activity_body(w.grass_a1, 3)).await;
    let ms = members(app, 3, Some(w.grass_a1), "active").await;
    let (m1, m2, m3) = (&ms[0].1, &ms[1].1, &ms[2].1);
    assert_eq!(reg(app, id, m1).await.status, StatusCode::CREATED);
    // Still filling (1 of 3): the gate holds no registrations, the writer refuses.
    assert_eq!(reg(app, id, m1).await.code(), "already_registered");
    assert_eq!(reg(app, id, m2).await.status, StatusCode::CREATED);
    assert_eq!(reg(app, id, m2).await.code(), "already_registered");
    // The quota lowered to what is taken while filling: the next request sees it full.
    set_quota(app, &w.ta, id, 2).await;
    assert_eq!(reg(app, id, m3).await.code(), "quota_full");
    assert_eq!(
        num(
            app,
            format!("SELECT count(*) FROM activity_registrations WHERE activity_id = {id}")
        )
        .await,
        2
    );
}

/// The first page of the member list is kept in memory per audience; a sign-up (remaining
/// places), an edit and a new activity each show on the next read, and a member outside the
/// org sees only what is open to everyone.
#[tokio::test]
async fn the_cached_first_page_of_the_list_follows_every_change() {
    let w = world().await;
    let app = &w.app;
    let id = published(app, &w.ta, activity_body(w.grass_a1, 2)).await;
    let ms = members(app, 2, Some(w.grass_a1), "active").await;
    let (m1, m2) = (&ms[0].1, &ms[1].1);
    const LIST: &str = "/api/v1/app/activities?limit=5";
    let r = app.get(LIST, m1).await;
    assert_eq!(r.data()["items"][0]["remaining"], 2, "{:?}", r.body);
    let r = reg(app, id, m2).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = app.get(LIST, m1).await;
    assert_eq!(r.data()["items"][0]["remaining"], 1, "{:?}", r.body);
    let r = app
        .patch(
            &format!("/api/v1/admin/activities/{id}"),
            &w.ta,
            json!({"title": "职工健步走（改期）"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app.get(LIST, m1).await;
    assert_eq!(r.data()["items"][0]["title"], "职工健步走（改期）");
    let mut open = activity_body(w.grass_a1, 5);
    open["members_only"] = json!(false);
    let other = published(app, &w.ta, open).await;
    let r = app.get(LIST, m1).await;
    assert_eq!(
        r.data()["items"].as_array().unwrap().len(),
        2,
        "{:?}",
        r.body
    );
    // A member of no org shares the public page: only the activity open to everyone.
    let outsider = members(app, 1, None, "registered").await;
    let r = app.get(LIST, &outsider[0].1).await;
    let items = r.data()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{:?}", r.body);
    assert_eq!(items[0]["id"], other);
}
