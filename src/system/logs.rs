//! Read-only views: audit log, login log, permission catalog.

use crate::app::AppState;
use crate::auth::AdminAuth;
use crate::auth::permissions::{CATALOG, Permission, codes};
use crate::error::{AppError, AppQuery, Result, ok};
use crate::http::{Page, PageQuery};
use axum::extract::State;
use axum::response::Response;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};

/// Filters for the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this actor.
    pub actor_id: Option<i64>,
    /// Only this action (e.g. `org.create`).
    pub action: Option<String>,
    /// Only this target type.
    pub target_type: Option<String>,
    /// From (RFC 3339).
    pub from: Option<String>,
    /// To (RFC 3339).
    pub to: Option<String>,
    /// Page.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

/// One audit record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditLog {
    /// Id.
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// `admin`, `member` or `system`.
    pub actor_type: String,
    /// Actor id.
    pub actor_id: Option<i64>,
    /// Actor name.
    pub actor_name: String,
    /// Actor's org.
    pub org_id: Option<i64>,
    /// Action code.
    pub action: String,
    /// The action's Chinese name (from the log catalogue).
    pub action_label: String,
    /// Target type.
    pub target_type: String,
    /// The target type's Chinese name.
    pub target_label: String,
    /// Target id.
    pub target_id: Option<String>,
    /// Changed fields.
    #[schema(value_type = Object)]
    pub summary: serde_json::Value,
    /// Client IP.
    pub ip: String,
    /// `success` or `failure`.
    pub result: String,
    /// Chain hash.
    pub hash: String,
}

fn time_filter(field: &str, v: &Option<String>) -> Result<Option<i64>> {
    match v.as_deref().filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => crate::time::parse(s).map(Some).ok_or_else(|| {
            AppError::field(
                field,
                "时间格式应为 RFC 3339，例如 2026-12-01T09:00:00+08:00",
            )
        }),
    }
}

/// The audit log within scope, newest first.
#[utoipa::path(get, path = "/api/v1/admin/audit-logs", tag = "审计", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = Page<AuditLog>), (status = 403)))]
pub async fn audit_logs(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<AuditQuery>,
) -> Result<Response> {
    let scope = me.require(codes::AUDIT_READ)?;
    let (page, size, offset) = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let from = time_filter("from", &q.from)?;
    let to = time_filter("to", &q.to)?;
    let out = st
        .db
        .read(move |c| {
            // `self` means rows this staff account wrote: member and system rows share the
            // id space of `actor_id`, so the owner test must also match the actor type.
            let (cond, mut p) =
                scope.sql("org_id", Some("(CASE actor_type WHEN 'admin' THEN actor_id END)"));
            let mut wh = vec![cond];
            if let Some(a) = q.actor_id {
                wh.push("actor_id = ?".into());
                p.push(Value::Integer(a));
            }
            if let Some(a) = q.action.filter(|s| !s.is_empty()) {
                wh.push("action = ?".into());
                p.push(Value::Text(a));
            }
            if let Some(t) = q.target_type.filter(|s| !s.is_empty()) {
                wh.push("target_type = ?".into());
                p.push(Value::Text(t));
            }
            if let Some(f) = from {
                wh.push("at >= ?".into());
                p.push(Value::Integer(f));
            }
            if let Some(t) = to {
                wh.push("at <= ?".into());
                p.push(Value::Integer(t));
            }
            let wh = wh.join(" AND ");
            let count = format!("SELECT count(*) FROM audit_logs WHERE {wh}");
            let list = format!(
                "SELECT id, at, actor_type, actor_id, actor_name, org_id, action, target_type, target_id, summary, ip, result, hash
                 FROM audit_logs WHERE {wh} ORDER BY id DESC LIMIT ? OFFSET ?"
            );
            crate::http::fetch_page(c, &count, &list, p, (page, size, offset), |r| {
                    let summary: String = r.get(9)?;
                    Ok(AuditLog {
                        id: r.get(0)?,
                        at: crate::time::fmt(r.get(1)?),
                        actor_type: r.get(2)?,
                        actor_id: r.get(3)?,
                        actor_name: r.get(4)?,
                        org_id: r.get(5)?,
                        action_label: super::catalogue::action_label(&r.get::<_, String>(6)?),
                        action: r.get(6)?,
                        target_label: super::catalogue::target_label(&r.get::<_, String>(7)?),
                        target_type: r.get(7)?,
                        target_id: r.get(8)?,
                        summary: serde_json::from_str(&summary).unwrap_or(serde_json::Value::Null),
                        ip: r.get(10)?,
                        result: r.get(11)?,
                        hash: r.get(12)?,
                    })
                })
        })
        .await?;
    Ok(ok(out))
}

