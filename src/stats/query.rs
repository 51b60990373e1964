//! Running one grouped query and shaping its result into rows: the key in column 0, numbers
//! after it; org buckets become drill-down rows named after the child orgs.

use super::model::StatRow;
use super::target::Target;
use crate::error::Result;
use rusqlite::Connection;
use rusqlite::types::{Value, ValueRef};

/// One group as read: its key (text or integer, as the SQL gave it) and numbers.
pub type Group = (String, Vec<Option<f64>>);

fn key_text(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Null | ValueRef::Blob(_) => String::new(),
    }
}

/// Run `sql` (key, then `n` numbers per row) with `params`.
pub fn groups(c: &Connection, sql: &str, params: Vec<Value>, n: usize) -> Result<Vec<Group>> {
    let mut st = c.prepare(sql)?;
    let mut out = Vec::new();
    let mut rows = st.query(rusqlite::params_from_iter(params))?;
    while let Some(r) = rows.next()? {
        let key = key_text(r.get_ref(0)?);
        let mut vals = Vec::with_capacity(n);
        for i in 0..n {
            vals.push(match r.get_ref(i + 1)? {
                ValueRef::Integer(x) => Some(x as f64),
                ValueRef::Real(x) => Some(x),
                _ => None,
            });
        }
        out.push((key, vals));
    }
    Ok(out)
}

/// Rows for `group_by=org`: 本级 first, then every visible direct child (zeros included, so
/// the page can drill into an org that has nothing yet), then children outside the scope
/// only when they hold counted rows. `zero` is the numbers of an empty group.
pub fn org_rows(
    c: &Connection,
    t: &Target,
    groups: Vec<Group>,
    zero: &[Option<f64>],
) -> Result<Vec<StatRow>> {
    let find = |id: i64| {
        groups
            .iter()
            .find(|(k, _)| k.parse::<i64>().ok() == Some(id))
            .map(|(_, v)| v.clone())
    };
    let mut rows = vec![StatRow {
        key: "self".into(),
        label: format!("{}（本级）", t.name),
        org_id: None,
        values: find(0).unwrap_or_else(|| zero.to_vec()),
    }];
    for (id, name, visible) in t.children(c)? {
        let vals = find(id);
        if !visible && vals.is_none() {
            continue;
        }
        rows.push(StatRow {
            key: id.to_string(),
            label: name,
            org_id: Some(id),
            values: vals.unwrap_or_else(|| zero.to_vec()),
        });
    }
    Ok(rows)
}

/// Plain rows: labels from `label` (code → Chinese), in the query's order.
pub fn plain_rows(groups: Vec<Group>, label: impl Fn(&str) -> String) -> Vec<StatRow> {
    groups
        .into_iter()
        .map(|(key, values)| StatRow {
            label: label(&key),
            key,
            org_id: None,
            values,
        })
        .collect()
}

/// `AND <col> >= ? AND <col> < ?` for the request's period, with its parameters.
pub fn period(col: &str, from: Option<i64>, until: Option<i64>) -> (String, Vec<Value>) {
    let mut sql = String::new();
    let mut p = Vec::new();
    if let Some(f) = from {
        sql.push_str(&format!(" AND {col} >= ?"));
        p.push(Value::Integer(f));
    }
    if let Some(u) = until {
        sql.push_str(&format!(" AND {col} < ?"));
        p.push(Value::Integer(u));
    }
    (sql, p)
}

/// `strftime` month (+08:00) of a unix-seconds column.
pub fn month_of(col: &str) -> String {
    format!("strftime('%Y-%m', {col} + 28800, 'unixepoch')")
}
