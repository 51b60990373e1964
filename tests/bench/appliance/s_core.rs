//! The main data set and S1 (auth cost), S2 (profile read over many members) and S6's import
//! half (bulk import rows/s vs a raw batched insert).

use crate::load::{self, Req};
use crate::server::{Server, Sync};
use crate::{Ctx, admin_token, data, member_tokens};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Build the main data dir (orgs + members) once; later scenarios reuse it.
pub fn prepare_main(ctx: &mut Ctx) -> std::path::PathBuf {
    if let Some(d) = &ctx.main {
        return d.clone();
    }
    let dir = ctx.data_dir("main");
    // First start bootstraps the installation (schema, keys, root org, admin); then load data
    // with the server stopped, as an office would restore a dump.
    Server::start(&ctx.bin, &dir, Sync::Full, &[]).stop();
    let db = dir.join("gonghui.db");
    let c = rusqlite::Connection::open(&db).expect("db");
    let orgs = data::orgs(&c, 4, 5);
    drop(c);
    let t = Instant::now();
    let rate = data::members(&db, &dir.join("keys"), ctx.plan.members, &orgs);
    ctx.report.detail(
        "data.members",
        json!({"rows": ctx.plan.members, "seconds": t.elapsed().as_secs_f64(), "rows_per_sec": rate}),
    );
    ctx.orgs = orgs;
    ctx.main = Some(dir.clone());
    dir
}

/// Evenly spread member ids `1..=members`, `n` of them.
pub fn spread_ids(members: u64, n: u64) -> impl Iterator<Item = i64> {
    let step = (members / n).max(1);
    (0..n.min(members)).map(move |k| (1 + k * step) as i64)
}

/// S1, S2 and (when `import`) S6's import ratio.
pub async fn run(ctx: &mut Ctx, import: bool) {
    let dir = prepare_main(ctx);
    let server = Server::start(&ctx.bin, &dir, Sync::Full, &[]);
    let base = server.base.clone();
    let tokens = Arc::new(member_tokens(&dir, spread_ids(ctx.plan.members, 10_000)));
    let (c, conns) = (ctx.client.clone(), ctx.plan.conns);
    let dur = Duration::from_secs_f64(ctx.plan.phase_secs);
    let ok200 = |s: reqwest::StatusCode| s == 200;

    let bare = {
        let base = base.clone();
        move |_| Req::get(format!("{base}/healthz"), None)
    };
    let auth = {
        let (base, tokens) = (base.clone(), tokens.clone());
        move |i: usize| {
            Req::get(
                format!("{base}/api/v1/app/bench/whoami"),
                Some(tokens[i % tokens.len()].clone()),
            )
        }
    };
    let me = {
        let (base, tokens) = (base.clone(), tokens.clone());
        move |i: usize| {
            Req::get(
                format!("{base}/api/v1/app/me"),
                Some(tokens[(i * 7919) % tokens.len()].clone()),
            )
        }
    };
    // Warm up connections, caches and the page cache.
    load::saturate(&c, conns, Duration::from_secs(1), bare.clone(), ok200).await;
    load::saturate(&c, conns, Duration::from_secs(1), me.clone(), ok200).await;

    // Baseline before and after, averaged, so drift on a noisy machine cancels out.
    let b1 = load::saturate(&c, conns, dur, bare.clone(), ok200).await;
    let s1 = load::saturate(&c, conns, dur, auth, ok200).await;
    let s2 = load::saturate(&c, conns, dur, me.clone(), ok200).await;
    let b2 = load::saturate(&c, conns, dur, bare, ok200).await;
    let bare_rps = (b1.rps + b2.rps) / 2.0;
    // p99 at half the saturated rate, open loop (coordinated-omission corrected).
    let s2_open = load::open_loop(&c, s2.rps * 0.5, dur, me, ok200).await;
    ctx.report.bare_rps = bare_rps;
    ctx.report
        .detail("S1.bare", json!({"before": b1, "after": b2}));
    ctx.report.detail("S1.auth_member_route", json!(s1));
    ctx.report.detail("S2.profile_saturated", json!(s2));
    ctx.report
        .detail("S2.profile_open_loop_half_rate", json!(s2_open));
    ctx.report.at_least(
        "S1",
        "auth member route req/s ÷ bare route req/s",
        s1.rps / bare_rps,
        0.70,
    );
    ctx.report.at_least(
        "S2",
        &format!("profile read req/s ({} members) ÷ bare", ctx.plan.members),
        s2.rps / bare_rps,
        0.25,
    );
    ctx.report.check(
        "S1",
        "no errors in S1/S2",
        s1.errors + s2.errors + b1.errors + b2.errors == 0,
    );

    if import {
        import_ratio(ctx, &server).await;
    }
    server.stop();
}

