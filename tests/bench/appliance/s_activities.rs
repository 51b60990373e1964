//! S3 (registration burst: correctness, then req/s against the bare route, the
//! one-transaction-per-request writer and synchronous=NORMAL) and S5 (read latency under a
//! registration write load, with S6's peak RSS of the server).

use crate::load::{self, Req};
use crate::s_core::{prepare_main, spread_ids};
use crate::server::{Server, Sync};
use crate::{Ctx, admin_token, member_tokens};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// Measure the bare route if this run has not yet (e.g. `--only S3`).
pub async fn ensure_bare(ctx: &mut Ctx, server: &Server) -> f64 {
    if ctx.report.bare_rps == 0.0 {
        let base = server.base.clone();
        let s = load::saturate(
            &ctx.client,
            ctx.plan.conns,
            Duration::from_secs_f64(ctx.plan.phase_secs),
            move |_| Req::get(format!("{base}/healthz"), None),
            |s| s == 200,
        )
        .await;
        ctx.report.bare_rps = s.rps;
        ctx.report.detail("S1.bare", json!(s));
    }
    ctx.report.bare_rps
}

/// Create and publish an activity open for sign-up now, for every logged-in user.
pub async fn open_activity(ctx: &Ctx, base: &str, quota: u64) -> i64 {
    let token = admin_token(&ctx.client, base).await;
    let now = chrono::Local::now();
    let t = |h: i64| {
        (now + chrono::Duration::hours(h)).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    };
    let body = json!({
        "org_id": 1, "title": "基准测试活动", "category": "sports", "description": "<p>基准测试</p>",
        "location_name": "职工之家", "starts_at": t(48), "ends_at": t(50),
        "signup_starts_at": t(-1), "signup_ends_at": t(24), "quota": quota,
        "members_only": false, "needs_review": false,
    });
    let v: Value = ctx
        .client
        .post(format!("{base}/api/v1/admin/activities"))
        .bearer_auth(&*token)
        .json(&body)
        .send()
        .await
        .expect("create activity")
        .json()
        .await
        .expect("body");
    let id = v["data"]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("activity not created: {v}"));
    let r = ctx
        .client
        .post(format!("{base}/api/v1/admin/activities/{id}/publish"))
        .bearer_auth(&*token)
        .send()
        .await
        .expect("publish");
    assert!(r.status().is_success(), "publish failed: {}", r.status());
    id
}

fn register(base: &str, activity: i64, token: Arc<str>) -> Req {
    Req {
        method: Method::POST,
        url: format!("{base}/api/v1/app/activities/{activity}/registrations"),
        token: Some(token),
        body: Some(json!({"answers": {}})),
    }
}

/// The shape of one burst.
#[derive(Clone, Copy)]
struct Shape {
    quota: u64,
    requests: u64,
    members: u64,
    /// Whether every member has opened the activity page first, as the mini-program does
    /// before its sign-up button can be pressed (so the server has seen each member's session
    /// once, as S1 has). A cold burst is every member's first request since the server started.
    warm: bool,
}

/// Every member of `tokens` opens the page at `url` once (before a burst, as the mini-program
/// shows the page before its button can be pressed), so the server has seen each session.
pub async fn open_page(ctx: &Ctx, url: String, tokens: &Arc<Vec<Arc<str>>>) {
    let tokens = tokens.clone();
    let (page, ..) = load::burst(&ctx.client, ctx.plan.conns, tokens.len(), move |i| {
        Req::get(url.clone(), Some(tokens[i].clone()))
    })
    .await;
    assert_eq!(page.errors, 0, "a page opened before the burst failed");
}

/// One burst on a fresh activity with the server started with `env`; returns its req/s and
/// the seconds until the last place was taken.
async fn one_burst(
    ctx: &mut Ctx,
    label: &str,
    shape: Shape,
    sync: Sync,
    env: &[(&str, String)],
) -> (f64, f64) {
    let dir = prepare_main(ctx);
    let server = Server::start(&ctx.bin, &dir, sync, env);
    ensure_bare(ctx, &server).await;
    let activity = open_activity(ctx, &server.base, shape.quota).await;
    let tokens = Arc::new(member_tokens(
        &dir,
        spread_ids(ctx.plan.members, shape.members),
    ));
    let base = server.base.clone();
    let m = tokens.len();
    if shape.warm {
        let url = format!("{base}/api/v1/app/activities/{activity}");
        open_page(ctx, url, &tokens).await;
    }
    // With more requests than members each member posts again, far apart in the sequence.
    let (stats, statuses, done_at) = load::burst(
        &ctx.client,
        ctx.plan.conns,
        shape.requests as usize,
        move |i| register(&base, activity, tokens[(i * 7919) % m].clone()),
    )
    .await;
    let created = statuses.iter().filter(|s| **s == 201).count() as u64;
    let conflicts = statuses.iter().filter(|s| **s == 409).count() as u64;
    let other = statuses.len() as u64 - created - conflicts;
    // When the last place was taken: the burst is the filling (writes) and then the refusals.
    let filled_secs = statuses
        .iter()
        .zip(&done_at)
        .filter(|(s, _)| **s == 201)
        .map(|(_, d)| *d)
        .max()
        .unwrap_or(0) as f64
        / 1e6;
    let batches = writer_batches(ctx, &server.base).await;
    // The outbox rows the burst enqueued are delivered (here: closed, WeChat is not set up)
    // before the server stops, so the next burst does not start with this one's backlog.
    let drain = drain_outbox(&dir).await;
    ctx.report.detail(
        &format!("S3.{label}"),
        json!({"stats": stats, "created": created, "conflict_409": conflicts, "other": other,
            "filled_after_secs": filled_secs, "refusals_after_filled_secs": stats.secs - filled_secs,
            "writer_batches": batches, "outbox_drained_after_secs": drain}),
    );
    ctx.report.check(
        "S3",
        &format!("{label}: exactly quota registered, no errors"),
        created == shape.quota.min(shape.members) && other == 0,
    );
    server.stop();
    (stats.rps, filled_secs)
}

