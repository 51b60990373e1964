//! The staff principal: who is calling, with which roles, and the `AdminAuth` extractor that
//! checks the token *and* the account's current state on every request, from a cache the writer
//! empties on any change to accounts, roles, sessions or orgs ([`super::cache`]) (so disabling an
//! account, changing its password or its roles takes effect on the next request).

use super::permissions::CATALOG;
use super::scope::Scope;
use super::tokens::{AUD_ADMIN, decode_access};
use crate::app::AppState;
use crate::audit::Actor;
use crate::error::{AppError, Result};
use crate::http::ClientIp;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// One role held by an account, with what it grants.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoleGrant {
    /// Role id.
    pub id: i64,
    /// Role name.
    pub name: String,
    /// Built-in code, if any.
    pub code: Option<String>,
    /// Separated duty, if any.
    pub duty: Option<String>,
    /// Data scope kind.
    pub data_scope: String,
    /// Permission codes.
    pub permissions: Vec<String>,
    /// Orgs of a `custom` scope.
    pub custom_org_ids: Vec<i64>,
}

/// An authenticated staff account.
#[derive(Debug, Clone)]
pub struct AdminAuth {
    /// Account id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub name: String,
    /// The org the account works in.
    pub org_id: i64,
    /// That org's materialised path.
    pub org_path: String,
    /// The bootstrap super administrator.
    pub is_super: bool,
    /// First login or reset: only the password change is allowed.
    pub must_change_password: bool,
    /// Current token version.
    pub token_version: i64,
    /// Roles held.
    pub roles: Vec<RoleGrant>,
    /// Client IP of this request.
    pub ip: String,
    /// The staff session of this request's token (`None` outside a request, e.g. at login).
    pub session_id: Option<i64>,
}

impl AdminAuth {
    /// True when the account holds `perm` through any role.
    pub fn has(&self, perm: &str) -> bool {
        self.is_super
            || self
                .roles
                .iter()
                .any(|r| r.permissions.iter().any(|p| p == perm))
    }

    /// Every permission held, sorted.
    pub fn permissions(&self) -> Vec<String> {
        let mut v: Vec<String> = if self.is_super {
            CATALOG.iter().map(|p| p.code.to_string()).collect()
        } else {
            self.roles
                .iter()
                .flat_map(|r| r.permissions.iter().cloned())
                .collect()
        };
        v.sort();
        v.dedup();
        v
    }

    /// The data scope for `perm` (union over roles), or 403 when no role grants it.
    /// An account that must change its password may do nothing else.
    pub fn require(&self, perm: &str) -> Result<Scope> {
        if self.must_change_password {
            return Err(AppError::Forbidden("请先修改初始密码".into()));
        }
        if self.is_super {
            return Ok(Scope::All);
        }
        let mut scope = Scope::empty();
        let mut granted = false;
        for r in self
            .roles
            .iter()
            .filter(|r| r.permissions.iter().any(|p| p == perm))
        {
            granted = true;
            scope.add(
                &r.data_scope,
                self.org_id,
                &self.org_path,
                &r.custom_org_ids,
                self.id,
            );
        }
        if !granted {
            return Err(AppError::Forbidden("没有执行此操作的权限".into()));
        }
        Ok(scope)
    }

    /// This account as an audit actor.
    pub fn actor(&self) -> Actor {
        Actor {
            kind: "admin",
            id: Some(self.id),
            name: self.username.clone(),
            org_id: Some(self.org_id),
            ip: self.ip.clone(),
        }
    }
}

/// Account row as the extractor needs it.
struct Row {
    username: String,
    name: String,
    org_id: i64,
    org_path: String,
    is_super: bool,
    must_change: bool,
    disabled: bool,
    token_version: i64,
}