/// One import through the HTTP API into `server` (`n` rows from sequence `offset`, all into the
/// org with `code`), polled until the job ends. Returns (rows/s, rows imported, job status).
async fn import_through_api(
    ctx: &Ctx,
    server: &Server,
    n: u64,
    offset: u64,
    code: &str,
) -> (f64, u64, serde_json::Value) {
    let bytes = data::import_xlsx(n, offset, code);
    let token = admin_token(&ctx.client, &server.base).await;
    let t = Instant::now();
    let form = reqwest::multipart::Form::new()
        .text("purpose", "import")
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes)
                .file_name("会员.xlsx")
                .mime_str("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                .expect("mime"),
        );
    let v: serde_json::Value = ctx
        .client
        .post(format!("{}/api/v1/admin/members/import", server.base))
        .bearer_auth(&*token)
        .multipart(form)
        .send()
        .await
        .expect("import")
        .json()
        .await
        .expect("import body");
    let job = v["data"]["job_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("import refused: {v}"));
    let done = loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let s: serde_json::Value = ctx
            .client
            .get(format!("{}/api/v1/admin/members/import/{job}", server.base))
            .bearer_auth(&*token)
            .send()
            .await
            .expect("status")
            .json()
            .await
            .expect("status body");
        if s["data"]["status"] != "running" {
            break s;
        }
    };
    let secs = t.elapsed().as_secs_f64();
    let imported = done["data"]["imported"].as_u64().unwrap_or(0);
    let job = json!({"seconds": secs, "status": done["data"]["status"], "message": done["data"]["message"],
        "first_errors": done["data"]["errors"].as_array().map(|a| a.iter().take(3).cloned().collect::<Vec<_>>())});
    (imported as f64 / secs, imported, job)
}

/// S6's import ratio, measured like for like twice: the import into the main data set against
/// a raw batched insert of the same kind of rows into a copy of that same database (a million
/// members, every index), and the import into a new installation against the raw insert into
/// that installation's empty members table. The raw insert into a small empty table of the
/// same columns with two indexes (the baseline of earlier runs) is kept as context.
async fn import_ratio(ctx: &mut Ctx, server: &Server) {
    let n = ctx.plan.import_rows;
    let offset = 50_000_000;
    let (org, code) = ctx.orgs.first().cloned().expect("orgs");
    let keys = server.data_dir.join("keys");
    // The copy for the same-table baseline, taken while the server is idle.
    let copy = ctx.root.path().join("raw-same-table.db");
    data::snapshot_db(&server.data_dir.join("gonghui.db"), &copy);
    let (app_rate, imported, job) = import_through_api(ctx, server, n, offset, &code).await;
    let same_rate = data::raw_import_same_table(&copy, &keys, n, offset + n, org);
    let _ = std::fs::remove_file(&copy);
    let small_rate = data::raw_import(ctx.root.path(), &keys, n, offset);

    // A new installation: bootstrap, one grassroots org, then the same import and raw insert.
    let dir = ctx.data_dir("import-empty");
    Server::start(&ctx.bin, &dir, Sync::Full, &[]).stop();
    let db = dir.join("gonghui.db");
    let (e_org, e_code) = {
        let c = rusqlite::Connection::open(&db).expect("db");
        data::orgs(&c, 1, 1).remove(0)
    };
    let empty_copy = ctx.root.path().join("raw-empty-members.db");
    data::snapshot_db(&db, &empty_copy);
    let fresh = Server::start(&ctx.bin, &dir, Sync::Full, &[]);
    let (e_rate, e_imported, e_job) = import_through_api(ctx, &fresh, n, offset, &e_code).await;
    fresh.stop();
    let e_raw = data::raw_import_same_table(&empty_copy, &dir.join("keys"), n, offset, e_org);
    let _ = std::fs::remove_file(&empty_copy);

    ctx.report.detail(
        "S6.import",
        json!({"rows": n, "main_data_set": {"members_before": ctx.plan.members, "imported": imported, "rows_per_sec": app_rate, "raw_same_table_rows_per_sec": same_rate, "job": job},
            "new_installation": {"imported": e_imported, "rows_per_sec": e_rate, "raw_same_table_rows_per_sec": e_raw, "job": e_job},
            "raw_small_empty_table_rows_per_sec": small_rate}),
    );
    ctx.report.check(
        "S6",
        "every import row imported (both imports)",
        imported == n && e_imported == n,
    );
    ctx.report.at_least(
        "S6",
        &format!(
            "bulk import ÷ raw batched insert, same members table ({} members)",
            ctx.plan.members
        ),
        app_rate / same_rate,
        0.2,
    );
    ctx.report.at_least(
        "S6",
        "bulk import ÷ raw batched insert, new installation's empty members table",
        e_rate / e_raw,
        0.2,
    );
    // Context: both imports against a raw insert into a small empty table of the same columns
    // with two indexes (the baseline of earlier runs). It leaves out the members table's other
    // five indexes and, for the main data set, its million rows, so it mixes the application's
    // cost with the schema's and the data set's.
    ctx.report.context(
        "S6",
        "(context) import into a new installation ÷ raw insert into an empty two-index table",
        e_rate / small_rate,
    );
    ctx.report.context(
        "S6",
        "(context) import into the main data set ÷ raw insert into an empty two-index table",
        app_rate / small_rate,
    );
}
