//! Staff sessions (在线会话): one row per login, listed and ended by administrators; and the
//! accounts locked by failed logins, with their unlock. Ending a session revokes its refresh
//! family and, through the `sid` claim checked by the `AdminAuth` extractor, its access token
//! at the next request.

use super::logs::LoginLog;
use super::session::{LOCK_SECS, locked_until};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::permissions::codes;
use crate::auth::{AdminAuth, Scope};
use crate::error::{AppError, AppPath, AppQuery, Result, ok};
use crate::http::{Page, PageQuery};
use axum::extract::State;
use axum::response::Response;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::json;

/// Open the session of a fresh login; answers its id (the `sid` of its access tokens).
pub fn open(
    c: &Connection,
    admin_id: i64,
    family: &str,
    token_version: i64,
    client: (&str, &str),
    expires_at: i64,
) -> Result<i64> {
    let now = crate::time::now();
    c.prepare_cached(
        "INSERT INTO admin_sessions (admin_id, family, token_version, ip, user_agent, created_at, last_seen_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
    )?
    .execute(params![admin_id, family, token_version, client.0, client.1, now, expires_at])?;
    Ok(c.last_insert_rowid())
}

/// At a refresh of the login whose refresh family is `family`: the live session's id, with
/// its last activity and expiry moved on; `None` when the session was ended.
pub fn touch(c: &Connection, family: &str, expires_at: i64) -> Result<Option<i64>> {
    let id: Option<i64> = c
        .query_row(
            "SELECT id FROM admin_sessions WHERE family = ?1 AND revoked_at IS NULL",
            [family],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = id {
        c.execute(
            "UPDATE admin_sessions SET last_seen_at = ?1, expires_at = ?2 WHERE id = ?3",
            params![crate::time::now(), expires_at, id],
        )?;
    }
    Ok(id)
}

/// True when session `sid` belongs to `admin_id` and has not been ended (checked on every
/// staff request; one primary-key read).
pub fn is_live(c: &Connection, sid: i64, admin_id: i64) -> Result<bool> {
    Ok(c.prepare_cached(
        "SELECT 1 FROM admin_sessions WHERE id = ?1 AND admin_id = ?2 AND revoked_at IS NULL",
    )?
    .query_row(params![sid, admin_id], |_| Ok(()))
    .optional()?
    .is_some())
}

/// End every session of an account (logout everywhere).
pub fn end_all(c: &Connection, admin_id: i64, by: i64) -> Result<()> {
    c.execute(
        "UPDATE admin_sessions SET revoked_at = ?1, revoked_by = ?2 WHERE admin_id = ?3 AND revoked_at IS NULL",
        params![crate::time::now(), by, admin_id],
    )?;
    Ok(())
}

/// One signed-in staff session.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionOut {
    /// Session id.
    pub id: i64,
    /// Account id.
    pub admin_id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub name: String,
    /// The account's org.
    pub org_id: i64,
    /// That org's name.
    pub org_name: String,
    /// IP at login.
    pub ip: String,
    /// Browser and system, e.g. `Chrome 120 · Windows 10/11`.
    pub client: String,
    /// Signed in at.
    pub created_at: String,
    /// Last token refresh.
    pub last_seen_at: String,
    /// True for the session making this request.
    pub current: bool,
}

/// True when an account (its id, org and org path) is in `scope`.
fn account_in_scope(scope: &Scope, admin_id: i64, org_id: i64, org_path: &str) -> bool {
    match scope {
        Scope::Limited { owner: Some(o), .. } if *o == admin_id => true,
        _ => scope.contains_org(org_id, org_path),
    }
}

