//! Embedded, ordered, recorded schema migrations from `migrations/NNNN_name.sql`.
//! An applied migration is never edited: its checksum is recorded and checked at every start.

use crate::error::{AppError, Result};
use rusqlite::{Connection, params};

#[derive(rust_embed::Embed)]
#[folder = "migrations/"]
struct Files;

/// One migration file.
#[derive(Debug, Clone)]
pub struct Migration {
    /// The NNNN prefix.
    pub version: i64,
    /// File name without extension.
    pub name: String,
    /// SQL text.
    pub sql: String,
    /// sha256 of the SQL, hex.
    pub checksum: String,
}

/// Every embedded migration in version order.
pub fn all() -> Vec<Migration> {
    let mut out: Vec<Migration> = Files::iter()
        .filter(|f| f.ends_with(".sql"))
        .filter_map(|f| {
            let file = Files::get(&f)?;
            let version: i64 = f.split('_').next()?.parse().ok()?;
            let sql = String::from_utf8_lossy(&file.data).into_owned();
            Some(Migration {
                version,
                name: f.trim_end_matches(".sql").to_string(),
                checksum: crate::crypto::sha256_hex(sql.as_bytes()),
                sql,
            })
        })
        .collect();
    out.sort_by_key(|m| m.version);
    out
}

fn ensure_table(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    )
}

/// State of each migration: `(migration, applied_at)`; `None` = pending.
pub fn status(conn: &Connection) -> Result<Vec<(Migration, Option<i64>)>> {
    let applied = applied(conn)?;
    Ok(all()
        .into_iter()
        .map(|m| {
            let at = applied.iter().find(|a| a.0 == m.version).map(|a| a.2);
            (m, at)
        })
        .collect())
}

fn applied(conn: &Connection) -> Result<Vec<(i64, String, i64)>> {
    let exists: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type='table' AND name='schema_migrations'",
        [],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(Vec::new());
    }
    let mut st = conn
        .prepare("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version")?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Apply pending migrations, each in its own transaction. Refuses to start when an applied
/// migration's text changed (migrations are append-only).
pub fn apply(conn: &mut Connection) -> Result<usize> {
    ensure_table(conn)?;
    let done = applied(conn)?;
    let mut count = 0;
    for m in all() {
        if let Some((_, sum, _)) = done.iter().find(|d| d.0 == m.version) {
            if *sum != m.checksum {
                return Err(AppError::Internal(format!(
                    "migration {} was edited after it was applied; add a new migration instead",
                    m.name
                )));
            }
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(&m.sql)
            .map_err(|e| AppError::Internal(format!("migration {} failed: {e}", m.name)))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, ?4)",
            params![m.version, m.name, m.checksum, crate::time::now()],
        )?;
        tx.commit()?;
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_uniquely_and_apply_twice_idempotently() {
        let ms = all();
        assert!(!ms.is_empty());
        for w in ms.windows(2) {
            assert!(
                w[0].version < w[1].version,
                "duplicate or unordered migration numbers"
            );
        }
        let mut c = Connection::open_in_memory().unwrap();
        assert_eq!(apply(&mut c).unwrap(), ms.len());
        assert_eq!(apply(&mut c).unwrap(), 0);
    }

    #[test]
    fn edited_migration_is_refused() {
        let mut c = Connection::open_in_memory().unwrap();
        apply(&mut c).unwrap();
        c.execute(
            "UPDATE schema_migrations SET checksum='x' WHERE version=1",
            [],
        )
        .unwrap();
        assert!(apply(&mut c).is_err());
    }

    fn integrity(c: &Connection) -> String {
        c.query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap()
    }

    fn assert_check_fails(r: rusqlite::Result<usize>) {
        let e = r.unwrap_err().to_string();
        assert!(e.contains("CHECK constraint failed"), "{e}");
    }

    /// Migration 0010: the hot tables' CHECK constraints no longer use IN lists (no temporary
    /// index per inserted row), still refuse the same values, and the database stays sound.
    #[test]
    fn hot_check_constraints_are_or_chains_that_still_refuse_bad_values() {
        let mut c = Connection::open_in_memory().unwrap();
        apply(&mut c).unwrap();
        for table in ["activity_registrations", "messages", "outbox", "members"] {
            let sql: String = c
                .query_row(
                    "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                    [table],
                    |r| r.get(0),
                )
                .unwrap();
            let check = &sql[sql.find(" CHECK (").unwrap()..];
            let check = &check[..check.find(')').unwrap()];
            assert!(check.contains(" OR "), "{table}: {check}");
            assert!(!check.contains(" IN ("), "{table}: {check}");
        }
        let ephemeral = |sql: &str| -> bool {
            let mut st = c.prepare(&format!("EXPLAIN {sql}")).unwrap();
            let ops: Vec<String> = st
                .query_map([], |r| r.get::<_, String>(1))
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            ops.iter().any(|o| o == "OpenEphemeral")
        };
        assert!(!ephemeral(
            "INSERT INTO messages (kind, title, content, created_at) VALUES ('event', 't', 'c', 0)"
        ));
        assert!(!ephemeral(
            "INSERT INTO outbox (kind, payload, next_attempt_at, created_at) VALUES ('subscribe', '{}', 0, 0)"
        ));
        c.execute(
            "INSERT INTO messages (kind, title, content, created_at) VALUES ('event', 't', 'c', 0)",
            [],
        )
        .unwrap();
        assert_check_fails(c.execute(
            "INSERT INTO messages (kind, title, content, created_at) VALUES ('other', 't', 'c', 0)",
            [],
        ));
        c.execute(
            "INSERT INTO members (id, created_at, updated_at) VALUES (1, 0, 0)",
            [],
        )
        .unwrap();
        assert!(
            c.execute("UPDATE members SET status = 'gone' WHERE id = 1", [])
                .is_err()
        );
        c.execute("UPDATE members SET status = 'active' WHERE id = 1", [])
            .unwrap();
        assert_eq!(integrity(&c), "ok");
        let bump: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'migration_0010_schema_bump'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(bump, 0);
    }

    /// A database file migrated through 0010 opens again with the edited schema: it parses,
    /// checks out, and its constraints still hold on the new connection.
    #[test]
    fn a_file_migrated_through_0010_reopens_sound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        apply(&mut Connection::open(&path).unwrap()).unwrap();
        let c = Connection::open(&path).unwrap();
        assert_eq!(integrity(&c), "ok");
        assert_check_fails(c.execute(
            "INSERT INTO outbox (kind, payload, status, next_attempt_at, created_at) VALUES ('subscribe', '{}', 'lost', 0, 0)",
            [],
        ));
        c.execute(
            "INSERT INTO outbox (kind, payload, status, next_attempt_at, created_at) VALUES ('subscribe', '{}', 'sent', 0, 0)",
            [],
        )
        .unwrap();
    }

    /// Migration 0011: the unused per-member outbox index is gone; the worker's index stays.
    #[test]
    fn the_outbox_keeps_only_the_indexes_its_queries_use() {
        let mut c = Connection::open_in_memory().unwrap();
        apply(&mut c).unwrap();
        let mut st = c
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'outbox' AND sql IS NOT NULL ORDER BY name")
            .unwrap();
        let names: Vec<String> = st
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(names, ["outbox_due"]);
    }
}
