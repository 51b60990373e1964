//! Consents, real name with an encrypted ID number, the personal-data copy and account deletion.

use super::fake::*;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ME: &str = "/api/v1/app/me";
const REALNAME: &str = "/api/v1/app/me/realname";
const CONSENTS: &str = "/api/v1/app/me/consents";

/// A male born 1990-03-07 in Beijing.
fn zhang_id() -> String {
    id_number("11010519900307123")
}

async fn consent(app: &TestApp, t: &str, kind: &str) -> Resp {
    app.post(CONSENTS, t, json!({"kind": kind, "version": "2026-01"}))
        .await
}

/// The stored real-name fields of a member: (real_name, id_enc, id_bidx, id_masked).
async fn realname_row(app: &TestApp, id: i64) -> Value {
    app.state
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT real_name, id_enc, id_bidx, id_masked, gender, birth_date FROM members WHERE id = ?1",
                [id],
                |r| {
                    Ok(json!([r.get::<_, Option<String>>(0)?, r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<String>>(2)?, r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<String>>(4)?, r.get::<_, Option<String>>(5)?]))
                },
            )?)
        })
        .await
        .unwrap()
}

/// Consents are recorded with kind, version and time; an unknown kind is a 400 that stores
/// nothing.
#[tokio::test]
async fn consents_are_recorded_with_their_version() {
    let app = spawn_app().await;
    let (id, t) = sms_member(&app, "13811110000").await;
    assert_eq!(consent(&app, &t, "privacy").await.status, StatusCode::OK);
    assert_eq!(consent(&app, &t, "sensitive").await.status, StatusCode::OK);
    let q = format!(
        "SELECT count(*) FROM member_consents WHERE member_id = {id} AND version = '2026-01' AND at > 0"
    );
    assert_eq!(num(&app, q).await, 2);
    let r = consent(&app, &t, "marketing").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert!(r.body["error"]["fields"]["kind"].is_string());
    let r = app
        .post(CONSENTS, &t, json!({"kind": "privacy", "version": ""}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        num(&app, "SELECT count(*) FROM member_consents".into()).await,
        2
    );
    let audited = "SELECT count(*) FROM audit_logs WHERE action = 'member.consent'";
    assert_eq!(num(&app, audited.into()).await, 2);
}

/// Real name before the separate sensitive-data consent is 403 and stores nothing; the privacy
/// consent alone is not enough.
#[tokio::test]
async fn realname_needs_the_sensitive_consent_first() {
    let app = spawn_app().await;
    let (id, t) = sms_member(&app, "13811110001").await;
    consent(&app, &t, "privacy").await;
    let body = json!({"name": "张三丰", "id_number": zhang_id()});
    let r = app.post(REALNAME, &t, body.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("敏感个人信息")
    );
    assert_eq!(
        realname_row(&app, id).await,
        json!([null, null, null, null, null, null])
    );

    consent(&app, &t, "sensitive").await;
    let r = app.post(REALNAME, &t, body).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["realname_verified"], true);
    assert_eq!(app.get(ME, &t).await.data()["realname_verified"], true);
    let row = realname_row(&app, id).await;
    assert_eq!(row[0], "张三丰");
    assert!(row[1].as_str().unwrap().starts_with("v1:"));
    assert_eq!(row[2], app.state.cipher.blind_index(&zhang_id()).as_str());
    assert_eq!(row[4], "male");
    assert_eq!(row[5], "1990-03-07");
}

/// Bad checksum, impossible date, 17 characters and letters are each a 400 on `id_number`;
/// nothing is stored.
#[tokio::test]
async fn invalid_id_numbers_are_refused_field_by_field() {
    let app = spawn_app().await;
    let (id, t) = sms_member(&app, "13811110002").await;
    consent(&app, &t, "sensitive").await;
    let good = zhang_id();
    let flipped = if good.ends_with('1') { '2' } else { '1' };
    let bad_checksum = format!("{}{flipped}", &good[..17]);
    let cases = [
        (bad_checksum, "校验位"),
        (id_number("11010519900231123"), "出生日期"),
        (good[..17].to_string(), "18 位"),
        ("1101051990030712AB".to_string(), "数字"),
        ("ABCDEFGHIJKLMNOPQR".to_string(), "数字"),
    ];
    for (idn, hint) in cases {
        let r = app
            .post(REALNAME, &t, json!({"name": "张三丰", "id_number": idn}))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{idn}: {:?}", r.body);
        let msg = r.body["error"]["fields"]["id_number"]
            .as_str()
            .unwrap_or_default();
        assert!(msg.contains(hint), "{idn}: {msg}");
    }
    assert_eq!(realname_row(&app, id).await[1], Value::Null);
}