/// Live staff sessions of accounts in scope (`account:read`), most recently active first.
#[utoipa::path(get, path = "/api/v1/admin/sessions", tag = "在线会话", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<SessionOut>), (status = 400), (status = 403)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Response> {
    let scope = me.require(codes::ACCOUNT_READ)?;
    let pg = q.resolve()?;
    let current = me.session_id;
    let out = st
        .db
        .read(move |c| {
            let (cond, mut p) = scope.sql("a.org_id", Some("a.id"));
            p.insert(0, Value::Integer(crate::time::now()));
            // A password change or disable bumps the token version: such sessions are over.
            let wh = format!(
                "s.revoked_at IS NULL AND s.expires_at > ? AND s.token_version = a.token_version
                 AND a.disabled = 0 AND {cond}"
            );
            let from = "admin_sessions s JOIN admins a ON a.id = s.admin_id JOIN orgs o ON o.id = a.org_id";
            let count = format!("SELECT count(*) FROM {from} WHERE {wh}");
            let list = format!(
                "SELECT s.id, s.admin_id, a.username, a.name, a.org_id, o.name, s.ip, s.user_agent,
                        s.created_at, s.last_seen_at
                 FROM {from} WHERE {wh} ORDER BY s.last_seen_at DESC, s.id DESC LIMIT ? OFFSET ?"
            );
            crate::http::fetch_page(c, &count, &list, p, pg, |r| {
                let id: i64 = r.get(0)?;
                Ok(SessionOut {
                    id,
                    admin_id: r.get(1)?,
                    username: r.get(2)?,
                    name: r.get(3)?,
                    org_id: r.get(4)?,
                    org_name: r.get(5)?,
                    ip: r.get(6)?,
                    client: super::useragent::describe(&r.get::<_, String>(7)?),
                    created_at: crate::time::fmt(r.get(8)?),
                    last_seen_at: crate::time::fmt(r.get(9)?),
                    current: Some(id) == current,
                })
            })
        })
        .await?;
    Ok(ok(out))
}

/// Force a session to sign out (`account:write` over its account): its refresh token stops
/// working at once and its access token at its next request. Audited.
#[utoipa::path(delete, path = "/api/v1/admin/sessions/{id}", tag = "在线会话", security(("bearer" = [])),
    params(("id" = i64, Path, description = "会话 ID")),
    responses((status = 200), (status = 403), (status = 404, description = "会话不存在、已结束或不在管辖范围内")))]
pub async fn revoke(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::ACCOUNT_WRITE)?;
    let actor = me.actor();
    let by = me.id;
    st.db
        .write(move |c| {
            let row: Option<(i64, String, i64, String, String)> = c
                .query_row(
                    "SELECT s.admin_id, a.username, a.org_id, o.path, s.family FROM admin_sessions s
                     JOIN admins a ON a.id = s.admin_id JOIN orgs o ON o.id = a.org_id
                     WHERE s.id = ?1 AND s.revoked_at IS NULL",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )
                .optional()?;
            let Some((admin_id, username, org_id, path, family)) = row else {
                return Err(AppError::NotFound);
            };
            if !account_in_scope(&scope, admin_id, org_id, &path) {
                return Err(AppError::NotFound);
            }
            let now = crate::time::now();
            c.execute(
                "UPDATE admin_sessions SET revoked_at = ?1, revoked_by = ?2 WHERE id = ?3",
                params![now, by, id],
            )?;
            c.execute(
                "UPDATE refresh_tokens SET revoked_at = ?1 WHERE family = ?2 AND revoked_at IS NULL",
                params![now, family],
            )?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "session.revoke",
                    "admin_session",
                    id,
                    json!({"admin_id": admin_id, "username": username}),
                ),
            )?;
            Ok(())
        })
        .await?;
    Ok(ok(json!({})))
}

/// An account locked by failed logins.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LockedAccount {
    /// Account id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub name: String,
    /// Org id.
    pub org_id: i64,
    /// Org name.
    pub org_name: String,
    /// The lock ends at.
    pub locked_until: String,
}

