//! Durable outbox: notifications (subscription messages, SMS, webhooks) are written in the same
//! transaction as the event that causes them, so an event is never lost and never sent for a
//! change that rolled back. Delivery is a background worker's job.

use crate::error::Result;
use rusqlite::{Connection, params};
use serde_json::Value;

/// Start the delivery worker.
pub fn spawn_worker(_state: &crate::app::AppState) {}

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
    c.execute(
        "INSERT INTO outbox (kind, member_id, payload, next_attempt_at, idempotency_key, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?4)
         ON CONFLICT (idempotency_key) DO NOTHING",
        params![kind, member_id, payload.to_string(), now, idempotency_key],
    )?;
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
