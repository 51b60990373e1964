//! Staff data scope and member audience.

use super::helpers::*;
use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

/// A county admin cannot see or touch a sibling county's news (404, like a missing row), nor
/// create news for it; its own list holds only its subtree.
#[tokio::test]
async fn staff_scope_is_enforced() {
    let app = spawn_app().await;
    let t = tree(&app).await;
    let a_news = draft(&app, &t.admin_a, t.a1, "甲县基层新闻", "<p>甲</p>").await;
    let b_news = draft(&app, &t.admin_b, t.b, "乙县新闻", "<p>乙</p>").await;
    for (m, path, body) in [
        ("GET", format!("/api/v1/admin/news/{a_news}"), None),
        (
            "PATCH",
            format!("/api/v1/admin/news/{a_news}"),
            Some(json!({"title": "改"})),
        ),
        (
            "POST",
            format!("/api/v1/admin/news/{a_news}/publish"),
            Some(json!({})),
        ),
        (
            "POST",
            format!("/api/v1/admin/news/{a_news}/withdraw"),
            Some(json!({})),
        ),
        ("DELETE", format!("/api/v1/admin/news/{a_news}"), None),
    ] {
        let r = app
            .call(m.parse().unwrap(), &path, Some(&t.admin_b), body)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{m} {path}: {:?}", r.body);
    }
    let cat = category(&app).await;
    let r = app
        .post(
            "/api/v1/admin/news",
            &t.admin_b,
            json!({"org_id": t.a, "category_id": cat, "title": "越权", "body_html": "<p>x</p>"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Moving one's own article into a sibling's org is refused the same way.
    let r = app
        .patch(
            &format!("/api/v1/admin/news/{b_news}"),
            &t.admin_b,
            json!({"org_id": t.a}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        ids(&app.get("/api/v1/admin/news", &t.admin_b).await.body),
        vec![b_news]
    );
    assert_eq!(
        ids(&app.get("/api/v1/admin/news", &t.admin_a).await.body),
        vec![a_news]
    );
    let all = ids(&app.get("/api/v1/admin/news", &t.admin).await.body);
    assert_eq!(all.len(), 2);
    // A grassroots clerk may not change the shared categories.
    let r = app
        .post(
            "/api/v1/admin/news-categories",
            &t.admin_b,
            json!({"name": "乙县栏目"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // An app token is no staff token.
    let m = member(&app, Some(t.a), "active").await;
    assert_eq!(
        app.get("/api/v1/admin/news", &m).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/app/news", &t.admin).await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// Members read their org's chain (their org and its ancestors); everyone else only the
/// root org's (public) news.
#[tokio::test]
async fn members_see_their_org_chain_and_public_news() {
    let app = spawn_app().await;
    let t = tree(&app).await;
    let root_n = published(&app, &t.admin, t.root, "全县通知", "<p>公开</p>").await;
    let a_n = published(&app, &t.admin_a, t.a, "甲县新闻", "<p>甲</p>").await;
    let a1_n = published(&app, &t.admin_a, t.a1, "甲县基层新闻", "<p>甲一</p>").await;
    let b_n = published(&app, &t.admin_b, t.b, "乙县新闻", "<p>乙</p>").await;
    let sorted = |mut v: Vec<i64>| {
        v.sort();
        v
    };
    let in_a1 = member(&app, Some(t.a1), "active").await;
    assert_eq!(
        sorted(ids(&app.get("/api/v1/app/news", &in_a1).await.body)),
        vec![root_n, a_n, a1_n]
    );
    let in_a = member(&app, Some(t.a), "active").await;
    assert_eq!(
        sorted(ids(&app.get("/api/v1/app/news", &in_a).await.body)),
        vec![root_n, a_n]
    );
    let in_b = member(&app, Some(t.b), "active").await;
    assert_eq!(
        sorted(ids(&app.get("/api/v1/app/news", &in_b).await.body)),
        vec![root_n, b_n]
    );
    assert_eq!(
        app.get(&format!("/api/v1/app/news/{a_n}"), &in_b)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/app/news/{b_n}"), &in_b)
            .await
            .status,
        StatusCode::OK
    );
    // Not (yet, or no longer) a member: public news only.
    for status in ["registered", "pending", "left"] {
        let who = member(&app, Some(t.a1), status).await;
        assert_eq!(
            ids(&app.get("/api/v1/app/news", &who).await.body),
            vec![root_n],
            "{status}"
        );
        assert_eq!(
            app.get(&format!("/api/v1/app/news/{a1_n}"), &who)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
    let r = app.get("/api/v1/app/news?limit=2", &in_a1).await;
    assert_eq!(ids(&r.body).len(), 2);
    let next = r.data()["next_cursor"].as_str().unwrap().to_string();
    let r = app
        .get(&format!("/api/v1/app/news?limit=2&cursor={next}"), &in_a1)
        .await;
    assert_eq!(ids(&r.body).len(), 1);
    assert!(r.data()["next_cursor"].is_null());
}