/// Accounts in scope (`account:read`) that are locked now, soonest unlocked first.
#[utoipa::path(get, path = "/api/v1/admin/accounts/locked", tag = "管理员账号", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<LockedAccount>), (status = 400), (status = 403)))]
pub async fn locked(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Response> {
    let scope = me.require(codes::ACCOUNT_READ)?;
    let (page, size, offset) = q.resolve()?;
    let out = st
        .db
        .read(move |c| {
            let now = crate::time::now();
            // Candidates: accounts with a failure inside the lock window; only these can be
            // locked, so the per-account check below runs over a handful of rows.
            let (cond, mut p) = scope.sql("a.org_id", Some("a.id"));
            p.insert(0, Value::Integer(now - 2 * LOCK_SECS));
            let sql = format!(
                "SELECT a.id, a.username, a.name, a.org_id, o.name FROM admins a JOIN orgs o ON o.id = a.org_id
                 WHERE a.username IN (SELECT username FROM login_logs WHERE audience = 'admin' AND at > ?
                       AND (reason = 'bad_credentials' OR reason = 'pending')) AND {cond}
                 ORDER BY a.id"
            );
            let mut st = c.prepare(&sql)?;
            let rows: Vec<(i64, String, String, i64, String)> = st
                .query_map(rusqlite::params_from_iter(p), |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut all = Vec::new();
            for (id, username, name, org_id, org_name) in rows {
                if let Some(until) = locked_until(c, &username, now)? {
                    all.push((until, LockedAccount {
                        id,
                        username,
                        name,
                        org_id,
                        org_name,
                        locked_until: crate::time::fmt(until),
                    }));
                }
            }
            all.sort_by_key(|(u, a)| (*u, a.id));
            let total = all.len() as i64;
            let items = all
                .into_iter()
                .skip(offset as usize)
                .take(size as usize)
                .map(|(_, a)| a)
                .collect();
            Ok(Page {
                items,
                total,
                page,
                page_size: size,
            })
        })
        .await?;
    Ok(ok(out))
}

/// Unlock an account locked by failed logins (`account:write` over it): its failure count
/// starts again from zero. Audited; `409` when it is not locked.
#[utoipa::path(post, path = "/api/v1/admin/accounts/{id}/unlock", tag = "管理员账号", security(("bearer" = [])),
    params(("id" = i64, Path, description = "管理员账号 ID")),
    responses((status = 200), (status = 403), (status = 404), (status = 409, description = "账号未被锁定")))]
pub async fn unlock(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::ACCOUNT_WRITE)?;
    let actor = me.actor();
    st.db
        .write(move |c| {
            let row: Option<(String, i64, String)> = c
                .query_row(
                    "SELECT a.username, a.org_id, o.path FROM admins a JOIN orgs o ON o.id = a.org_id WHERE a.id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((username, org_id, path)) = row else {
                return Err(AppError::NotFound);
            };
            if !account_in_scope(&scope, id, org_id, &path) {
                return Err(AppError::NotFound);
            }
            if locked_until(c, &username, crate::time::now())?.is_none() {
                return Err(AppError::conflict("该账号当前未被锁定"));
            }
            // A success row ends the failure run that `locked_until` counts.
            c.execute(
                "INSERT INTO login_logs (at, audience, username, admin_id, org_id, ip, success, reason)
                 VALUES (?1, 'admin', ?2, ?3, ?4, ?5, 1, 'unlocked')",
                params![crate::time::now(), username, id, org_id, actor.ip],
            )?;
            audit::record(
                c,
                &actor,
                &Entry::success("account.unlock", "admin", id, json!({"username": username})),
            )?;
            Ok(())
        })
        .await?;
    Ok(ok(json!({})))
}

/// The signed-in account's own login history (no permission needed), newest first.
#[utoipa::path(get, path = "/api/v1/admin/me/login-logs", tag = "管理员登录", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<LoginLog>), (status = 400), (status = 401)))]
pub async fn my_login_logs(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Response> {
    let pg = q.resolve()?;
    let id = me.id;
    let out = st
        .db
        .read(move |c| {
            let p = vec![Value::Integer(id)];
            let wh = "audience = 'admin' AND admin_id = ?";
            let count = format!("SELECT count(*) FROM login_logs WHERE {wh}");
            let list = format!(
                "SELECT id, at, username, admin_id, ip, user_agent, success, reason FROM login_logs
                 WHERE {wh} ORDER BY id DESC LIMIT ? OFFSET ?"
            );
            crate::http::fetch_page(c, &count, &list, p, pg, super::logs::login_log_row)
        })
        .await?;
    Ok(ok(out))
}
