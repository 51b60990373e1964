//! Item 10: `POST /app/me/realname` is rate-limited per member and per IP, and staff can see an
//! ID-number conflict and release a squatted number (audited, scoped).

use super::*;
use crate::activities::members;

const REALNAME: &str = "/api/v1/app/me/realname";

/// Valid ID numbers of people born on different days of 1980.
fn ids(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| id_number(&format!("5329011980{:02}{:02}321", 1 + i / 28, 1 + i % 28)))
        .collect()
}

#[tokio::test]
async fn realname_submissions_are_rate_limited_per_member_and_per_ip() {
    let app = spawn_app().await;
    let ms = members(&app, 5, None, "registered").await;
    consent_all(&app, ms.iter().map(|m| m.0).collect()).await;
    // Someone already holds these numbers: each try is a 409, the answer an oracle would use.
    let held = ids(40);
    let holders = members(&app, 1, None, "registered").await;
    consent_all(&app, vec![holders[0].0]).await;
    let r = app
        .post(
            REALNAME,
            &holders[0].1,
            json!({"name": "王五", "id_number": held[39]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);

    let t = &ms[0].1;
    for i in 0..5 {
        let r = app
            .post(REALNAME, t, json!({"name": "赵六", "id_number": held[39]}))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "try {i}: {:?}", r.body);
    }
    let r = app
        .post(REALNAME, t, json!({"name": "赵六", "id_number": held[0]}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "member limit: {:?}",
        r.body
    );
    // The limit holds for a fresh number too, and nothing was stored.
    let q = format!(
        "SELECT count(*) FROM members WHERE id = {} AND id_bidx IS NOT NULL",
        ms[0].0
    );
    assert_eq!(num(&app, q).await, 0);

    // Per IP: the other members share 127.0.0.1; 20 tries an hour from one address.
    let mut limited = false;
    for (n, m) in ms[1..].iter().enumerate() {
        for i in 0..5 {
            let r = app
                .post(
                    REALNAME,
                    &m.1,
                    json!({"name": "赵六", "id_number": held[39]}),
                )
                .await;
            if r.status == StatusCode::TOO_MANY_REQUESTS {
                assert!(1 + 5 + n * 5 + i >= 20, "limited too early");
                limited = true;
            }
        }
    }
    assert!(limited, "the per-IP limit never answered 429");
}

#[tokio::test]
async fn staff_see_and_release_a_squatted_id_number() {
    let app = spawn_app().await;
    let w = app.two_counties().await;
    let ms = members(&app, 2, None, "registered").await;
    let (squatter, victim) = (&ms[0], &ms[1]);
    consent_all(&app, vec![squatter.0, victim.0]).await;
    let idn = zhang_id();
    let r = app
        .post(
            REALNAME,
            &squatter.1,
            json!({"name": "张三丰", "id_number": idn}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .post(
            REALNAME,
            &victim.1,
            json!({"name": "张三丰", "id_number": idn}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "id_number_taken");

    let list = app
        .get("/api/v1/admin/members/realname-conflicts", &w.admin_a)
        .await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    let c = &list.data()["items"][0];
    assert_eq!(c["claimant_id"], victim.0);
    assert_eq!(c["holder_id"], squatter.0);
    assert!(
        !mentions(&list.body, &idn),
        "the conflict list shows the number masked"
    );
    let cid = c["id"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/admin/members/realname-conflicts/{cid}/release"),
            &w.admin_a,
            json!({"reason": "本人持身份证到柜台核验"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let q = format!(
        "SELECT count(*) FROM members WHERE id = {} AND id_bidx IS NULL AND real_name IS NULL",
        squatter.0
    );
    assert_eq!(num(&app, q).await, 1);
    let q = "SELECT count(*) FROM audit_logs WHERE action = 'member.realname_release'";
    assert_eq!(num(&app, q.into()).await, 1);
    let r = app
        .post(
            REALNAME,
            &victim.1,
            json!({"name": "张三丰", "id_number": idn}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    // Released once: a second release is a conflict, not a second erasure.
    let r = app
        .post(
            &format!("/api/v1/admin/members/realname-conflicts/{cid}/release"),
            &w.admin_a,
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
}

/// A holder who is in another county's scope is not the caller's to release: 404.
#[tokio::test]
async fn a_conflict_with_a_holder_outside_scope_is_not_found() {
    let app = spawn_app().await;
    let w = app.two_counties().await;
    let idn = zhang_id();
    staff_member(&app, &w.admin_b, w.b1, &idn, "13900000021").await;
    let ms = members(&app, 1, None, "registered").await;
    consent_all(&app, vec![ms[0].0]).await;
    let r = app
        .post(
            REALNAME,
            &ms[0].1,
            json!({"name": "张三丰", "id_number": idn}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let list = app
        .get("/api/v1/admin/members/realname-conflicts", &w.admin_a)
        .await;
    assert_eq!(list.data()["total"], 0, "{:?}", list.body);
    let list = app
        .get("/api/v1/admin/members/realname-conflicts", &w.admin_b)
        .await;
    let cid = list.data()["items"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/admin/members/realname-conflicts/{cid}/release");
    let r = app.post(&path, &w.admin_a, json!({"reason": "核验"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The holder is an active member: staff correct it through member administration instead.
    let r = app.post(&path, &w.admin_b, json!({"reason": "核验"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    // Dismissed instead: closed, both accounts untouched, audited; closed means closed.
    let r = app
        .post(
            &path.replace("release", "dismiss"),
            &w.admin_a,
            json!({"reason": "核验"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "outside scope");
    let r = app
        .post(
            &path.replace("release", "dismiss"),
            &w.admin_b,
            json!({"reason": "未能出示身份证"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["status"], "dismissed");
    let r = app.post(&path, &w.admin_b, json!({"reason": "核验"})).await;
    assert_eq!(r.code(), "conflict_closed", "{:?}", r.body);
    let q = "SELECT count(*) FROM audit_logs WHERE action = 'member.realname_dismiss'";
    assert_eq!(num(&app, q.into()).await, 1);
    let list = app
        .get(
            "/api/v1/admin/members/realname-conflicts?status=dismissed",
            &w.admin_b,
        )
        .await;
    assert_eq!(list.data()["total"], 1, "{:?}", list.body);
    // An erased claimant leaves no conflict (it names an ID number by its blind index).
    assert_eq!(
        app.delete("/api/v1/app/me", &ms[0].1).await.status,
        StatusCode::OK
    );
    let list = app
        .get("/api/v1/admin/members/realname-conflicts", &w.admin_b)
        .await;
    assert_eq!(list.data()["total"], 0, "{:?}", list.body);
}
