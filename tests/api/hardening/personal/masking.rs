//! Item 2 (no masked ID can be rebuilt from what staff see without `member:reveal`) and item 22
//! (card verification outside the caller's scope answers only validity).

use super::*;

/// The list, the detail and the xlsx export without reveal show the birth year at most, and the
/// mask hides the sequence digits too: nothing carries the birth date, so mask + year + gender
/// still leave thousands of candidates. The export is audited.
#[tokio::test]
async fn staff_views_without_reveal_carry_no_birth_date() {
    let app = spawn_app().await;
    let w = app.two_counties().await;
    let idn = zhang_id();
    let mid = staff_member(&app, &w.admin_a, w.a1, &idn, "13900000001").await;
    let masked = format!("{}**********{}", &idn[..6], &idn[16..]);
    let list = app.get("/api/v1/admin/members", &w.admin_a).await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    let detail = app
        .get(&format!("/api/v1/admin/members/{mid}"), &w.admin_a)
        .await;
    assert_eq!(detail.status, StatusCode::OK);
    for body in [&list.body, &detail.body] {
        assert!(!mentions(body, "1990-03-07"), "birth date shown: {body}");
        assert!(!mentions(body, "0307"), "birth digits shown: {body}");
        assert!(!mentions(body, &idn[14..]), "sequence digits shown: {body}");
    }
    assert_eq!(detail.data()["id_number_masked"], masked.as_str());
    assert_eq!(detail.data()["birth_year"], 1990);
    assert_eq!(detail.data()["gender"], "male");
    assert_eq!(list.data()["items"][0]["id_number_masked"], masked.as_str());

    let (st, bytes) = download(&app, "/api/v1/admin/members/export", &w.admin_a).await;
    assert_eq!(st, StatusCode::OK);
    let rows = sheet(&bytes);
    let all = rows.concat().join("|");
    assert!(
        !all.contains("1990-03-07") && !all.contains(&idn[14..]),
        "{rows:?}"
    );
    assert!(rows[1].contains(&masked), "{rows:?}");
    assert!(rows[1].contains(&"1990".to_string()), "{rows:?}");
    let q = "SELECT count(*) FROM audit_logs WHERE action = 'member.export'";
    assert_eq!(num(&app, q.into()).await, 1);

    // With reveal (the super admin) the export carries the full number and the birth date.
    let (_, bytes) = download(&app, "/api/v1/admin/members/export", &w.admin).await;
    let rows = sheet(&bytes);
    assert!(rows[1].contains(&idn), "{rows:?}");
    assert!(rows[1].contains(&"1990-03-07".to_string()), "{rows:?}");
}

/// A county admin scanning the card of a member of a sibling county learns only that the card
/// is valid: no name, member number or org. Inside scope the card still shows who it is.
#[tokio::test]
async fn verify_card_outside_scope_answers_only_validity() {
    let app = spawn_app().await;
    let w = app.two_counties().await;
    let mid = staff_member(&app, &w.admin_a, w.a1, &zhang_id(), "13900000002").await;
    let exp = gonghui::time::now() + 120;
    let payload = gonghui::members::card::payload(&app.state.keys.signing, mid, exp);
    let body = json!({"qr_payload": payload});
    let r = app
        .post(
            "/api/v1/admin/members/verify-card",
            &w.admin_b,
            body.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["valid"], true);
    assert_eq!(r.data()["name"], Value::Null, "{:?}", r.body);
    assert_eq!(r.data()["member_no"], Value::Null);
    assert_eq!(r.data()["org_name"], Value::Null);
    assert!(!mentions(&r.body, "张三丰") && !mentions(&r.body, "GH"));

    let r = app
        .post("/api/v1/admin/members/verify-card", &w.admin_a, body)
        .await;
    assert_eq!(r.data()["valid"], true);
    assert_eq!(r.data()["name"], "张三丰");
    assert!(r.data()["member_no"].as_str().is_some());
}
