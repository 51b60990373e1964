//! Create, edit, publish, schedule, withdraw, delete; categories; validation; sanitising.

use super::helpers::*;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

/// Draft → published → withdrawn → published again; scheduling through the scheduler core;
/// pinned first; every write audited.
#[tokio::test]
async fn news_lifecycle_publish_schedule_withdraw() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let root = app.root_org().await;
    let member = member(&app, Some(root), "active").await;

    let old = published(&app, &admin, root, "工会年度总结", "<p>一年来工作</p>").await;
    let id = draft(&app, &admin, root, "职工之家建设", "<p>正文</p>").await;
    let r = app.get("/api/v1/app/news", &member).await;
    assert_eq!(ids(&r.body), vec![old], "drafts are not listed");

    // Publish now.
    let r = app
        .post(
            &format!("/api/v1/admin/news/{id}/publish"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.data()["status"], "published");
    assert!(
        r.data()["published_at"]
            .as_str()
            .unwrap()
            .ends_with("+08:00")
    );
    let r = app
        .post(
            &format!("/api/v1/admin/news/{id}/publish"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "already_published");

    // Pinned first, then newest first.
    let r = app
        .patch(
            &format!("/api/v1/admin/news/{old}"),
            &admin,
            json!({"pinned": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app.get("/api/v1/app/news", &member).await;
    assert_eq!(ids(&r.body), vec![old, id]);
    assert!(r.data()["next_cursor"].is_null());

    // Withdraw: gone for members (list and detail), still there for staff.
    let r = app
        .post(
            &format!("/api/v1/admin/news/{id}/withdraw"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.data()["status"], "withdrawn", "{:?}", r.body);
    assert_eq!(
        app.get(&format!("/api/v1/app/news/{id}"), &member)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ids(&app.get("/api/v1/app/news", &member).await.body),
        vec![old]
    );
    let r = app
        .post(
            &format!("/api/v1/admin/news/{id}/withdraw"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(r.code(), "not_published");

    // Schedule one hour ahead, then run the scheduler core at two instants.
    let later = draft(&app, &admin, root, "定时发布的通知", "<p>明天见</p>").await;
    let at = gonghui::time::now() + 3600;
    let r = app
        .post(
            &format!("/api/v1/admin/news/{later}/publish"),
            &admin,
            json!({"publish_at": gonghui::time::fmt(at)}),
        )
        .await;
    assert_eq!(r.data()["status"], "scheduled", "{:?}", r.body);
    let done = gonghui::news::jobs::run_scheduler(&app.state, at - 1)
        .await
        .unwrap();
    assert!(done.is_empty());
    assert_eq!(
        app.get(&format!("/api/v1/app/news/{later}"), &member)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let done = gonghui::news::jobs::run_scheduler(&app.state, at)
        .await
        .unwrap();
    assert_eq!(done, vec![later]);
    let r = app.get(&format!("/api/v1/app/news/{later}"), &member).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.data()["published_at"], gonghui::time::fmt(at));

    // Delete.
    assert_eq!(
        app.delete(&format!("/api/v1/admin/news/{later}"), &admin)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/api/v1/admin/news/{later}"), &admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/app/news/{later}"), &member)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let audited = app
        .query_i64("SELECT count(*) FROM audit_logs WHERE action IN ('news.create','news.publish','news.schedule','news.withdraw','news.update','news.delete')")
        .await;
    // 3 creates, 2 publishes by staff, 1 schedule, 1 scheduler publish, 1 update, 1 withdraw, 1 delete.
    assert_eq!(audited, 10);
}

/// The background loop publishes a due article on its own with a short interval.
#[tokio::test]
async fn background_scheduler_publishes_due_articles() {
    let app = spawn_with(|c| c.news.scheduler_interval_secs = 1).await;
    let admin = app.admin_token().await;
    let root = app.root_org().await;
    let id = draft(&app, &admin, root, "两秒后发布", "<p>定时</p>").await;
    let at = gonghui::time::now() + 2;
    let r = app
        .post(
            &format!("/api/v1/admin/news/{id}/publish"),
            &admin,
            json!({"publish_at": gonghui::time::fmt(at)}),
        )
        .await;
    assert_eq!(r.data()["status"], "scheduled");
    let mut status = String::new();
    for _ in 0..60 {
        let r = app.get(&format!("/api/v1/admin/news/{id}"), &admin).await;
        status = r.data()["status"].as_str().unwrap().to_string();
        if status == "published" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, "published");
}

/// `<script>` and event handlers never reach the stored body; images only from our files.
#[tokio::test]
async fn stored_bodies_are_sanitised() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let root = app.root_org().await;
    let dirty = r#"<p>工会<script>alert(1)</script><img src="/files/1" onerror="alert(2)"><img src="https://evil.example/x.png"><a href="javascript:alert(3)" onclick="x()">点</a></p>"#;
    let id = draft(&app, &admin, root, "清洗测试", dirty).await;
    let r = app.get(&format!("/api/v1/admin/news/{id}"), &admin).await;
    let html = r.data()["body_html"].as_str().unwrap().to_lowercase();
    let stored: String = app
        .state
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT body_html || body_text FROM news WHERE id = ?1",
                [id],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    for s in [&html, &stored.to_lowercase()] {
        for bad in [
            "<script",
            "onerror",
            "onclick",
            "javascript:",
            "evil.example",
        ] {
            assert!(!s.contains(bad), "{bad} survived: {s}");
        }
    }
    assert!(html.contains(r#"<img src="/files/1">"#), "{html}");
    // An edit is sanitised too.
    let r = app
        .patch(
            &format!("/api/v1/admin/news/{id}"),
            &admin,
            json!({"body_html": "<p>ok</p><svg onload=alert(1)></svg>"}),
        )
        .await;
    let html = r.data()["body_html"].as_str().unwrap();
    assert!(!html.contains("onload") && !html.contains("<svg"), "{html}");
}

/// Validation answers 400 with Chinese field messages; categories: CRUD, 409 in use.
#[tokio::test]
async fn validation_and_categories() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let root = app.root_org().await;
    let r = app
        .post("/api/v1/admin/news", &admin, json!({"org_id": root, "category_id": 999, "title": " ", "body_html": "<script>x</script>", "publish_at": "明天"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let f = &r.body["error"]["fields"];
    assert_eq!(f["title"], "标题不能为空");
    assert_eq!(f["body_html"], "正文不能为空");
    assert!(
        f["publish_at"].as_str().unwrap().contains("格式不正确"),
        "{f}"
    );
    let r = app
        .post("/api/v1/admin/news", &admin, json!({"org_id": root, "category_id": 999, "title": "标题", "body_html": "<p>正文</p>", "cover_file_id": 12345}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"]["fields"]["category_id"], "栏目不存在");
    assert_eq!(
        r.body["error"]["fields"]["cover_file_id"],
        "封面须为已上传的公开图片"
    );
    let r = app
        .post(
            "/api/v1/admin/news",
            &admin,
            json!({"org_id": 9999, "category_id": 1, "title": "标题", "body_html": "<p>正文</p>"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = app
        .post(
            "/api/v1/admin/news-categories",
            &admin,
            json!({"name": "劳模风采", "sort": 5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let cat = r.data()["id"].as_i64().unwrap();
    let r = app
        .post(
            "/api/v1/admin/news-categories",
            &admin,
            json!({"name": "劳模风采"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let member = member(&app, None, "registered").await;
    let r = app.get("/api/v1/app/news/categories", &member).await;
    assert_eq!(
        r.data()[0]["name"],
        "劳模风采",
        "ordered by sort: {:?}",
        r.body
    );
    let r = app
        .post("/api/v1/admin/news", &admin, json!({"org_id": root, "category_id": cat, "title": "标题", "body_html": "<p>正文</p>"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app
        .delete(&format!("/api/v1/admin/news-categories/{cat}"), &admin)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "in_use");
    let r = app
        .patch(
            &format!("/api/v1/admin/news-categories/{cat}"),
            &admin,
            json!({"name": "先进典型"}),
        )
        .await;
    assert_eq!(r.data()["name"], "先进典型");
    let r = app
        .post(
            "/api/v1/admin/news-categories",
            &admin,
            json!({"name": "空栏目"}),
        )
        .await;
    let empty = r.data()["id"].as_i64().unwrap();
    assert_eq!(
        app.delete(&format!("/api/v1/admin/news-categories/{empty}"), &admin)
            .await
            .status,
        StatusCode::OK
    );
    let audited = app
        .query_i64("SELECT count(*) FROM audit_logs WHERE action LIKE 'news_category.%'")
        .await;
    assert_eq!(audited, 4);
}

/// Viewing an article counts, and the counts reach the database.
#[tokio::test]
async fn views_are_counted() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let root = app.root_org().await;
    let member = member(&app, Some(root), "active").await;
    let id = published(&app, &admin, root, "浏览计数", "<p>正文</p>").await;
    app.get(&format!("/api/v1/app/news/{id}"), &member).await;
    let r = app.get(&format!("/api/v1/app/news/{id}"), &member).await;
    assert_eq!(r.data()["view_count"], 2);
    app.state.news.views.flush(&app.state.db).await.unwrap();
    assert_eq!(app.query_i64("SELECT view_count FROM news").await, 2);
}

/// The first page of the feed is kept in memory per audience; every change that shows in it
/// (a new article, an org or a category renamed) shows on the next read, and the audience
/// decides which page a member gets.
#[tokio::test]
async fn the_cached_first_page_follows_every_change() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let root = app.root_org().await;
    let county = app.create_org(&admin, root, "fc", "county").await;
    let reader = member(&app, Some(county), "active").await;
    let a = published(&app, &admin, county, "县工会通知", "<p>正文</p>").await;
    const FEED: &str = "/api/v1/app/news?limit=5";
    let r = app.get(FEED, &reader).await;
    assert_eq!(ids(&r.body), vec![a]);
    let b = published(&app, &admin, root, "市总工会要闻", "<p>正文</p>").await;
    assert_eq!(ids(&app.get(FEED, &reader).await.body), vec![b, a]);
    let cat = category(&app).await;
    let r = app
        .patch(
            &format!("/api/v1/admin/news-categories/{cat}"),
            &admin,
            json!({"name": "公告栏"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app
        .patch(
            &format!("/api/v1/admin/orgs/{county}"),
            &admin,
            json!({"name": "新县工会"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app.get(FEED, &reader).await;
    let items = r.data()["items"].as_array().unwrap().clone();
    assert_eq!(items[0]["category_name"], "公告栏");
    assert_eq!(items[1]["org_name"], "新县工会");
    // Another member of the same org shares the page; one of no org sees only public news.
    let other = member(&app, Some(county), "active").await;
    assert_eq!(ids(&app.get(FEED, &other).await.body), vec![b, a]);
    let outsider = member(&app, None, "registered").await;
    assert_eq!(ids(&app.get(FEED, &outsider).await.body), vec![b]);
}