/// Load an account's roles with their permissions and custom orgs (three queries, no N+1).
pub fn load_roles(conn: &Connection, admin_id: i64) -> Result<Vec<RoleGrant>> {
    let mut st = conn.prepare_cached(
        "SELECT r.id, r.name, r.code, r.duty, r.data_scope FROM admin_roles ar
         JOIN roles r ON r.id = ar.role_id WHERE ar.admin_id = ?1 ORDER BY r.id",
    )?;
    let mut roles: Vec<RoleGrant> = st
        .query_map([admin_id], |r| {
            Ok(RoleGrant {
                id: r.get(0)?,
                name: r.get(1)?,
                code: r.get(2)?,
                duty: r.get(3)?,
                data_scope: r.get(4)?,
                permissions: vec![],
                custom_org_ids: vec![],
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut st = conn.prepare_cached(
        "SELECT rp.role_id, rp.code FROM role_permissions rp
         JOIN admin_roles ar ON ar.role_id = rp.role_id WHERE ar.admin_id = ?1",
    )?;
    for row in st.query_map([admin_id], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
    })? {
        let (rid, code) = row?;
        if let Some(g) = roles.iter_mut().find(|g| g.id == rid) {
            g.permissions.push(code);
        }
    }
    let mut st = conn.prepare_cached(
        "SELECT ro.role_id, ro.org_id FROM role_orgs ro
         JOIN admin_roles ar ON ar.role_id = ro.role_id WHERE ar.admin_id = ?1",
    )?;
    for row in st.query_map([admin_id], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    })? {
        let (rid, org) = row?;
        if let Some(g) = roles.iter_mut().find(|g| g.id == rid) {
            g.custom_org_ids.push(org);
        }
    }
    for g in &mut roles {
        g.permissions.sort();
    }
    Ok(roles)
}

/// Load the principal for account `id`; `None` when it does not exist.
pub fn load_principal(conn: &Connection, id: i64, ip: String) -> Result<Option<(AdminAuth, bool)>> {
    let row = conn
        .prepare_cached(
            "SELECT a.username, a.name, a.org_id, o.path, a.is_super, a.must_change_password, a.disabled,
                    a.token_version
             FROM admins a JOIN orgs o ON o.id = a.org_id WHERE a.id = ?1",
        )?
        .query_row(params![id], |r| {
            Ok(Row {
                username: r.get(0)?,
                name: r.get(1)?,
                org_id: r.get(2)?,
                org_path: r.get(3)?,
                is_super: r.get(4)?,
                must_change: r.get(5)?,
                disabled: r.get(6)?,
                token_version: r.get(7)?,
            })
        })
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let roles = load_roles(conn, id)?;
    Ok(Some((
        AdminAuth {
            id,
            username: row.username,
            name: row.name,
            org_id: row.org_id,
            org_path: row.org_path,
            is_super: row.is_super,
            must_change_password: row.must_change,
            token_version: row.token_version,
            roles,
            ip,
            session_id: None,
        },
        row.disabled,
    )))
}

/// The bearer token of a request, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token = bearer(parts).ok_or_else(|| AppError::Unauthenticated("请先登录".into()))?;
        let claims = decode_access(&state.keys, token, AUD_ADMIN)?;
        let ip = parts
            .extensions
            .get::<ClientIp>()
            .map(|c| c.0.to_string())
            .unwrap_or_default();
        let sub = claims.subject();
        let revoked = || AppError::Unauthenticated("登录已失效，请重新登录".into());
        // Every staff token names its session; one without (or of an ended session) is refused.
        let sid = claims.sid.ok_or_else(revoked)?;
        // The cached principal of this live session, else one read (cached when nothing
        // watched changed meanwhile). An ended session is never cached, so it stays refused.
        let loaded = match state.staff_cache.get(sid, sub) {
            Some((mut me, disabled)) => {
                me.ip = ip;
                Some((me, disabled))
            }
            None => {
                let epoch = state.staff_cache.epoch();
                let loaded = state
                    .db
                    .read(move |c| {
                        let live = crate::system::sessions::is_live(c, sid, sub)?;
                        Ok(if live {
                            load_principal(c, sub, ip)?
                        } else {
                            None
                        })
                    })
                    .await?;
                if let Some((me, disabled)) = &loaded {
                    state.staff_cache.put(sid, me.clone(), *disabled, epoch);
                }
                loaded
            }
        };
        let Some((mut me, disabled)) = loaded else {
            return Err(revoked());
        };
        if disabled || me.token_version != claims.ver {
            return Err(revoked());
        }
        me.session_id = Some(sid);
        Ok(me)
    }
}
