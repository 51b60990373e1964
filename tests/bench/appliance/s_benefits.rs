//! S7: a benefit flash claim (stock = the S3 quota, the S3 burst of requests from its members,
//! `synchronous=FULL`, every member having opened the benefit page first, as in S3), exactly
//! the stock claimed, claims/s against the bare route; and a points-mall order burst (every
//! member one order), exactly one order each, orders/s against the bare route and against the
//! same burst of benefit claims (both writes only), and against the raw writer: the same
//! number of one-row inserts through the app's own single writer in process (grouped commits,
//! `synchronous=FULL`), as `cargo bench --bench registration` does.

use crate::load::{self, Req};
use crate::s_activities::{ensure_bare, open_page};
use crate::s_core::{prepare_main, spread_ids};
use crate::server::{Server, Sync};
use crate::{Ctx, admin_token, member_tokens};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;

/// POST `body` to `path` as the admin; the new row's id.
async fn create(ctx: &Ctx, base: &str, token: &str, path: &str, body: Value) -> i64 {
    let v: Value = ctx
        .client
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("body");
    v["data"]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{path} not created: {v}"))
}

/// A published benefit for the whole tree with `stock`.
async fn open_benefit(ctx: &Ctx, base: &str, stock: u64) -> i64 {
    let token = admin_token(&ctx.client, base).await;
    let now = chrono::Local::now();
    let t = |h: i64| {
        (now + chrono::Duration::hours(h)).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    };
    let body = json!({"org_id": 1, "title": "基准测试观影券", "kind": "voucher", "starts_at": t(-1),
        "ends_at": t(24), "stock": stock, "per_member_limit": 1});
    let id = create(ctx, base, &token, "/api/v1/admin/benefits", body).await;
    let r = ctx
        .client
        .post(format!("{base}/api/v1/admin/benefits/{id}/publish"))
        .bearer_auth(&*token)
        .send()
        .await
        .expect("publish");
    assert!(r.status().is_success(), "publish failed: {}", r.status());
    id
}

/// Credit `points` to each of `ids` straight in the stopped server's database (as a restore
/// would), keeping the ledger and the balance equal; idempotent.
fn credit(db: &std::path::Path, ids: &[i64], points: i64) {
    let mut c = rusqlite::Connection::open(db).expect("db");
    let tx = c.transaction().expect("tx");
    {
        let mut led = tx
            .prepare(
                "INSERT INTO points_ledger (member_id, delta, balance_after, source_type, source_id, reason, created_at)
                 VALUES (?1, ?2, ?2, 'admin_adjust', -?1, '基准测试', 0) ON CONFLICT DO NOTHING",
            )
            .expect("prepare");
        let mut acc = tx
            .prepare("INSERT INTO points_accounts (member_id, balance, updated_at) VALUES (?1, ?2, 0) ON CONFLICT DO NOTHING")
            .expect("prepare");
        for id in ids {
            if led.execute(rusqlite::params![id, points]).expect("ledger") == 1 {
                acc.execute(rusqlite::params![id, points]).expect("account");
            }
        }
    }
    tx.commit().expect("commit");
}

/// One burst of `n` POSTs to `path` with `body`, member `i % m` each; (stats, 201s, 409s, other).
async fn post_burst(
    ctx: &Ctx,
    base: &str,
    path: String,
    body: Value,
    tokens: Arc<Vec<Arc<str>>>,
    n: usize,
) -> (load::Stats, u64, u64, u64) {
    let m = tokens.len();
    let url = format!("{base}{path}");
    let (stats, statuses, _) = load::burst(&ctx.client, ctx.plan.conns, n, move |i| Req {
        method: Method::POST,
        url: url.clone(),
        token: Some(tokens[(i * 7919) % m].clone()),
        body: Some(body.clone()),
    })
    .await;
    let created = statuses.iter().filter(|s| **s == 201).count() as u64;
    let conflicts = statuses.iter().filter(|s| **s == 409).count() as u64;
    (stats, created, conflicts, n as u64 - created - conflicts)
}

