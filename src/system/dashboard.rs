//! 工作台: every card's numbers in one request, each part within the scope of the permission
//! it shows (a part the account may not see is `null`, and the card is not drawn).

use crate::app::AppState;
use crate::auth::permissions::codes;
use crate::auth::{AdminAuth, Scope};
use crate::error::{Result, ok};
use axum::extract::State;
use axum::response::Response;
use rusqlite::Connection;
use rusqlite::types::Value;
use serde::Serialize;

/// Members by status and per child org.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberStats {
    /// 已注册 (registered, not applied).
    pub registered: i64,
    /// 待审核.
    pub pending: i64,
    /// 正式会员.
    pub active: i64,
    /// 已退会.
    pub left: i64,
    /// 正式会员 in each direct child org of the account's org (its whole subtree counted).
    pub by_org: Vec<OrgCount>,
}

/// One org's count.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrgCount {
    /// Org id.
    pub org_id: i64,
    /// Org name.
    pub name: String,
    /// Active members in its subtree (within scope).
    pub active: i64,
}

/// A short list item (activity or news).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Brief {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Start (activities) or publication (news) time.
    pub at: Option<String>,
    /// Status code.
    pub status: String,
}

/// Activities card.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActivityStats {
    /// Published activities.
    pub published: i64,
    /// The five latest starting activities.
    pub recent: Vec<Brief>,
}

/// News card.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NewsStats {
    /// Published articles.
    pub published: i64,
    /// The five latest articles.
    pub latest: Vec<Brief>,
}

/// All dashboard numbers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    /// With `member:read`.
    pub members: Option<MemberStats>,
    /// Pending membership applications, with `member:review`.
    pub pending_applications: Option<i64>,
    /// With `activity:read`.
    pub activities: Option<ActivityStats>,
    /// With `news:read`.
    pub news: Option<NewsStats>,
    /// A failed or overdue backup, shown as a banner; with `backup:manage` over the whole tree.
    pub backup_alert: Option<crate::backup::alert::BackupAlert>,
}

fn count(c: &Connection, sql: &str, p: Vec<Value>) -> Result<i64> {
    Ok(c.query_row(sql, rusqlite::params_from_iter(p), |r| r.get(0))?)
}

