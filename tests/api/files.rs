//! Files through HTTP: upload with sniffed types, public serving, signed URLs for private
//! files, authorised download, delete, data scope, generated storage keys, audit.

use crate::support::*;
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};

/// A 1×1 PNG (valid chunks and CRCs).
pub const PNG: &str = "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de\
                       0000000c49444154789c63f8cfc0000003010100c9fe92ef0000000049454e44ae426082";

/// A minimal baseline JPEG: 8×8 grey, one block, one-symbol Huffman tables.
pub const JPEG: &str = "ffd8ffe000104a46494600010100000100010000ffdb004300\
    01010101010101010101010101010101010101010101010101010101010101010101010101010101\
    010101010101010101010101010101010101010101010101\
    ffc0000b080008000801011100ffc40014000100000000000000000000000000000000\
    ffc40014100100000000000000000000000000000000ffda0008010100003f003fffd9";

/// A one-page PDF with a correct cross-reference table.
pub const PDF: &str = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n\
2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n\
3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>\nendobj\n\
xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n\
0000000115 00000 n \ntrailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n186\n%%EOF\n";

/// The bytes of a hex fixture.
pub fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex fixture")
}

/// Upload `bytes` as `purpose` through the staff route with a client file name and declared type.
pub async fn upload(
    app: &TestApp,
    token: &str,
    purpose: &str,
    bytes: Vec<u8>,
    name: &str,
    declared: &str,
) -> Resp {
    let part = Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str(declared)
        .unwrap();
    let form = Form::new()
        .text("purpose", purpose.to_string())
        .part("file", part);
    let r = app
        .client
        .post(format!("{}/api/v1/admin/files", app.base))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    TestApp::read(r).await
}

/// Upload through the staff route and return the new file id (asserting 201).
pub async fn upload_ok(app: &TestApp, token: &str, purpose: &str, bytes: Vec<u8>) -> i64 {
    let r = upload(
        app,
        token,
        purpose,
        bytes,
        "x.bin",
        "application/octet-stream",
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "upload {purpose}: {:?}",
        r.body
    );
    r.data()["id"].as_i64().unwrap()
}

/// GET a path without any token; status, headers and raw bytes.
pub async fn raw_get(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut rb = app.client.get(format!("{}{path}", app.base));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let r = rb.send().await.expect("get");
    let (s, h) = (r.status(), r.headers().clone());
    (s, h, r.bytes().await.unwrap().to_vec())
}

