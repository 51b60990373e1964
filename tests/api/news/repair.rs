//! SQLite is the source of truth: a reopened index repairs itself, `reindex` rebuilds it.

use super::helpers::*;
use crate::support::*;
use gonghui::app::AppState;
use gonghui::search::SearchIndex;
use gonghui::search::schema;
use std::process::{Command, Stdio};
use tantivy::Term;

/// Change SQLite behind the index's back and drop an index document; on reopen both are
/// repaired, and the commit payload records the SQLite change sequence.
#[tokio::test]
async fn reopening_repairs_the_index() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let root = app.root_org().await;
    let changed = published(&app, &admin, root, "职工运动会", "<p>比赛项目</p>").await;
    let dropped = published(&app, &admin, root, "法律援助站揭牌", "<p>维权</p>").await;
    let removed = published(&app, &admin, root, "书法比赛", "<p>作品征集</p>").await;
    let seq = app.query_i64("SELECT seq FROM news_search_seq").await;
    assert_eq!(app.state.news.search.committed_seq(), Some(seq));
    app.state.news.search.close().await;

    // Behind the index's back: a new title (with a new version) and a deleted article.
    app.state
        .db
        .write(move |c| {
            c.execute("UPDATE news_search_seq SET seq = seq + 2", [])?;
            c.execute(
                "UPDATE news SET title = '劳模疗休养', search_version = (SELECT seq - 1 FROM news_search_seq) WHERE id = ?1",
                [changed],
            )?;
            c.execute(
                "UPDATE news SET deleted_at = 1, search_version = (SELECT seq FROM news_search_seq) WHERE id = ?1",
                [removed],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    // And a lost document.
    {
        let index = tantivy::Index::open_in_dir(app.dir.path().join("index")).unwrap();
        schema::register(&index);
        let f = SearchIndex::dir(app.dir.path());
        assert!(f.exists());
        let (_, fields) = schema::schema();
        let mut w: tantivy::IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        w.delete_term(Term::from_field_u64(fields.id, dropped as u64));
        w.commit().unwrap();
    }

    let cfg = app.state.cfg.clone();
    let state = AppState::open(cfg).await.unwrap();
    let (base, _stop) = serve(state.clone()).await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let token = member(&app, Some(root), "active").await;
    let find = |q: &'static str| {
        let client = &client;
        let base = &base;
        let token = &token;
        async move {
            let r = client
                .get(format!("{base}/api/v1/app/news/search?q={}", url_escape(q)))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let body: serde_json::Value = r.json().await.unwrap();
            ids(&body)
        }
    };
    assert_eq!(
        find("疗休养").await,
        vec![changed],
        "changed title re-indexed"
    );
    assert_eq!(find("运动会").await, Vec::<i64>::new(), "old title gone");
    assert_eq!(
        find("法律援助").await,
        vec![dropped],
        "dropped document restored"
    );
    assert_eq!(
        find("书法").await,
        Vec::<i64>::new(),
        "deleted article removed"
    );
    let seq = app.query_i64("SELECT seq FROM news_search_seq").await;
    assert_eq!(state.news.search.committed_seq(), Some(seq));
    // A second repair finds nothing to do.
    let r = state.news.search.repair().await.unwrap();
    assert_eq!((r.reindexed, r.removed, r.in_db, r.in_index), (0, 0, 2, 2));
    state.news.search.close().await;
}

/// `gonghui reindex` rebuilds the index from scratch with progress output, and refuses to
/// run while another process holds the index.
#[tokio::test]
async fn reindex_command_rebuilds_from_scratch() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let root = app.root_org().await;
    let a = published(&app, &admin, root, "职工技能大赛", "<p>焊工</p>").await;
    let b = published(&app, &admin, root, "工会帮扶基金", "<p>申请</p>").await;
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_gonghui"))
            .arg("--data-dir")
            .arg(app.dir.path())
            .arg("reindex")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    // The running app holds the index: refused with a clear message.
    let o = run();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("请先停止服务"),
        "{o:?}"
    );
    app.state.news.search.close().await;
    // Wipe the index completely; reindex brings everything back.
    std::fs::remove_dir_all(app.dir.path().join("index")).unwrap();
    let o = run();
    assert!(o.status.success(), "{o:?}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("已索引 indexed 2/2"), "{out}");
    assert!(out.contains("完成 done: 2"), "{out}");
    let index = SearchIndex::open(&app.dir.path().join("index"), &app.state.cfg.db_path()).unwrap();
    let req = |q: &str| gonghui::search::SearchRequest {
        q: q.into(),
        status: Some("published".into()),
        org_ids: None,
        category_id: None,
        offset: 0,
        limit: 10,
    };
    assert_eq!(index.search(&req("技能")).unwrap().ids, vec![a]);
    assert_eq!(index.search(&req("帮扶")).unwrap().ids, vec![b]);
    index.close().await;
}
