//! Staff sign-in: login with lockout and rate limit, refresh, logout, password change, `me`.

use super::accounts::{RoleBrief, set_password};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::admin::load_principal;
use crate::auth::tokens::{self, AUD_ADMIN};
use crate::auth::{AdminAuth, password};
use crate::error::{AppError, AppJson, Result, ok};
use crate::http::ClientIp;
use axum::Extension;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Failures that lock an account.
pub const MAX_FAILURES: usize = 5;
/// Window for counting failures and length of the lock, in seconds.
pub const LOCK_SECS: i64 = 15 * 60;

/// Login request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginReq {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// Refresh request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshReq {
    /// The refresh token from login or the previous refresh.
    pub refresh_token: String,
}

/// Password change request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReq {
    /// Current password.
    pub old_password: String,
    /// New password (policy applies).
    pub new_password: String,
}

/// The signed-in account.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub name: String,
    /// Org the account works in.
    pub org_id: i64,
    /// Name of that org.
    pub org_name: String,
    /// Roles held.
    pub roles: Vec<RoleBrief>,
    /// Permission codes held.
    pub permissions: Vec<String>,
    /// Must change the password before doing anything else.
    pub must_change_password: bool,
    /// Effective data scope of each permission held (empty while the password must change).
    pub scopes: std::collections::BTreeMap<String, super::perms::ScopeOut>,
    /// Permissions whose scope covers the whole org tree: only these may change what every
    /// org shares (news categories, dictionaries, installation settings).
    pub whole_tree: Vec<String>,
}

/// Tokens after login or refresh.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenOut {
    /// Bearer token for API calls.
    pub access_token: String,
    /// One-time token to get the next pair.
    pub refresh_token: String,
    /// Access token lifetime in seconds.
    pub expires_in: i64,
    /// First login or reset: change the password first.
    pub must_change_password: bool,
    /// The account.
    pub admin: Me,
}

fn me_of(c: &Connection, a: &AdminAuth) -> Result<Me> {
    let org_name: String = c.query_row("SELECT name FROM orgs WHERE id = ?1", [a.org_id], |r| {
        r.get(0)
    })?;
    let (scopes, whole_tree) = super::perms::effective(c, a)?;
    Ok(Me {
        id: a.id,
        username: a.username.clone(),
        name: a.name.clone(),
        org_id: a.org_id,
        org_name,
        roles: a
            .roles
            .iter()
            .map(|r| RoleBrief {
                id: r.id,
                name: r.name.clone(),
            })
            .collect(),
        permissions: a.permissions(),
        must_change_password: a.must_change_password,
        scopes,
        whole_tree,
    })
}

fn token_out(
    st: &AppState,
    c: &Connection,
    a: &AdminAuth,
    sid: i64,
    refresh: String,
) -> Result<TokenOut> {
    let ttl = st.cfg.auth.admin_access_ttl_secs;
    Ok(TokenOut {
        access_token: tokens::issue_admin_access(&st.keys, a.id, a.token_version, sid, ttl)?,
        refresh_token: refresh,
        expires_in: ttl,
        must_change_password: a.must_change_password,
        admin: me_of(c, a)?,
    })
}

/// When the account name is locked, the time the lock ends. Only failures logged after the
/// last success (login or password reset) count; rows are ordered by id, since several
/// attempts can share one second. An attempt still being verified (`pending`) counts as a
/// failure: that is what stops parallel guesses from all being evaluated.
pub fn locked_until(c: &Connection, username: &str, now: i64) -> Result<Option<i64>> {
    let mut st = c.prepare_cached(
        "SELECT at FROM login_logs
         WHERE username = ?1 AND audience = 'admin' AND (reason = 'bad_credentials' OR reason = 'pending') AND at > ?2
           AND id > COALESCE((SELECT max(id) FROM login_logs WHERE username = ?1 AND audience = 'admin' AND success = 1), 0)
         ORDER BY id DESC LIMIT 5",
    )?;
    let ats: Vec<i64> = st
        .query_map(params![username, now - 2 * LOCK_SECS], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if ats.len() < MAX_FAILURES {
        return Ok(None);
    }
    let (newest, oldest) = (ats[0], ats[MAX_FAILURES - 1]);
    if newest - oldest <= LOCK_SECS && now < newest + LOCK_SECS {
        Ok(Some(newest + LOCK_SECS))
    } else {
        Ok(None)
    }
}

/// Who is trying to sign in, for the login log.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// Login name, lower-cased.
    pub username: String,
    /// `(admin id, org id)` when the name exists.
    pub admin: Option<(i64, i64)>,
    /// Client IP.
    pub ip: String,
    /// User agent (truncated).
    pub ua: String,
}

