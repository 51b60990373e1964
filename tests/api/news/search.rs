//! Chinese full-text search for members and staff.

use super::helpers::*;
use crate::support::*;
use reqwest::StatusCode;
use std::time::{Duration, Instant};

/// Finds two-character words and 疗休养, ranks a title hit above a body hit, leaves out
/// drafts, withdrawn and other orgs' news, escapes HTML, paginates exactly.
#[tokio::test]
async fn search_finds_chinese_words_with_visibility_and_escaping() {
    let app = spawn_app().await;
    let t = tree(&app).await;
    let body_hit = published(
        &app,
        &t.admin,
        t.root,
        "县总工会召开全委会议",
        "<p>会议部署了困难职工帮扶工作和劳模疗休养安排。</p>",
    )
    .await;
    let title_hit = published(
        &app,
        &t.admin_a,
        t.a,
        "困难职工帮扶政策解读",
        "<p>本文介绍相关政策的申请条件。</p>",
    )
    .await;
    let rest = published(
        &app,
        &t.admin_a,
        t.a1,
        "劳模疗休养活动启动",
        "<p>首批&lt;script&gt;alert(1)&lt;/script&gt;劳模前往疗养院。</p>",
    )
    .await;
    let _draft = draft(&app, &t.admin, t.root, "帮扶草稿不应出现", "<p>帮扶</p>").await;
    let gone = published(&app, &t.admin, t.root, "已撤回的帮扶通知", "<p>帮扶</p>").await;
    app.post(
        &format!("/api/v1/admin/news/{gone}/withdraw"),
        &t.admin,
        serde_json::json!({}),
    )
    .await;
    let other = published(&app, &t.admin_b, t.b, "乙县工会帮扶专项", "<p>乙县帮扶</p>").await;
    let m = member(&app, Some(t.a1), "active").await;

    let r = search(&app, &m, "帮扶").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        ids(&r.body),
        vec![title_hit, body_hit],
        "title hit first, no draft/withdrawn/other org"
    );
    assert_eq!(r.data()["total"], 2);
    let first = &r.data()["items"][0];
    assert_eq!(first["title_highlight"], "困难职工<em>帮扶</em>政策解读");
    let second = &r.data()["items"][1];
    assert!(
        second["snippet"]
            .as_str()
            .unwrap()
            .contains("<em>帮扶</em>"),
        "{second}"
    );

    let r = search(&app, &m, "工会").await;
    assert_eq!(ids(&r.body), vec![body_hit]);
    assert!(
        r.data()["items"][0]["title_highlight"]
            .as_str()
            .unwrap()
            .contains("<em>工会</em>")
    );

    // The category name is searchable too (every visible article is in 通知公告).
    assert_eq!(search(&app, &m, "公告").await.data()["total"], 3);

    let r = search(&app, &m, "疗休养").await;
    let mut found = ids(&r.body);
    found.sort();
    assert_eq!(found, vec![body_hit, rest]);
    assert_eq!(ids(&r.body)[0], rest, "title hit first");

    // Escaping: the literal <script> in the text comes back escaped around the <em> marks
    // (the snippet is a window starting shortly before the hit, so test the closing tag).
    let r = search(&app, &m, "劳模").await;
    let hit = r.data()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == rest)
        .unwrap()
        .clone();
    let snip = hit["snippet"].as_str().unwrap();
    assert!(snip.contains("&lt;/script&gt;"), "{snip}");
    assert!(!snip.contains("<script"), "{snip}");
    assert!(snip.contains("<em>劳模</em>"), "{snip}");

    // The sibling county's member finds its own news, not A's.
    let mb = member(&app, Some(t.b), "active").await;
    let mut found = ids(&search(&app, &mb, "帮扶").await.body);
    found.sort();
    assert_eq!(found, vec![body_hit, other]);
    // A logged-in non-member: public (root) news only.
    let outsider = member(&app, None, "registered").await;
    assert_eq!(
        ids(&search(&app, &outsider, "帮扶").await.body),
        vec![body_hit]
    );

    // Exact pagination.
    let r = app
        .get(
            &format!(
                "/api/v1/app/news/search?q={}&page_size=1&page=2",
                url_escape("帮扶")
            ),
            &m,
        )
        .await;
    assert_eq!(r.data()["total"], 2);
    assert_eq!(ids(&r.body), vec![body_hit]);

    // Bad queries.
    for q in [
        "",
        "%20%20",
        &url_escape(&"工".repeat(51)),
        &url_escape("，。"),
    ] {
        let r = app.get(&format!("/api/v1/app/news/search?q={q}"), &m).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
        assert!(r.body["error"]["fields"]["q"].is_string(), "{:?}", r.body);
    }
    assert_eq!(
        app.get("/api/v1/app/news/search", &m).await.status,
        StatusCode::BAD_REQUEST
    );

    // Staff search uses the index within scope, drafts included.
    let r = app
        .get(
            &format!("/api/v1/admin/news?q={}", url_escape("帮扶")),
            &t.admin_b,
        )
        .await;
    assert_eq!(ids(&r.body), vec![other]);
    let r = app
        .get(
            &format!("/api/v1/admin/news?q={}", url_escape("帮扶")),
            &t.admin,
        )
        .await;
    assert_eq!(r.data()["total"], 5, "{:?}", r.body);
    let r = app
        .get(
            &format!("/api/v1/admin/news?q={}&status=draft", url_escape("帮扶")),
            &t.admin,
        )
        .await;
    assert_eq!(r.data()["total"], 1);
}

