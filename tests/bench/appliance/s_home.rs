//! S10: the requests a member's phone makes when it opens the home screen (news feed first
//! slice, activities list, unread count, profile), each measured saturated against the bare
//! route in the same run, on the main data set with its articles.

use crate::load::{self, Req};
use crate::s_core::{prepare_main, spread_ids};
use crate::server::{Server, Sync};
use crate::{Ctx, member_tokens};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Run S10 (loads the articles first when S4 has not).
pub async fn run(ctx: &mut Ctx) {
    let dir = prepare_main(ctx);
    crate::s_search::ensure_articles(ctx, &dir);
    let server = Server::start(&ctx.bin, &dir, Sync::Full, &[]);
    let base = server.base.clone();
    let tokens = Arc::new(member_tokens(&dir, spread_ids(ctx.plan.members, 10_000)));
    let (c, conns) = (ctx.client.clone(), ctx.plan.conns);
    let dur = Duration::from_secs_f64(ctx.plan.phase_secs);
    let ok200 = |s: reqwest::StatusCode| s == 200;
    let route = |path: &'static str| {
        let (base, tokens) = (base.clone(), tokens.clone());
        move |i: usize| {
            Req::get(
                format!("{base}{path}"),
                Some(tokens[(i * 7919) % tokens.len()].clone()),
            )
        }
    };
    let bare = {
        let base = base.clone();
        move |_| Req::get(format!("{base}/healthz"), None)
    };
    load::saturate(&c, conns, Duration::from_secs(1), bare.clone(), ok200).await;
    let b1 = load::saturate(&c, conns, dur, bare.clone(), ok200).await;
    let mut results = vec![];
    for path in [
        "/api/v1/app/news?limit=20",
        "/api/v1/app/activities?limit=20",
        "/api/v1/app/messages/unread-count",
        "/api/v1/app/me",
    ] {
        load::saturate(&c, conns, Duration::from_secs(1), route(path), ok200).await;
        results.push((
            path,
            load::saturate(&c, conns, dur, route(path), ok200).await,
        ));
    }
    let b2 = load::saturate(&c, conns, dur, bare, ok200).await;
    let bare_rps = (b1.rps + b2.rps) / 2.0;
    server.stop();
    ctx.report
        .detail("S10.bare", json!({"before": b1, "after": b2}));
    let mut errors = b1.errors + b2.errors;
    for (path, s) in &results {
        ctx.report.detail(&format!("S10.{path}"), json!(s));
        ctx.report.at_least(
            "S10",
            &format!(
                "home screen {path} req/s ÷ bare ({} articles, {} members)",
                ctx.plan.articles, ctx.plan.members
            ),
            s.rps / bare_rps,
            0.25,
        );
        errors += s.errors;
    }
    ctx.report.check("S10", "no errors in S10", errors == 0);
}
