//! Append-only audit records, written in the same transaction as the change they record and
//! chained by hash: each row's hash covers its content and the previous row's hash, so an
//! edited or deleted row breaks the chain (`gonghui check` verifies it).

use crate::error::Result;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

/// Who did something.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `admin`, `member` or `system`.
    pub kind: &'static str,
    /// Account id, if any.
    pub id: Option<i64>,
    /// Display name (username for staff).
    pub name: String,
    /// The actor's org.
    pub org_id: Option<i64>,
    /// Client IP.
    pub ip: String,
}

impl Actor {
    /// The system itself (CLI, background jobs).
    pub fn system(name: &str) -> Actor {
        Actor {
            kind: "system",
            id: None,
            name: name.into(),
            org_id: None,
            ip: String::new(),
        }
    }
}

/// One audit entry. `summary` lists changed fields; never plaintext sensitive values.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// e.g. `org.create`, `account.update`, `member.reveal`.
    pub action: &'a str,
    /// e.g. `org`, `admin`, `file`.
    pub target_type: &'a str,
    /// Target id as text.
    pub target_id: Option<String>,
    /// JSON summary of the change.
    pub summary: Value,
    /// `success` or `failure`.
    pub result: &'a str,
}

impl<'a> Entry<'a> {
    /// A successful action (the common case).
    pub fn success(
        action: &'a str,
        target_type: &'a str,
        target_id: impl ToString,
        summary: Value,
    ) -> Entry<'a> {
        Entry {
            action,
            target_type,
            target_id: Some(target_id.to_string()),
            summary,
            result: "success",
        }
    }
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[allow(clippy::too_many_arguments)]
fn row_hash(
    prev: &str,
    at: i64,
    actor_type: &str,
    actor_id: Option<i64>,
    actor_name: &str,
    org_id: Option<i64>,
    action: &str,
    target_type: &str,
    target_id: Option<&str>,
    summary: &str,
    ip: &str,
    result: &str,
) -> String {
    // Length-prefixed fields (`{len}:{field}|`) so that no two different rows serialise to the
    // same bytes. Fed to the digest field by field: this runs for every audited write inside the
    // single writer, where formatting the whole row into one string first was a visible cost.
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut field = |part: &[u8]| {
        ctx.update(decimal(part.len() as i64, &mut [0; 20]));
        ctx.update(b":");
        ctx.update(part);
        ctx.update(b"|");
    };
    let (mut a, mut b, mut c) = ([0; 20], [0; 20], [0; 20]);
    field(prev.as_bytes());
    field(decimal(at, &mut a));
    field(actor_type.as_bytes());
    field(actor_id.map_or(&[][..], |v| decimal(v, &mut b)));
    field(actor_name.as_bytes());
    field(org_id.map_or(&[][..], |v| decimal(v, &mut c)));
    field(action.as_bytes());
    field(target_type.as_bytes());
    field(target_id.unwrap_or_default().as_bytes());
    field(summary.as_bytes());
    field(ip.as_bytes());
    field(result.as_bytes());
    hex::encode(ctx.finish())
}

/// `v` in decimal, written into `buf` (20 bytes hold any i64) without allocating.
fn decimal(v: i64, buf: &mut [u8; 20]) -> &[u8] {
    use std::io::Write;
    let mut cur = std::io::Cursor::new(&mut buf[..]);
    let _ = write!(cur, "{v}");
    let n = cur.position() as usize;
    &buf[..n]
}

