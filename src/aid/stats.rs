//! Counts and amounts of aid by type, org and year, for the office's reports. Aggregates only
//! (no person), over the applications of the caller's scope.

use crate::app::AppState;
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppError, AppQuery, Result, ok};
use axum::extract::State;
use axum::response::Response;
use rusqlite::{params_from_iter, types::Value};
use serde::{Deserialize, Serialize};

/// One row of the statistics.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AidStatRow {
    /// Year of submission.
    pub year: i64,
    /// Aid type.
    pub type_id: i64,
    /// Type name.
    pub type_name: String,
    /// Applicant's org.
    pub org_id: i64,
    /// Org name.
    pub org_name: String,
    /// Applications submitted.
    pub submitted: i64,
    /// Approved.
    pub approved: i64,
    /// Rejected.
    pub rejected: i64,
    /// Disbursements recorded.
    pub disbursements: i64,
    /// Amount given in yuan, e.g. `1500.00`.
    pub amount: String,
}

/// Filter of the statistics.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Year (by submission); all years when absent.
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i64>,
}

/// Counts and amounts by year, type and org (`aid:read`, the caller's scope).
#[utoipa::path(get, path = "/api/v1/admin/aid/stats", tag = "帮扶服务", security(("bearer" = [])), params(StatsQuery),
    responses((status = 200, body = Vec<AidStatRow>), (status = 400), (status = 403)))]
pub async fn stats(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<StatsQuery>,
) -> Result<Response> {
    let scope = me.require(codes::AID_READ)?;
    if q.year.is_some_and(|y| !(2000..=2100).contains(&y)) {
        return Err(AppError::field("year", "年份须在 2000 到 2100 之间"));
    }
    let (cond, mut p) = scope.sql("a.org_id", None);
    p.push(q.year.map_or(Value::Null, Value::Integer));
    let out = st
        .db
        .read(move |c| {
            // Years in local time (the office's calendar), as the rest of the UI shows dates.
            let sql = format!(
                "WITH x AS (SELECT a.id, a.type_id, a.org_id, a.status,
                    CAST(strftime('%Y', a.submitted_at, 'unixepoch', 'localtime') AS INTEGER) AS year
                  FROM aid_applications a WHERE a.submitted_at IS NOT NULL AND {cond}),
                 d AS (SELECT application_id, count(*) AS n, sum(amount_cents) AS cents FROM aid_disbursements GROUP BY application_id)
                 SELECT x.year, x.type_id, t.name, x.org_id, o.name, count(*),
                    sum(x.status = 'approved'), sum(x.status = 'rejected'), coalesce(sum(d.n), 0), coalesce(sum(d.cents), 0)
                 FROM x JOIN aid_types t ON t.id = x.type_id JOIN orgs o ON o.id = x.org_id
                 LEFT JOIN d ON d.application_id = x.id
                 WHERE (?{n} IS NULL OR x.year = ?{n})
                 GROUP BY x.year, x.type_id, x.org_id ORDER BY x.year DESC, t.sort, o.path LIMIT 5000",
                n = p.len()
            );
            let rows = c
                .prepare(&sql)?
                .query_map(params_from_iter(p), |r| {
                    let cents: i64 = r.get(9)?;
                    Ok(AidStatRow {
                        year: r.get(0)?,
                        type_id: r.get(1)?,
                        type_name: r.get(2)?,
                        org_id: r.get(3)?,
                        org_name: r.get(4)?,
                        submitted: r.get(5)?,
                        approved: r.get(6)?,
                        rejected: r.get(7)?,
                        disbursements: r.get(8)?,
                        amount: format!("{}.{:02}", cents / 100, cents % 100),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await?;
    Ok(ok(out))
}
