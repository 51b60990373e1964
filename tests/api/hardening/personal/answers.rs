//! Item 6: phone answers of activity forms are encrypted at rest and masked in the staff list
//! and the export unless the exporter may reveal, like ID-number answers.

use super::*;
use crate::activities::{activity_body, members, published};

/// A template with a phone field and an ID field; returns its id.
pub async fn phone_template(app: &TestApp, token: &str) -> i64 {
    let body = json!({"name": "联络报名表", "fields": [
        {"key": "tel", "label": "联系电话", "type": "phone", "required": true},
        {"key": "idno", "label": "身份证号", "type": "id_number"}
    ]});
    let r = app.post("/api/v1/admin/form-templates", token, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.data()["id"].as_i64().unwrap()
}

/// An activity of `org` with the phone template, published by `token`.
pub async fn phone_activity(app: &TestApp, token: &str, org: i64) -> i64 {
    let tpl = phone_template(app, token).await;
    let mut body = activity_body(org, 10);
    body["form_template_id"] = json!(tpl);
    published(app, token, body).await
}

#[tokio::test]
async fn phone_answers_are_encrypted_and_masked_for_staff() {
    let app = spawn_app().await;
    let w = app.two_counties().await;
    let aid = phone_activity(&app, &w.admin_a, w.a1).await;
    let ms = members(&app, 1, Some(w.a1), "active").await;
    let (mid, t) = (ms[0].0, ms[0].1.clone());
    let path = format!("/api/v1/app/activities/{aid}/registrations");
    let r = app
        .post(&path, &t, json!({"answers": {"tel": "13912345678"}}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);

    let q = format!(
        "SELECT answers || answers_enc FROM activity_registrations WHERE member_id = {mid}"
    );
    let stored = text(&app, q).await.unwrap();
    assert!(
        !stored.contains("13912345678"),
        "clear phone at rest: {stored}"
    );
    assert!(!stored.contains("12345678"), "{stored}");

    let list = app
        .get(
            &format!("/api/v1/admin/activities/{aid}/registrations"),
            &w.admin_a,
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    assert_eq!(list.data()["items"][0]["answers"]["tel"], "139****5678");

    let export = format!("/api/v1/admin/activities/{aid}/registrations/export");
    let (st, bytes) = download(&app, &export, &w.admin_a).await;
    assert_eq!(st, StatusCode::OK);
    let rows = sheet(&bytes);
    assert!(rows[1].contains(&"139****5678".to_string()), "{rows:?}");
    assert!(!rows.concat().join("|").contains("13912345678"));
    // Revealing needs member:reveal for the activity's org; then the export carries it.
    let (st, _) = download(&app, &format!("{export}?reveal=true"), &w.admin_a).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, bytes) = download(&app, &format!("{export}?reveal=true"), &w.admin).await;
    assert_eq!(st, StatusCode::OK);
    assert!(sheet(&bytes)[1].contains(&"13912345678".to_string()));
}

/// Rows written in clear by earlier versions are sealed by the start-up data step: the phone
/// encrypted and masked, an old `6 + 4` ID mask re-derived; a second run changes nothing.
#[tokio::test]
async fn stored_clear_phone_answers_are_sealed_once() {
    use gonghui::activities::sealing::{MARKER, seal_stored_answers};
    let app = spawn_app().await;
    let w = app.two_counties().await;
    let q = format!("SELECT count(*) FROM settings WHERE key = '{MARKER}'");
    assert_eq!(num(&app, q).await, 1, "the step ran at start-up");
    let aid = phone_activity(&app, &w.admin_a, w.a1).await;
    let ms = members(&app, 1, Some(w.a1), "active").await;
    let mid = ms[0].0;
    let legacy = json!({"tel": "13912345678", "idno": "110105********002X"}).to_string();
    let run = |again: bool| {
        let cipher = app.state.cipher.clone();
        app.state.db.write(move |c| {
            if !again {
                c.execute("DELETE FROM settings WHERE key = ?1", [MARKER])?;
            }
            seal_stored_answers(c, cipher.as_ref())
        })
    };
    app.state
        .db
        .write(move |c| {
            c.execute(
                "INSERT INTO activity_registrations (activity_id, member_id, org_id, status, answers, answers_enc, created_at)
                 VALUES (?1, ?2, NULL, 'cancelled', ?3, '{}', 1)",
                rusqlite::params![aid, mid, legacy],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(run(false).await.unwrap(), 1);
    let q = format!("SELECT answers FROM activity_registrations WHERE member_id = {mid}");
    let shown: Value = serde_json::from_str(&text(&app, q.clone()).await.unwrap()).unwrap();
    assert_eq!(
        shown,
        json!({"tel": "139****5678", "idno": "110105**********2X"})
    );
    let q2 = format!("SELECT answers_enc FROM activity_registrations WHERE member_id = {mid}");
    let enc: Value = serde_json::from_str(&text(&app, q2.clone()).await.unwrap()).unwrap();
    let ct = enc["tel"].as_str().unwrap();
    let clear = app
        .state
        .cipher
        .decrypt(ct, gonghui::activities::form::AAD_ANSWER_PHONE);
    assert_eq!(clear.unwrap(), "13912345678");
    // Marker set: skipped; marker removed: a full second pass finds nothing to change.
    assert_eq!(run(true).await.unwrap(), 0);
    assert_eq!(run(false).await.unwrap(), 0);
    assert_eq!(text(&app, q2).await.unwrap(), enc.to_string());
}