/// A gender or birth date that disagrees with the ID number is a 400 on that field.
#[tokio::test]
async fn gender_and_birth_date_must_match_the_id_number() {
    let app = spawn_app().await;
    let (id, t) = sms_member(&app, "13811110003").await;
    consent(&app, &t, "sensitive").await;
    let body = json!({"name": "张三丰", "id_number": zhang_id(), "gender": "female"});
    let r = app.post(REALNAME, &t, body).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert!(r.body["error"]["fields"]["gender"].is_string());
    let body = json!({"name": "张三丰", "id_number": zhang_id(), "birth_date": "1990-03-08"});
    let r = app.post(REALNAME, &t, body).await;
    assert!(
        r.body["error"]["fields"]["birth_date"].is_string(),
        "{:?}",
        r.body
    );
    assert_eq!(realname_row(&app, id).await[0], Value::Null);
    let body = json!({"name": "张三丰", "id_number": zhang_id(), "gender": "male", "birth_date": "1990-03-07"});
    assert_eq!(app.post(REALNAME, &t, body).await.status, StatusCode::OK);
}

/// An ID number registered by one member cannot be registered by another (409
/// `id_number_taken`), also when typed with a lower-case x.
#[tokio::test]
async fn an_id_number_belongs_to_one_member() {
    let app = spawn_app().await;
    let x_id = id_number("11010519851212009");
    assert!(
        x_id.ends_with('X'),
        "fixture needs an X check digit: {x_id}"
    );
    verified_member(&app, "13811110004", "王五", &x_id).await;
    let (id, t) = sms_member(&app, "13811110005").await;
    consent(&app, &t, "sensitive").await;
    let lower = x_id.to_lowercase();
    let r = app
        .post(REALNAME, &t, json!({"name": "赵六", "id_number": lower}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.code(), "id_number_taken");
    assert_eq!(realname_row(&app, id).await[0], Value::Null);
    assert_eq!(app.get(ME, &t).await.data()["realname_verified"], false);
}

/// The ID number is never written in plaintext to the database or its WAL, and no response but
/// the member's own export contains it.
#[tokio::test]
async fn the_id_number_is_stored_encrypted_and_only_the_export_shows_it() {
    let app = spawn_app().await;
    let idn = zhang_id();
    let (id, t) = verified_member(&app, "13811110006", "张三丰", &idn).await;
    let bytes = db_bytes(&app);
    assert!(bytes.len() > 4096);
    assert!(
        has_bytes(&bytes, "张三丰"),
        "the byte search finds plain text"
    );
    assert!(
        !has_bytes(&bytes, &idn),
        "plaintext ID number in the DB file or WAL"
    );
    assert!(
        !has_bytes(&bytes, "13811110006"),
        "plaintext phone in the DB file or WAL"
    );
    let masked = format!("{}**********{}", &idn[..6], &idn[16..]);
    assert_eq!(realname_row(&app, id).await[3], masked.as_str());

    let admin = app.admin_token().await;
    let root = app.root_org().await;
    let r = app
        .post(
            "/api/v1/app/membership/applications",
            &t,
            json!({"org_id": root, "work_unit": "县供电公司"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let mut seen = vec![r.body, app.get(ME, &t).await.body];
    let detail = format!("/api/v1/admin/members/{id}");
    let staff = [
        "/api/v1/admin/membership/applications",
        "/api/v1/admin/audit-logs",
        "/api/v1/admin/members",
        &detail,
    ];
    for path in staff {
        let r = app.get(path, &admin).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {:?}", r.body);
        seen.push(r.body);
    }
    for body in &seen {
        assert!(!body.to_string().contains(&idn), "ID leaked in {body}");
    }

    let r = app.get("/api/v1/app/me/export", &t).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let m = &r.data()["member"];
    assert_eq!(m["id_number"], idn.as_str());
    assert_eq!(m["phone"], "13811110006");
    assert_eq!(m["real_name"], "张三丰");
    assert_eq!(
        r.data()["membership_applications"][0]["work_unit"],
        "县供电公司"
    );
    assert!(
        r.data()["consents"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    );
    assert!(
        !m.to_string().contains("v1:"),
        "no ciphertext in the export"
    );
    let q = format!(
        "SELECT count(*) FROM audit_logs WHERE action = 'member.export_self' AND target_id = '{id}'"
    );
    assert_eq!(num(&app, q).await, 1);
    assert!(
        !has_bytes(&db_bytes(&app), &idn),
        "export wrote the ID somewhere"
    );
}

/// Deleting the account ends every session and erases name, phone and ID number from the DB
/// file and its WAL; the anonymous row and the audit trail stay.
#[tokio::test]
async fn deleting_the_account_revokes_tokens_and_erases_personal_data() {
    let app = spawn_app().await;
    let (name, phone, idn) = ("欧阳明月", "13811110007", id_number("44030419880808456"));
    let (id, t) = verified_member(&app, phone, name, &idn).await;
    let root = app.root_org().await;
    let body = json!({"org_id": root, "work_unit": "深圳港务集团", "job_title": "调度员"});
    let r = app
        .post("/api/v1/app/membership/applications", &t, body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let before = db_bytes(&app);
    assert!(
        has_bytes(&before, name) && has_bytes(&before, "深圳港务集团"),
        "fixture sanity"
    );
    assert_eq!(
        num(
            &app,
            "SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL AND audience = 'app'"
                .into()
        )
        .await,
        1
    );

    let r = app.delete(ME, &t).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(app.get(ME, &t).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/api/v1/app/me/export", &t).await.status,
        StatusCode::UNAUTHORIZED
    );
    let live = "SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL AND audience = 'app'";
    assert_eq!(num(&app, live.into()).await, 0);

    let after = db_bytes(&app);
    for (what, v) in [
        ("name", name),
        ("phone", phone),
        ("ID number", idn.as_str()),
        ("work unit", "深圳港务集团"),
    ] {
        assert!(
            !has_bytes(&after, v),
            "{what} still in the DB file or WAL after deletion"
        );
    }
    let q = format!("SELECT status FROM members WHERE id = {id}");
    assert_eq!(text(&app, q).await.as_deref(), Some("deleted"));
    let q = format!(
        "SELECT count(*) FROM members WHERE id = {id} AND id_enc IS NULL AND id_bidx IS NULL AND phone_bidx IS NULL AND real_name IS NULL"
    );
    assert_eq!(num(&app, q).await, 1);
    let q = format!(
        "SELECT count(*) FROM audit_logs WHERE action = 'member.delete_self' AND target_id = '{id}'"
    );
    assert_eq!(num(&app, q).await, 1);

    // The freed ID number and phone can be registered again by a new account.
    let (_, t2) = verified_member(&app, phone, name, &idn).await;
    assert_eq!(app.get(ME, &t2).await.data()["realname_verified"], true);
}

/// Deletion scrubs the WAL even when another connection is reading at that moment: the
/// checkpoint waits for the reader instead of giving up.
#[tokio::test]
async fn deletion_scrubs_the_wal_even_while_someone_is_reading() {
    let app = spawn_app().await;
    let (name, phone, idn) = ("司马相如", "13811110008", id_number("51010719790101234"));
    let (_, t) = verified_member(&app, phone, name, &idn).await;
    let path = app.dir.path().join("gonghui.db");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut c = rusqlite::Connection::open(&path).unwrap();
        let txn = c.transaction().unwrap();
        let n: i64 = txn
            .query_row("SELECT count(*) FROM members", [], |r| r.get(0))
            .unwrap();
        tx.send(n).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(700));
    });
    assert_eq!(rx.recv().unwrap(), 1);
    assert!(has_bytes(&db_bytes(&app), name), "fixture sanity");
    assert_eq!(app.delete(ME, &t).await.status, StatusCode::OK);
    reader.join().unwrap();
    let after = db_bytes(&app);
    for v in [name, phone, idn.as_str()] {
        assert!(!has_bytes(&after, v), "{v} left in the DB file or WAL");
    }
}
