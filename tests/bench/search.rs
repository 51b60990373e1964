//! News search benchmark. Generates a deterministic synthetic Chinese corpus (default 100 000
//! articles; `BENCH_NEWS_N` to change), then measures in one run:
//! - bulk indexing docs/s: our `reindex` path (SQLite → documents → commit) vs raw tantivy
//!   indexing of the same documents from memory with the same schema and analyzer;
//! - search latency p50/p99: HTTP `GET /api/v1/app/news/search` on a real server on 127.0.0.1
//!   vs the same queries run in process straight on the same index;
//! - publish → searchable latency over HTTP.
//!
//! Run with `cargo bench --bench search`. Stops by itself; asserts no timing.

use gonghui::app::AppState;
use gonghui::config::Config;
use gonghui::search::schema::{self, IndexRow};
use gonghui::search::{SearchRequest, query};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tantivy::collector::{Count, TopDocs};

const WORDS: &[&str] = &[
    "工会",
    "职工",
    "帮扶",
    "困难",
    "劳模",
    "疗休养",
    "权益",
    "维护",
    "培训",
    "技能",
    "竞赛",
    "女职工",
    "关爱",
    "慰问",
    "春节",
    "送温暖",
    "安全",
    "生产",
    "建设",
    "服务",
    "会员",
    "基层",
    "组织",
    "活动",
    "文化",
    "体育",
    "比赛",
    "书屋",
    "法律",
    "援助",
    "工资",
    "协商",
    "集体",
    "合同",
    "就业",
    "创业",
    "农民工",
    "医疗",
    "互助",
    "保障",
    "志愿者",
    "青年",
    "健康",
    "讲座",
    "心理",
    "疏导",
    "先进",
    "表彰",
    "创新",
    "工作室",
    "工匠",
    "精神",
    "会议",
    "部署",
    "落实",
    "推进",
    "开展",
    "举办",
    "召开",
    "学习",
    "宣传",
    "政策",
    "申请",
    "补助",
    "救助",
    "金秋",
    "助学",
    "户外",
    "劳动者",
    "驿站",
    "职工之家",
    "民主",
    "管理",
    "厂务",
    "公开",
    "监督",
    "单位",
    "企业",
    "社区",
    "乡镇",
    "县城",
    "全县",
    "年度",
    "总结",
];
const QUERIES: &[&str] = &[
    "工会",
    "帮扶",
    "疗休养",
    "劳模",
    "职工之家",
    "送温暖",
    "技能竞赛",
    "法律援助",
    "女职工 关爱",
    "金秋助学",
    "心理疏导",
    "工匠精神",
    "集体合同",
    "农民工 工资",
    "户外劳动者驿站",
    "厂务公开",
];

/// A small deterministic generator (xorshift).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn words(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| WORDS[(self.next() % WORDS.len() as u64) as usize])
            .collect::<Vec<_>>()
            .join("")
    }
}

/// Percent-encode a query value.
fn esc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

struct Corpus {
    orgs: Vec<i64>,
    rows: Vec<IndexRow>,
}

