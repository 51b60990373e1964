//! Bad inputs: documented 4xx with Chinese field messages, and nothing changed.

use super::*;

async fn snapshot(app: &TestApp) -> String {
    app.state
        .db
        .read(|c| {
            let mut s = String::new();
            for t in [
                "aid_applications",
                "aid_family_members",
                "aid_attachments",
                "aid_log",
                "aid_steps",
                "audit_logs",
                "messages",
            ] {
                let n: i64 = c.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))?;
                s.push_str(&format!("{t}={n} "));
            }
            let u: f64 =
                c.query_row("SELECT total(updated_at) FROM aid_applications", [], |r| {
                    r.get(0)
                })?;
            s.push_str(&format!("u={u}"));
            Ok(s)
        })
        .await
        .unwrap()
}

/// Negative or non-numeric income, household 0, a family ID failing GB 11643, an attachment
/// of another member: 400 naming the field; submitting twice and a missing opinion: 409 / 400;
/// nothing changes.
#[tokio::test]
async fn bad_inputs_change_nothing() {
    let w = aid_world().await;
    let (app, t) = (&w.app, &w.t);
    let mt = w.members[0].1.clone();
    let hardship = type_id(app, "hardship").await;
    let others = upload(app, &w.member_b.1, false, pdf("not-mine")).await;
    let id = submitted(app, &mt, form(hardship)).await;
    let before = snapshot(app).await;
    let mut bad_id = id_number("19850317", "231");
    bad_id.replace_range(17.., if bad_id.ends_with('1') { "2" } else { "1" });
    let cases: Vec<(&str, Value)> = vec![
        ("monthly_income", json!({"monthly_income": "-100"})),
        ("monthly_income", json!({"monthly_income": "两千"})),
        ("household_size", json!({"household_size": 0})),
        (
            "family[0].id_number",
            json!({"family": [{"name": "李四", "relation": "配偶", "id_number": bad_id}]}),
        ),
        (
            "attachments[0].file_id",
            json!({"attachments": [{"file_id": others, "label": "收入证明"}]}),
        ),
        ("reason_code", json!({"reason_code": "lazy"})),
    ];
    let illness = type_id(app, "illness").await;
    for (field, patch) in cases {
        let mut f = form(illness);
        for (k, v) in patch.as_object().unwrap() {
            f[k] = v.clone();
        }
        let r = app
            .post("/api/v1/app/aid/applications", &mt, f.clone())
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{field}: {:?}", r.body);
        let msg = r.body["error"]["fields"][field]
            .as_str()
            .unwrap_or_else(|| panic!("{field}: {:?}", r.body));
        assert!(
            msg.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{msg}"
        );
        // The same on a staff 代申请.
        let r = app
            .post(
                "/api/v1/admin/aid/applications",
                &t.clerk_a1,
                json!({"member_id": w.members[1].0, "application": f}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "proxy {field}: {:?}",
            r.body
        );
    }
    // Submitting twice; a second open application of the type; opinions missing.
    let r = app
        .post(
            &format!("/api/v1/app/aid/applications/{id}/submit"),
            &mt,
            json!({}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "already_submitted")
    );
    let r = app
        .post("/api/v1/app/aid/applications", &mt, form(hardship))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "open_exists"));
    let r = app
        .patch(
            &format!("/api/v1/app/aid/applications/{id}"),
            &mt,
            form(hardship),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "not_editable"));
    for a in ["reject", "return"] {
        let r = app.post(&act(id, a), &t.clerk_a1, json!({})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{a}: {:?}", r.body);
    }
    let r = app
        .post(&act(id, "approve"), &t.clerk_a1, json!({"level": "rich"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(snapshot(app).await, before);
}

/// The causes of hardship come from the server, one list for both sides: members read
/// `/api/v1/app/aid/reasons`, staff the `aid_reason` dictionary; every listed code is accepted.
#[tokio::test]
async fn reasons_are_served_to_members_and_staff() {
    let w = aid_world().await;
    let (app, mt) = (&w.app, &w.members[0].1);
    let r = app.get("/api/v1/app/aid/reasons", mt).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let items = r.data().as_array().unwrap().clone();
    assert_eq!(items.len(), 7);
    assert_eq!(items[0], json!({"code": "illness", "name": "因病"}));
    let d = app.get("/api/v1/admin/dictionaries", &w.t.admin).await;
    let dict = d
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "aid_reason")
        .cloned();
    let dict = dict.expect("aid_reason dictionary");
    assert_eq!(dict["name"], "致困原因");
    let codes = |v: &Value| -> Vec<Value> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].clone())
            .collect()
    };
    assert_eq!(codes(&dict["items"]), codes(&Value::Array(items.clone())));
    let hardship = type_id(app, "hardship").await;
    let last = items.last().unwrap()["code"].clone();
    let mut f = form(hardship);
    f["reason_code"] = last;
    let r = app.post("/api/v1/app/aid/applications", mt, f).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
}
