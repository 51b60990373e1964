//! Ticket statistics (volume, overdue rate, mean first-reply time, satisfaction, by org and by
//! category) and the masked, audited xlsx export of the queue.

use super::admin::{ORDER, TicketQuery, filter};
use super::model::{SELECT, map_row};
use super::repo::{sees_names, shown_name};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::benefits::xlsx::{MAX_ROWS, sheet};
use crate::error::{AppError, AppQuery, Result, ok};
use crate::members::xlsx::xlsx_response;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{params_from_iter, types::Value};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Period of the statistics.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Tickets opened in the last this many days, 1 to 366 (default 30).
    #[param(minimum = 1, maximum = 366)]
    pub days: Option<i64>,
}

/// Figures of one group (or of everything).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Figures {
    /// Org or category id (absent for the total).
    pub id: Option<i64>,
    /// Its name.
    pub name: Option<String>,
    /// Tickets opened.
    pub total: i64,
    /// Still open.
    pub open: i64,
    /// Overdue: first reply after the deadline, or none yet and the deadline passed.
    pub overdue: i64,
    /// `overdue / total`, 0 when there are none.
    pub overdue_rate: f64,
    /// Mean seconds from opening to the first staff reply (replied tickets only).
    pub mean_first_reply_secs: Option<f64>,
    /// Rated tickets.
    pub rated: i64,
    /// Mean rating 1–5.
    pub mean_rating: Option<f64>,
}

/// Statistics in scope.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TicketStats {
    /// Period in days.
    pub days: i64,
    /// Everything in scope.
    pub total: Figures,
    /// By handling org.
    pub by_org: Vec<Figures>,
    /// By category.
    pub by_category: Vec<Figures>,
}

const FIGURES: &str = "count(*), sum(t.status = 'open'),
    sum((t.first_reply_at IS NULL AND t.status = 'open' AND t.deadline_at <= ?1) OR t.first_reply_at > t.deadline_at),
    avg(t.first_reply_at - t.created_at), count(t.rating), avg(t.rating)";

fn figures(r: &rusqlite::Row<'_>, named: bool) -> rusqlite::Result<Figures> {
    let o = if named { 2 } else { 0 };
    let total: i64 = r.get(o)?;
    let overdue: i64 = r.get::<_, Option<i64>>(o + 2)?.unwrap_or(0);
    Ok(Figures {
        id: if named { r.get(0)? } else { None },
        name: if named { r.get(1)? } else { None },
        total,
        open: r.get::<_, Option<i64>>(o + 1)?.unwrap_or(0),
        overdue,
        overdue_rate: if total > 0 {
            overdue as f64 / total as f64
        } else {
            0.0
        },
        mean_first_reply_secs: r.get(o + 3)?,
        rated: r.get(o + 4)?,
        mean_rating: r.get(o + 5)?,
    })
}

/// Volume, overdue rate, mean first-reply time and satisfaction, by org and by category.
#[utoipa::path(get, path = "/api/v1/admin/tickets/stats", tag = "互动管理", security(("bearer" = [])), params(StatsQuery),
    responses((status = 200, body = TicketStats), (status = 400), (status = 403)))]
pub async fn stats(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<StatsQuery>,
) -> Result<Response> {
    let scope = me.require(codes::TICKET_READ)?;
    let days = q.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(AppError::field("days", "统计天数须在 1 到 366 之间"));
    }
    let now = st.clock.now();
    let (cond, sp) = scope.sql("t.org_id", None);
    let mut p = vec![Value::Integer(now), Value::Integer(now - days * 86_400)];
    p.extend(sp);
    let wh = format!("t.held = 0 AND t.created_at >= ?2 AND {cond}");
    let out = st
        .db
        .read(move |c| {
            let total = c.query_row(&format!("SELECT {FIGURES} FROM tickets t WHERE {wh}"), params_from_iter(p.clone()), |r| figures(r, false))?;
            let by = |group: &str, join: &str| -> Result<Vec<Figures>> {
                c.prepare(&format!(
                    "SELECT g.id, g.name, {FIGURES} FROM tickets t {join} WHERE {wh} GROUP BY g.id ORDER BY count(*) DESC, g.id LIMIT 500"
                ))?
                .query_map(params_from_iter(p.clone()), |r| figures(r, true))?
                .collect::<rusqlite::Result<_>>()
                .map_err(|e| AppError::internal(format!("{group}: {e}")))
            };
            Ok(TicketStats {
                days,
                total,
                by_org: by("org", "JOIN orgs g ON g.id = t.org_id")?,
                by_category: by("category", "JOIN ticket_categories g ON g.id = t.category_id")?,
            })
        })
        .await?;
    Ok(ok(out))
}

fn status_name(s: &str) -> &'static str {
    match s {
        "open" => "办理中",
        "resolved" => "已办结",
        _ => "已关闭",
    }
}

/// The queue (same filters) as xlsx: names masked (匿名职工 where hidden), call-back phones
/// masked, no texts of the thread; audited before any byte leaves.
#[utoipa::path(get, path = "/api/v1/admin/tickets/export", tag = "互动管理", security(("bearer" = [])), params(TicketQuery),
    responses((status = 200, description = "xlsx 文件", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400), (status = 403)))]
pub async fn export(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<TicketQuery>,
) -> Result<Response> {
    let scope = me.require(codes::TICKET_EXPORT)?;
    let now = st.clock.now();
    let (wh, mut p) = filter(&q, &scope, now)?;
    p.push(Value::Integer(MAX_ROWS));
    let actor = me.actor();
    let rows = st
        .db
        .read(move |c| {
            let sees = sees_names(c, &me)?;
            let mut stmt = c.prepare(&format!(
                "{SELECT} WHERE {wh} ORDER BY {} LIMIT ?",
                ORDER.replace('?', &now.to_string())
            ))?;
            let rows = stmt
                .query_map(params_from_iter(p), |r| {
                    let t = map_row(r)?;
                    Ok(vec![
                        t.id.to_string(),
                        t.org_name.clone(),
                        t.category_name.clone(),
                        t.title.clone(),
                        shown_name(&t, sees, true),
                        if t.anonymous && !sees {
                            String::new()
                        } else {
                            t.phone_masked.clone().unwrap_or_default()
                        },
                        status_name(&t.status).into(),
                        if t.overdue(now) {
                            "是".into()
                        } else {
                            "否".into()
                        },
                        crate::time::fmt(t.created_at),
                        crate::time::fmt(t.deadline_at),
                        crate::time::fmt_opt(t.first_reply_at).unwrap_or_default(),
                        t.rating.map(|r| r.to_string()).unwrap_or_default(),
                    ])
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await?;
    let count = rows.len();
    let bytes = tokio::task::spawn_blocking(move || {
        sheet(
            "诉求工单",
            &[
                "编号",
                "办理组织",
                "分类",
                "标题",
                "职工",
                "回电号码",
                "状态",
                "是否超期",
                "提交时间",
                "答复期限",
                "首次答复时间",
                "评分",
            ],
            &rows,
        )
    })
    .await
    .map_err(AppError::internal)??;
    st.db
        .write(move |c| {
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "ticket.export",
                    "ticket",
                    0,
                    json!({"count": count, "masked": true}),
                ),
            )?;
            Ok(())
        })
        .await?;
    xlsx_response(bytes, "诉求工单.xlsx", "tickets.xlsx")
}