fn briefs(c: &Connection, sql: &str, p: Vec<Value>) -> Result<Vec<Brief>> {
    let mut st = c.prepare(sql)?;
    let v = st
        .query_map(rusqlite::params_from_iter(p), |r| {
            Ok(Brief {
                id: r.get(0)?,
                title: r.get(1)?,
                at: crate::time::fmt_opt(r.get(2)?),
                status: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(v)
}

/// Member numbers from the per-org counts kept by triggers (migration 0021): a few index rows,
/// not a scan of the member table. `None` for a `self` scope, which counts by creator.
fn members_from_counts(c: &Connection, scope: &Scope, org_id: i64) -> Result<Option<MemberStats>> {
    if let Scope::Limited { owner: Some(_), .. } = scope {
        return Ok(None);
    }
    let (cond, p) = scope.sql("s.org_id", None);
    let by_status = format!(
        "SELECT s.status, SUM(s.n) FROM member_stat_counts s WHERE s.dim = 'all' AND s.key = '' AND {cond} GROUP BY s.status"
    );
    let by_org = format!(
        "SELECT k.id, k.name, COALESCE(SUM(s.n), 0) FROM orgs k
         LEFT JOIN orgs d ON d.path GLOB k.path || '*'
         LEFT JOIN member_stat_counts s ON s.org_id = d.id AND s.dim = 'all' AND s.status = 'active' AND {cond}
         WHERE k.parent_id = ? GROUP BY k.id ORDER BY k.sort, k.id"
    );
    member_stats(c, &by_status, &by_org, p, org_id).map(Some)
}

fn members(c: &Connection, scope: &Scope, org_id: i64) -> Result<MemberStats> {
    if let Some(out) = members_from_counts(c, scope, org_id)? {
        return Ok(out);
    }
    let (cond, p) = scope.sql("m.org_id", Some("m.created_by"));
    let by_status =
        format!("SELECT m.status, count(*) FROM members m WHERE {cond} GROUP BY m.status");
    // One grouped query: each active member counted once under the child org whose subtree
    // holds it (all children, not only the first few).
    let by_org = format!(
        "SELECT k.id, k.name, count(m.id) FROM orgs k
         LEFT JOIN orgs d ON d.path GLOB k.path || '*'
         LEFT JOIN members m ON m.org_id = d.id AND m.status = 'active' AND {cond}
         WHERE k.parent_id = ? GROUP BY k.id ORDER BY k.sort, k.id"
    );
    member_stats(c, &by_status, &by_org, p, org_id)
}

/// Run a (status, count) query and a (child org id, name, active) query, both taking the
/// scope's parameters `p`; the second also takes the parent `org_id` last (the scope's
/// parameters sit in its JOIN, before the parent's in WHERE).
fn member_stats(
    c: &Connection,
    by_status: &str,
    by_org: &str,
    p: Vec<Value>,
    org_id: i64,
) -> Result<MemberStats> {
    let mut out = MemberStats {
        registered: 0,
        pending: 0,
        active: 0,
        left: 0,
        by_org: vec![],
    };
    let mut st = c.prepare(by_status)?;
    for row in st.query_map(rusqlite::params_from_iter(p.clone()), |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })? {
        let (s, n) = row?;
        match s.as_str() {
            "registered" => out.registered = n,
            "pending" => out.pending = n,
            "active" => out.active = n,
            "left" => out.left = n,
            _ => {}
        }
    }
    drop(st);
    let mut ordered = p;
    ordered.push(Value::Integer(org_id));
    out.by_org = c
        .prepare(by_org)?
        .query_map(rusqlite::params_from_iter(ordered), |r| {
            Ok(OrgCount {
                org_id: r.get(0)?,
                name: r.get(1)?,
                active: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(out)
}

fn load(c: &Connection, me: &AdminAuth, schedule_on: bool) -> Result<Dashboard> {
    let members = match me.require(codes::MEMBER_READ) {
        Ok(s) => Some(members(c, &s, me.org_id)?),
        Err(_) => None,
    };
    let pending_applications = match me.require(codes::MEMBER_REVIEW) {
        Ok(s) => {
            let (cond, p) = s.sql("a.org_id", None);
            Some(count(
                c,
                &format!(
                    "SELECT count(*) FROM membership_applications a WHERE a.status = 'pending' AND {cond}"
                ),
                p,
            )?)
        }
        Err(_) => None,
    };
    let activities = match me.require(codes::ACTIVITY_READ) {
        Ok(s) => {
            let (cond, p) = s.sql("a.org_id", None);
            Some(ActivityStats {
                published: count(
                    c,
                    &format!(
                        "SELECT count(*) FROM activities a WHERE a.status = 'published' AND {cond}"
                    ),
                    p.clone(),
                )?,
                recent: briefs(
                    c,
                    &format!(
                        "SELECT a.id, a.title, a.starts_at, a.status FROM activities a WHERE {cond} ORDER BY a.starts_at DESC, a.id DESC LIMIT 5"
                    ),
                    p,
                )?,
            })
        }
        Err(_) => None,
    };
    let news = match me.require(codes::NEWS_READ) {
        Ok(s) => {
            let (cond, p) = s.sql("n.org_id", Some("n.created_by"));
            Some(NewsStats {
                published: count(
                    c,
                    &format!(
                        "SELECT count(*) FROM news n WHERE n.deleted_at IS NULL AND n.status = 'published' AND {cond}"
                    ),
                    p.clone(),
                )?,
                latest: briefs(
                    c,
                    &format!(
                        "SELECT n.id, n.title, COALESCE(n.published_at, n.created_at), n.status FROM news n WHERE n.deleted_at IS NULL AND {cond} ORDER BY n.id DESC LIMIT 5"
                    ),
                    p,
                )?,
            })
        }
        Err(_) => None,
    };
    let backup_alert = match me.require(codes::BACKUP_MANAGE) {
        Ok(s) if s.covers_whole_tree(c)? => {
            crate::backup::alert::current(c, schedule_on, crate::time::now())?
        }
        _ => None,
    };
    Ok(Dashboard {
        members,
        pending_applications,
        activities,
        news,
        backup_alert,
    })
}

/// The dashboard's numbers in one request (any signed-in account; each part needs the
/// permission of what it counts and stays within that permission's scope).
#[utoipa::path(get, path = "/api/v1/admin/dashboard", tag = "工作台", security(("bearer" = [])),
    responses((status = 200, body = Dashboard), (status = 401), (status = 403)))]
pub async fn dashboard(State(st): State<AppState>, me: AdminAuth) -> Result<Response> {
    if me.must_change_password {
        return Err(crate::error::AppError::Forbidden("请先修改初始密码".into()));
    }
    let schedule_on = st.cfg.backup.schedule_enabled;
    Ok(ok(st.db.read(move |c| load(c, &me, schedule_on)).await?))
}
