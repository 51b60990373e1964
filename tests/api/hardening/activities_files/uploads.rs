//! Member uploads (item 9) and file access by reference (item 15).

use crate::activities::{activity_body, members, published, reg_path, world};
use crate::files::{JPEG, PNG, unhex};
use crate::support::*;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::json;

/// Upload `bytes` as a member through `POST /api/v1/app/files`.
async fn app_upload(app: &TestApp, token: &str, purpose: &str, bytes: Vec<u8>) -> Resp {
    let form = Form::new()
        .text("purpose", purpose.to_string())
        .part("file", Part::bytes(bytes).file_name("a.png"));
    let r = app
        .client
        .post(format!("{}/api/v1/app/files", app.base))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    TestApp::read(r).await
}

/// Status of a GET without a token.
async fn status_of(app: &TestApp, path: &str) -> StatusCode {
    app.client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap()
        .status()
}

/// Rows of `files` the member uploaded.
async fn stored(app: &TestApp, member: i64) -> i64 {
    app.state
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT count(*) FROM files WHERE owner_type = 'member' AND owner_id = ?1",
                [member],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap()
}

/// Item 9: twelve parallel uploads of one new account store at most the per-minute limit (5),
/// the rest are 429; later uploads stop at the daily quota (30 files) with a Chinese 409.
#[tokio::test]
async fn member_uploads_are_rate_limited_and_capped_per_day() {
    let w = world().await;
    let app = &w.app;
    let ms = members(app, 1, Some(w.grass_a1), "registered").await;
    let (m, t) = (ms[0].0, ms[0].1.clone());
    let burst = (0..12).map(|_| app_upload(app, &t, "image", unhex(PNG)));
    let answers = futures::future::join_all(burst).await;
    let ok = answers
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    assert_eq!(
        ok,
        5,
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(
        answers
            .iter()
            .filter(|r| r.status != StatusCode::CREATED)
            .all(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
    );
    assert_eq!(stored(app, m).await, 5);
    // Age the uploads past the minute window, up to the daily quota.
    let mut n = 5;
    while n < 30 {
        app.state
            .db
            .write(|c| {
                c.execute("UPDATE files SET created_at = created_at - 61", [])?;
                Ok(())
            })
            .await
            .unwrap();
        let r = app_upload(app, &t, "image", unhex(PNG)).await;
        assert_eq!(r.status, StatusCode::CREATED, "upload {n}: {:?}", r.body);
        n += 1;
    }
    app.state
        .db
        .write(|c| {
            c.execute("UPDATE files SET created_at = created_at - 61", [])?;
            Ok(())
        })
        .await
        .unwrap();
    let r = app_upload(app, &t, "image", unhex(PNG)).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "upload_quota_exceeded"),
        "{:?}",
        r.body
    );
    assert!(r.body["error"]["message"].as_str().unwrap().contains("30"));
    assert_eq!(stored(app, m).await, 30);
    // Another account is not affected.
    let other = members(app, 1, Some(w.grass_a1), "registered").await;
    let r = app_upload(app, &other[0].1, "image", unhex(PNG)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
}

/// Item 9: an image must decode. A PNG signature with nothing behind it and a PNG whose header
/// claims 100000 × 100000 pixels are refused with a Chinese field message; real PNG and JPEG
/// pass. Nothing is stored for a refused file.
#[tokio::test]
async fn member_images_must_decode_to_sane_sizes() {
    let w = world().await;
    let app = &w.app;
    let ms = members(app, 1, Some(w.grass_a1), "registered").await;
    let (m, t) = (ms[0].0, &ms[0].1);
    let header_only = unhex(PNG)[..33].to_vec();
    let r = app_upload(app, t, "image", header_only).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert!(
        r.body["error"]["fields"]["file"]
            .as_str()
            .unwrap()
            .contains("图片")
    );
    let mut huge = unhex(PNG);
    huge[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    huge[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32fast::hash(&huge[12..29]);
    huge[29..33].copy_from_slice(&crc.to_be_bytes());
    let r = app_upload(app, t, "avatar", huge).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert!(
        r.body["error"]["fields"]["file"]
            .as_str()
            .unwrap()
            .contains("尺寸")
    );
    assert_eq!(stored(app, m).await, 0);
    for (purpose, bytes) in [("image", unhex(PNG)), ("attachment", unhex(JPEG))] {
        let r = app_upload(app, t, purpose, bytes).await;
        assert_eq!(r.status, StatusCode::CREATED, "{purpose}: {:?}", r.body);
    }
}

/// Item 9: a public upload is served at an unguessable `/files/{token}`, never at its sequential
/// id; a public file stored before tokens existed still answers at its old numeric URL.
#[tokio::test]
async fn public_files_are_served_by_random_token_not_by_id() {
    let w = world().await;
    let app = &w.app;
    let ms = members(app, 1, Some(w.grass_a1), "registered").await;
    let r = app_upload(app, &ms[0].1, "image", unhex(PNG)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let id = r.data()["id"].as_i64().unwrap();
    let url = r.data()["url"].as_str().unwrap().to_string();
    let token = url.strip_prefix("/files/").unwrap();
    assert_eq!(token.len(), 32, "{url}");
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()), "{url}");
    assert_eq!(status_of(app, &url).await, StatusCode::OK);
    assert_eq!(
        status_of(app, &format!("/files/{id}")).await,
        StatusCode::NOT_FOUND
    );
    // The avatar URL members get uses the token too.
    let r = app
        .patch("/api/v1/app/me", &ms[0].1, json!({"avatar_file_id": id}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["avatar_url"], url.as_str());
    // A file from before the change keeps its old link.
    app.exec("UPDATE files SET legacy_id_url = 1 WHERE id = ?1", id)
        .await;
    assert_eq!(
        status_of(app, &format!("/files/{id}")).await,
        StatusCode::OK
    );
}

/// Item 15: a registrant's attachment is reached through the registration: staff of the
/// organising county (B) can download it, staff of the member's home county (A), who have no
/// scope over B's activity, get 404 like for a missing file.
#[tokio::test]
async fn registrant_attachments_follow_the_activity_not_the_home_county() {
    let w = world().await;
    let app = &w.app;
    let r = app
        .post(
            "/api/v1/admin/form-templates",
            &w.tb,
            json!({"name": "报名表", "fields": [
                {"key": "proof", "label": "佐证材料", "type": "image", "required": true}
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let tpl = r.data()["id"].as_i64().unwrap();
    let mut body = activity_body(w.county_b, 10);
    body["members_only"] = json!(false);
    body["form_template_id"] = json!(tpl);
    let id = published(app, &w.tb, body).await;
    let ms = members(app, 1, Some(w.grass_a1), "active").await;
    let t = &ms[0].1;
    let r = app_upload(app, t, "attachment", unhex(PNG)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let fid = r.data()["id"].as_i64().unwrap();
    // Before it is referenced, neither county reaches the member's file.
    let dl = format!("/api/v1/admin/files/{fid}/download");
    assert_eq!(app.get(&dl, &w.ta).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&dl, &w.tb).await.status, StatusCode::NOT_FOUND);
    let r = app
        .post(&reg_path(id), t, json!({"answers": {"proof": fid}}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let (s, _, bytes) = crate::files::raw_get(app, &dl, Some(&w.tb)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(bytes, unhex(PNG));
    let meta = app.get(&format!("/api/v1/admin/files/{fid}"), &w.tb).await;
    assert_eq!(meta.status, StatusCode::OK, "{:?}", meta.body);
    for path in [dl.clone(), format!("/api/v1/admin/files/{fid}")] {
        let r = app.get(&path, &w.ta).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {:?}", r.body);
    }
    let r = app
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/admin/files/{fid}/signed-url"),
            Some(&w.ta),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The super admin (scope all) still reaches it.
    assert_eq!(app.get(&dl, &w.admin).await.status, StatusCode::OK);
}
