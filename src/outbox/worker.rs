//! The delivery worker: takes due outbox rows in small batches and sends `subscribe` rows
//! through WeChat's subscribeMessage.send.
//!
//! Each pass is two writer jobs around the WeChat calls (batched because every sign-up or review
//! enqueues a row, and one job per row doubled the writer's work under a burst):
//! 1. **claim**: up to [`PASS_ROWS`] times (at most [`PASS_SENDS`] leases), pick the oldest due
//!    `pending` row, decide whether it can be sent at all (known
//!    kind, template configured for the event, member has an openid and a send credit) and
//!    either close it (`failed` with a `skipped_*`/other `reason_code` and a Chinese reason)
//!    or lease it (`attempts + 1`, `next_attempt_at = now + LEASE_SECS`).
//! 2. **finish**: after the calls, for each leased row mark it `sent` and spend the member's credit in the same job,
//!    or `refused` (43101, no retry), `failed` (40003/40037/47003/41030, no retry), or back to
//!    `pending` with exponential backoff for transient errors (-1, network, HTTP 5xx) until
//!    `outbox.max_attempts`.
//!
//! Guarantees: a row is never lost (it stays `pending` until finished) and a restart never sends
//! a finished row again. A crash *between* the WeChat call and the finish job leaves the lease,
//! after which the row is sent again: delivery is at-least-once, because WeChat has no
//! idempotency key. A crash between claim and call simply retries after the lease.

use crate::app::AppState;
use crate::error::{AppError, Result};
use crate::messages::templates;
use crate::wechat::{SendOutcome, SubscribeMessage};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use std::time::Duration;
use tokio::sync::watch;

/// How long a claimed row is reserved for the sends of its pass. Longer than the WeChat
/// client's worst case (token fetch, send, one token refresh and resend, each with a 10 s
/// timeout) for each of the [`PASS_SENDS`] sends made one after another in a pass.
pub const LEASE_SECS: i64 = 120 * PASS_SENDS as i64;

/// Rows handled (closed or leased) by one claim job at most.
pub const PASS_ROWS: usize = 64;

/// Rows leased for sending by one claim job at most (they are sent one after another).
pub const PASS_SENDS: usize = 4;

/// Stops the worker when dropped (the server keeps it for as long as it serves).
pub struct WorkerGuard {
    _stop: watch::Sender<()>,
}

/// Start the delivery worker. It runs until the returned guard is dropped.
pub fn spawn_worker(state: &AppState) -> WorkerGuard {
    let (tx, rx) = watch::channel(());
    tokio::spawn(run(state.clone(), rx));
    WorkerGuard { _stop: tx }
}

async fn run(state: AppState, mut stop: watch::Receiver<()>) {
    let poll = Duration::from_millis(state.cfg.outbox.poll_interval_ms.max(1));
    loop {
        // Registered before the pass, so a row enqueued during it wakes the next one at once.
        let notified = super::wake_signal().notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        // A separate task: even a panic in one delivery only costs that pass, not the worker.
        let busy = match tokio::spawn(deliver_next(state.clone())).await {
            Ok(Ok(busy)) => busy,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "outbox delivery pass failed");
                false
            }
            Err(e) => {
                tracing::error!(error = %e, "outbox delivery pass panicked");
                false
            }
        };
        if stop.has_changed().is_err() {
            return;
        }
        if busy {
            continue;
        }
        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => return,
        }
    }
}

/// A leased row ready to go to WeChat.
#[derive(Debug)]
struct Job {
    id: i64,
    attempts: i64,
    member_id: i64,
    msg: SubscribeMessage,
}

/// What the claim step decided.
#[derive(Debug)]
enum Claim {
    /// Nothing due.
    Idle,
    /// A row was closed without sending.
    Closed,
    /// A row was leased for sending.
    Send(Job),
}

