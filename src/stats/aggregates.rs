//! The per-org member counts kept by triggers (migration 0021): list totals read from them,
//! and `gonghui check` recounts them from `members`.

use crate::auth::Scope;
use crate::error::Result;
use rusqlite::Connection;
use rusqlite::types::Value;

pub use crate::http::COUNT_CAP;

/// Members (not deleted) in `scope`, optionally within org `org_id`'s subtree and of one
/// `status`, read from the aggregate: a few hundred index rows rather than a million member
/// rows. `None` when the scope cannot be answered by org (a `self` scope counts by creator).
pub fn member_total(
    c: &Connection,
    scope: &Scope,
    org_id: Option<i64>,
    status: Option<&str>,
) -> Result<Option<i64>> {
    let Some((sql, p)) = member_total_sql(scope, org_id, status) else {
        return Ok(None);
    };
    Ok(Some(
        c.prepare_cached(&sql)?
            .query_row(rusqlite::params_from_iter(p), |r| r.get(0))?,
    ))
}

/// The statement [`member_total`] runs and its parameters (`None` for a `self` scope).
fn member_total_sql(
    scope: &Scope,
    org_id: Option<i64>,
    status: Option<&str>,
) -> Option<(String, Vec<Value>)> {
    if let Scope::Limited { owner: Some(_), .. } = scope {
        return None;
    }
    let (cond, mut p) = scope.sql("s.org_id", None);
    // `dim = 'all' AND key = ''` leads the member_stat_counts_dim index (migration 0029): only
    // the one row per org and status is read, never the per-dimension rows.
    let mut sql = format!(
        "SELECT COALESCE(SUM(s.n), 0) FROM member_stat_counts s
         WHERE s.dim = 'all' AND s.key = '' AND s.status <> 'deleted' AND {cond}"
    );
    if let Some(o) = org_id {
        sql.push_str(
            " AND s.org_id IN (SELECT c.id FROM orgs c, orgs t WHERE t.id = ? AND c.path GLOB t.path || '*')",
        );
        p.push(Value::Integer(o));
    }
    if let Some(s) = status {
        sql.push_str(" AND s.status = ?");
        p.push(Value::Text(s.into()));
    }
    Some((sql, p))
}

/// Count rows of `from_where` (`FROM … WHERE …`) up to [`COUNT_CAP`] + 1.
pub fn capped_count(c: &Connection, from_where: &str, p: Vec<Value>) -> Result<i64> {
    Ok(c.query_row(
        &format!(
            "SELECT count(*) FROM (SELECT 1 {from_where} LIMIT {})",
            COUNT_CAP + 1
        ),
        rusqlite::params_from_iter(p),
        |r| r.get(0),
    )?)
}

/// One disagreement between the aggregate and a recount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Org id (0: members without an org).
    pub org_id: i64,
    /// Status.
    pub status: String,
    /// Dimension.
    pub dim: String,
    /// Key.
    pub key: String,
    /// Stored count.
    pub stored: i64,
    /// Recounted.
    pub actual: i64,
}

/// Recount every member dimension from `members` and list where the stored counts differ
/// (at most `limit`). A full scan: for `gonghui check`, not for requests.
pub fn member_mismatches(c: &Connection, limit: usize) -> Result<Vec<Mismatch>> {
    let sql = "WITH actual(org_id, status, dim, key, n) AS (
          SELECT COALESCE(org_id, 0), status, 'all', '', count(*) FROM members GROUP BY 1, 2
          UNION ALL SELECT COALESCE(org_id, 0), status, 'gender', COALESCE(gender, ''), count(*) FROM members GROUP BY 1, 2, 4
          UNION ALL SELECT COALESCE(org_id, 0), status, 'birth_year', COALESCE(substr(birth_date, 1, 4), ''), count(*)
              FROM members GROUP BY 1, 2, 4
          UNION ALL SELECT COALESCE(org_id, 0), status, 'join_month',
              COALESCE(strftime('%Y-%m', joined_at + 28800, 'unixepoch'), ''), count(*) FROM members GROUP BY 1, 2, 4
        ),
        keys AS (SELECT org_id, status, dim, key FROM actual UNION SELECT org_id, status, dim, key FROM member_stat_counts)
        SELECT k.org_id, k.status, k.dim, k.key, COALESCE(s.n, 0), COALESCE(a.n, 0) FROM keys k
        LEFT JOIN member_stat_counts s ON s.org_id = k.org_id AND s.status = k.status AND s.dim = k.dim AND s.key = k.key
        LEFT JOIN actual a ON a.org_id = k.org_id AND a.status = k.status AND a.dim = k.dim AND a.key = k.key
        WHERE COALESCE(s.n, 0) <> COALESCE(a.n, 0) LIMIT ?1";
    let mut st = c.prepare(sql)?;
    let v = st
        .query_map([limit as i64], |r| {
            Ok(Mismatch {
                org_id: r.get(0)?,
                status: r.get(1)?,
                dim: r.get(2)?,
                key: r.get(3)?,
                stored: r.get(4)?,
                actual: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The totals read the `all` rows through the index, never scanning the per-dimension rows
    /// (a root admin's member list did that on every page view).
    #[test]
    fn totals_use_the_dimension_index() {
        let mut c = Connection::open_in_memory().unwrap();
        crate::migrations::apply(&mut c).unwrap();
        for (org, status) in [(None, None), (Some(1), None), (None, Some("active"))] {
            let (sql, p) = member_total_sql(&Scope::All, org, status).unwrap();
            let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let plan: Vec<String> = st
                .query_map(rusqlite::params_from_iter(p), |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            let plan = plan.join("; ");
            assert!(
                plan.contains("member_stat_counts_dim") && !plan.contains("SCAN s"),
                "{plan}"
            );
        }
    }
}
