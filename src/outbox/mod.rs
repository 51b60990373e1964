//! Durable outbox: notifications (subscription messages, SMS, webhooks) are written in the same
//! transaction as the event that causes them, so an event is never lost and never sent for a
//! change that rolled back. Delivery is the background [`worker`]'s job; staff read the
//! delivery log through [`admin`].

pub mod admin;
pub mod worker;

use crate::error::Result;
use rusqlite::{Connection, params};
use serde_json::Value;
use std::sync::LazyLock;
use tokio::sync::Notify;

pub use worker::{WorkerGuard, spawn_worker};

/// Rung when a row is enqueued, so an idle worker delivers at once instead of at its next poll.
/// Process-wide because `enqueue` only sees the connection; a spurious wake costs one query.
static WAKE: LazyLock<Notify> = LazyLock::new(Notify::new);

/// The wake-up signal the worker listens to.
pub(crate) fn wake_signal() -> &'static Notify {
    &WAKE
}

/// Append an event for delivery. `idempotency_key` (when given) makes a repeated enqueue of the
/// same event a no-op.
pub fn enqueue(
    c: &Connection,
    kind: &str,
    member_id: Option<i64>,
    payload: &Value,
    idempotency_key: Option<&str>,
) -> Result<()> {
    let now = crate::time::now();
    let inserted = c
        .prepare_cached(
            "INSERT INTO outbox (kind, member_id, payload, next_attempt_at, idempotency_key, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?4)
             ON CONFLICT (idempotency_key) DO NOTHING",
        )?
        .execute(params![kind, member_id, payload.to_string(), now, idempotency_key])?;
    if inserted > 0 {
        // The worker claims through the single writer, so its claim runs after this job: it
        // sees the row once committed and never a row that rolled back.
        WAKE.notify_waiters();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_key_dedupes() {
        let mut c = Connection::open_in_memory().unwrap();
        crate::migrations::apply(&mut c).unwrap();
        let p = serde_json::json!({"a": 1});
        enqueue(&c, "membership.approved", Some(1), &p, Some("k1")).unwrap();
        enqueue(&c, "membership.approved", Some(1), &p, Some("k1")).unwrap();
        enqueue(&c, "membership.approved", Some(1), &p, None).unwrap();
        let n: i64 = c
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
    }
}
