//! Member lists paged by cursor: walking every slice gives each visible item exactly once in
//! list order, whatever the ties and the mix of orgs; bad cursors and limits are a 400.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Follow `next_cursor` from the first slice to the end; the ids in order and the slice count.
async fn walk(app: &TestApp, token: &str, path: &str, limit: i64) -> (Vec<i64>, usize) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let (mut ids, mut slices) = (vec![], 0);
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            None => format!("{path}{sep}limit={limit}"),
            Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
        };
        let r = app.get(&url, token).await;
        assert_eq!(r.status, StatusCode::OK, "{url}: {:?}", r.body);
        assert!(
            r.data().get("total").is_none(),
            "cursor lists count nothing"
        );
        let items = r.data()["items"].as_array().unwrap().clone();
        assert!(items.len() as i64 <= limit);
        slices += 1;
        ids.extend(items.iter().map(|i| i["id"].as_i64().unwrap()));
        match r.data()["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(items.len() as i64, limit, "a full slice before a cursor");
                cursor = Some(c.to_string());
            }
            None => break,
        }
        assert!(slices < 100, "the walk must end");
    }
    (ids, slices)
}

async fn publish(app: &TestApp, token: &str, org: i64, cat: i64, title: &str) -> i64 {
    let r = app
        .post(
            "/api/v1/admin/news",
            token,
            json!({"org_id": org, "category_id": cat, "title": title, "body_html": "<p>正文</p>"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let id = r.data()["id"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/api/v1/admin/news/{id}/publish"),
            token,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    id
}

/// An active member of `org` and an app token.
async fn member(app: &TestApp, org: i64) -> String {
    let id: i64 = app
        .state
        .db
        .write(move |c| {
            let now = gonghui::time::now();
            c.execute(
                "INSERT INTO members (status, org_id, org_since, created_at, updated_at) VALUES ('active', ?1, ?2, ?2, ?2)",
                rusqlite::params![org, now],
            )?;
            Ok(c.last_insert_rowid())
        })
        .await
        .unwrap();
    gonghui::auth::tokens::issue_access(&app.state.keys, "app", id, 1, 600).unwrap()
}

/// The news feed over three orgs with pinned articles and equal publication times comes out
/// exactly in (pinned, published_at, id) order, each article once, also per category.
#[tokio::test]
async fn news_feed_walks_every_article_once_in_order() {
    let app = spawn_app().await;
    let w = app.two_counties().await;
    let cats: Vec<i64> = app
        .state
        .db
        .read(|c| {
            let mut st = c.prepare("SELECT id FROM news_categories ORDER BY id LIMIT 2")?;
            let v = st
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?;
            Ok(v)
        })
        .await
        .unwrap();
    let root = app.root_org().await;
    let mut n = 0;
    for org in [root, w.a, w.a1, w.b1] {
        for _ in 0..6 {
            n += 1;
            let cat = cats[n % 2];
            publish(&app, &w.admin, org, cat, &format!("第{n}篇工会新闻")).await;
        }
    }
    // Ties on purpose: three publication times only, and some pinned articles in two orgs.
    app.state
        .db
        .write(|c| {
            c.execute_batch(
                "UPDATE news SET published_at = 1700000000 + (id % 3) * 60;
                 UPDATE news SET pinned = 1 WHERE id % 5 = 0;",
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let t = member(&app, w.a1).await;
    let expected = |filter: String| {
        let (root, a, a1) = (root, w.a, w.a1);
        let app = &app;
        async move {
            app.state
                .db
                .read(move |c| {
                    let mut st = c.prepare(&format!(
                        "SELECT id FROM news WHERE status = 'published' AND org_id IN (?1, ?2, ?3) {filter}
                         ORDER BY pinned DESC, published_at DESC, id DESC"
                    ))?;
                    let v = st
                        .query_map([root, a, a1], |r| r.get(0))?
                        .collect::<rusqlite::Result<Vec<i64>>>()?;
                    Ok(v)
                })
                .await
                .unwrap()
        }
    };
    let all = expected(String::new()).await;
    assert_eq!(
        all.len(),
        18,
        "root, county A and A1 are visible, B1 is not"
    );
    for limit in [1, 4, 7, 50] {
        let (ids, slices) = walk(&app, &t, "/api/v1/app/news", limit).await;
        assert_eq!(ids, all, "limit {limit}");
        let n = all.len() as i64;
        assert_eq!(slices as i64, (n + limit - 1) / limit, "limit {limit}");
    }
    let cat = cats[1];
    let (ids, _) = walk(&app, &t, &format!("/api/v1/app/news?category_id={cat}"), 4).await;
    let in_cat = expected(format!("AND category_id = {cat}")).await;
    assert_eq!(ids, in_cat);
    assert!(!ids.is_empty());
}

/// Messages and my registrations page by cursor too; a forged or foreign cursor and an
/// out-of-range limit are a 400 naming the field, on every cursor list.
#[tokio::test]
async fn cursor_lists_refuse_bad_cursors_and_limits() {
    let app = spawn_app().await;
    let w = app.two_counties().await;
    let t = member(&app, w.a1).await;
    for i in 0..5 {
        let r = app
            .post(
                "/api/v1/admin/messages",
                &w.admin_a,
                json!({"title": format!("通知{i}"), "content": "请按时参加", "audience": {"org_ids": [w.a]}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    let (ids, slices) = walk(&app, &t, "/api/v1/app/messages", 2).await;
    assert_eq!(ids.len(), 5);
    assert_eq!(slices, 3);
    assert!(ids.windows(2).all(|p| p[0] > p[1]), "newest first: {ids:?}");
    let (mine, _) = walk(&app, &t, "/api/v1/app/me/activities", 2).await;
    assert!(mine.is_empty());

    for path in [
        "/api/v1/app/news",
        "/api/v1/app/activities",
        "/api/v1/app/messages",
        "/api/v1/app/me/activities",
    ] {
        for (query, field) in [
            ("cursor=not-a-cursor", "cursor"),
            // A valid cursor of another list (three parts, not one or two) is refused too.
            ("cursor=azE6MSwyLDM", "cursor"),
            ("limit=0", "limit"),
            ("limit=51", "limit"),
            ("limit=-9223372036854775808", "limit"),
        ] {
            if path == "/api/v1/app/news" && query == "cursor=azE6MSwyLDM" {
                continue;
            }
            let r = app.get(&format!("{path}?{query}"), &t).await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "{path}?{query}: {:?}",
                r.body
            );
            let msg: &Value = &r.body["error"]["fields"][field];
            assert!(msg.is_string(), "{path}?{query}: {:?}", r.body);
        }
    }
}
