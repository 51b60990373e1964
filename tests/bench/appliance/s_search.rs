//! S4: news search over generated Chinese articles.
//! - reindex docs/s: `gonghui reindex` (SQLite → documents → commit, the real command) vs raw
//!   tantivy indexing of the same documents with the same schema and analyzer, in process;
//! - search latency over HTTP (member visibility, SQLite re-check, highlighting, JSON) vs the
//!   raw in-process tantivy query on the same index with the same query list;
//! - publish → searchable latency through the API.

use crate::data::{self, Rng};
use crate::s_core::prepare_main;
use crate::server::{Server, Sync};
use crate::{Ctx, admin_token, load, member_tokens};
use gonghui::search::schema::{self, IndexRow};
use gonghui::search::{SearchRequest, query};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tantivy::collector::{Count, TopDocs};

/// Generated rows for the articles, inserted into SQLite (server stopped).
fn fill(dir: &std::path::Path, n: u64, orgs: &[i64]) -> Vec<IndexRow> {
    let mut c = rusqlite::Connection::open(dir.join("gonghui.db")).expect("db");
    let cat: i64 = c
        .query_row("SELECT min(id) FROM news_categories", [], |r| r.get(0))
        .expect("category");
    let first: i64 = c
        .query_row("SELECT coalesce(max(id), 0) + 1 FROM news", [], |r| {
            r.get(0)
        })
        .expect("ids");
    let now = gonghui::time::now();
    let mut rng = Rng::new(0x5eed_2026);
    let rows: Vec<IndexRow> = (0..n)
        .map(|i| {
            let body_len = 40 + rng.below(80) as usize;
            let title_len = 4 + rng.below(4) as usize;
            IndexRow {
                id: first + i as i64,
                version: first + i as i64,
                org_id: orgs[rng.below(orgs.len() as u64) as usize],
                org_path: String::new(),
                category_id: cat,
                category: "工会要闻".into(),
                status: "published".into(),
                title: data::sentence(&mut rng, title_len)
                    .trim_end_matches('。')
                    .to_string(),
                summary: String::new(),
                body_text: data::sentence(&mut rng, body_len),
                published_at: Some(now - (n - i) as i64),
            }
        })
        .collect();
    let tx = c.transaction().expect("tx");
    {
        let mut st = tx
            .prepare(
                "INSERT INTO news (id, org_id, category_id, title, summary, body_html, body_text, status, pinned, publish_at,
                    published_at, search_version, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, '', ?5, ?6, 'published', 0, ?7, ?7, ?8, ?7, ?7)",
            )
            .expect("prepare");
        for r in &rows {
            st.execute(rusqlite::params![
                r.id,
                r.org_id,
                r.category_id,
                r.title,
                format!("<p>{}</p>", r.body_text),
                r.body_text,
                r.published_at,
                r.version
            ])
            .expect("insert");
        }
        tx.execute(
            "UPDATE news_search_seq SET seq = max(seq, ?1)",
            [first + n as i64],
        )
        .expect("seq");
    }
    tx.commit().expect("commit");
    rows
}

fn raw_index(rows: &[IndexRow]) -> f64 {
    let dir = tempfile::tempdir().expect("dir");
    let (sch, f) = schema::schema();
    let index = tantivy::Index::create_in_dir(dir.path(), sch).expect("index");
    schema::register(&index);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get().min(4))
        .unwrap_or(1);
    let mut w: tantivy::IndexWriter = index
        .writer_with_num_threads(threads, 64 * 1024 * 1024)
        .expect("writer");
    let start = Instant::now();
    for r in rows {
        w.add_document(r.document(&f)).expect("add");
    }
    w.commit().expect("commit");
    rows.len() as f64 / start.elapsed().as_secs_f64()
}

/// One pass of the query list straight on tantivy (the member's visibility filter, top 20 by
/// score and the total, as the server asks); the latency of each query in µs.
fn raw_round(searcher: &tantivy::Searcher, chain: &[i64]) -> Vec<u64> {
    let (_, f) = schema::schema();
    data::queries()
        .into_iter()
        .map(|q| {
            let t = Instant::now();
            let req = SearchRequest {
                q: q.to_string(),
                status: Some("published".into()),
                org_ids: Some(chain.to_vec()),
                category_id: None,
                offset: 0,
                limit: 20,
            };
            let tokens = query::query_tokens(q);
            let qq = query::build(&f, &tokens, &req);
            let found = searcher
                .search(&qq, &(TopDocs::with_limit(20).order_by_score(), Count))
                .expect("search");
            std::hint::black_box(found);
            t.elapsed().as_micros() as u64
        })
        .collect()
}