/// Publishing makes an article searchable within a second; withdrawing, editing and
/// deleting take effect as fast.
#[tokio::test]
async fn changes_reach_search_within_a_second() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let root = app.root_org().await;
    let m = member(&app, Some(root), "active").await;
    let id = draft(&app, &admin, root, "职工书屋开放", "<p>欢迎阅读</p>").await;
    let start = Instant::now();
    app.post(
        &format!("/api/v1/admin/news/{id}/publish"),
        &admin,
        serde_json::json!({}),
    )
    .await;
    let wait_for = |q: &'static str, want: Vec<i64>| {
        let app = &app;
        let m = &m;
        async move {
            let start = Instant::now();
            loop {
                let got = ids(&search(app, m, q).await.body);
                if got == want {
                    return start.elapsed();
                }
                assert!(
                    start.elapsed() < Duration::from_secs(1),
                    "{q}: {got:?} != {want:?}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    wait_for("书屋", vec![id]).await;
    assert!(start.elapsed() < Duration::from_secs(1));
    app.patch(
        &format!("/api/v1/admin/news/{id}"),
        &admin,
        serde_json::json!({"title": "职工阅览室开放"}),
    )
    .await;
    wait_for("阅览室", vec![id]).await;
    wait_for("书屋", vec![]).await;
    app.post(
        &format!("/api/v1/admin/news/{id}/withdraw"),
        &admin,
        serde_json::json!({}),
    )
    .await;
    wait_for("阅览室", vec![]).await;
    app.post(
        &format!("/api/v1/admin/news/{id}/publish"),
        &admin,
        serde_json::json!({}),
    )
    .await;
    wait_for("阅览室", vec![id]).await;
    app.delete(&format!("/api/v1/admin/news/{id}"), &admin)
        .await;
    wait_for("阅览室", vec![]).await;
    // Renaming a category re-indexes its articles.
    let id2 = published(&app, &admin, root, "一篇文章", "<p>内容</p>").await;
    let cat = category(&app).await;
    app.patch(
        &format!("/api/v1/admin/news-categories/{cat}"),
        &admin,
        serde_json::json!({"name": "维权服务"}),
    )
    .await;
    wait_for("维权", vec![id2]).await;
}
