//! Per-activity statistics for staff: counts by status, no-shows, average rating, by org.

use super::repo::load_scoped;
use crate::app::AppState;
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppPath, Result, ok};
use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

/// Counts for one org.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrgStats {
    /// Org (null for registrants who are not union members).
    pub org_id: Option<i64>,
    /// Org name.
    pub org_name: Option<String>,
    /// Live registrations.
    pub registered: i64,
    /// Checked in.
    pub checked_in: i64,
}

/// Activity statistics.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Stats {
    /// Live registrations (pending + approved).
    pub registered: i64,
    /// Approved.
    pub approved: i64,
    /// Waiting for review.
    pub pending: i64,
    /// Rejected.
    pub rejected: i64,
    /// Checked in.
    pub checked_in: i64,
    /// Cancelled by the member.
    pub cancelled: i64,
    /// Approved but not checked in after the activity ended (0 before the end).
    pub no_show: i64,
    /// Average rating, if anyone rated.
    pub avg_rating: Option<f64>,
    /// Ratings given.
    pub ratings: i64,
    /// By the registrant's org.
    pub by_org: Vec<OrgStats>,
}

/// Statistics of one activity in scope (two grouped queries).
#[utoipa::path(get, path = "/api/v1/admin/activities/{id}/stats", tag = "活动管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "活动 ID")), responses((status = 200, body = Stats), (status = 404)))]
pub async fn get(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::ACTIVITY_READ)?;
    let out = st
        .db
        .read(move |c| {
            let a = load_scoped(c, &scope, id)?;
            let ended = a.times[1] <= crate::time::now() || a.view.status == "finished";
            let mut s = c.query_row(
                "SELECT
                    coalesce(sum(status IN ('pending', 'approved')), 0),
                    coalesce(sum(status = 'approved'), 0),
                    coalesce(sum(status = 'pending'), 0),
                    coalesce(sum(status = 'rejected'), 0),
                    coalesce(sum(checked_in_at IS NOT NULL), 0),
                    coalesce(sum(status = 'cancelled'), 0),
                    coalesce(sum(status = 'approved' AND checked_in_at IS NULL), 0),
                    avg(rating), count(rating)
                 FROM activity_registrations WHERE activity_id = ?1",
                [id],
                |r| {
                    Ok(Stats {
                        registered: r.get(0)?,
                        approved: r.get(1)?,
                        pending: r.get(2)?,
                        rejected: r.get(3)?,
                        checked_in: r.get(4)?,
                        cancelled: r.get(5)?,
                        no_show: r.get(6)?,
                        avg_rating: r.get::<_, Option<f64>>(7)?.map(|v| (v * 100.0).round() / 100.0),
                        ratings: r.get(8)?,
                        by_org: vec![],
                    })
                },
            )?;
            if !ended {
                s.no_show = 0;
            }
            let mut q = c.prepare(
                "SELECT r.org_id, o.name, coalesce(sum(r.status IN ('pending', 'approved')), 0), coalesce(sum(r.checked_in_at IS NOT NULL), 0)
                 FROM activity_registrations r LEFT JOIN orgs o ON o.id = r.org_id
                 WHERE r.activity_id = ?1 GROUP BY r.org_id ORDER BY 3 DESC, r.org_id",
            )?;
            s.by_org = q
                .query_map([id], |r| {
                    Ok(OrgStats { org_id: r.get(0)?, org_name: r.get(1)?, registered: r.get(2)?, checked_in: r.get(3)? })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(s)
        })
        .await?;
    Ok(ok(out))
}