/// Wait until the outbox of the data dir `dir` has no pending row (at most two minutes);
/// returns the seconds waited.
async fn drain_outbox(dir: &std::path::Path) -> f64 {
    let db = dir.join("gonghui.db");
    let t = std::time::Instant::now();
    while t.elapsed() < Duration::from_secs(120) {
        let db = db.clone();
        let pending = tokio::task::spawn_blocking(move || {
            let c = rusqlite::Connection::open_with_flags(
                &db,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .ok()?;
            c.query_row(
                "SELECT count(*) FROM outbox WHERE status = 'pending'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .ok()
        })
        .await
        .ok()
        .flatten();
        if pending == Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    t.elapsed().as_secs_f64()
}

/// The writer's batches since the server started, from its `/metrics` (count, jobs, mean
/// jobs per batch): how much grouping a burst got.
async fn writer_batches(ctx: &Ctx, base: &str) -> Value {
    let text = match ctx.client.get(format!("{base}/metrics")).send().await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    let metric = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let (count, sum) = (
        metric("gonghui_db_write_batch_size_count"),
        metric("gonghui_db_write_batch_size_sum"),
    );
    json!({"batches": count, "jobs": sum, "mean_jobs_per_batch": sum / count.max(1.0)})
}

/// S3.
pub async fn burst(ctx: &mut Ctx) {
    let plan = ctx.plan;
    let spec = Shape {
        quota: plan.quota,
        requests: plan.burst_requests,
        members: plan.burst_members,
        warm: true,
    };
    let one_txn = [("GONGHUI_DB__MAX_BATCH", "1".to_string())];
    // Each burst lasts about a second, so the three variants run in two alternating rounds
    // (each on a fresh activity) and every ratio is of the mean rates: drift on this shared
    // machine then falls on all of them alike.
    let (mut full, mut single, mut normal) = (0.0, 0.0, 0.0);
    let (mut full_fill, mut single_fill) = (0.0, 0.0);
    for round in 1..=2 {
        let (rps, fill) =
            one_burst(ctx, &format!("full_grouped_{round}"), spec, Sync::Full, &[]).await;
        (full, full_fill) = (full + rps / 2.0, full_fill + fill / 2.0);
        let label = format!("full_one_txn_per_request_{round}");
        let (rps, fill) = one_burst(ctx, &label, spec, Sync::Full, &one_txn).await;
        (single, single_fill) = (single + rps / 2.0, single_fill + fill / 2.0);
        let label = format!("normal_grouped_{round}");
        normal += one_burst(ctx, &label, spec, Sync::Normal, &[]).await.0 / 2.0;
    }
    // The specified burst is 19 refusals for every place, and once the activity is full the
    // gate answers refusals from memory, without the writer; this burst is writes only (every
    // request a new registration), which is where grouping commits pays.
    let writes = Shape {
        quota: plan.burst_members,
        requests: plan.burst_members,
        members: plan.burst_members,
        warm: true,
    };
    // Two rounds, alternating, so drift on this shared machine falls on both variants alike;
    // the ratio is of the mean rates.
    let (mut w_full, mut w_single) = (0.0, 0.0);
    for round in 1..=2 {
        let g = format!("writes_only_grouped_{round}");
        w_full += one_burst(ctx, &g, writes, Sync::Full, &[]).await.0 / 2.0;
        let s = format!("writes_only_one_txn_{round}");
        w_single += one_burst(ctx, &s, writes, Sync::Full, &one_txn).await.0 / 2.0;
    }
    let cold_spec = Shape {
        warm: false,
        ..spec
    };
    let (cold, _) = one_burst(
        ctx,
        "full_grouped_cold_sessions",
        cold_spec,
        Sync::Full,
        &[],
    )
    .await;
    let bare = ctx.report.bare_rps;
    ctx.report.at_least(
        "S3",
        "registration burst req/s ÷ bare route",
        full / bare,
        0.5,
    );
    ctx.report.at_least(
        "S3",
        "grouped writer ÷ one transaction per request",
        full / single,
        3.0,
    );
    // Context for the ratio above. Its writes are the first places taken; the rest of the
    // burst is refusals, which neither variant sends to the writer once the activity is full.
    // So the ratio of the fill times is what grouping changes, and the whole burst's ratio can
    // be no higher than if every refusal were answered at the bare route's rate.
    ctx.report.context(
        "S3",
        "(context) time to fill the quota: one transaction per request ÷ grouped",
        single_fill / full_fill.max(1e-6),
    );
    let refusals = (plan.burst_requests - plan.quota) as f64 / bare;
    ctx.report.context(
        "S3",
        "(context) ceiling of the burst ratio, refusals at the bare route's rate",
        (single_fill + refusals) / (full_fill + refusals),
    );
    ctx.report.at_least(
        "S3",
        "(writes-only bursts, 2 rounds) grouped ÷ one transaction per request",
        w_full / w_single,
        3.0,
    );
    ctx.report
        .at_least("S3", "synchronous=FULL ÷ NORMAL", full / normal, 0.8);
    // Context: the same burst as every member's first request after a restart, when each
    // session is looked up in the database once.
    ctx.report.context(
        "S3",
        "(context) burst with cold sessions ÷ bare route",
        cold / bare,
    );
}

/// S5 and S6's RSS: reads (news list and profile) at a fixed open-loop rate (half of what the
/// mixed load sustains), alone and then with registrations at a ninth of that rate; read p99
/// with writes ÷ read-only p99.
pub async fn mixed(ctx: &mut Ctx) {
    let dir = prepare_main(ctx);
    let server = Server::start(&ctx.bin, &dir, Sync::Full, &[]);
    let plan = ctx.plan;
    let activity = open_activity(ctx, &server.base, 100_000).await;
    let tokens = Arc::new(member_tokens(&dir, spread_ids(plan.members, 50_000)));
    let base = server.base.clone();
    let read = {
        let (base, tokens) = (base.clone(), tokens.clone());
        move |i: usize| {
            let t = tokens[(i * 31) % tokens.len()].clone();
            if i.is_multiple_of(2) {
                Req::get(format!("{base}/api/v1/app/news?limit=20"), Some(t))
            } else {
                Req::get(format!("{base}/api/v1/app/me"), Some(t))
            }
        }
    };
    let dur = Duration::from_secs_f64(plan.phase_secs * 2.0);
    let ok200 = |s: reqwest::StatusCode| s == 200;
    // Capacity of the mixed load (nine reads to one registration, the registrations by members
    // from the far end of the list, whom the phases below never reach), then both phases at
    // half of it. Half of the read-only capacity would let the writes phase itself run near
    // saturation, where p99 measures the queue rather than the writes' interference.
    let mixed_load = {
        let (read, base, tokens) = (read.clone(), base.clone(), tokens.clone());
        move |i: usize| {
            if i % 10 == 9 {
                let t = tokens[tokens.len() - 1 - (i / 10) % tokens.len()].clone();
                register(&base, activity, t)
            } else {
                read(i)
            }
        }
    };
    let cap = load::saturate(
        &ctx.client,
        plan.conns,
        Duration::from_secs(5),
        mixed_load,
        |s| s == 200 || s == 201 || s == 409,
    )
    .await;
    let rate = cap.rps * 0.9 * 0.5;
    let alone = load::open_loop(&ctx.client, rate, dur, read.clone(), ok200).await;
    let writes = {
        let (base, tokens) = (base.clone(), tokens.clone());
        let c = ctx.client.clone();
        tokio::spawn(async move {
            load::open_loop(
                &c,
                rate / 9.0,
                dur,
                move |i| register(&base, activity, tokens[i % tokens.len()].clone()),
                |s| s == 201 || s == 409,
            )
            .await
        })
    };
    let with_writes = load::open_loop(&ctx.client, rate, dur, read, ok200).await;
    let w = writes.await.expect("writes");
    let rss = server.peak_rss_mib();
    ctx.report.detail(
        "S5.mixed",
        json!({"mixed_capacity": cap, "rate": rate, "reads_alone": alone, "reads_with_writes": with_writes, "writes": w}),
    );
    ctx.report.detail(
        "S6.rss",
        json!({"peak_rss_mib": rss, "members": plan.members}),
    );
    ctx.report.at_most(
        "S5",
        "read p99 with 10% registrations ÷ read-only p99",
        with_writes.p99_ms / alone.p99_ms.max(0.001),
        2.0,
    );
    ctx.report.check(
        "S5",
        "no errors in S5",
        alone.errors + with_writes.errors + w.errors == 0,
    );
    ctx.report.at_most(
        "S6",
        "peak server RSS during S5, MiB ÷ 200 MiB",
        rss / 200.0,
        1.0,
    );
    server.stop();
}
