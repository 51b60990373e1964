//! Item 7: deleting the account erases registration answers and the member's uploaded files:
//! rows, bytes in the store, and public URLs.

use super::answers::phone_activity;
use super::*;
use crate::activities::members;

/// A 1×1 greyscale PNG, hex.
const PNG: &str = "89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b550000000a49444154789c636000000002000148afa4710000000049454e44ae426082";

/// Upload the PNG as a member; returns (file id, public url if any).
pub async fn upload(app: &TestApp, token: &str, purpose: &str) -> (i64, Option<String>) {
    let part = reqwest::multipart::Part::bytes(hex::decode(PNG).unwrap())
        .file_name("a.png")
        .mime_str("image/png")
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("purpose", purpose.to_string())
        .part("file", part);
    let r = app
        .client
        .post(format!("{}/api/v1/app/files", app.base))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let r = TestApp::read(r).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let url = r.data()["url"].as_str().map(str::to_string);
    (r.data()["id"].as_i64().unwrap(), url)
}

#[tokio::test]
async fn deleting_the_account_erases_answers_and_uploaded_files() {
    let app = spawn_app().await;
    let w = app.two_counties().await;
    let aid = phone_activity(&app, &w.admin_a, w.a1).await;
    let ms = members(&app, 1, Some(w.a1), "active").await;
    let (mid, t) = (ms[0].0, ms[0].1.clone());
    let (avatar, avatar_url) = upload(&app, &t, "avatar").await;
    let (image, image_url) = upload(&app, &t, "image").await;
    let (private, _) = upload(&app, &t, "attachment").await;
    let r = app
        .patch("/api/v1/app/me", &t, json!({"avatar_file_id": avatar}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let path = format!("/api/v1/app/activities/{aid}/registrations");
    let body = json!({"answers": {"tel": "13912345678", "idno": zhang_id()}});
    assert_eq!(app.post(&path, &t, body).await.status, StatusCode::CREATED);
    let image_url = image_url.expect("public image url");
    let r = app
        .client
        .get(format!("{}{image_url}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let keys: Vec<String> = app
        .state
        .db
        .read(move |c| {
            let mut st = c.prepare(
                "SELECT storage_key FROM files WHERE owner_type = 'member' AND owner_id = ?1",
            )?;
            Ok(st
                .query_map([mid], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?)
        })
        .await
        .unwrap();
    assert_eq!(keys.len(), 3);
    let root = app.state.cfg.files_dir();
    assert!(keys.iter().all(|k| root.join(k).exists()));

    let r = app.delete("/api/v1/app/me", &t).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);

    for k in &keys {
        assert!(!root.join(k).exists(), "bytes left on disk: {k}");
    }
    for url in [avatar_url.unwrap(), image_url] {
        let r = app
            .client
            .get(format!("{}{url}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{url} still served");
    }
    let r = app
        .get(&format!("/api/v1/admin/files/{private}/download"), &w.admin)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let q = format!(
        "SELECT count(*) FROM files WHERE owner_type = 'member' AND owner_id = {mid} AND deleted_at IS NULL"
    );
    assert_eq!(num(&app, q).await, 0);
    let q = format!(
        "SELECT answers || answers_enc FROM activity_registrations WHERE member_id = {mid}"
    );
    assert_eq!(text(&app, q).await.as_deref(), Some("{}{}"));
    let _ = image;
}