/// In the writer, so that check and count are one step: when the name is locked, log the
/// refusal and answer the lock's end; otherwise log the attempt as `pending` (a failure until
/// proven otherwise) and answer its row id, to settle with [`settle_attempt`] after the slow
/// password check. However many guesses arrive at once, at most [`MAX_FAILURES`] get a row
/// and so at most that many passwords are ever verified per window.
pub fn reserve_attempt(c: &Connection, a: &Attempt) -> Result<std::result::Result<i64, i64>> {
    let now = crate::time::now();
    if let Some(until) = locked_until(c, &a.username, now)? {
        log_attempt(c, &a.username, a.admin, &a.ip, &a.ua, false, "locked")?;
        return Ok(Err(until));
    }
    log_attempt(c, &a.username, a.admin, &a.ip, &a.ua, false, "pending")?;
    Ok(Ok(c.last_insert_rowid()))
}

/// Record the outcome of a reserved attempt: `ok` marks it a success (which resets the count).
pub fn settle_attempt(c: &Connection, id: i64, reason: &str) -> Result<()> {
    c.prepare_cached("UPDATE login_logs SET success = ?2, reason = ?3 WHERE id = ?1")?
        .execute(params![id, reason == "ok", reason])?;
    Ok(())
}

/// The Chinese answer for a lock ending at `until`.
fn locked_error(until: i64, what: &str) -> AppError {
    let mins = ((until - crate::time::now()) + 59) / 60;
    AppError::Locked(format!("{what}次数过多，账号已锁定，请 {mins} 分钟后再试"))
}

#[allow(clippy::too_many_arguments)]
fn log_attempt(
    c: &Connection,
    username: &str,
    admin: Option<(i64, i64)>,
    ip: &str,
    ua: &str,
    success: bool,
    reason: &str,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO login_logs (at, audience, username, admin_id, org_id, ip, user_agent, success, reason)
         VALUES (?1, 'admin', ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![crate::time::now(), username, admin.map(|a| a.0), admin.map(|a| a.1), ip, ua, success, reason])?;
    Ok(())
}

/// Staff login.
#[utoipa::path(post, path = "/api/v1/admin/auth/login", tag = "管理员登录", request_body = LoginReq,
    responses((status = 200, body = TokenOut), (status = 400), (status = 401, description = "用户名或密码错误"),
        (status = 423, description = "账号已锁定"), (status = 429)))]
pub async fn login(
    State(st): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    headers: HeaderMap,
    AppJson(req): AppJson<LoginReq>,
) -> Result<Response> {
    let ua: String = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    let ip_s = ip.to_string();
    let username = req.username.trim().to_lowercase();
    if st.login_limiter.check(ip).is_err() {
        let (u, i, a) = (username.clone(), ip_s.clone(), ua.clone());
        st.db
            .write(move |c| log_attempt(c, &u, None, &i, &a, false, "rate_limited"))
            .await?;
        return Err(AppError::RateLimited);
    }
    if username.is_empty() || req.password.is_empty() || username.len() > 64 {
        return Err(AppError::field("username", "请输入用户名和密码"));
    }
    let row: Option<(i64, i64, String, bool)> = {
        let u = username.clone();
        st.db
            .read(move |c| {
                Ok(c.query_row(
                    "SELECT id, org_id, password_hash, disabled FROM admins WHERE username = ?1",
                    [&u],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?)
            })
            .await?
    };
    let attempt = Attempt {
        username: username.clone(),
        admin: row.as_ref().map(|r| (r.0, r.1)),
        ip: ip_s.clone(),
        ua: ua.clone(),
    };
    let slot = st.db.write(move |c| reserve_attempt(c, &attempt)).await?;
    let slot = slot.map_err(|until| locked_error(until, "登录失败"))?;
    let good = password::verify_async(req.password, row.as_ref().map(|r| r.2.clone())).await;
    let outcome = match &row {
        _ if !good => "bad_credentials",
        Some((_, _, _, true)) => "disabled",
        _ => "ok",
    };
    if outcome != "ok" {
        st.db
            .write(move |c| settle_attempt(c, slot, outcome))
            .await?;
        // Same answer for unknown user and wrong password.
        return Err(AppError::Unauthenticated(if outcome == "disabled" {
            "账号已停用，请联系管理员".into()
        } else {
            "用户名或密码错误".into()
        }));
    }
    let Some((id, _, _, _)) = row else {
        return Err(AppError::Unauthenticated("用户名或密码错误".into()));
    };
    let st2 = st.clone();
    let out = st
        .db
        .write(move |c| {
            settle_attempt(c, slot, "ok")?;
            let (me, _) = load_principal(c, id, ip_s.clone())?
                .ok_or(AppError::Unauthenticated("用户名或密码错误".into()))?;
            // One login = one session = one refresh family.
            let ttl = st2.cfg.auth.admin_refresh_ttl_secs;
            let family = crate::crypto::random_token(12);
            let refresh = tokens::issue_refresh(c, AUD_ADMIN, id, Some(&family), ttl)?;
            let expires = crate::time::now() + ttl;
            let sid =
                super::sessions::open(c, id, &family, me.token_version, (&ip_s, &ua), expires)?;
            token_out(&st2, c, &me, sid, refresh)
        })
        .await?;
    Ok(ok(out))
}

/// Exchange a refresh token for a new pair (the old one is spent).
#[utoipa::path(post, path = "/api/v1/admin/auth/refresh", tag = "管理员登录", request_body = RefreshReq,
    responses((status = 200, body = TokenOut), (status = 401)))]
