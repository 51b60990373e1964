//! No over-claim: 2,000 members at once for 100 items; one member claiming 20 times at once.

use super::*;

/// 2,000 different members claim concurrently for stock 100: exactly 100 claims, 1,900
/// `409 out_of_stock`, no 5xx, and the stored counter, claims and notices agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn two_thousand_members_one_hundred_items() {
    let w = world().await;
    let app = &w.app;
    let id = published_benefit(app, &w.ta, benefit_body(w.grass_a1, 100)).await;
    let ms = members(app, 2000, Some(w.grass_a1), "active").await;
    let url = format!("{}{}", app.base, claim_path(id));
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(2048)
        .build()
        .unwrap();
    let reqs = ms.iter().map(|(_, t)| {
        let (client, url, t) = (client.clone(), url.clone(), t.clone());
        tokio::spawn(async move {
            let r = client.post(&url).bearer_auth(t).send().await.expect("send");
            TestApp::read(r).await
        })
    });
    let results = futures::future::join_all(reqs).await;
    let (mut created, mut out) = (0, 0);
    let mut codes = std::collections::HashSet::new();
    for r in results {
        let r = r.unwrap();
        assert!(!r.status.is_server_error(), "{:?}", r.body);
        match (r.status, r.code()) {
            (StatusCode::CREATED, _) => {
                created += 1;
                codes.insert(r.data()["code"].as_str().unwrap().to_string());
            }
            (StatusCode::CONFLICT, "out_of_stock") => out += 1,
            other => panic!("unexpected {other:?}: {:?}", r.body),
        }
    }
    assert_eq!((created, out), (100, 1900));
    assert_eq!(codes.len(), 100, "every claim has its own code");
    let q = format!("SELECT count(*) FROM benefit_claims WHERE benefit_id = {id}");
    assert_eq!(num(app, q).await, 100);
    let q = format!("SELECT claimed FROM benefits WHERE id = {id}");
    assert_eq!(num(app, q).await, 100);
    let q = "SELECT count(*) FROM messages WHERE event = 'benefit.claimed'".to_string();
    assert_eq!(num(app, q).await, 100);
    let q = "SELECT count(*) FROM audit_logs WHERE action = 'benefit.claim'".to_string();
    assert_eq!(num(app, q).await, 100);
    let r = app
        .get(&format!("/api/v1/admin/benefits/{id}"), &w.ta)
        .await;
    assert_eq!(r.data()["remaining"], 0);
}

/// One member posting 20 claims at once with a limit of 2 gets exactly 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn one_member_twenty_times_gets_the_limit() {
    let w = world().await;
    let app = &w.app;
    let mut body = benefit_body(w.grass_a1, 50);
    body["per_member_limit"] = json!(2);
    let id = published_benefit(app, &w.ta, body).await;
    let (mid, t) = members(app, 1, Some(w.grass_a1), "active").await.remove(0);
    let path = claim_path(id);
    let results = futures::future::join_all((0..20).map(|_| app.post(&path, &t, json!({})))).await;
    let ok = results
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let lim = results
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT && r.code() == "limit_reached")
        .count();
    assert_eq!((ok, lim), (2, 18));
    let q = format!("SELECT count(*) FROM benefit_claims WHERE member_id = {mid}");
    assert_eq!(num(app, q).await, 2);
    // The member sees both codes, and the detail says why no third.
    let r = app.get("/api/v1/app/me/benefit-claims", &t).await;
    assert_eq!(r.data()["items"].as_array().unwrap().len(), 2);
    let r = app.get(&format!("/api/v1/app/benefits/{id}"), &t).await;
    assert_eq!(r.data()["can_claim"], false);
    assert_eq!(r.data()["reason_code"], "limit_reached");
}

/// Once sold out, refusals come from memory (the claim gate) yet stay exact: the holder is told
/// `limit_reached`, others `out_of_stock`; raising the stock, closing the benefit and moving
/// the member out of its audience are each seen by the very next claim.
#[tokio::test]
async fn a_sold_out_benefit_answers_from_memory_and_follows_every_change() {
    let w = world().await;
    let app = &w.app;
    let id = published_benefit(app, &w.ta, benefit_body(w.grass_a1, 1)).await;
    let ms = members(app, 3, Some(w.grass_a1), "active").await;
    let (a, b, c) = (&ms[0].1, &ms[1].1, &ms[2].1);
    let path = claim_path(id);
    assert_eq!(
        app.post(&path, a, json!({})).await.status,
        StatusCode::CREATED
    );
    for _ in 0..2 {
        assert_eq!(app.post(&path, a, json!({})).await.code(), "limit_reached");
        assert_eq!(app.post(&path, b, json!({})).await.code(), "out_of_stock");
    }
    let admin = format!("/api/v1/admin/benefits/{id}");
    let r = app.patch(&admin, &w.ta, json!({"stock": 2})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        app.post(&path, b, json!({})).await.status,
        StatusCode::CREATED
    );
    assert_eq!(app.post(&path, c, json!({})).await.code(), "out_of_stock");
    assert_eq!(app.post(&path, b, json!({})).await.code(), "limit_reached");
    let r = app.patch(&admin, &w.ta, json!({"stock": 3})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app.post(&format!("{admin}/close"), &w.ta, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(app.post(&path, c, json!({})).await.code(), "claim_closed");
    // A benefit of another org: its members' claims are 404, and stay so from memory.
    let other = published_benefit(app, &w.tb, benefit_body(w.county_b, 1)).await;
    for _ in 0..2 {
        let r = app.post(&claim_path(other), c, json!({})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    let claims = format!("SELECT count(*) FROM benefit_claims WHERE benefit_id = {id}");
    assert_eq!(num(app, claims).await, 2);
}