/// Append an audit row inside the caller's transaction (call it from a `Db::write` job).
pub fn record(conn: &Connection, actor: &Actor, e: &Entry<'_>) -> Result<i64> {
    let prev: String = conn
        .prepare_cached("SELECT hash FROM audit_logs ORDER BY id DESC LIMIT 1")?
        .query_row([], |r| r.get(0))
        .optional()?
        .unwrap_or_else(|| GENESIS.to_string());
    let at = crate::time::now();
    let summary = e.summary.to_string();
    let hash = row_hash(
        &prev,
        at,
        actor.kind,
        actor.id,
        &actor.name,
        actor.org_id,
        e.action,
        e.target_type,
        e.target_id.as_deref(),
        &summary,
        &actor.ip,
        e.result,
    );
    conn.prepare_cached(
        "INSERT INTO audit_logs (at, actor_type, actor_id, actor_name, org_id, action, target_type,
            target_id, summary, ip, result, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        at,
        actor.kind,
        actor.id,
        actor.name,
        actor.org_id,
        e.action,
        e.target_type,
        e.target_id,
        summary,
        actor.ip,
        e.result,
        prev,
        hash
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Outcome of a chain verification.
#[derive(Debug, PartialEq, Eq)]
pub enum ChainStatus {
    /// Every row checks out.
    Ok {
        /// Rows verified.
        rows: i64,
    },
    /// The first row whose hash or link does not match.
    Broken {
        /// Id of that row.
        id: i64,
    },
}

/// Walk the whole chain in id order and recompute every hash.
pub fn verify_chain(conn: &Connection) -> Result<ChainStatus> {
    let mut st = conn.prepare(
        "SELECT id, at, actor_type, actor_id, actor_name, org_id, action, target_type, target_id,
                summary, ip, result, prev_hash, hash FROM audit_logs ORDER BY id",
    )?;
    let mut rows = st.query([])?;
    let mut prev = GENESIS.to_string();
    let mut n = 0;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let stored_prev: String = r.get(12)?;
        let stored_hash: String = r.get(13)?;
        let target_id: Option<String> = r.get(8)?;
        let h = row_hash(
            &prev,
            r.get(1)?,
            &r.get::<_, String>(2)?,
            r.get(3)?,
            &r.get::<_, String>(4)?,
            r.get(5)?,
            &r.get::<_, String>(6)?,
            &r.get::<_, String>(7)?,
            target_id.as_deref(),
            &r.get::<_, String>(9)?,
            &r.get::<_, String>(10)?,
            &r.get::<_, String>(11)?,
        );
        if stored_prev != prev || stored_hash != h {
            return Ok(ChainStatus::Broken { id });
        }
        prev = stored_hash;
        n += 1;
    }
    Ok(ChainStatus::Ok { rows: n })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        crate::migrations::apply(&mut c).unwrap();
        c
    }

    fn entry() -> Entry<'static> {
        Entry {
            action: "org.create",
            target_type: "org",
            target_id: Some("2".into()),
            summary: json!({"name":"x"}),
            result: "success",
        }
    }

    /// The streamed hash is the SHA-256 of the length-prefixed row as first defined, so chains
    /// written before stay valid.
    #[test]
    fn row_hash_is_the_digest_of_the_length_prefixed_row() {
        let parts = [
            GENESIS,
            "1700000000",
            "member",
            "42",
            "张三",
            "",
            "activity.register",
            "activity_registration",
            "7",
            r#"{"activity_id":3}"#,
            "127.0.0.1",
            "success",
        ];
        let mut joined = String::new();
        for p in parts {
            joined.push_str(&format!("{}:{}|", p.len(), p));
        }
        let h = row_hash(
            GENESIS,
            1_700_000_000,
            "member",
            Some(42),
            "张三",
            None,
            "activity.register",
            "activity_registration",
            Some("7"),
            r#"{"activity_id":3}"#,
            "127.0.0.1",
            "success",
        );
        assert_eq!(h, crate::crypto::sha256_hex(joined.as_bytes()));
        assert_eq!(decimal(i64::MIN, &mut [0; 20]), b"-9223372036854775808");
    }

    #[test]
    fn chain_verifies_and_rows_cannot_be_changed() {
        let c = db();
        let a = Actor::system("test");
        for _ in 0..3 {
            record(&c, &a, &entry()).unwrap();
        }
        assert_eq!(verify_chain(&c).unwrap(), ChainStatus::Ok { rows: 3 });
        assert!(
            c.execute("UPDATE audit_logs SET summary='{}' WHERE id=2", [])
                .is_err()
        );
        assert!(c.execute("DELETE FROM audit_logs WHERE id=2", []).is_err());
    }

    #[test]
    fn tampering_behind_the_triggers_breaks_the_chain() {
        let c = db();
        let a = Actor::system("test");
        for _ in 0..3 {
            record(&c, &a, &entry()).unwrap();
        }
        c.execute_batch("DROP TRIGGER audit_logs_no_update; UPDATE audit_logs SET summary='{\"name\":\"y\"}' WHERE id=2;")
            .unwrap();
        assert_eq!(verify_chain(&c).unwrap(), ChainStatus::Broken { id: 2 });
    }
}
