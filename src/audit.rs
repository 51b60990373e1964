//! Append-only audit records, written in the same transaction as the change they record and
//! chained by hash: each row's hash covers its content and the previous row's hash, so an
//! edited or deleted row breaks the chain (`gonghui check` verifies it).
//!
//! The chain is keyed: each hash is an HMAC-SHA256 under `data/keys/audit.key` (prefixed
//! `k1:`), so whoever can write the database file but lacks the key cannot forge a row or
//! rebuild the chain after an edit. Rows written before the key existed keep their plain
//! SHA-256 and may only precede the first keyed row. Cutting rows off the end leaves a valid
//! chain, so `gonghui check` also records the head it saw outside the database
//! ([`HEAD_FILE`]) and refuses a chain that no longer reaches it.

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

/// Prefix of keyed (HMAC) row hashes.
const KEYED: &str = "k1:";

/// Name of the SQL function through which a connection carries the audit key (see
/// [`install_key`]): the key lives with the connection that writes, so no process-wide state
/// is needed and a connection without it cannot write an audit row.
const KEY_FN: &str = "gonghui_audit_key";

/// File in the data dir where `gonghui check` records the chain head it last verified.
pub const HEAD_FILE: &str = "audit-head.json";

/// Give `conn` the audit key, so that [`record`] can sign rows written through it.
pub fn install_key(conn: &Connection, key: &[u8]) -> Result<()> {
    let key = key.to_vec();
    conn.create_scalar_function(
        KEY_FN,
        0,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8
            | rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
        move |_| Ok(key.clone()),
    )?;
    Ok(())
}

fn installed_key(conn: &Connection) -> Result<Vec<u8>> {
    conn.prepare_cached(&format!("SELECT {KEY_FN}()"))
        .and_then(|mut st| st.query_row([], |r| r.get(0)))
        .map_err(|e| crate::error::AppError::Internal(format!("audit key not installed: {e}")))
}

#[allow(clippy::too_many_arguments)]
fn row_hash(
    key: Option<&[u8]>,
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
    enum Ctx {
        Plain(ring::digest::Context),
        Keyed(ring::hmac::Context),
    }
    impl Ctx {
        fn update(&mut self, b: &[u8]) {
            match self {
                Ctx::Plain(c) => c.update(b),
                Ctx::Keyed(c) => c.update(b),
            }
        }
    }
    let mut ctx = match key {
        None => Ctx::Plain(ring::digest::Context::new(&ring::digest::SHA256)),
        Some(k) => Ctx::Keyed(ring::hmac::Context::with_key(&ring::hmac::Key::new(
            ring::hmac::HMAC_SHA256,
            k,
        ))),
    };
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
    match ctx {
        Ctx::Plain(c) => hex::encode(c.finish()),
        Ctx::Keyed(c) => format!("{KEYED}{}", hex::encode(c.sign())),
    }
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
    let key = installed_key(conn)?;
    let at = crate::time::now();
    let summary = e.summary.to_string();
    let hash = row_hash(
        Some(&key),
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
        /// The newest row: `(id, hash)`, to record as the next anchor.
        head: Option<(i64, String)>,
    },
    /// The first row whose hash or link does not match.
    Broken {
        /// Id of that row.
        id: i64,
    },
    /// The chain ends before the anchor recorded earlier: rows were cut off the end.
    Truncated {
        /// Id of the anchored row that is gone or changed.
        anchor_id: i64,
    },
}

