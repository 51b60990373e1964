//! 数据统计: known data counted by status, gender, age band, join month and org; drill-down;
//! scope (a county sees only its subtree, another org is a 404); bad input; the xlsx export
//! and its audit; the per-org aggregates against a full recount after a random mix of writes;
//! the member list total; and the staff principal cache's revocation.

mod aggregates;
mod cache;
mod members;
mod modules;
mod topics;

use crate::support::*;
use serde_json::Value;

/// Root, county A with grassroots A1, county B, a county admin in each (county roles hold
/// `stats:read` by default).
pub use crate::activities::{World, world};

/// This year in +08:00.
pub fn this_year() -> i64 {
    use chrono::Datelike;
    i64::from(
        chrono::Utc::now()
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
            .year(),
    )
}

/// One member to insert: org, status, gender, birth year, join time.
pub type Seed = (
    Option<i64>,
    &'static str,
    Option<&'static str>,
    Option<i64>,
    Option<i64>,
);

/// Insert members with (org, status, gender, birth year, join time) through the writer, so
/// the triggers run as for any write.
pub async fn insert_members(app: &TestApp, rows: Vec<Seed>) -> Vec<i64> {
    app.state
        .db
        .write(move |c| {
            let now = gonghui::time::now();
            let mut st = c.prepare(
                "INSERT INTO members (org_id, status, gender, birth_date, joined_at, nickname, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, '职工', ?6, ?6)",
            )?;
            let mut ids = vec![];
            for (org, status, gender, by, joined) in rows {
                let birth = by.map(|y| format!("{y}-06-15"));
                st.execute(rusqlite::params![org, status, gender, birth, joined, now])?;
                ids.push(c.last_insert_rowid());
            }
            Ok(ids)
        })
        .await
        .unwrap()
}

/// The row of `key` in a stats answer: its values as f64 (null as NaN).
pub fn row(body: &Value, key: &str) -> Vec<f64> {
    let rows = body["data"]["rows"].as_array().expect("rows");
    let r = rows
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no row {key} in {body}"));
    r["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap_or(f64::NAN))
        .collect()
}

/// Row keys in order.
pub fn keys(body: &Value) -> Vec<String> {
    body["data"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_string())
        .collect()
}
