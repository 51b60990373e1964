//! Data scope and audience: a sibling county can neither see, edit, export nor redeem; a
//! member outside the audience gets 404; redemption happens once.

use super::*;

/// County B staff get 404 on everything of county A's benefit, and nothing changes.
#[tokio::test]
async fn a_sibling_county_cannot_see_edit_export_or_redeem() {
    let w = world().await;
    let app = &w.app;
    let id = published_benefit(app, &w.ta, benefit_body(w.grass_a1, 10)).await;
    let (_, t) = members(app, 1, Some(w.grass_a1), "active").await.remove(0);
    let r = app.post(&claim_path(id), &t, json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let code = r.data()["code"].as_str().unwrap().to_string();
    let audits = rows(app, "audit_logs").await;
    let base = format!("/api/v1/admin/benefits/{id}");
    for (m, path, body) in [
        ("GET", base.clone(), None),
        ("PATCH", base.clone(), Some(json!({"stock": 20}))),
        ("POST", format!("{base}/close"), Some(json!({}))),
        ("GET", format!("{base}/claims"), None),
        ("GET", format!("{base}/claims/export"), None),
        (
            "POST",
            "/api/v1/admin/benefit-claims/redeem".into(),
            Some(json!({"code": code})),
        ),
    ] {
        let r = app.call(m.parse().unwrap(), &path, Some(&w.tb), body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{m} {path}: {:?}", r.body);
    }
    let r = app.get("/api/v1/admin/benefits", &w.tb).await;
    assert_eq!(r.data()["total"], 0);
    assert_eq!(
        rows(app, "audit_logs").await,
        audits,
        "refusals write nothing"
    );
    let q = format!(
        "SELECT count(*) FROM benefit_claims WHERE status = 'redeemed' AND benefit_id = {id}"
    );
    assert_eq!(num(app, q).await, 0);
    // County A's staff redeem once; the second time is 409, also through the QR payload.
    let path = "/api/v1/admin/benefit-claims/redeem";
    let r = app.post(path, &w.ta, json!({"code": code})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["status"], "redeemed");
    let r = app
        .post(path, &w.ta, json!({"code": format!("GHB:{code}")}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "already_redeemed")
    );
    let q = "SELECT count(*) FROM messages WHERE event = 'benefit.redeemed'".to_string();
    assert_eq!(num(app, q).await, 1);
}

/// A code presented at the counter of another benefit is 404 and stays unredeemed.
#[tokio::test]
async fn the_code_of_another_benefit_is_refused() {
    let w = world().await;
    let app = &w.app;
    let a = published_benefit(app, &w.ta, benefit_body(w.grass_a1, 10)).await;
    let b = published_benefit(app, &w.ta, benefit_body(w.grass_a1, 10)).await;
    let (_, t) = members(app, 1, Some(w.grass_a1), "active").await.remove(0);
    let code = app.post(&claim_path(a), &t, json!({})).await.data()["code"]
        .as_str()
        .unwrap()
        .to_string();
    let path = "/api/v1/admin/benefit-claims/redeem";
    let r = app
        .post(path, &w.ta, json!({"code": code, "benefit_id": b}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    let r = app.post(path, &w.ta, json!({"code": "NOSUCHCODE22"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let q = "SELECT count(*) FROM benefit_claims WHERE status = 'redeemed'".to_string();
    assert_eq!(num(app, q).await, 0);
}

/// Members of the sibling county, members not yet active and drafts: 404, nothing claimed;
/// a closed benefit answers 409 claim_closed.
#[tokio::test]
async fn members_outside_the_audience_get_404() {
    let w = world().await;
    let app = &w.app;
    let id = published_benefit(app, &w.ta, benefit_body(w.grass_a1, 10)).await;
    let (_, tb) = members(app, 1, Some(w.county_b), "active").await.remove(0);
    let (_, tp) = members(app, 1, Some(w.grass_a1), "pending").await.remove(0);
    for t in [&tb, &tp] {
        let r = app.get(&format!("/api/v1/app/benefits/{id}"), t).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = app.post(&claim_path(id), t, json!({})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = app.get("/api/v1/app/benefits", t).await;
        assert_eq!(r.data()["items"].as_array().unwrap().len(), 0);
    }
    let r = app
        .post("/api/v1/admin/benefits", &w.ta, benefit_body(w.grass_a1, 5))
        .await;
    let draft = r.data()["id"].as_i64().unwrap();
    let (_, ta) = members(app, 1, Some(w.grass_a1), "active").await.remove(0);
    let r = app.post(&claim_path(draft), &ta, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .post(
            &format!("/api/v1/admin/benefits/{id}/close"),
            &w.ta,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app.post(&claim_path(id), &ta, json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "claim_closed"));
    assert_eq!(rows(app, "benefit_claims").await, 0);
}

/// The claim code's QR image is served to the member who holds the claim, never cached; any
/// other member (even one in the same audience) gets 404.
#[tokio::test]
async fn the_claim_qr_code_is_only_for_its_holder() {
    let w = world().await;
    let app = &w.app;
    let id = published_benefit(app, &w.ta, benefit_body(w.grass_a1, 10)).await;
    let mut ms = members(app, 2, Some(w.grass_a1), "active").await;
    let (_, other) = ms.remove(1);
    let (_, t) = ms.remove(0);
    let r = app.post(&claim_path(id), &t, json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let cid = r.data()["id"].as_i64().unwrap();
    let url = format!("{}/api/v1/app/me/benefit-claims/{cid}/qr.png", app.base);
    let r = app.client.get(&url).bearer_auth(&t).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let r = app
        .client
        .get(&url)
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let missing = format!(
        "{}/api/v1/app/me/benefit-claims/{}/qr.png",
        app.base,
        cid + 1000
    );
    let r = app
        .client
        .get(&missing)
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