/// Deliver (or close) a batch of due rows. True when a row was handled, so the caller goes on
/// at once.
pub async fn deliver_next(state: AppState) -> Result<bool> {
    let now = crate::time::now();
    let configured = state.wechat.is_configured();
    let max_attempts = state.cfg.outbox.max_attempts;
    let (handled, jobs) = state
        .db
        .write(move |c| claim_batch(c, now, configured, max_attempts))
        .await?;
    if jobs.is_empty() {
        return Ok(handled > 0);
    }
    let mut done = Vec::with_capacity(jobs.len());
    for job in jobs {
        let outcome = state.wechat.send_subscribe(&job.msg).await;
        done.push((job, outcome));
    }
    let cfg = state.cfg.outbox.clone();
    state
        .db
        .write(move |c| {
            let now = crate::time::now();
            for (job, outcome) in &done {
                let retry_in = backoff(job.attempts, cfg.retry_base_secs, cfg.retry_max_secs);
                // One row that is no longer pending must not undo the others' outcomes.
                if let Err(e) = finish(c, job, outcome, now, retry_in, cfg.max_attempts) {
                    tracing::error!(error = %e, "outbox finish failed");
                }
            }
            Ok(())
        })
        .await?;
    Ok(true)
}

/// Close or lease up to [`PASS_ROWS`] due rows, at most [`PASS_SENDS`] of them leased, in one
/// writer job. Returns how many rows were handled and the leased ones.
fn claim_batch(
    c: &Connection,
    now: i64,
    configured: bool,
    max_attempts: i64,
) -> Result<(usize, Vec<Job>)> {
    let tpls = templates::load(c)?;
    let mut jobs = Vec::new();
    let mut handled = 0;
    while handled < PASS_ROWS && jobs.len() < PASS_SENDS {
        match claim_with(c, now, configured, max_attempts, &tpls)? {
            Claim::Idle => break,
            Claim::Closed => {}
            Claim::Send(job) => jobs.push(job),
        }
        handled += 1;
    }
    Ok((handled, jobs))
}

/// Close a row without sending it.
fn close(c: &Connection, id: i64, code: &str, reason: &str, now: i64) -> Result<Claim> {
    c.prepare_cached(
        "UPDATE outbox SET status = 'failed', reason_code = ?1, last_error = ?2, done_at = ?3 WHERE id = ?4",
    )?
    .execute(params![code, reason, now, id])?;
    Ok(Claim::Closed)
}

/// Pick the next due row and close or lease it.
#[cfg(test)]
fn claim(c: &Connection, now: i64, configured: bool, max_attempts: i64) -> Result<Claim> {
    claim_with(c, now, configured, max_attempts, &templates::load(c)?)
}

