//! S8: what an office's root admin opens on the full data set.
//! - a: the statistics requests (the 工作台 dashboard, `GET /api/v1/admin/dashboard`, and the
//!   数据统计 page's default member tables, `GET /api/v1/admin/stats/members` by status and by
//!   org): HTTP p99 against the same SQL with the same parameters run in process on a
//!   read-only rusqlite connection to the server's database file, rounds alternating;
//! - b: the first page of the member list, req/s against the bare route, closed loop;
//! - c: a staff-authenticated single-member read against the member-authenticated profile read
//!   (S2's route), closed loop, alternating.
//!
//! Before anything is timed the answers are checked against a full count of the member table.

use crate::load::{self, Req, Stats};
use crate::s_core::{prepare_main, spread_ids};
use crate::server::{Server, Sync};
use crate::{Ctx, admin_token, member_tokens};
use rusqlite::{Connection, OpenFlags, params};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The root org (bootstrap); the root admin's own org, so every default `org_id` is 1.
const ROOT: i64 = 1;

/// Member counts by status, from a full scan of `members` (the truth the answers must match).
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
struct Truth {
    /// Not deleted, every status.
    total: i64,
    active: i64,
    pending: i64,
    registered: i64,
    left: i64,
    /// The four statuses the dashboard shows (rejected applicants are not among them).
    shown: i64,
    /// Active members directly in the root org (not under any child's subtree).
    root_active: i64,
}

fn truth(c: &Connection) -> Truth {
    let mut t = Truth::default();
    let mut st = c
        .prepare(
            "SELECT status, org_id, count(*) FROM members WHERE status <> 'deleted' GROUP BY 1, 2",
        )
        .expect("truth");
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .expect("truth rows");
    for row in rows {
        let (status, org, n) = row.expect("row");
        t.total += n;
        match status.as_str() {
            "active" => t.active += n,
            "pending" => t.pending += n,
            "registered" => t.registered += n,
            "left" => t.left += n,
            _ => {}
        }
        if status == "active" && org == Some(ROOT) {
            t.root_active += n;
        }
    }
    t.shown = t.registered + t.pending + t.active + t.left;
    t
}

/// The three statistics requests of S8a.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Dashboard,
    StatsByStatus,
    StatsByOrg,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Dashboard, Kind::StatsByStatus, Kind::StatsByOrg];

    fn path(self) -> &'static str {
        match self {
            Kind::Dashboard => "/api/v1/admin/dashboard",
            Kind::StatsByStatus => "/api/v1/admin/stats/members?group_by=status",
            Kind::StatsByOrg => "/api/v1/admin/stats/members?group_by=org",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Dashboard => "dashboard",
            Kind::StatsByStatus => "stats_members_by_status",
            Kind::StatsByOrg => "stats_members_by_org",
        }
    }

    /// The handler's statements, run raw; returns (total members counted, active counted) so
    /// the bench can check the raw side computes what the HTTP side answers.
    fn raw(self, c: &Connection) -> (i64, i64) {
        match self {
            Kind::Dashboard => raw_dashboard(c),
            Kind::StatsByStatus => raw_stats_by_status(c),
            Kind::StatsByOrg => raw_stats_by_org(c),
        }
    }

    /// (total, active) read off the HTTP answer's `data`.
    fn read_http(self, d: &Value) -> (i64, i64) {
        let n = |v: &Value| v.as_f64().unwrap_or(0.0) as i64;
        match self {
            Kind::Dashboard => {
                let m = &d["members"];
                let total = ["registered", "pending", "active", "left"]
                    .iter()
                    .map(|k| n(&m[*k]))
                    .sum();
                (total, n(&m["active"]))
            }
            Kind::StatsByStatus => {
                let rows = d["rows"].as_array().cloned().unwrap_or_default();
                let total = rows.iter().map(|r| n(&r["values"][0])).sum();
                let active = rows
                    .iter()
                    .find(|r| r["key"] == "active")
                    .map_or(0, |r| n(&r["values"][0]));
                (total, active)
            }
            Kind::StatsByOrg => {
                let rows = d["rows"].as_array().cloned().unwrap_or_default();
                let sum = |i: usize| rows.iter().map(|r| n(&r["values"][i])).sum();
                (sum(0), sum(1))
            }
        }
    }
}

