//! No oversell: 500 members at once for 50 places, and one member posting 20 times at once.

use super::*;

/// 500 different members register concurrently for quota 50: exactly 50 succeed, 450 get
/// `409 quota_full`, nobody gets a 5xx, and the database holds exactly 50 live registrations.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn five_hundred_members_fifty_places() {
    let w = world().await;
    let app = &w.app;
    let id = published(app, &w.ta, activity_body(w.grass_a1, 50)).await;
    let ms = members(app, 500, Some(w.grass_a1), "active").await;
    let url = format!("{}{}", app.base, reg_path(id));
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(512)
        .build()
        .unwrap();
    let reqs = ms.iter().map(|(_, t)| {
        let (client, url, t) = (client.clone(), url.clone(), t.clone());
        tokio::spawn(async move {
            let r = client
                .post(&url)
                .bearer_auth(t)
                .json(&json!({"answers": {}}))
                .send()
                .await
                .expect("send");
            TestApp::read(r).await
        })
    });
    let results = futures::future::join_all(reqs).await;
    let mut created = 0;
    let mut full = 0;
    for r in results {
        let r = r.unwrap();
        assert!(!r.status.is_server_error(), "{:?}", r.body);
        match (r.status, r.code()) {
            (StatusCode::CREATED, _) => created += 1,
            (StatusCode::CONFLICT, "quota_full") => full += 1,
            other => panic!("unexpected {other:?}: {:?}", r.body),
        }
    }
    assert_eq!((created, full), (50, 450));
    let live = num(app, format!("SELECT count(*) FROM activity_registrations WHERE activity_id = {id} AND status IN ('pending', 'approved')")).await;
    assert_eq!(live, 50);
    assert_eq!(
        num(
            app,
            "SELECT count(*) FROM messages WHERE event = 'activity.registered'".into()
        )
        .await,
        50
    );
    let r = app
        .get(&format!("/api/v1/admin/activities/{id}"), &w.ta)
        .await;
    assert_eq!(r.data()["remaining"], 0);
}

/// The same member posting 20 times at once gets exactly one registration.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn same_member_twenty_times_registers_once() {
    let w = world().await;
    let app = &w.app;
    let id = published(app, &w.ta, activity_body(w.grass_a1, 50)).await;
    let (mid, token) = members(app, 1, Some(w.grass_a1), "active").await.remove(0);
    let path = reg_path(id);
    let reqs = (0..20).map(|_| app.post(&path, &token, json!({"answers": {}})));
    let results = futures::future::join_all(reqs).await;
    let created = results
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let dup = results
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT && r.code() == "already_registered")
        .count();
    assert_eq!((created, dup), (1, 19));
    let n = num(app, format!("SELECT count(*) FROM activity_registrations WHERE activity_id = {id} AND member_id = {mid}")).await;
    assert_eq!(n, 1);
}