/// [`claim`] with the subscription templates already loaded.
fn claim_with(
    c: &Connection,
    now: i64,
    configured: bool,
    max_attempts: i64,
    tpls: &templates::Templates,
) -> Result<Claim> {
    let row: Option<(i64, String, Option<i64>, String, i64)> = c
        .prepare_cached(
            "SELECT id, kind, member_id, payload, attempts FROM outbox
             WHERE status = 'pending' AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id LIMIT 1",
        )?
        .query_row([now], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    let Some((id, kind, member_id, payload, attempts)) = row else {
        return Ok(Claim::Idle);
    };
    if kind != "subscribe" {
        // Events nobody delivers (yet) must not stay pending forever.
        return close(c, id, "unsupported_kind", "无对应的投递方式", now);
    }
    if attempts >= max_attempts {
        // Leases that keep expiring (e.g. the process dies during every send).
        return close(c, id, "max_attempts", "多次尝试仍未完成投递", now);
    }
    let payload: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
    let (Some(event), Some(member_id)) = (payload["event"].as_str(), member_id) else {
        return close(c, id, "bad_payload", "投递内容无法解析", now);
    };
    let Some(tpl) = tpls.get(event) else {
        return close(
            c,
            id,
            "skipped_no_template",
            "未配置该事件的订阅消息模板，未发送",
            now,
        );
    };
    if !configured {
        return close(
            c,
            id,
            "skipped_not_configured",
            "未配置微信小程序 AppID/AppSecret，未发送",
            now,
        );
    }
    let openid: Option<String> = c
        .query_row(
            "SELECT openid FROM members WHERE id = ?1 AND status <> 'deleted'",
            [member_id],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let Some(openid) = openid.filter(|o| !o.is_empty()) else {
        return close(
            c,
            id,
            "skipped_no_openid",
            "会员未通过微信登录（无 openid），未发送",
            now,
        );
    };
    let credits: i64 = c
        .query_row(
            "SELECT credits FROM subscription_credits WHERE member_id = ?1 AND template_id = ?2",
            params![member_id, tpl.template_id],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    if credits <= 0 {
        return close(
            c,
            id,
            "skipped_no_credit",
            "会员未订阅该消息或订阅次数已用完，未发送",
            now,
        );
    }
    let page = payload["page"]
        .as_str()
        .filter(|p| !p.is_empty())
        .map(String::from)
        .or_else(|| tpl.page.clone());
    let mut msg = SubscribeMessage::new(openid, tpl.template_id.clone());
    msg.page = page;
    for (k, v) in templates::fill(tpl, &payload["fields"]) {
        msg = msg.value(k, v);
    }
    c.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?1 WHERE id = ?2",
    )?
    .execute(params![now + LEASE_SECS, id])?;
    Ok(Claim::Send(Job {
        id,
        attempts: attempts + 1,
        member_id,
        msg,
    }))
}

/// Record the outcome of a send (one writer job: the credit is spent with the `sent` mark).
fn finish(
    c: &Connection,
    job: &Job,
    outcome: &SendOutcome,
    now: i64,
    retry_in: i64,
    max_attempts: i64,
) -> Result<()> {
    let tpl = &job.msg.template_id;
    let n = match outcome {
        SendOutcome::Sent => {
            c.execute(
                "UPDATE subscription_credits SET credits = credits - 1, updated_at = ?1
                 WHERE member_id = ?2 AND template_id = ?3 AND credits > 0",
                params![now, job.member_id, tpl],
            )?;
            c.execute(
                "UPDATE outbox SET status = 'sent', last_error = NULL, reason_code = NULL, done_at = ?1
                 WHERE id = ?2 AND status = 'pending'",
                params![now, job.id],
            )?
        }
        SendOutcome::Refused => {
            // WeChat knows better than our count: the member has no subscription left.
            c.execute(
                "UPDATE subscription_credits SET credits = 0, updated_at = ?1 WHERE member_id = ?2 AND template_id = ?3",
                params![now, job.member_id, tpl],
            )?;
            c.execute(
                "UPDATE outbox SET status = 'refused', reason_code = 'refused', done_at = ?1,
                    last_error = '会员拒收或订阅次数已用完（43101）'
                 WHERE id = ?2 AND status = 'pending'",
                params![now, job.id],
            )?
        }
        SendOutcome::Permanent { errcode, reason } => c.execute(
            "UPDATE outbox SET status = 'failed', reason_code = 'wechat_rejected', last_error = ?1, done_at = ?2
             WHERE id = ?3 AND status = 'pending'",
            params![format!("{reason}（{errcode}）"), now, job.id],
        )?,
        SendOutcome::Transient { reason, .. } if job.attempts >= max_attempts => c.execute(
            "UPDATE outbox SET status = 'failed', reason_code = 'max_attempts', last_error = ?1, done_at = ?2
             WHERE id = ?3 AND status = 'pending'",
            params![format!("重试 {} 次仍失败：{reason}", job.attempts), now, job.id],
        )?,
        SendOutcome::Transient { reason, .. } => c.execute(
            "UPDATE outbox SET next_attempt_at = ?1, last_error = ?2 WHERE id = ?3 AND status = 'pending'",
            params![now + retry_in, reason, job.id],
        )?,
    };
    if n == 0 {
        return Err(AppError::Internal(format!(
            "outbox row {} was not pending when finished",
            job.id
        )));
    }
    Ok(())
}

/// Delay before retry number `attempts` (1-based): base, 2×base, 4×base, … capped at `max`.
pub fn backoff(attempts: i64, base: i64, max: i64) -> i64 {
    let shift = attempts.clamp(1, 31) - 1;
    base.saturating_mul(1_i64 << shift).min(max).max(1)
}

#[cfg(test)]
mod tests;
