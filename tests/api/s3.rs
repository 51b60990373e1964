//! Files on a real S3 API: `moto_server` on 127.0.0.1 as the object store.
//!
//! Needs `pip install 'moto[s3]' flask flask-cors`. Without `moto_server` on PATH the test
//! fails when `CI` is set and is skipped with a notice otherwise.

use crate::files::{PDF, PNG, unhex, upload};
use crate::support::*;
use gonghui::config::StorageKind;
use reqwest::{Method, StatusCode};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const BUCKET: &str = "gonghui-test";

/// A `moto_server` child process, killed when dropped.
pub(crate) struct Moto {
    child: Child,
    guard: Child,
    pub(crate) endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        for c in [&mut self.child, &mut self.guard] {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Start moto on a free port and wait until it answers; `None` when it is not installed.
pub(crate) async fn start_moto(http: &reqwest::Client) -> Option<Moto> {
    let port = crate::support::free_port();
    let child = match Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("cannot start moto_server: {e}"),
    };
    let mut moto = Moto {
        guard: crate::support::guard(child.id(), &format!("{port}")),
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(&moto.endpoint).send().await
            && r.status().is_success()
        {
            return Some(moto);
        }
        if let Some(status) = moto.child.try_wait().unwrap() {
            panic!("moto_server exited early ({status}); is `moto[s3]` with flask installed?");
        }
        assert!(
            Instant::now() < deadline,
            "moto_server did not answer within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// An operator of our own on the bucket, independent of the app's, to look at objects.
pub(crate) fn bucket(moto: &Moto) -> opendal::Operator {
    opendal::install_default();
    let b = opendal::services::S3::default()
        .endpoint(&moto.endpoint)
        .bucket(BUCKET)
        .region("us-east-1")
        .access_key_id("testing")
        .secret_access_key("testing")
        .disable_config_load()
        .disable_ec2_metadata();
    opendal::Operator::new(b).unwrap()
}

/// The object's bytes in the bucket, `None` when it does not exist.
pub(crate) async fn object(op: &opendal::Operator, key: &str) -> Option<Vec<u8>> {
    match op.read(key).await {
        Ok(b) => Some(b.to_vec()),
        Err(e) if e.kind() == opendal::ErrorKind::NotFound => None,
        Err(e) => panic!("read {key} from the bucket: {e}"),
    }
}

/// An app whose file store is a fresh bucket of a moto server on loopback, or `None` (after
/// a notice naming `what`) when moto is not installed; under CI its absence is a failure.
pub(crate) async fn s3_app(http: &reqwest::Client, what: &str) -> Option<(Moto, TestApp)> {
    let Some(moto) = start_moto(http).await else {
        let msg =
            "moto_server is not on PATH; install it with: pip install 'moto[s3]' flask flask-cors";
        if std::env::var_os("CI").is_some() {
            panic!("{msg} (required when CI is set)");
        }
        eprintln!("NOTICE: skipping {what}: {msg}");
        return None;
    };
    let r = http
        .put(format!("{}/{BUCKET}", moto.endpoint))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "create bucket: {}", r.status());
    let endpoint = moto.endpoint.clone();
    let app = spawn_with(move |cfg| {
        cfg.storage.kind = StorageKind::S3;
        cfg.storage.endpoint = endpoint;
        cfg.storage.bucket = BUCKET.into();
        cfg.storage.region = "us-east-1".into();
        cfg.storage.access_key_id = "testing".into();
        cfg.storage.secret_access_key = "testing".into();
    })
    .await;
    Some((moto, app))
}

/// Upload, public serve, signed and authorised download, and delete all work with the store
/// on S3: the object appears in the bucket under its generated key and disappears on delete.
#[tokio::test]
async fn files_round_trip_through_a_real_s3_api() {
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let Some((moto, app)) = s3_app(&http, "the S3 test").await else {
        return;
    };
    let t = app.admin_token().await;
    let op = bucket(&moto);
    let key_of = |id: i64| {
        app.state.db.read(move |c| {
            Ok(
                c.query_row("SELECT storage_key FROM files WHERE id = ?1", [id], |r| {
                    r.get::<_, String>(0)
                })?,
            )
        })
    };

    // A public image: stored in the bucket, served at its URL (`/files/{token}`).
    let png = unhex(PNG);
    let r = upload(&app, &t, "image", png.clone(), "a.png", "image/png").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let img = r.data()["id"].as_i64().unwrap();
    let img_url = r.data()["url"].as_str().unwrap().to_string();
    let img_key = key_of(img).await.unwrap();
    assert_eq!(object(&op, &img_key).await, Some(png.clone()));
    let r = http
        .get(format!("{}{img_url}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().as_ref(), png.as_slice());

    // A private PDF: in the bucket, served by a signed URL and the authorised endpoint only.
    let pdf = PDF.as_bytes().to_vec();
    let r = upload(
        &app,
        &t,
        "attachment",
        pdf.clone(),
        "b.pdf",
        "application/pdf",
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let doc = r.data()["id"].as_i64().unwrap();
    let doc_key = key_of(doc).await.unwrap();
    assert_eq!(object(&op, &doc_key).await, Some(pdf.clone()));
    let r = http
        .get(format!("{}/files/{doc}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let s = app
        .call(
            Method::POST,
            &format!("/api/v1/admin/files/{doc}/signed-url"),
            Some(&t),
            None,
        )
        .await;
    let url = s.data()["url"].as_str().unwrap();
    let r = http.get(format!("{}{url}", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), pdf.as_slice());
    let r = http
        .get(format!("{}/api/v1/admin/files/{doc}/download", app.base))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.bytes().await.unwrap();
    assert_eq!(
        gonghui::crypto::sha256_hex(&body),
        gonghui::crypto::sha256_hex(&pdf)
    );

    // Delete: the objects leave the bucket and the routes answer 404.
    for (id, key) in [(img, img_key), (doc, doc_key)] {
        let r = app.delete(&format!("/api/v1/admin/files/{id}"), &t).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(object(&op, &key).await, None, "{key} still in the bucket");
        assert!(!app.state.storage.exists(&key).await.unwrap());
        let r = http
            .get(format!("{}/api/v1/admin/files/{id}/download", app.base))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
}