async fn fill(state: &AppState, n: usize) -> Corpus {
    // Root + 8 counties: a member of one county sees root and that county.
    let orgs: Vec<i64> = state
        .db
        .write(|c| {
            let now = gonghui::time::now();
            let mut ids = vec![c.query_row("SELECT id FROM orgs WHERE parent_id IS NULL", [], |r| r.get::<_, i64>(0))?];
            for i in 0..8 {
                c.execute(
                    "INSERT INTO orgs (parent_id, name, code, kind, path, created_at, updated_at) VALUES (?1, ?2, ?3, 'county', '', ?4, ?4)",
                    rusqlite::params![ids[0], format!("县{i}"), format!("bench{i}"), now],
                )?;
                let id = c.last_insert_rowid();
                c.execute("UPDATE orgs SET path = '/' || ?1 || '/' || ?2 || '/' WHERE id = ?2", [ids[0], id])?;
                ids.push(id);
            }
            Ok(ids)
        })
        .await
        .unwrap();
    let mut rng = Rng(0x5eed_2026);
    let mut rows = Vec::with_capacity(n);
    let cat: i64 = state
        .db
        .read(|c| Ok(c.query_row("SELECT min(id) FROM news_categories", [], |r| r.get(0))?))
        .await
        .unwrap();
    let now = gonghui::time::now();
    for i in 0..n {
        let words_in_body = 40 + (rng.next() % 80) as usize;
        rows.push(IndexRow {
            id: i as i64 + 1,
            version: i as i64 + 1,
            org_id: orgs[(rng.next() % orgs.len() as u64) as usize],
            org_path: String::new(),
            category_id: cat,
            category: "工会要闻".into(),
            status: "published".into(),
            title: {
                let k = 4 + (rng.next() % 4) as usize;
                rng.words(k)
            },
            summary: String::new(),
            body_text: rng.words(words_in_body),
            published_at: Some(now - (n - i) as i64),
        });
    }
    for chunk in rows.chunks(5000) {
        let chunk = chunk.to_vec();
        state
            .db
            .write(move |c| {
                let mut st = c.prepare_cached(
                    "INSERT INTO news (id, org_id, category_id, title, summary, body_html, body_text, status, pinned, publish_at,
                        published_at, search_version, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, '', ?5, ?6, 'published', 0, ?7, ?7, ?8, ?7, ?7)",
                )?;
                for r in &chunk {
                    st.execute(rusqlite::params![r.id, r.org_id, r.category_id, r.title, format!("<p>{}</p>", r.body_text), r.body_text, r.published_at, r.version])?;
                }
                Ok(())
            })
            .await
            .unwrap();
    }
    state
        .db
        .write(move |c| Ok(c.execute("UPDATE news_search_seq SET seq = ?1", [n as i64])?))
        .await
        .unwrap();
    Corpus { orgs, rows }
}

fn raw_index(rows: &[IndexRow]) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let (schema, f) = schema::schema();
    let index = tantivy::Index::create_in_dir(dir.path(), schema).unwrap();
    schema::register(&index);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get().min(4))
        .unwrap_or(1);
    let mut w: tantivy::IndexWriter = index
        .writer_with_num_threads(threads, 64 * 1024 * 1024)
        .unwrap();
    let start = Instant::now();
    for r in rows {
        w.add_document(r.document(&f)).unwrap();
    }
    w.commit().unwrap();
    start.elapsed().as_secs_f64()
}

