//! Privacy: the stored bytes never hold a family member's ID number, the income figures or an
//! attachment's content; staff see masks, reveal is permission-bound and audited; deleting the
//! account erases the application's personal values and its attachments.

use super::*;

/// Every byte of the database file and its WAL.
fn raw_bytes(app: &TestApp) -> Vec<u8> {
    let db = app.state.db.path().to_path_buf();
    let mut out = std::fs::read(&db).unwrap();
    let wal = std::path::PathBuf::from(format!("{}-wal", db.display()));
    if let Ok(w) = std::fs::read(&wal) {
        out.extend(w);
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// A member applies with two family members and an attachment; the database and WAL bytes
/// hold none of the ID numbers, incomes or the attachment; staff lists and details are masked;
/// reveal needs `aid:reveal` and is audited; account deletion erases the values and files.
#[tokio::test]
async fn stored_bytes_masks_reveal_and_erasure() {
    let w = aid_world().await;
    let (app, t) = (&w.app, &w.t);
    let (mid, mt) = (w.members[0].0, w.members[0].1.clone());
    let marker = "ATTACHMENT-CONTENT-6f1c2a";
    let file = upload(app, &mt, false, pdf(marker)).await;
    let spouse = id_number("19850317", "231");
    let child = id_number("20120909", "114");
    let hardship = type_id(app, "hardship").await;
    let mut f = form(hardship);
    f["monthly_income"] = json!("3456.78");
    f["per_capita_income"] = json!("1152.26");
    f["family"] = json!([
        {"name": "李秀英", "relation": "配偶", "id_number": spouse, "age": 41, "occupation": "无业", "income": "987.65", "health": "尿毒症透析"},
        {"name": "王小宝", "relation": "子女", "id_number": child, "age": 14, "occupation": "县一中"}
    ]);
    f["attachments"] = json!([{"file_id": file, "label": "诊断证明"}]);
    let id = submitted(app, &mt, f).await;
    let raw = raw_bytes(app);
    for secret in [
        spouse.as_str(),
        child.as_str(),
        "3456.78",
        "1152.26",
        "987.65",
        "尿毒症透析",
        marker,
    ] {
        assert!(
            !contains(&raw, secret),
            "the database bytes contain {secret}"
        );
    }
    // The member sees their own values.
    let r = app
        .get(&format!("/api/v1/app/aid/applications/{id}"), &mt)
        .await;
    assert_eq!(r.data()["form"]["monthly_income"], json!("3456.78"));
    assert_eq!(r.data()["family"][0]["id_number"], json!(spouse));
    // Staff see masks only.
    let r = app.get(&one(id), &t.clerk_a1).await;
    let text = r.body.to_string();
    assert!(
        !text.contains(&spouse) && !text.contains("3456.78") && !text.contains("李秀英"),
        "{text}"
    );
    assert_eq!(
        r.data()["family"][0]["id_masked"],
        json!(format!("{}**********{}", &spouse[..6], &spouse[16..]))
    );
    assert_eq!(r.data()["family"][0]["name_masked"], json!("李**"));
    // Reveal: the clerk lacks aid:reveal (403); the county admin reveals, audited.
    assert_eq!(
        app.post(&act(id, "reveal"), &t.clerk_a1, json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    app.post(&act(id, "approve"), &t.clerk_a1, json!({})).await;
    let before = app
        .query_i64("SELECT count(*) FROM audit_logs WHERE action = 'aid.reveal'")
        .await;
    let r = app.post(&act(id, "reveal"), &t.admin_a, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["family"][0]["id_number"], json!(spouse));
    assert_eq!(r.data()["form"]["monthly_income"], json!("3456.78"));
    let after = app
        .query_i64("SELECT count(*) FROM audit_logs WHERE action = 'aid.reveal'")
        .await;
    assert_eq!(after, before + 1);
    let audit = app
        .state
        .db
        .read(|c| {
            Ok(c.query_row(
                "SELECT group_concat(summary, '') FROM audit_logs",
                [],
                |r| r.get::<_, String>(0),
            )?)
        })
        .await
        .unwrap();
    assert!(!audit.contains(&spouse) && !audit.contains("3456.78"));
    // Staff export is masked.
    let r = app
        .client
        .get(format!("{}/api/v1/admin/aid/applications/export", app.base))
        .bearer_auth(&t.admin_a)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Account deletion erases values, family and the attachment.
    let r = app.delete("/api/v1/app/me", &mt).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let (sealed, fam, att, deleted, st) = app
        .state
        .db
        .read(move |c| {
            Ok((
                c.query_row(
                    "SELECT count(sealed) FROM aid_applications WHERE member_id = ?1",
                    [mid],
                    |r| r.get::<_, i64>(0),
                )?,
                c.query_row("SELECT count(*) FROM aid_family_members", [], |r| {
                    r.get::<_, i64>(0)
                })?,
                c.query_row("SELECT count(*) FROM aid_attachments", [], |r| {
                    r.get::<_, i64>(0)
                })?,
                c.query_row(
                    "SELECT deleted_at IS NOT NULL FROM files WHERE id = ?1",
                    [file],
                    |r| r.get::<_, bool>(0),
                )?,
                c.query_row(
                    "SELECT status FROM aid_applications WHERE id = ?1",
                    [id],
                    |r| r.get::<_, String>(0),
                )?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(
        (sealed, fam, att, deleted, st.as_str()),
        (0, 0, 0, true, "cancelled")
    );
    let r = app.post(&act(id, "reveal"), &t.admin_a, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    let raw = raw_bytes(app);
    for secret in [spouse.as_str(), "3456.78", marker] {
        assert!(
            !contains(&raw, secret),
            "after erasure the bytes contain {secret}"
        );
    }
}