pub async fn refresh(
    State(st): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    AppJson(req): AppJson<RefreshReq>,
) -> Result<Response> {
    let st2 = st.clone();
    let out = st
        .db
        .write(move |c| {
            let ttl = st2.cfg.auth.admin_refresh_ttl_secs;
            // An invalid token answers Ok(None) so that a family revoked for reuse is committed.
            let Some((id, new)) =
                tokens::rotate_refresh(c, AUD_ADMIN, req.refresh_token.trim(), ttl)?
            else {
                return Ok(None);
            };
            // A session ended by an administrator cannot be renewed.
            let family = tokens::family_of(c, AUD_ADMIN, &new)?.unwrap_or_default();
            let Some(sid) = super::sessions::touch(c, &family, crate::time::now() + ttl)? else {
                tokens::revoke_family_of(c, AUD_ADMIN, &new)?;
                return Ok(None);
            };
            match load_principal(c, id, ip.to_string())? {
                Some((me, false)) => Ok(Some(token_out(&st2, c, &me, sid, new)?)),
                _ => Ok(None),
            }
        })
        .await?;
    let out = out.ok_or_else(|| AppError::Unauthenticated("登录已失效，请重新登录".into()))?;
    Ok(ok(out))
}

/// Log out everywhere: refresh tokens revoked, access tokens stop working.
#[utoipa::path(post, path = "/api/v1/admin/auth/logout", tag = "管理员登录", security(("bearer" = [])), responses((status = 200)))]
pub async fn logout(State(st): State<AppState>, me: AdminAuth) -> Result<Response> {
    let actor = me.actor();
    st.db
        .write(move |c| {
            tokens::revoke_all(c, AUD_ADMIN, me.id)?;
            super::sessions::end_all(c, me.id, me.id)?;
            c.execute(
                "UPDATE admins SET token_version = token_version + 1 WHERE id = ?1",
                [me.id],
            )?;
            audit::record(
                c,
                &actor,
                &Entry::success("auth.logout", "admin", me.id, json!({})),
            )?;
            Ok(())
        })
        .await?;
    Ok(ok(json!({})))
}

/// Change one's own password (also the forced change at first login). Revokes all tokens.
#[utoipa::path(post, path = "/api/v1/admin/auth/password", tag = "管理员登录", security(("bearer" = [])), request_body = PasswordReq,
    responses((status = 200), (status = 400)))]
pub async fn change_password(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(req): AppJson<PasswordReq>,
) -> Result<Response> {
    let id = me.id;
    let hash: String = st
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT password_hash FROM admins WHERE id = ?1",
                [id],
                |r| r.get(0),
            )?)
        })
        .await?;
    // A stolen access token must not become an unlimited password oracle: old passwords are
    // checked under the same reserved-attempt lockout as logins.
    let attempt = Attempt {
        username: me.username.clone(),
        admin: Some((id, me.org_id)),
        ip: me.ip.clone(),
        ua: String::new(),
    };
    let slot = st.db.write(move |c| reserve_attempt(c, &attempt)).await?;
    let slot = slot.map_err(|until| locked_error(until, "密码错误"))?;
    let good = password::verify_async(req.old_password.clone(), Some(hash)).await;
    st.db
        .write(move |c| settle_attempt(c, slot, if good { "ok" } else { "bad_credentials" }))
        .await?;
    if !good {
        return Err(AppError::field("old_password", "原密码不正确"));
    }
    password::check_policy("new_password", &req.new_password, &me.username)?;
    if req.new_password == req.old_password {
        return Err(AppError::field("new_password", "新密码不能与原密码相同"));
    }
    let new_hash = password::hash_async(req.new_password).await?;
    let actor = me.actor();
    st.db
        .write(move |c| {
            set_password(c, id, &new_hash, false)?;
            audit::record(
                c,
                &actor,
                &Entry::success("auth.change_password", "admin", id, json!({})),
            )?;
            Ok(())
        })
        .await?;
    Ok(ok(json!({})))
}

/// The password policy (no sign-in needed: the forced change at first login shows it).
#[utoipa::path(get, path = "/api/v1/admin/auth/password-policy", tag = "管理员登录",
    responses((status = 200, body = password::Policy)))]
pub async fn password_policy() -> Result<Response> {
    Ok(ok(password::policy()))
}

/// The signed-in account with its roles and permissions.
#[utoipa::path(get, path = "/api/v1/admin/me", tag = "管理员登录", security(("bearer" = [])), responses((status = 200, body = Me), (status = 401)))]
pub async fn me(State(st): State<AppState>, me: AdminAuth) -> Result<Response> {
    Ok(ok(st.db.read(move |c| me_of(c, &me)).await?))
}