fn main() {
    let n: usize = std::env::var("BENCH_NEWS_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config {
            data_dir: dir.path().to_path_buf(),
            admin_password: Some("Admin#2026pw".into()),
            ..Config::default()
        };
        let state = AppState::open(cfg).await.unwrap();
        let t = Instant::now();
        let corpus = fill(&state, n).await;
        eprintln!("corpus: {n} articles written to SQLite in {:.1}s", t.elapsed().as_secs_f64());

        // 1. Bulk indexing.
        let t = Instant::now();
        let indexed = state.news.search.rebuild(Box::new(|_, _| {})).await.unwrap();
        let ours = t.elapsed().as_secs_f64();
        assert_eq!(indexed as usize, n);
        let raw = raw_index(&corpus.rows);
        eprintln!(
            "indexing: ours {:.0} docs/s ({ours:.1}s), raw tantivy {:.0} docs/s ({raw:.1}s)",
            n as f64 / ours,
            n as f64 / raw
        );

        // 2. Search latency.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        tokio::spawn(async move {
            let _ = gonghui::app::serve_on(listener, st, async {
                let _ = rx.await;
            })
            .await;
        });
        let county = corpus.orgs[1];
        let member: i64 = state
            .db
            .write(move |c| {
                c.execute("INSERT INTO members (status, org_id, created_at, updated_at) VALUES ('active', ?1, 0, 0)", [county])?;
                Ok(c.last_insert_rowid())
            })
            .await
            .unwrap();
        let token = gonghui::auth::tokens::issue_access(&state.keys, "app", member, 1, 3600).unwrap();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let rounds = 20;
        let mut http = Vec::new();
        for round in 0..=rounds {
            for q in QUERIES {
                let t = Instant::now();
                let r = client
                    .get(format!("{base}/api/v1/app/news/search?q={}", esc(q)))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success());
                let v: Value = r.json().await.unwrap();
                if round > 0 {
                    http.push(t.elapsed());
                } else {
                    assert!(v["data"]["total"].as_i64().unwrap() > 0, "{q}: {v}");
                }
            }
        }
        let index = state.news.search.clone();
        let orgs = vec![corpus.orgs[0], county];
        let raw_lat = tokio::task::spawn_blocking(move || {
            let f = index.fields();
            let searcher = index.reader().searcher();
            let mut out = Vec::new();
            for round in 0..=rounds {
                for q in QUERIES {
                    let t = Instant::now();
                    let req = SearchRequest {
                        q: q.to_string(),
                        status: Some("published".into()),
                        org_ids: Some(orgs.clone()),
                        category_id: None,
                        offset: 0,
                        limit: 20,
                    };
                    let tokens = query::query_tokens(q);
                    let qq = query::build(&f, &tokens, &req);
                    let (top, _n) = searcher
                        .search(&qq, &(TopDocs::with_limit(20).order_by_score(), Count))
                        .unwrap();
                    std::hint::black_box(top);
                    if round > 0 {
                        out.push(t.elapsed());
                    }
                }
            }
            out
        })
        .await
        .unwrap();

        // 3. Publish → searchable.
        let admin_token = {
            let r: Value = client
                .post(format!("{base}/api/v1/admin/auth/login"))
                .json(&json!({"username": "admin", "password": "Admin#2026pw"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            r["data"]["access_token"].as_str().unwrap().to_string()
        };
        let mut pub_lat = Vec::new();
        let cat = corpus.rows[0].category_id;
        for i in 0..20 {
            let marker = format!("基准标记{}", ["甲", "乙", "丙", "丁", "戊"][i % 5]);
            let title = format!("{marker}专题{i}");
            let r: Value = client
                .post(format!("{base}/api/v1/admin/news"))
                .bearer_auth(&admin_token)
                .json(&json!({"org_id": corpus.orgs[0], "category_id": cat, "title": title, "body_html": "<p>基准测试正文</p>"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let id = r["data"]["id"].as_i64().unwrap();
            let t = Instant::now();
            client
                .post(format!("{base}/api/v1/admin/news/{id}/publish"))
                .bearer_auth(&admin_token)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            loop {
                let v: Value = client
                    .get(format!(
                        "{base}/api/v1/app/news/search?q={}&page_size=100",
                        esc(&title)
                    ))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if v["data"]["items"].as_array().is_some_and(|a| a.iter().any(|x| x["id"] == id)) {
                    break;
                }
                assert!(t.elapsed() < Duration::from_secs(10), "never searchable");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            pub_lat.push(t.elapsed());
        }
        let _ = stop.send(());
        state.news.search.close().await;

        http.sort();
        let mut raw_lat = raw_lat;
        raw_lat.sort();
        pub_lat.sort();
        println!("\nnews search benchmark: {n} synthetic articles, {} cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
        println!("{:<52} {:>12} {:>12}", "measure", "ours", "raw tantivy");
        println!("{:<52} {:>12.0} {:>12.0}", "bulk indexing, docs/s", n as f64 / ours, n as f64 / raw);
        println!("{:<52} {:>12.1} {:>12.1}", "bulk indexing, seconds", ours, raw);
        println!("{:<52} {:>12.2} {:>12.2}", "search p50 ms (HTTP vs in-process, 16 queries x20)", pct(&http, 0.5), pct(&raw_lat, 0.5));
        println!("{:<52} {:>12.2} {:>12.2}", "search p99 ms", pct(&http, 0.99), pct(&raw_lat, 0.99));
        println!("{:<52} {:>12.1} {:>12}", "publish -> searchable p50 ms (HTTP, 20 runs)", pct(&pub_lat, 0.5), "-");
        println!("{:<52} {:>12.1} {:>12}", "publish -> searchable max ms", pct(&pub_lat, 1.0), "-");
    });
}
