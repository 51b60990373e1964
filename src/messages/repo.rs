//! Which messages a member sees, and their read state, as SQL built once per request.
//!
//! A member sees the direct and event messages naming them (`message_recipients`) and, while
//! active, the broadcasts to their org or to an ancestor org with descendants, sent after they
//! entered the org (`members.org_since`). The ancestors are enumerated in Rust from the org's
//! materialised path, so the broadcast half is an `org_path IN (…)` lookup on an index.

use crate::error::{AppError, Result};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};

/// What visibility depends on, for one member.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// Member id.
    pub member_id: i64,
    /// Path of the member's org while active (`None`: sees no broadcasts).
    pub org_path: Option<String>,
    /// Since when the member is in that org.
    pub org_since: i64,
    /// Every message with an id up to this one is read (read-all watermark).
    pub read_upto: i64,
}

/// Status, org path, org_since and read watermark of a member.
type ViewerRow = (String, Option<String>, Option<i64>, Option<i64>);

/// Load the viewer; 404 for an unknown or deleted member.
pub fn viewer(c: &Connection, member_id: i64) -> Result<Viewer> {
    let row: Option<ViewerRow> = c
        .prepare_cached(
            "SELECT m.status, o.path, m.org_since, s.read_upto_id FROM members m
             LEFT JOIN orgs o ON o.id = m.org_id
             LEFT JOIN member_message_state s ON s.member_id = m.id
             WHERE m.id = ?1",
        )?
        .query_row([member_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    match row {
        Some((status, path, since, upto)) if status != "deleted" => Ok(Viewer {
            member_id,
            org_path: path.filter(|_| status == "active"),
            org_since: since.unwrap_or(i64::MAX),
            read_upto: upto.unwrap_or(0),
        }),
        _ => Err(AppError::NotFound),
    }
}

/// `/1/5/12/` → `["/1/", "/1/5/", "/1/5/12/"]`.
pub fn ancestors(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::from("/");
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        cur.push_str(seg);
        cur.push('/');
        out.push(cur.clone());
    }
    out
}

/// Condition on `m.id` (alias `m` for `messages`) selecting what the viewer sees, with params.
pub fn visible(v: &Viewer) -> (String, Vec<Value>) {
    let mut p = vec![Value::Integer(v.member_id)];
    let mut sql =
        String::from("m.id IN (SELECT message_id FROM message_recipients WHERE member_id = ?");
    if let Some(path) = &v.org_path {
        let anc = ancestors(path);
        let qs = vec!["?"; anc.len()].join(",");
        sql.push_str(&format!(
            " UNION SELECT mo.message_id FROM message_orgs mo JOIN messages b ON b.id = mo.message_id
              WHERE mo.org_path IN ({qs}) AND (mo.include_descendants = 1 OR mo.org_path = ?)
              AND b.created_at >= ?"
        ));
        p.extend(anc.into_iter().map(Value::Text));
        p.push(Value::Text(path.clone()));
        p.push(Value::Integer(v.org_since));
    }
    sql.push(')');
    (sql, p)
}

/// SQL expression: 1 when the viewer has read message `m`, with its parameters. Bound rather
/// than inlined, so the statement text is the same for every member and stays in the
/// statement cache (inlined ids made one cached statement per member, evicting the others).
pub fn read_expr(v: &Viewer) -> (&'static str, [Value; 2]) {
    (
        "(m.id <= ? OR EXISTS (SELECT 1 FROM message_reads r WHERE r.member_id = ? AND r.message_id = m.id))",
        [Value::Integer(v.read_upto), Value::Integer(v.member_id)],
    )
}

/// Unread messages of the viewer (one query on the indexes).
pub fn unread_count(c: &Connection, v: &Viewer) -> Result<i64> {
    let (cond, mut p) = visible(v);
    let (read, rp) = read_expr(v);
    p.extend(rp);
    let sql = format!("SELECT count(*) FROM messages m WHERE {cond} AND NOT {read}");
    Ok(c.prepare_cached(&sql)?
        .query_row(rusqlite::params_from_iter(p), |r| r.get(0))?)
}

/// Mark one visible message read; 404 when the viewer cannot see it. Counts a first read only.
pub fn mark_read(c: &Connection, v: &Viewer, id: i64) -> Result<()> {
    let (cond, cp) = visible(v);
    let (read, rp) = read_expr(v);
    let mut p: Vec<Value> = rp.into();
    p.push(Value::Integer(id));
    p.extend(cp);
    let read: Option<bool> = c
        .prepare_cached(&format!(
            "SELECT {read} FROM messages m WHERE m.id = ? AND {cond}"
        ))?
        .query_row(rusqlite::params_from_iter(p), |r| r.get(0))
        .optional()?;
    match read {
        None => Err(AppError::NotFound),
        Some(true) => Ok(()),
        Some(false) => {
            c.execute(
                "INSERT INTO message_reads (member_id, message_id, read_at) VALUES (?1, ?2, ?3)",
                rusqlite::params![v.member_id, id, crate::time::now()],
            )?;
            c.execute(
                "UPDATE messages SET read_count = read_count + 1 WHERE id = ?1",
                [id],
            )?;
            Ok(())
        }
    }
}

/// Mark everything the viewer sees as read: count the first reads, move the watermark to the
/// newest message and drop the per-message rows the watermark now covers. Returns how many
/// messages became read.
pub fn mark_all_read(c: &Connection, v: &Viewer) -> Result<usize> {
    let (cond, mut p) = visible(v);
    let (read, rp) = read_expr(v);
    p.extend(rp);
    let n = c.execute(
        &format!(
            "UPDATE messages AS m SET read_count = read_count + 1 WHERE {cond} AND NOT {read}"
        ),
        rusqlite::params_from_iter(p),
    )?;
    let upto: i64 = c.query_row("SELECT COALESCE(max(id), 0) FROM messages", [], |r| {
        r.get(0)
    })?;
    c.execute(
        "INSERT INTO member_message_state (member_id, read_upto_id) VALUES (?1, ?2)
         ON CONFLICT (member_id) DO UPDATE SET read_upto_id = max(read_upto_id, excluded.read_upto_id)",
        rusqlite::params![v.member_id, upto],
    )?;
    c.execute(
        "DELETE FROM message_reads WHERE member_id = ?1 AND message_id <= ?2",
        rusqlite::params![v.member_id, upto],
    )?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_of_a_path() {
        assert_eq!(ancestors("/1/5/12/"), vec!["/1/", "/1/5/", "/1/5/12/"]);
        assert_eq!(ancestors("/1/"), vec!["/1/"]);
        assert!(ancestors("").is_empty());
    }
}
