//! `GET /api/v1/admin/stats/{topic}` and its xlsx export.

use super::model::{GroupBy, Request, StatsQuery, StatsTable, Topic};
use super::target::Target;
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::auth::scope::Scope;
use crate::error::{AppPath, AppQuery, Result, ok};
use crate::first_page::ReadCache;
use axum::extract::State;
use axum::response::Response;
use rusqlite::Connection;
use serde_json::json;
use std::sync::Arc;

/// Member tables by the viewer's scope, org, grouping and period (unix seconds from, until).
type MemberKey = (Scope, i64, GroupBy, Option<i64>, Option<i64>);

/// Member statistics tables kept in memory (see [`crate::first_page`]): the 数据统计 page and
/// the dashboards ask for the same few tables again and again, and member counts change only
/// through the writer, which clears these on every change of a member or an org. (The counts
/// table itself is `WITHOUT ROWID`, which SQLite's change hook does not report, so its source
/// `members` is what is watched; its triggers are the only writers of the counts.)
pub type MemberTables = ReadCache<MemberKey, StatsTable>;

/// Tables whose changes clear [`MemberTables`].
const MEMBER_TABLES_WATCH: [&str; 2] = ["members", "orgs"];

/// The member tables cache of a server.
pub fn member_tables(db: &crate::db::Db) -> Arc<MemberTables> {
    ReadCache::watching(db, &MEMBER_TABLES_WATCH)
}

/// A request checked against its caller: the caller's scope for `stats:read` (after the
/// topic's own permission, when it needs one), the org counted and the query.
struct Checked {
    scope: Scope,
    org_id: i64,
    req: Request,
}

impl Checked {
    fn new(me: &AdminAuth, topic: Topic, q: &StatsQuery) -> Result<Checked> {
        let scope = me.require(codes::STATS_READ)?;
        if let Some(code) = topic.also_needs() {
            me.require(code)?;
        }
        let req = q.check(topic)?;
        Ok(Checked {
            scope,
            org_id: req.org_id.unwrap_or(me.org_id),
            req,
        })
    }

    /// The key of the table in [`MemberTables`]; None for the other topics, which count rows
    /// of many tables and are always read.
    fn member_key(&self) -> Option<MemberKey> {
        let r = &self.req;
        (r.topic == Topic::Members)
            .then(|| (self.scope.clone(), self.org_id, r.group_by, r.from, r.until))
    }

    /// Build the table (one read job, a handful of statements).
    fn load(self, c: &Connection) -> Result<StatsTable> {
        let req = self.req;
        let t = Target::load(c, self.scope, self.org_id)?;
        let (columns, rows) = match req.topic {
            Topic::Members => super::members::table(c, &t, &req)?,
            _ => super::events::table(c, &t, &req)?,
        };
        Ok(StatsTable {
            topic: req.topic,
            group_by: req.group_by,
            org_id: t.id,
            org_name: t.name.clone(),
            parent_org_id: t.parent_in_scope(c)?,
            from: req.from_day,
            to: req.to_day,
            columns,
            rows,
        })
    }
}

/// Statistics of one topic for an org's subtree within the caller's scope (`stats:read`).
/// `group_by=org` drills down: one row per direct child org with its whole subtree, plus the
/// org's own (本级) row. Members are read from incrementally kept per-org counts.
#[utoipa::path(get, path = "/api/v1/admin/stats/{topic}", tag = "数据统计", security(("bearer" = [])),
    params(("topic" = Topic, Path, description = "统计主题"), StatsQuery),
    responses((status = 200, body = StatsTable), (status = 400, description = "参数无效"), (status = 403),
        (status = 404, description = "主题不存在或组织不在权限范围内")))]
pub async fn get(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(topic): AppPath<Topic>,
    AppQuery(q): AppQuery<StatsQuery>,
) -> Result<Response> {
    let checked = Checked::new(&me, topic, &q)?;
    let key = checked.member_key();
    let read = st.db.read(move |c| checked.load(c));
    let table = st.stats_members.get_or_read(key, read).await?;
    Ok(ok(&*table))
}

/// The same table as xlsx (audited: topic, grouping, org, period and row count).
#[utoipa::path(get, path = "/api/v1/admin/stats/{topic}/export", tag = "数据统计", security(("bearer" = [])),
    params(("topic" = Topic, Path, description = "统计主题"), StatsQuery),
    responses((status = 200, description = "统计表（xlsx）", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, description = "参数无效"), (status = 403),
        (status = 404, description = "主题不存在或组织不在权限范围内")))]
pub async fn export(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(topic): AppPath<Topic>,
    AppQuery(q): AppQuery<StatsQuery>,
) -> Result<Response> {
    let checked = Checked::new(&me, topic, &q)?;
    let table = st.db.read(move |c| checked.load(c)).await?;
    let summary = json!({
        "topic": topic.code(),
        "group_by": table.group_by.code(),
        "org_id": table.org_id,
        "period_from": table.from,
        "period_to": table.to,
        "count": table.rows.len(),
    });
    let name = format!("{}-{}", topic.label(), table.org_name);
    let bytes = tokio::task::spawn_blocking(move || super::export::xlsx(&table))
        .await
        .map_err(crate::error::AppError::internal)??;
    // The audit row is committed before any byte leaves.
    let actor = me.actor();
    st.db
        .write(move |c| {
            audit::record(
                c,
                &actor,
                &Entry {
                    action: "stats.export",
                    target_type: "stats",
                    target_id: Some(topic.code().to_string()),
                    summary,
                    result: "success",
                },
            )?;
            Ok(())
        })
        .await?;
    crate::members::xlsx::xlsx_response(
        bytes,
        &format!("{name}.xlsx"),
        &format!("stats-{}.xlsx", topic.code()),
    )
}