/// Filters for the login log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LoginLogQuery {
    /// Only this user name.
    pub username: Option<String>,
    /// Only successes (true) or failures (false).
    pub success: Option<bool>,
    /// From (RFC 3339).
    pub from: Option<String>,
    /// To (RFC 3339).
    pub to: Option<String>,
    /// Page.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

/// One login attempt.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginLog {
    /// Id.
    pub id: i64,
    /// When.
    pub at: String,
    /// User name tried.
    pub username: String,
    /// Account, when the name exists.
    pub admin_id: Option<i64>,
    /// Client IP.
    pub ip: String,
    /// The raw User-Agent header.
    pub user_agent: String,
    /// Browser and system read from it, e.g. `Chrome 120 · Windows 10/11`.
    pub client: String,
    /// Succeeded.
    pub success: bool,
    /// `ok`, `bad_credentials`, `locked`, `disabled`, `rate_limited`, `password_reset`,
    /// `pending` (being verified).
    pub reason: String,
    /// The outcome's Chinese name.
    pub reason_label: String,
}

/// Staff login attempts within scope (unknown user names only for `all` scope), newest first.
#[utoipa::path(get, path = "/api/v1/admin/login-logs", tag = "审计", security(("bearer" = [])), params(LoginLogQuery),
    responses((status = 200, body = Page<LoginLog>), (status = 403)))]
pub async fn login_logs(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<LoginLogQuery>,
) -> Result<Response> {
    let scope = me.require(codes::LOGINLOG_READ)?;
    let (page, size, offset) = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let from = time_filter("from", &q.from)?;
    let to = time_filter("to", &q.to)?;
    let out = st
        .db
        .read(move |c| {
            let (cond, mut p) = scope.sql("org_id", Some("admin_id"));
            let mut wh = vec!["audience = 'admin'".to_string(), cond];
            if let Some(u) = q.username.filter(|s| !s.is_empty()) {
                wh.push("username = ?".into());
                p.push(Value::Text(u.trim().to_lowercase()));
            }
            if let Some(s) = q.success {
                wh.push("success = ?".into());
                p.push(Value::Integer(s as i64));
            }
            if let Some(f) = from {
                wh.push("at >= ?".into());
                p.push(Value::Integer(f));
            }
            if let Some(t) = to {
                wh.push("at <= ?".into());
                p.push(Value::Integer(t));
            }
            let wh = wh.join(" AND ");
            let count = format!("SELECT count(*) FROM login_logs WHERE {wh}");
            let list = format!(
                "SELECT id, at, username, admin_id, ip, user_agent, success, reason FROM login_logs
                 WHERE {wh} ORDER BY id DESC LIMIT ? OFFSET ?"
            );
            crate::http::fetch_page(c, &count, &list, p, (page, size, offset), login_log_row)
        })
        .await?;
    Ok(ok(out))
}

/// One login log row from `SELECT id, at, username, admin_id, ip, user_agent, success, reason`.
pub fn login_log_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LoginLog> {
    Ok(LoginLog {
        id: r.get(0)?,
        at: crate::time::fmt(r.get(1)?),
        username: r.get(2)?,
        admin_id: r.get(3)?,
        ip: r.get(4)?,
        client: super::useragent::describe(&r.get::<_, String>(5)?),
        user_agent: r.get(5)?,
        success: r.get(6)?,
        reason_label: super::catalogue::login_reason_label(&r.get::<_, String>(7)?),
        reason: r.get(7)?,
    })
}

/// The permission catalog (any signed-in staff account).
#[utoipa::path(get, path = "/api/v1/admin/permissions", tag = "角色", security(("bearer" = [])), responses((status = 200, body = Vec<Permission>)))]
pub async fn permissions(_me: AdminAuth) -> Result<Response> {
    Ok(ok(CATALOG))
}
