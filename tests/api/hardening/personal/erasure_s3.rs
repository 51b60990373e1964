//! Item 7 on S3: account deletion removes the member's objects from the bucket through the
//! storage operator. Needs `moto_server` like `tests/api/s3.rs` (skipped with a notice without
//! it, unless `CI` is set).

use super::*;
use crate::s3::{bucket, object, s3_app};

#[tokio::test]
async fn deleting_the_account_removes_its_objects_from_s3() {
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let Some((moto, app)) = s3_app(&http, "the S3 erasure test").await else {
        return;
    };
    let ms = crate::activities::members(&app, 1, None, "registered").await;
    let (mid, t) = (ms[0].0, ms[0].1.clone());
    let (_, url) = super::erasure::upload(&app, &t, "image").await;
    super::erasure::upload(&app, &t, "attachment").await;
    let keys: Vec<String> = app
        .state
        .db
        .read(move |c| {
            let mut st = c.prepare(
                "SELECT storage_key FROM files WHERE owner_id = ?1 AND owner_type = 'member'",
            )?;
            Ok(st
                .query_map([mid], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?)
        })
        .await
        .unwrap();
    let op = bucket(&moto);
    for k in &keys {
        assert!(object(&op, k).await.is_some(), "{k} uploaded");
    }
    assert_eq!(
        app.delete("/api/v1/app/me", &t).await.status,
        StatusCode::OK
    );
    for k in &keys {
        assert!(object(&op, k).await.is_none(), "{k} still in the bucket");
    }
    let r = http
        .get(format!("{}{}", app.base, url.unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
