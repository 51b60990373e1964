//! Member statistics, read from the per-org aggregate (`member_stat_counts`, migration 0021)
//! over the small org table: no query here touches the `members` table.

use super::model::{Column, GroupBy, Request, StatRow, col};
use super::query::{self, Group};
use super::target::Target;
use crate::error::Result;
use chrono::Datelike;
use rusqlite::Connection;
use rusqlite::types::Value;

/// Chinese name of a member status.
pub fn status_label(s: &str) -> String {
    match s {
        "registered" => "已注册未入会",
        "pending" => "待审核",
        "active" => "正式会员",
        "rejected" => "申请被驳回",
        "left" => "已退会",
        other => other,
    }
    .to_string()
}

fn gender_label(s: &str) -> String {
    match s {
        "male" => "男",
        "female" => "女",
        _ => "未登记",
    }
    .to_string()
}

/// Age bands by birth year (age = this year − birth year, +08:00).
const BANDS: &[(&str, &str, i64, i64)] = &[
    ("0-25", "25 岁及以下", 0, 25),
    ("26-35", "26–35 岁", 26, 35),
    ("36-45", "36–45 岁", 36, 45),
    ("46-55", "46–55 岁", 46, 55),
    ("56+", "56 岁及以上", 56, i64::MAX),
];

/// The columns of every grouping except `status`.
const SPLIT: &str = "SUM(s.n), SUM(CASE WHEN s.status = 'active' THEN s.n ELSE 0 END),
    SUM(CASE WHEN s.status = 'pending' THEN s.n ELSE 0 END), SUM(CASE WHEN s.status = 'left' THEN s.n ELSE 0 END)";

fn split_columns() -> Vec<Column> {
    vec![
        col("total", "会员合计"),
        col("active", "正式会员"),
        col("pending", "待审核"),
        col("left", "已退会"),
    ]
}

fn run(
    c: &Connection,
    t: &Target,
    dim: &str,
    key: &str,
    cols: &str,
    n: usize,
) -> Result<Vec<Group>> {
    let (within, mut p) = t.within("s.org_id");
    p.push(Value::Text(dim.into()));
    query::groups(
        c,
        &format!(
            "SELECT {key}, {cols} FROM member_stat_counts s JOIN orgs o ON o.id = s.org_id
             WHERE {within} AND s.dim = ? AND s.status <> 'deleted' GROUP BY 1 ORDER BY 1"
        ),
        p,
        n,
    )
}

/// The table for `req` on `t`.
pub fn table(c: &Connection, t: &Target, req: &Request) -> Result<(Vec<Column>, Vec<StatRow>)> {
    match req.group_by {
        GroupBy::Status => {
            let g = run(c, t, "all", "s.status", "SUM(s.n)", 1)?;
            // Fixed order, every status shown (zeros too).
            let rows = ["active", "pending", "registered", "left", "rejected"]
                .iter()
                .map(|s| StatRow {
                    key: (*s).into(),
                    label: status_label(s),
                    org_id: None,
                    values: g
                        .iter()
                        .find(|(k, _)| k == s)
                        .map_or(vec![Some(0.0)], |(_, v)| v.clone()),
                })
                .collect();
            Ok((vec![col("count", "人数")], rows))
        }
        GroupBy::Gender => {
            let g = run(c, t, "gender", "s.key", SPLIT, 4)?;
            Ok((split_columns(), query::plain_rows(g, gender_label)))
        }
        GroupBy::AgeBand => Ok((
            split_columns(),
            age_bands(run(c, t, "birth_year", "s.key", SPLIT, 4)?),
        )),
        GroupBy::JoinYear | GroupBy::JoinMonth => {
            let key = if req.group_by == GroupBy::JoinYear {
                "substr(s.key, 1, 4)"
            } else {
                "s.key"
            };
            let g = run(c, t, "join_month", key, SPLIT, 4)?;
            Ok((growth_columns(), growth(g, req)))
        }
        GroupBy::Org => {
            let bucket = t.child_bucket();
            let g = run(c, t, "all", &bucket, SPLIT, 4)?;
            let zero = vec![Some(0.0); 4];
            Ok((split_columns(), query::org_rows(c, t, g, &zero)?))
        }
        // Not offered for members (checked with the request).
        GroupBy::Category | GroupBy::Month => Ok((vec![], vec![])),
    }
}

fn age_bands(g: Vec<Group>) -> Vec<StatRow> {
    let year = i64::from(
        chrono::Utc::now()
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset"))
            .year(),
    );
    let mut sums = vec![vec![0.0f64; 4]; BANDS.len() + 1];
    for (key, vals) in g {
        let idx = key
            .parse::<i64>()
            .ok()
            .and_then(|by| {
                BANDS
                    .iter()
                    .position(|b| (b.2..=b.3).contains(&(year - by)))
            })
            .unwrap_or(BANDS.len());
        for (s, v) in sums[idx].iter_mut().zip(vals) {
            *s += v.unwrap_or(0.0);
        }
    }
    let mut keys: Vec<(&str, &str)> = BANDS.iter().map(|b| (b.0, b.1)).collect();
    keys.push(("unknown", "未登记出生日期"));
    keys.into_iter()
        .zip(sums)
        .map(|((k, l), v)| StatRow {
            key: k.into(),
            label: l.into(),
            org_id: None,
            values: v.into_iter().map(Some).collect(),
        })
        .collect()
}

fn growth_columns() -> Vec<Column> {
    let mut v = split_columns();
    v.push(col("cumulative", "累计会员"));
    v
}

/// Joins per period with the running total of members (the growth curve). The running
/// total counts every earlier period, also before `from`; members without a join date come
/// last, outside the curve, and only when no period is asked for.
fn growth(g: Vec<Group>, req: &Request) -> Vec<StatRow> {
    let month = |ts: i64| {
        chrono::DateTime::from_timestamp(ts + 8 * 3600, 0)
            .map(|d| d.format("%Y-%m").to_string())
            .unwrap_or_default()
    };
    let (lo, hi) = (req.from.map(month), req.until.map(|u| month(u - 1)));
    let ranged = lo.is_some() || hi.is_some();
    let mut running = 0.0;
    let mut rows = Vec::new();
    let mut unknown = None;
    for (key, mut vals) in g {
        if key.is_empty() {
            vals.push(None);
            unknown = Some(vals);
            continue;
        }
        running += vals[0].unwrap_or(0.0);
        // Compare at the grouping's length: a year key against the year of the bounds.
        let inside = lo
            .as_deref()
            .is_none_or(|l| key.as_str() >= &l[..key.len().min(l.len())])
            && hi
                .as_deref()
                .is_none_or(|h| key.as_str() <= &h[..key.len().min(h.len())]);
        if inside {
            vals.push(Some(running));
            rows.push(StatRow {
                label: key.clone(),
                key,
                org_id: None,
                values: vals,
            });
        }
    }
    if let (Some(v), false) = (unknown, ranged) {
        rows.push(StatRow {
            key: "unknown".into(),
            label: "未登记入会时间".into(),
            org_id: None,
            values: v,
        });
    }
    rows
}