/// `GET /api/v1/admin/dashboard` for the root admin (every permission, `Scope::All`, so each
/// scope condition is `1=1`; org 1; the backup schedule on, its default), statement for
/// statement as `src/system/dashboard.rs` and `src/backup/alert.rs` run them.
fn raw_dashboard(c: &Connection) -> (i64, i64) {
    let mut by_status = (0i64, 0i64);
    let mut st = c
        .prepare("SELECT s.status, SUM(s.n) FROM member_stat_counts s WHERE s.dim = 'all' AND 1=1 GROUP BY s.status")
        .expect("by status");
    for row in st
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .expect("query")
    {
        let (s, n) = row.expect("row");
        if ["registered", "pending", "active", "left"].contains(&s.as_str()) {
            by_status.0 += n;
        }
        if s == "active" {
            by_status.1 = n;
        }
    }
    drop(st);
    let by_org: Vec<(i64, String, i64)> = c
        .prepare(
            "SELECT k.id, k.name, COALESCE(SUM(s.n), 0) FROM orgs k
         LEFT JOIN orgs d ON d.path GLOB k.path || '*'
         LEFT JOIN member_stat_counts s ON s.org_id = d.id AND s.dim = 'all' AND s.status = 'active' AND 1=1
         WHERE k.parent_id = ? GROUP BY k.id ORDER BY k.sort, k.id",
        )
        .expect("by org")
        .query_map([ROOT], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows");
    std::hint::black_box(&by_org);
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).expect("count") };
    let briefs = |sql: &str| {
        let mut st = c.prepare(sql).expect("briefs");
        let v: Vec<(i64, String, Option<i64>, String)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        std::hint::black_box(v);
    };
    std::hint::black_box(count(
        "SELECT count(*) FROM membership_applications a WHERE a.status = 'pending' AND 1=1",
    ));
    std::hint::black_box(count(
        "SELECT count(*) FROM activities a WHERE a.status = 'published' AND 1=1",
    ));
    briefs(
        "SELECT a.id, a.title, a.starts_at, a.status FROM activities a WHERE 1=1 ORDER BY a.starts_at DESC, a.id DESC LIMIT 5",
    );
    std::hint::black_box(count(
        "SELECT count(*) FROM news n WHERE n.deleted_at IS NULL AND n.status = 'published' AND 1=1",
    ));
    briefs(
        "SELECT n.id, n.title, COALESCE(n.published_at, n.created_at), n.status FROM news n WHERE n.deleted_at IS NULL AND 1=1 ORDER BY n.id DESC LIMIT 5",
    );
    // The backup banner: the last finished backup, then (schedule on) the last good one.
    let last: Option<(i64, String)> = c
        .query_row(
            "SELECT id, status, verify_ok, coalesce(verified_at, finished_at), message FROM backups
             WHERE status != 'running' ORDER BY coalesce(verified_at, finished_at) DESC, id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok();
    std::hint::black_box(last);
    let good: Option<i64> = c
        .query_row(
            "SELECT max(finished_at) FROM backups WHERE status = 'ok' AND verify_ok = 1",
            [],
            |r| r.get(0),
        )
        .expect("good backup");
    std::hint::black_box(good);
    by_status
}

/// The org row every stats request loads first (`Target::load`).
fn raw_target(c: &Connection) -> String {
    let (name, path, parent): (String, String, Option<i64>) = c
        .prepare_cached("SELECT name, path, parent_id FROM orgs WHERE id = ?1")
        .expect("target")
        .query_row([ROOT], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("root org");
    std::hint::black_box((name, parent));
    path
}

/// `GET /api/v1/admin/stats/members?group_by=status` for the root admin, as
/// `src/stats/members.rs` runs it (org 1's subtree, `Scope::All`).
fn raw_stats_by_status(c: &Connection) -> (i64, i64) {
    let path = raw_target(c);
    let mut st = c
        .prepare(
            "SELECT s.status, SUM(s.n) FROM member_stat_counts s JOIN orgs o ON o.id = s.org_id
             WHERE o.path GLOB ? AND 1=1 AND s.dim = ? AND s.status <> 'deleted' GROUP BY 1 ORDER BY 1",
        )
        .expect("stats by status");
    let mut out = (0, 0);
    for row in st
        .query_map(params![format!("{path}*"), "all"], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })
        .expect("query")
    {
        let (s, n) = row.expect("row");
        out.0 += n;
        if s == "active" {
            out.1 = n;
        }
    }
    out
}