/// Walk the whole chain in id order and recompute every hash with `key`; when `anchor`
/// (`(id, hash)` recorded by an earlier check) is given, the chain must still contain it.
pub fn verify_chain(
    conn: &Connection,
    key: &[u8],
    anchor: Option<(i64, &str)>,
) -> Result<ChainStatus> {
    let mut st = conn.prepare(
        "SELECT id, at, actor_type, actor_id, actor_name, org_id, action, target_type, target_id,
                summary, ip, result, prev_hash, hash FROM audit_logs ORDER BY id",
    )?;
    let mut rows = st.query([])?;
    let mut prev = GENESIS.to_string();
    let mut n = 0;
    let mut keyed_seen = false;
    let mut head = None;
    let mut anchor_ok = anchor.is_none();
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let stored_prev: String = r.get(12)?;
        let stored_hash: String = r.get(13)?;
        let keyed = stored_hash.starts_with(KEYED);
        // Once rows are keyed, an unkeyed row would be a forgery by someone without the key.
        if keyed_seen && !keyed {
            return Ok(ChainStatus::Broken { id });
        }
        keyed_seen |= keyed;
        let target_id: Option<String> = r.get(8)?;
        let h = row_hash(
            keyed.then_some(key),
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
        if let Some((aid, ahash)) = anchor
            && aid == id
        {
            anchor_ok = ahash == stored_hash;
        }
        head = Some((id, stored_hash.clone()));
        prev = stored_hash;
        n += 1;
    }
    if let (false, Some((aid, _))) = (anchor_ok, anchor) {
        return Ok(ChainStatus::Truncated { anchor_id: aid });
    }
    Ok(ChainStatus::Ok { rows: n, head })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        crate::migrations::apply(&mut c).unwrap();
        install_key(&c, KEY).unwrap();
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
            None,
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
        assert!(matches!(
            verify_chain(&c, KEY, None).unwrap(),
            ChainStatus::Ok { rows: 3, .. }
        ));
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
        assert_eq!(
            verify_chain(&c, KEY, None).unwrap(),
            ChainStatus::Broken { id: 2 }
        );
    }

    /// Without the key nobody can rebuild the chain: a row rewritten with a recomputed plain
    /// or wrongly keyed hash breaks it, and a connection without the key cannot record.
    #[test]
    fn the_chain_is_keyed() {
        let c = db();
        let a = Actor::system("test");
        for _ in 0..2 {
            record(&c, &a, &entry()).unwrap();
        }
        let (prev, at): (String, i64) = c
            .query_row(
                "SELECT prev_hash, at FROM audit_logs WHERE id = 2",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let e = entry();
        for key in [None, Some(&b"another key, not the installation's"[..])] {
            let forged = row_hash(
                key,
                &prev,
                at,
                "system",
                None,
                "test",
                None,
                e.action,
                e.target_type,
                Some("2"),
                "{}",
                "",
                "success",
            );
            c.execute_batch("DROP TRIGGER IF EXISTS audit_logs_no_update")
                .unwrap();
            c.execute(
                "UPDATE audit_logs SET summary = '{}', hash = ?1 WHERE id = 2",
                [&forged],
            )
            .unwrap();
            assert_eq!(
                verify_chain(&c, KEY, None).unwrap(),
                ChainStatus::Broken { id: 2 }
            );
        }
        let bare = Connection::open_in_memory().unwrap();
        bare.execute_batch("CREATE TABLE audit_logs (id INTEGER PRIMARY KEY, hash TEXT)")
            .unwrap();
        assert!(record(&bare, &a, &entry()).is_err());
    }

    /// Deleting the newest rows leaves a valid chain, but not one that reaches the anchor.
    #[test]
    fn cutting_rows_off_the_end_is_caught_by_the_anchor() {
        let c = db();
        let a = Actor::system("test");
        for _ in 0..4 {
            record(&c, &a, &entry()).unwrap();
        }
        let ChainStatus::Ok {
            head: Some((id, hash)),
            ..
        } = verify_chain(&c, KEY, None).unwrap()
        else {
            panic!("chain should verify")
        };
        assert_eq!(id, 4);
        c.execute_batch("DROP TRIGGER audit_logs_no_delete; DELETE FROM audit_logs WHERE id >= 3;")
            .unwrap();
        assert!(matches!(
            verify_chain(&c, KEY, None).unwrap(),
            ChainStatus::Ok { rows: 2, .. }
        ));
        assert_eq!(
            verify_chain(&c, KEY, Some((id, &hash))).unwrap(),
            ChainStatus::Truncated { anchor_id: 4 }
        );
    }
}