/// One column of the file row.
pub async fn file_col<T: rusqlite::types::FromSql + Send + 'static>(
    app: &TestApp,
    id: i64,
    col: &'static str,
) -> T {
    app.state
        .db
        .read(move |c| {
            Ok(c.query_row(
                &format!("SELECT {col} FROM files WHERE id = ?1"),
                [id],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap()
}

/// `POST …/signed-url` for a file.
async fn sign_url(app: &TestApp, token: &str, id: i64) -> Resp {
    let path = format!("/api/v1/admin/files/{id}/signed-url");
    app.call(Method::POST, &path, Some(token), None).await
}

/// The PDF fixture as bytes.
fn pdf() -> Vec<u8> {
    PDF.as_bytes().to_vec()
}

/// A query parameter of a URL's query string.
fn param<'a>(query: &'a str, key: &str) -> &'a str {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
        .unwrap()
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// A public PNG and JPEG are served to anyone at `/files/{token}` with the sniffed type, nosniff
/// and an inline Content-Disposition that does not echo the client's file name.
#[tokio::test]
async fn public_images_are_served_inline_with_safe_headers() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    for (purpose, bytes, mime, ext) in [
        ("image", unhex(PNG), "image/png", "png"),
        ("avatar", unhex(JPEG), "image/jpeg", "jpg"),
    ] {
        // Declared as something else entirely: the bytes decide.
        let r = upload(
            &app,
            &t,
            purpose,
            bytes.clone(),
            "holiday photo.gif",
            "text/html",
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(r.data()["content_type"], mime);
        assert_eq!(r.data()["size"], bytes.len() as i64);
        // Named by a random token, never by the sequential id (issue 17).
        let url = r.data()["url"].as_str().unwrap().to_string();
        let token = url.strip_prefix("/files/").unwrap().to_string();
        assert_eq!(token.len(), 32, "{url}");

        let (s, h, body) = raw_get(&app, &url, None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(body, bytes);
        assert_eq!(header(&h, "content-type"), mime);
        assert_eq!(header(&h, "x-content-type-options"), "nosniff");
        let cd = header(&h, "content-disposition");
        assert_eq!(cd, format!("inline; filename=\"{token}.{ext}\""));
        assert!(!cd.contains("holiday"));
    }
}

/// A private PDF needs a signature: none is 404, the issued signed URL serves the exact bytes
/// (sha256 as recorded), a tampered signature or a crafted expired one is 403.
#[tokio::test]
async fn private_attachment_is_only_served_through_a_valid_signed_url() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let r = upload(&app, &t, "attachment", pdf(), "证明.pdf", "application/pdf").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let id = r.data()["id"].as_i64().unwrap();
    assert_eq!(r.data()["content_type"], "application/pdf");
    assert!(r.data()["url"].is_null(), "private files get no public url");

    let (s, _, _) = raw_get(&app, &format!("/files/{id}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let r = sign_url(&app, &t, id).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let url = r.data()["url"].as_str().unwrap().to_string();
    assert!(r.data()["expires_at"].as_str().unwrap().contains('T'));
    let (s, h, body) = raw_get(&app, &url, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, PDF.as_bytes());
    assert_eq!(
        gonghui::crypto::sha256_hex(&body),
        file_col::<String>(&app, id, "sha256").await
    );
    assert_eq!(header(&h, "content-type"), "application/pdf");
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");
    assert_eq!(
        header(&h, "content-disposition"),
        format!("attachment; filename=\"{id}.pdf\"")
    );

    // Tampered: a flipped signature, a pushed-out expiry, garbage, another file's id.
    let other = upload_ok(&app, &t, "attachment", unhex(JPEG)).await;
    let (base, query) = url.split_once('?').unwrap();
    let exp: i64 = param(query, "exp").parse().unwrap();
    let sig = param(query, "sig");
    let flipped = format!(
        "{}{}",
        if sig.starts_with('A') { "B" } else { "A" },
        &sig[1..]
    );
    for bad in [
        format!("{base}?exp={exp}&sig={flipped}"),
        format!("{base}?exp={}&sig={sig}", exp + 3600),
        format!("{base}?exp={exp}&sig=not-base64!"),
        format!("/files/{other}?exp={exp}&sig={sig}"),
    ] {
        let (s, _, _) = raw_get(&app, &bad, None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{bad}");
    }
    // Correctly signed but expired.
    let past = chrono::Utc::now().timestamp() - 60;
    let sig = gonghui::crypto::sign(&app.state.keys.signing, &format!("file:{id}:{past}"));
    let (s, _, _) = raw_get(&app, &format!("/files/{id}?exp={past}&sig={sig}"), None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

/// Staff with `file:read` download a private file through the authorised endpoint; without a
/// token it is 401.
#[tokio::test]
async fn authorised_download_serves_private_bytes_to_staff() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let id = upload_ok(&app, &t, "attachment", unhex(PNG)).await;
    let (s, h, body) = raw_get(
        &app,
        &format!("/api/v1/admin/files/{id}/download"),
        Some(&t),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, unhex(PNG));
    assert_eq!(header(&h, "content-type"), "image/png");
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");
    assert!(header(&h, "content-disposition").starts_with("attachment;"));
    let (s, _, _) = raw_get(&app, &format!("/api/v1/admin/files/{id}/download"), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let r = app.get(&format!("/api/v1/admin/files/{id}"), &t).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.data()["purpose"], "attachment");
    assert_eq!(r.data()["visibility"], "private");
    assert!(r.data().get("storage_key").is_none(), "the key is internal");
}

/// Deleting a file makes every route answer 404 and removes the object from the store.
#[tokio::test]
async fn deleted_file_is_gone_from_routes_and_storage() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let public = upload_ok(&app, &t, "image", unhex(PNG)).await;
    let private = upload_ok(&app, &t, "attachment", pdf()).await;
    for id in [public, private] {
        let key: String = file_col(&app, id, "storage_key").await;
        assert!(app.state.storage.exists(&key).await.unwrap());
        let signed = sign_url(&app, &t, id).await;
        let url = signed.data()["url"].as_str().unwrap().to_string();

        let r = app.delete(&format!("/api/v1/admin/files/{id}"), &t).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert!(
            !app.state.storage.exists(&key).await.unwrap(),
            "object {key} still stored"
        );
        for path in [
            format!("/files/{id}"),
            url,
            format!("/api/v1/admin/files/{id}/download"),
        ] {
            let (s, _, _) = raw_get(&app, &path, Some(&t)).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        }
        assert_eq!(
            app.get(&format!("/api/v1/admin/files/{id}"), &t)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.delete(&format!("/api/v1/admin/files/{id}"), &t)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
    let n = app
        .query_i64("SELECT count(*) FROM audit_logs WHERE action = 'file.delete'")
        .await;
    assert_eq!(n, 2);
}

/// A county admin cannot see, download, sign or delete a file uploaded in a sibling county
/// (404, as for a missing file), while its own county's admin can.
#[tokio::test]
async fn files_of_a_sibling_county_are_out_of_scope() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let root = app.root_org().await;
    let east = app.create_org(&admin, root, "east", "county").await;
    let west = app.create_org(&admin, root, "west", "county").await;
    let (_, te) = app
        .account_token(&admin, "east_admin", east, &[roles::COUNTY_ADMIN])
        .await;
    let (_, tw) = app
        .account_token(&admin, "west_admin", west, &[roles::COUNTY_ADMIN])
        .await;
    let id = upload_ok(&app, &te, "attachment", pdf()).await;
    let org: i64 = file_col(&app, id, "org_id").await;
    assert_eq!(org, east);

    let meta = format!("/api/v1/admin/files/{id}");
    let download = format!("{meta}/download");
    let signed = format!("{meta}/signed-url");
    assert_eq!(app.get(&meta, &tw).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        raw_get(&app, &download, Some(&tw)).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call(Method::POST, &signed, Some(&tw), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.delete(&meta, &tw).await.status, StatusCode::NOT_FOUND);

    assert_eq!(app.get(&meta, &te).await.status, StatusCode::OK);
    let (s, _, body) = raw_get(&app, &download, Some(&te)).await;
    assert_eq!((s, body.as_slice()), (StatusCode::OK, PDF.as_bytes()));
    // The file survived the sibling's delete attempt.
    assert_eq!(app.get(&meta, &admin).await.status, StatusCode::OK);
}

/// The storage key is generated: a hostile client file name never reaches it, and the upload
/// is recorded in the audit log in the same write.
#[tokio::test]
async fn storage_key_is_generated_and_upload_is_audited() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let name = "../../etc/passwd%2F..\\evil name.png";
    let r = upload(&app, &t, "image", unhex(PNG), name, "image/png").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let id = r.data()["id"].as_i64().unwrap();
    let key: String = file_col(&app, id, "storage_key").await;
    for bit in ["..", "etc", "passwd", "evil", "name", "\\", " "] {
        assert!(!key.contains(bit), "key {key:?} contains {bit:?}");
    }
    assert!(key.starts_with("image/") && key.ends_with(".png"), "{key}");
    assert!(app.state.storage.exists(&key).await.unwrap());
    // Nothing was written outside the files dir.
    assert!(!app.dir.path().join("etc").exists());

    let target = id.to_string();
    let (n, summary): (i64, String) = app
        .state
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT count(*), max(summary) FROM audit_logs WHERE action = 'file.upload' AND target_type = 'file' AND target_id = ?1",
                [target],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert!(
        !summary.contains("passwd"),
        "client name leaked into audit: {summary}"
    );
}

/// Types are sniffed from the bytes: HTML declared as PNG, or a PDF as an avatar, is 415 and
/// stores nothing.
#[tokio::test]
async fn spoofed_or_disallowed_types_are_refused() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let html = b"<html><script>alert(1)</script></html>".to_vec();
    let r = upload(&app, &t, "image", html, "a.png", "image/png").await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{:?}", r.body);
    let r = upload(&app, &t, "avatar", pdf(), "a.jpg", "image/jpeg").await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{:?}", r.body);
    let r = upload(&app, &t, "../etc", unhex(PNG), "a.png", "image/png").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "validation_failed")
    );
    assert_eq!(app.query_i64("SELECT count(*) FROM files").await, 0);
    let files = app.dir.path().join("files");
    // `.partial` is the upload temp dir (uploads are written aside, then renamed into place).
    let stored = std::fs::read_dir(&files)
        .map(|d| {
            d.filter(|e| {
                !e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with('.')
            })
            .count()
        })
        .unwrap_or(0);
    assert_eq!(stored, 0, "nothing may be left in {}", files.display());
}

/// Concurrent deletes of one file: exactly one succeeds, the others are 404, and a single
/// `file.delete` audit row is written.
#[tokio::test]
async fn concurrent_deletes_of_one_file_succeed_once() {
    let app = spawn_app().await;
    let t = app.admin_token().await;
    let id = upload_ok(&app, &t, "attachment", pdf()).await;
    let path = format!("/api/v1/admin/files/{id}");
    let answers = futures::future::join_all((0..6).map(|_| app.delete(&path, &t))).await;
    let statuses: Vec<_> = answers.iter().map(|r| r.status).collect();
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let gone = statuses
        .iter()
        .filter(|s| **s == StatusCode::NOT_FOUND)
        .count();
    assert_eq!((ok, gone), (1, 5), "{statuses:?}");
    let n = app
        .query_i64("SELECT count(*) FROM audit_logs WHERE action = 'file.delete'")
        .await;
    assert_eq!(n, 1);
}