/// `GET /api/v1/admin/stats/members?group_by=org`: the drill-down bucket per direct child, then
/// the children's names (`Target::children`).
fn raw_stats_by_org(c: &Connection) -> (i64, i64) {
    let path = raw_target(c);
    let (plen, start) = (path.len(), path.len() + 1);
    let bucket = format!(
        "CASE WHEN length(o.path) = {plen} THEN 0 ELSE CAST(substr(o.path, {start}, instr(substr(o.path, {start}), '/') - 1) AS INTEGER) END"
    );
    let mut st = c
        .prepare(&format!(
            "SELECT {bucket}, SUM(s.n), SUM(CASE WHEN s.status = 'active' THEN s.n ELSE 0 END),
                SUM(CASE WHEN s.status = 'pending' THEN s.n ELSE 0 END), SUM(CASE WHEN s.status = 'left' THEN s.n ELSE 0 END)
             FROM member_stat_counts s JOIN orgs o ON o.id = s.org_id
             WHERE o.path GLOB ? AND 1=1 AND s.dim = ? AND s.status <> 'deleted' GROUP BY 1 ORDER BY 1"
        ))
        .expect("stats by org");
    let mut out = (0, 0);
    for row in st
        .query_map(params![format!("{path}*"), "all"], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .expect("query")
    {
        let (_, total, active) = row.expect("row");
        out.0 += total;
        out.1 += active;
    }
    drop(st);
    let children: Vec<(i64, String, String)> = c
        .prepare_cached("SELECT id, name, path FROM orgs WHERE parent_id = ?1 ORDER BY sort, id")
        .expect("children")
        .query_map([ROOT], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows");
    std::hint::black_box(children);
    out
}

async fn get_json(ctx: &Ctx, url: &str, token: &str) -> Value {
    let r = ctx
        .client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = r.status();
    let v: Value = r.json().await.expect("json");
    assert!(status.is_success(), "{url}: {status} {v}");
    v
}

/// Run S8 on the main data set (with the plan's articles, which the dashboard counts).
pub async fn run(ctx: &mut Ctx) {
    let dir = prepare_main(ctx);
    crate::s_search::ensure_articles(ctx, &dir);
    let server = Server::start(&ctx.bin, &dir, Sync::Full, &[]);
    let base = server.base.clone();
    let token = admin_token(&ctx.client, &base).await;
    let db = dir.join("gonghui.db");
    let raw = Arc::new(Mutex::new(
        Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("read-only db"),
    ));
    let t = {
        let raw = raw.clone();
        tokio::task::spawn_blocking(move || truth(&raw.lock().expect("raw")))
            .await
            .expect("truth")
    };
    ctx.report.detail("S8.members_counted", json!(t));

    // Correctness first: every answer against the full count, and the raw side against HTTP.
    let mut ok = t.total >= ctx.plan.members as i64;
    for kind in Kind::ALL {
        let v = get_json(ctx, &format!("{base}{}", kind.path()), &token).await;
        let http = kind.read_http(&v["data"]);
        let r = {
            let raw = raw.clone();
            tokio::task::spawn_blocking(move || kind.raw(&raw.lock().expect("raw")))
                .await
                .expect("raw")
        };
        let want = match kind {
            Kind::Dashboard => (t.shown, t.active),
            _ => (t.total, t.active),
        };
        let good = http == want && r == http;
        if !good {
            eprintln!("S8 {}: http {http:?}, raw {r:?}, truth {t:?}", kind.label());
        }
        ok &= good;
        if let Kind::Dashboard = kind {
            let by_org = v["data"]["members"]["by_org"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let sum: i64 = by_org.iter().filter_map(|o| o["active"].as_i64()).sum();
            ok &= !by_org.is_empty() && sum + t.root_active == t.active;
        }
    }
    let list = get_json(
        ctx,
        &format!("{base}/api/v1/admin/members?page=1&page_size=20"),
        &token,
    )
    .await;
    ok &= list["data"]["total"].as_i64() == Some(t.total)
        && list["data"]["items"].as_array().map(Vec::len) == Some(20);
    ctx.report.check(
        "S8",
        "dashboard, stats tables and member list total = full count of members; raw SQL = HTTP",
        ok,
    );

    p99_ratios(ctx, &base, &token, &raw).await;
    list_ratio(ctx, &base, &token).await;
    single_member_ratio(ctx, &base, &token, &dir).await;
    server.stop();
}

/// S8a: rounds alternate between HTTP and raw, each round `PER` requests of every kind, so a
/// noisy neighbour slows both sides alike; round 0 warms up and is not counted. The HTTP side
/// is timed with the minimal sequential client of [`crate::seq`] on one keep-alive connection
/// (what the server takes, plus loopback); the same requests through the general client
/// (reqwest) run in the same rounds and are reported for context. Sequential requests of the
/// bare route and of a staff-authenticated route with nothing behind it
/// (`/api/v1/admin/me`) run in the same rounds too: they are the floor of any request.
async fn p99_ratios(ctx: &mut Ctx, base: &str, token: &str, raw: &Arc<Mutex<Connection>>) {
    const PER: usize = 5;
    let rounds = if ctx.plan.mode == "quick" { 100 } else { 200 };
    let mut http: Vec<Vec<u64>> = vec![vec![]; Kind::ALL.len()];
    let mut general: Vec<Vec<u64>> = vec![vec![]; Kind::ALL.len()];
    let mut inproc: Vec<Vec<u64>> = vec![vec![]; Kind::ALL.len()];
    let (mut bare, mut me) = (vec![], vec![]);
    let conn = Arc::new(Mutex::new(crate::seq::Conn::open(base)));
    let client = ctx.client.clone();
    // `PER` requests of `path` on the sequential client, off the async executor.
    let lean = |path: String, auth: bool| {
        let (conn, token) = (conn.clone(), token.to_string());
        async move {
            tokio::task::spawn_blocking(move || {
                let mut c = conn.lock().expect("conn");
                let req = c.get_request(&path, auth.then_some(token.as_str()));
                (0..PER)
                    .map(|_| {
                        let (status, _, us) = c.send(&req);
                        assert!(status == 200, "{path}: {status}");
                        us
                    })
                    .collect::<Vec<_>>()
            })
            .await
            .expect("sequential client")
        }
    };
    let one = |url: String| {
        let c = client.clone();
        let token = token.to_string();
        async move {
            let t = Instant::now();
            let r = c
                .get(&url)
                .bearer_auth(token)
                .send()
                .await
                .expect("request");
            assert!(r.status().is_success(), "{url}: {}", r.status());
            r.bytes().await.expect("body");
            t.elapsed().as_micros() as u64
        }
    };
    for round in 0..=rounds {
        for (k, kind) in Kind::ALL.into_iter().enumerate() {
            let lat = lean(kind.path().to_string(), true).await;
            if round > 0 {
                http[k].extend(lat);
            }
            for _ in 0..PER {
                let us = one(format!("{base}{}", kind.path())).await;
                if round > 0 {
                    general[k].push(us);
                }
            }
            let raw = raw.clone();
            let lat = tokio::task::spawn_blocking(move || {
                let c = raw.lock().expect("raw");
                (0..PER)
                    .map(|_| {
                        let t = Instant::now();
                        std::hint::black_box(kind.raw(&c));
                        t.elapsed().as_micros() as u64
                    })
                    .collect::<Vec<_>>()
            })
            .await
            .expect("raw");
            if round > 0 {
                inproc[k].extend(lat);
            }
        }
        let b = lean("/healthz".to_string(), false).await;
        let m = lean("/api/v1/admin/me".to_string(), true).await;
        if round > 0 {
            bare.extend(b);
            me.extend(m);
        }
    }
    let bare = load::stats_of(bare, 1.0);
    let me = load::stats_of(me, 1.0);
    ctx.report.detail(
        "S8a.sequential_floor",
        json!({"bare_healthz": bare, "admin_me": me}),
    );
    for (k, kind) in Kind::ALL.into_iter().enumerate() {
        let h = load::stats_of(std::mem::take(&mut http[k]), 1.0);
        let g = load::stats_of(std::mem::take(&mut general[k]), 1.0);
        let r = load::stats_of(std::mem::take(&mut inproc[k]), 1.0);
        ctx.report.detail(
            &format!("S8a.{}", kind.label()),
            json!({"path": kind.path(), "http": h, "http_general_client": g, "raw_sql": r}),
        );
        ctx.report.at_most(
            "S8",
            &format!(
                "{} p99 over HTTP ÷ same SQL raw in process ({} members)",
                kind.path(),
                ctx.plan.members
            ),
            h.p99_ms / r.p99_ms.max(0.001),
            2.0,
        );
        ctx.report.context(
            "S8",
            &format!(
                "(context) {} p99 through the general client (reqwest) ÷ same SQL raw",
                kind.path()
            ),
            g.p99_ms / r.p99_ms.max(0.001),
        );
        ctx.report.context(
            "S8",
            &format!(
                "(context) {} p99 ÷ staff-authenticated empty route /api/v1/admin/me p99",
                kind.path()
            ),
            h.p99_ms / me.p99_ms.max(0.001),
        );
    }
}

/// Closed loop for `dur` on `make`, after a one-second warm-up.
async fn phase<F>(ctx: &Ctx, dur: Duration, make: F) -> Stats
where
    F: Fn(usize) -> Req + Send + std::marker::Sync + Clone + 'static,
{
    let ok200 = |s: reqwest::StatusCode| s == 200;
    let c = &ctx.client;
    load::saturate(
        c,
        ctx.plan.conns,
        Duration::from_secs(1),
        make.clone(),
        ok200,
    )
    .await;
    load::saturate(c, ctx.plan.conns, dur, make, ok200).await
}

/// S8b: the root admin's first member-list page against the bare route, before and after.
async fn list_ratio(ctx: &mut Ctx, base: &str, token: &str) {
    let dur = Duration::from_secs_f64(ctx.plan.phase_secs);
    let token: Arc<str> = token.into();
    let bare = {
        let base = base.to_string();
        move |_| Req::get(format!("{base}/healthz"), None)
    };
    let list = {
        let base = base.to_string();
        move |_| {
            Req::get(
                format!("{base}/api/v1/admin/members?page=1&page_size=20"),
                Some(token.clone()),
            )
        }
    };
    let b1 = phase(ctx, dur, bare.clone()).await;
    let l = phase(ctx, dur, list).await;
    let b2 = phase(ctx, dur, bare).await;
    let bare_rps = (b1.rps + b2.rps) / 2.0;
    ctx.report.detail(
        "S8b.member_list",
        json!({"bare_before": b1, "list": l, "bare_after": b2}),
    );
    ctx.report.at_least(
        "S8",
        &format!(
            "root admin's first member-list page req/s ÷ bare ({} members)",
            ctx.plan.members
        ),
        l.rps / bare_rps,
        0.1,
    );
    ctx.report.check(
        "S8",
        "no errors in S8b",
        b1.errors + l.errors + b2.errors == 0,
    );
}

/// S8c: one member read by staff (`GET /api/v1/admin/members/{id}`, the root admin's token)
/// against the member's own profile read (`GET /api/v1/app/me`, S2's route), over the same
/// spread of members; two rounds in the order member, staff, staff, member.
async fn single_member_ratio(ctx: &mut Ctx, base: &str, token: &str, dir: &std::path::Path) {
    let dur = Duration::from_secs_f64(ctx.plan.phase_secs);
    let ids: Arc<Vec<i64>> = Arc::new(spread_ids(ctx.plan.members, 10_000).collect());
    let tokens = Arc::new(member_tokens(dir, ids.iter().copied()));
    let token: Arc<str> = token.into();
    let me = {
        let (base, tokens) = (base.to_string(), tokens.clone());
        move |i: usize| {
            Req::get(
                format!("{base}/api/v1/app/me"),
                Some(tokens[(i * 7919) % tokens.len()].clone()),
            )
        }
    };
    let staff = {
        let (base, ids) = (base.to_string(), ids.clone());
        move |i: usize| {
            Req::get(
                format!(
                    "{base}/api/v1/admin/members/{}",
                    ids[(i * 7919) % ids.len()]
                ),
                Some(token.clone()),
            )
        }
    };
    let m1 = phase(ctx, dur, me.clone()).await;
    let s1 = phase(ctx, dur, staff.clone()).await;
    let s2 = phase(ctx, dur, staff).await;
    let m2 = phase(ctx, dur, me).await;
    let (m, s) = ((m1.rps + m2.rps) / 2.0, (s1.rps + s2.rps) / 2.0);
    ctx.report.detail(
        "S8c.single_member",
        json!({"member_me": [m1, m2], "staff_member_get": [s1, s2]}),
    );
    ctx.report.at_least(
        "S8",
        "staff single-member read req/s ÷ member profile read req/s",
        s / m,
        0.8,
    );
    ctx.report.check(
        "S8",
        "no errors in S8c",
        m1.errors + m2.errors + s1.errors + s2.errors == 0,
    );
}