/// The raw writer of this build, in process on a new installation in the run's temp root:
/// `n` one-row inserts through the app's single writer (`src/db.rs`, grouped commits,
/// `synchronous=FULL`) from as many concurrent tasks as the bursts have connections.
/// Returns inserts/s.
async fn raw_writer(ctx: &Ctx, n: usize) -> f64 {
    use futures::StreamExt;
    let mut cfg = gonghui::config::Config {
        data_dir: ctx.data_dir("raw-writer"),
        admin_password: Some(crate::server::ADMIN_PW.into()),
        ..gonghui::config::Config::default()
    };
    cfg.db.synchronous = gonghui::config::Synchronous::Full;
    let state = gonghui::app::AppState::open(cfg)
        .await
        .expect("open app state");
    state
        .db
        .write(|c| {
            Ok(c.execute_batch("CREATE TABLE bench_w(id INTEGER PRIMARY KEY, k INTEGER, v TEXT)")?)
        })
        .await
        .expect("table");
    let start = std::time::Instant::now();
    futures::stream::iter(0..n)
        .map(|i| {
            let db = state.db.clone();
            async move {
                db.write(move |c| {
                    c.execute("INSERT INTO bench_w(k, v) VALUES (?1, '订单')", [i as i64])?;
                    Ok(())
                })
                .await
                .expect("write")
            }
        })
        .buffer_unordered(ctx.plan.conns)
        .collect::<Vec<_>>()
        .await;
    n as f64 / start.elapsed().as_secs_f64()
}

/// S7.
pub async fn run(ctx: &mut Ctx) {
    let plan = ctx.plan;
    let dir = prepare_main(ctx);
    let ids: Vec<i64> = spread_ids(plan.members, plan.burst_members).collect();
    credit(&dir.join("gonghui.db"), &ids, 10);
    let server = Server::start(&ctx.bin, &dir, Sync::Full, &[]);
    let base = server.base.clone();
    let bare = ensure_bare(ctx, &server).await;
    let tokens = Arc::new(member_tokens(&dir, ids.iter().copied()));
    let m = tokens.len();

    // The specified flash claim: 20,000 requests from 10,000 members for 1,000 items.
    let benefit = open_benefit(ctx, &base, plan.quota).await;
    // As in S3: every member opens the benefit page first.
    open_page(
        ctx,
        format!("{base}/api/v1/app/benefits/{benefit}"),
        &tokens,
    )
    .await;
    let path = format!("/api/v1/app/benefits/{benefit}/claims");
    let (stats, created, conflicts, other) = post_burst(
        ctx,
        &base,
        path,
        json!({}),
        tokens.clone(),
        plan.burst_requests as usize,
    )
    .await;
    ctx.report.detail(
        "S7.claim",
        json!({"stats": stats, "created": created, "conflict_409": conflicts, "other": other}),
    );
    ctx.report.check(
        "S7",
        "flash claim: exactly the stock claimed, no errors",
        created == plan.quota.min(m as u64) && other == 0,
    );
    ctx.report.at_least(
        "S7",
        "benefit flash claim req/s ÷ bare route",
        stats.rps / bare,
        0.5,
    );

    // Writes only, both ways: every member claims once (stock for all), every member orders
    // once (stock for all, 10 points each, price 10).
    let all = open_benefit(ctx, &base, m as u64).await;
    let path = format!("/api/v1/app/benefits/{all}/claims");
    let (claims, c_ok, ..) = post_burst(ctx, &base, path, json!({}), tokens.clone(), m).await;
    let token = admin_token(&ctx.client, &base).await;
    let goods = json!({"org_id": 1, "title": "基准测试保温杯", "points_price": 10, "stock": m,
        "per_member_limit": 1, "on_shelf": true});
    let goods = create(ctx, &base, &token, "/api/v1/admin/mall/goods", goods).await;
    let body = json!({"goods_id": goods, "quantity": 1});
    let path = "/api/v1/app/mall/orders".to_string();
    let (orders, o_ok, o_409, o_other) =
        post_burst(ctx, &base, path.clone(), body.clone(), tokens.clone(), m).await;
    // A second round: every member has spent their points, so every order is refused.
    let (again, a_ok, ..) = post_burst(ctx, &base, path, body, tokens.clone(), m).await;
    ctx.report.detail(
        "S7.mall",
        json!({"claims_writes_only": claims, "claims_created": c_ok, "orders": orders, "orders_created": o_ok,
            "orders_409": o_409, "orders_other": o_other, "second_round": again, "second_round_created": a_ok}),
    );
    ctx.report.check(
        "S7",
        "mall: one order per member, none once the points are spent, no errors",
        o_ok == m as u64 && o_other == 0 && a_ok == 0,
    );
    ctx.report.context(
        "S7",
        "(context) mall orders/s ÷ bare route",
        orders.rps / bare,
    );
    ctx.report.context(
        "S7",
        "(context) mall orders/s ÷ benefit claims/s, both writes only",
        orders.rps / claims.rps.max(1e-6),
    );
    server.stop();
    // With the server stopped, so the two do not share the cores.
    let raw = raw_writer(ctx, m).await;
    ctx.report.detail(
        "S7.raw_writer",
        json!({"inserts": m, "inserts_per_sec": raw}),
    );
    ctx.report.context(
        "S7",
        "(report) mall orders/s ÷ raw writer one-row inserts/s, same count",
        orders.rps / raw,
    );
}