fn enc(q: &str) -> String {
    q.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// Load the plan's articles into the main data set unless they are there (S8 or S10 run
/// alone), and index them with `gonghui reindex` as S4 does: otherwise the server, finding
/// them missing from its index, rebuilds it in the background while the scenario measures.
pub fn ensure_articles(ctx: &Ctx, dir: &std::path::Path) {
    let have: i64 = rusqlite::Connection::open(dir.join("gonghui.db"))
        .expect("db")
        .query_row("SELECT count(*) FROM news", [], |r| r.get(0))
        .expect("count");
    if have < ctx.plan.articles as i64 {
        let orgs: Vec<i64> = ctx.orgs.iter().map(|o| o.0).collect();
        fill(dir, ctx.plan.articles, &orgs);
        let st = std::process::Command::new(&ctx.bin)
            .arg("--data-dir")
            .arg(dir)
            .arg("reindex")
            .stdout(std::process::Stdio::null())
            .status()
            .expect("reindex");
        assert!(st.success(), "reindex failed");
    }
}

/// S4.
pub async fn run(ctx: &mut Ctx) {
    let dir = prepare_main(ctx);
    let n = ctx.plan.articles;
    // A member of the first grassroots org sees root, its county and its own org.
    let member_org = ctx.orgs[0].0;
    let chain: Vec<i64> = {
        let c = rusqlite::Connection::open(dir.join("gonghui.db")).expect("db");
        let path: String = c
            .query_row("SELECT path FROM orgs WHERE id = ?1", [member_org], |r| {
                r.get(0)
            })
            .expect("path");
        path.split('/').filter_map(|p| p.parse().ok()).collect()
    };
    let mut orgs: Vec<i64> = ctx.orgs.iter().map(|o| o.0).collect();
    orgs.extend(chain.iter().copied());
    let rows = fill(&dir, n, &orgs);

    // Reindex through the real command (server stopped), then raw tantivy on the same rows.
    let t = Instant::now();
    let st = std::process::Command::new(&ctx.bin)
        .arg("--data-dir")
        .arg(&dir)
        .arg("reindex")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("reindex");
    assert!(st.success(), "reindex failed");
    let ours = rows.len() as f64 / t.elapsed().as_secs_f64();
    let raw = raw_index(&rows);
    drop(rows);
    ctx.report.detail(
        "S4.reindex",
        json!({"docs": n, "ours_docs_per_sec": ours, "raw_docs_per_sec": raw}),
    );
    ctx.report
        .at_least("S4", "reindex docs/s ÷ raw tantivy docs/s", ours / raw, 0.5);

    let server = Server::start(&ctx.bin, &dir, Sync::Full, &[]);
    // Member 1 is in the first grassroots org (members are spread round-robin).
    let token = member_tokens(&dir, std::iter::once(1)).remove(0);
    // The raw side: the same index opened in process, one searcher for every round.
    let index_dir = dir.join("index");
    let searcher = tokio::task::spawn_blocking(move || {
        let index = tantivy::Index::open_in_dir(&index_dir).expect("open index");
        schema::register(&index);
        index.reader().expect("reader").searcher()
    })
    .await
    .expect("open index");
    // HTTP and raw rounds alternate, so a noisy neighbour slows both sides alike; round 0 of
    // each warms up (and checks that every query finds something) and is not counted.
    let rounds = 100;
    let (mut http, mut raw_lat) = (Vec::new(), Vec::new());
    for round in 0..=rounds {
        for q in data::queries() {
            let t = Instant::now();
            let r = ctx
                .client
                .get(format!(
                    "{}/api/v1/app/news/search?q={}",
                    server.base,
                    enc(q)
                ))
                .bearer_auth(&*token)
                .send()
                .await
                .expect("search");
            assert!(r.status().is_success(), "search {q}: {}", r.status());
            let v: Value = r.json().await.expect("json");
            if round == 0 {
                assert!(
                    v["data"]["total"].as_i64().unwrap_or(0) > 0,
                    "{q} found nothing: {v}"
                );
            } else {
                http.push(t.elapsed().as_micros() as u64);
            }
        }
        let (s, chain) = (searcher.clone(), chain.clone());
        let lat = tokio::task::spawn_blocking(move || raw_round(&s, &chain))
            .await
            .expect("raw search");
        if round > 0 {
            raw_lat.extend(lat);
        }
    }
    let http_s = load::stats_of(http, 1.0);
    let raw_s = load::stats_of(raw_lat, 1.0);
    ctx.report.detail("S4.search_http", json!(http_s));
    ctx.report.detail("S4.search_raw", json!(raw_s));
    ctx.report.at_most(
        "S4",
        "search p99 over HTTP ÷ raw in-process p99",
        http_s.p99_ms / raw_s.p99_ms.max(0.001),
        2.0,
    );

    // Publish → searchable, through the API.
    let admin = admin_token(&ctx.client, &server.base).await;
    let cat: i64 = {
        let c = rusqlite::Connection::open(dir.join("gonghui.db")).expect("db");
        c.query_row("SELECT min(id) FROM news_categories", [], |r| r.get(0))
            .expect("category")
    };
    let mut lat = Vec::new();
    for i in 0..10 {
        let title = format!("基准标记{}专题{i}", ["甲", "乙", "丙", "丁", "戊"][i % 5]);
        let v: Value = ctx
            .client
            .post(format!("{}/api/v1/admin/news", server.base))
            .bearer_auth(&*admin)
            .json(&json!({"org_id": 1, "category_id": cat, "title": title, "body_html": "<p>基准测试正文</p>"}))
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("json");
        let id = v["data"]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("news not created: {v}"));
        let t = Instant::now();
        let r = ctx
            .client
            .post(format!("{}/api/v1/admin/news/{id}/publish", server.base))
            .bearer_auth(&*admin)
            .json(&json!({}))
            .send()
            .await
            .expect("publish");
        assert!(r.status().is_success(), "publish: {}", r.status());
        loop {
            let v: Value = ctx
                .client
                .get(format!(
                    "{}/api/v1/app/news/search?q={}",
                    server.base,
                    enc(&title)
                ))
                .bearer_auth(&*token)
                .send()
                .await
                .expect("search")
                .json()
                .await
                .expect("json");
            let hit = v["data"]["items"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x["id"] == id));
            if hit {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "article {id} never became searchable"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        lat.push(t.elapsed().as_micros() as u64);
    }
    let p = load::stats_of(lat, 1.0);
    ctx.report.detail("S4.publish_to_searchable", json!(p));
    ctx.report.at_most(
        "S4",
        "publish→searchable worst case, s ÷ 1 s",
        p.max_ms / 1000.0,
        1.0,
    );
    server.stop();
}
