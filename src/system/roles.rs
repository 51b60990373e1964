//! Roles: permission codes plus a data scope. The three separated duties are locked.

use super::grants;
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::admin::RoleGrant;
use crate::auth::permissions::{self, codes};
use crate::auth::scope::DATA_SCOPES;
use crate::auth::{AdminAuth, Scope, tokens};
use crate::error::{AppError, AppJson, AppPath, Result, created, ok};
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A role as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Role {
    /// The role's grants.
    #[serde(flatten)]
    pub grant: RoleGrant,
    /// Locked roles cannot be changed.
    pub locked: bool,
    /// Accounts holding it.
    pub account_count: i64,
}

/// Create or replace a role.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    /// Unique name.
    pub name: String,
    /// Permission codes from the catalog.
    pub permissions: Vec<String>,
    /// `all`, `org_and_below`, `org`, `custom` or `self`.
    pub data_scope: String,
    /// Orgs for a `custom` scope.
    pub custom_org_ids: Option<Vec<i64>>,
}

/// Load one role with its permissions and custom orgs.
pub fn load_one(c: &Connection, id: i64) -> Result<Option<RoleGrant>> {
    let base = c
        .prepare_cached("SELECT id, name, code, duty, data_scope FROM roles WHERE id = ?1")?
        .query_row([id], |r| {
            Ok(RoleGrant {
                id: r.get(0)?,
                name: r.get(1)?,
                code: r.get(2)?,
                duty: r.get(3)?,
                data_scope: r.get(4)?,
                permissions: vec![],
                custom_org_ids: vec![],
            })
        })
        .optional()?;
    let Some(mut g) = base else { return Ok(None) };
    let mut st =
        c.prepare_cached("SELECT code FROM role_permissions WHERE role_id = ?1 ORDER BY code")?;
    g.permissions = st
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut st =
        c.prepare_cached("SELECT org_id FROM role_orgs WHERE role_id = ?1 ORDER BY org_id")?;
    g.custom_org_ids = st
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(g))
}

/// Roles visible in `scope`: the built-in ones (no org) and those made in an org in scope.
fn list_in(c: &Connection, scope: &Scope) -> Result<Vec<Role>> {
    let (cond, params) = scope.sql("r.org_id", None);
    let mut st = c.prepare(&format!(
        "SELECT r.id, r.locked, (SELECT count(*) FROM admin_roles ar WHERE ar.role_id = r.id)
         FROM roles r WHERE r.org_id IS NULL OR {cond} ORDER BY r.id"
    ))?;
    let rows: Vec<(i64, bool, i64)> = st
        .query_map(rusqlite::params_from_iter(params), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    // Few roles exist (tens); loading each keeps one code path for a role's shape.
    let mut out = Vec::with_capacity(rows.len());
    for (id, locked, account_count) in rows {
        if let Some(grant) = load_one(c, id)? {
            out.push(Role {
                grant,
                locked,
                account_count,
            });
        }
    }
    Ok(out)
}

/// The built-in roles and the roles made within the caller's scope.
#[utoipa::path(get, path = "/api/v1/admin/roles", tag = "角色", security(("bearer" = [])), responses((status = 200, body = Vec<Role>)))]
pub async fn list(State(st): State<AppState>, me: AdminAuth) -> Result<Response> {
    let scope = me.require(codes::ROLE_READ)?;
    Ok(ok(st.db.read(move |c| list_in(c, &scope)).await?))
}

/// Check that `scope` may change role `id`: a role made in an org outside the scope is 404
/// (as if missing); the built-in roles, which belong to no org, need an `all` scope.
fn check_in_scope(c: &Connection, scope: &Scope, id: i64) -> Result<()> {
    let owner: Option<(Option<i64>, Option<String>)> = c
        .query_row(
            "SELECT r.org_id, o.path FROM roles r LEFT JOIN orgs o ON o.id = r.org_id WHERE r.id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match owner {
        Some((Some(org), Some(path))) if scope.contains_org(org, &path) => Ok(()),
        Some((None, _)) if scope.is_all() => Ok(()),
        Some((None, _)) => Err(AppError::Forbidden(
            "内置角色只能由全局范围的管理员修改".into(),
        )),
        _ => Err(AppError::NotFound),
    }
}

struct Valid {
    name: String,
    permissions: Vec<String>,
    data_scope: String,
    custom: Vec<i64>,
}

fn validate(req: RoleInput) -> Result<Valid> {
    let mut ck = Check::new();
    let name = ck.text("name", "角色名称", &req.name, 30);
    ck.one_of("data_scope", "数据范围", &req.data_scope, DATA_SCOPES);
    let mut perms = req.permissions;
    perms.sort();
    perms.dedup();
    if let Some(bad) = perms.iter().find(|p| !permissions::exists(p)) {
        ck.fail("permissions", format!("未知的权限编码：{bad}"));
    }
    let mut custom = req.custom_org_ids.unwrap_or_default();
    custom.sort();
    custom.dedup();
    if req.data_scope == "custom" && custom.is_empty() {
        ck.fail("custom_org_ids", "自定义数据范围须至少选择一个组织");
    }
    if req.data_scope != "custom" && !custom.is_empty() {
        ck.fail("custom_org_ids", "只有自定义数据范围可以指定组织");
    }
    ck.finish()?;
    Ok(Valid {
        name,
        permissions: perms,
        data_scope: req.data_scope,
        custom,
    })
}

fn write_grants(c: &Connection, id: i64, v: &Valid) -> Result<()> {
    c.execute("DELETE FROM role_permissions WHERE role_id = ?1", [id])?;
    c.execute("DELETE FROM role_orgs WHERE role_id = ?1", [id])?;
    for p in &v.permissions {
        c.execute(
            "INSERT INTO role_permissions (role_id, code) VALUES (?1, ?2)",
            params![id, p],
        )?;
    }
    for o in &v.custom {
        let exists: bool =
            c.query_row("SELECT count(*) > 0 FROM orgs WHERE id = ?1", [o], |r| {
                r.get(0)
            })?;
        if !exists {
            return Err(AppError::field(
                "custom_org_ids",
                format!("组织 {o} 不存在"),
            ));
        }
        c.execute(
            "INSERT INTO role_orgs (role_id, org_id) VALUES (?1, ?2)",
            params![id, o],
        )?;
    }
    Ok(())
}

fn as_grant(id: i64, v: &Valid) -> RoleGrant {
    RoleGrant {
        id,
        name: v.name.clone(),
        code: None,
        duty: None,
        data_scope: v.data_scope.clone(),
        permissions: v.permissions.clone(),
        custom_org_ids: v.custom.clone(),
    }
}

fn name_taken(e: rusqlite::Error) -> AppError {
    if crate::error::is_unique_violation(&e) {
        AppError::field("name", "角色名称已存在")
    } else {
        e.into()
    }
}

/// Create a role no wider than the caller's own rights.
#[utoipa::path(post, path = "/api/v1/admin/roles", tag = "角色", security(("bearer" = [])), request_body = RoleInput,
    responses((status = 201, body = Role), (status = 400), (status = 403), (status = 409)))]
pub async fn create(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(req): AppJson<RoleInput>,
) -> Result<Response> {
    let scope = me.require(codes::ROLE_WRITE)?;
    let v = validate(req)?;
    let actor = me.actor();
    let role = st
        .db
        .write(move |c| {
            grants::check_role_within(c, &me, &scope, &as_grant(0, &v), None)?;
            let now = crate::time::now();
            c.execute(
                "INSERT INTO roles (name, data_scope, org_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![v.name, v.data_scope, me.org_id, now],
            )
            .map_err(name_taken)?;
            let id = c.last_insert_rowid();
            write_grants(c, id, &v)?;
            audit::record(c, &actor, &Entry::success("role.create", "role", id, json!({"name": v.name, "permissions": v.permissions, "data_scope": v.data_scope, "custom_org_ids": v.custom})))?;
            let grant = load_one(c, id)?.ok_or(AppError::NotFound)?;
            Ok(Role { grant, locked: false, account_count: 0 })
        })
        .await?;
    Ok(created(role))
}

/// Replace a role's name, permissions and scope; holders' tokens are revoked.
#[utoipa::path(put, path = "/api/v1/admin/roles/{id}", tag = "角色", security(("bearer" = [])), request_body = RoleInput,
    params(("id" = i64, Path, description = "角色 ID")), responses((status = 200, body = Role), (status = 400), (status = 403), (status = 404), (status = 409)))]
pub async fn update(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<RoleInput>,
) -> Result<Response> {
    let scope = me.require(codes::ROLE_WRITE)?;
    let v = validate(req)?;
    let actor = me.actor();
    let role = st
        .db
        .write(move |c| {
            let locked: bool = c
                .query_row("SELECT locked FROM roles WHERE id = ?1", [id], |r| r.get(0))
                .optional()?
                .ok_or(AppError::NotFound)?;
            if locked {
                return Err(AppError::conflict("三员内置角色不能修改"));
            }
            check_in_scope(c, &scope, id)?;
            let old = load_one(c, id)?.ok_or(AppError::NotFound)?;
            // Both the old and the new rights must be within the caller's: no taking over a
            // wider role by editing it.
            grants::check_role_within(c, &me, &scope, &old, None)?;
            let new = as_grant(id, &v);
            grants::check_role_within(c, &me, &scope, &new, None)?;
            // Editing a role changes the rights of every holder: each must be an account
            // the caller could give the new role to.
            let holder_orgs: Vec<(i64, String)> = c
                .prepare(
                    "SELECT a.org_id, o.path FROM admin_roles ar JOIN admins a ON a.id = ar.admin_id
                     JOIN orgs o ON o.id = a.org_id WHERE ar.role_id = ?1",
                )?
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (org_id, path) in &holder_orgs {
                if !scope.contains_org(*org_id, path) {
                    return Err(AppError::Forbidden(
                        "该角色有账号在您的管理范围之外，不能修改".into(),
                    ));
                }
                grants::check_role_within(c, &me, &scope, &new, Some(path))?;
            }
            c.execute(
                "UPDATE roles SET name = ?1, data_scope = ?2, updated_at = ?3 WHERE id = ?4",
                params![v.name, v.data_scope, crate::time::now(), id],
            )
            .map_err(name_taken)?;
            write_grants(c, id, &v)?;
            let holders: Vec<i64> = c
                .prepare("SELECT admin_id FROM admin_roles WHERE role_id = ?1")?
                .query_map([id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            c.execute(
                "UPDATE admins SET token_version = token_version + 1 WHERE id IN (SELECT admin_id FROM admin_roles WHERE role_id = ?1)",
                [id],
            )?;
            for h in &holders {
                tokens::revoke_all(c, tokens::AUD_ADMIN, *h)?;
            }
            audit::record(c, &actor, &Entry::success("role.update", "role", id, json!({
                    "name": {"from": old.name, "to": v.name},
                    "permissions": {"from": old.permissions, "to": v.permissions},
                    "data_scope": {"from": old.data_scope, "to": v.data_scope},
                })))?;
            let grant = load_one(c, id)?.ok_or(AppError::NotFound)?;
            Ok(Role { grant, locked: false, account_count: holders.len() as i64 })
        })
        .await?;
    Ok(ok(role))
}

/// Delete an unassigned, unlocked role.
#[utoipa::path(delete, path = "/api/v1/admin/roles/{id}", tag = "角色", security(("bearer" = [])),
    params(("id" = i64, Path, description = "角色 ID")), responses((status = 200), (status = 404), (status = 409)))]
pub async fn delete(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::ROLE_WRITE)?;
    let actor = me.actor();
    st.db
        .write(move |c| {
            let (locked, holders): (bool, i64) = c
                .query_row(
                    "SELECT locked, (SELECT count(*) FROM admin_roles WHERE role_id = r.id) FROM roles r WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or(AppError::NotFound)?;
            if locked {
                return Err(AppError::conflict("三员内置角色不能删除"));
            }
            check_in_scope(c, &scope, id)?;
            if holders > 0 {
                return Err(AppError::conflict(format!("仍有 {holders} 个账号持有该角色，不能删除")));
            }
            let old = load_one(c, id)?.ok_or(AppError::NotFound)?;
            grants::check_role_within(c, &me, &scope, &old, None)?;
            c.execute("DELETE FROM roles WHERE id = ?1", [id])?;
            audit::record(c, &actor, &Entry::success("role.delete", "role", id, json!({"name": old.name})))?;
            Ok(())
        })
        .await?;
    Ok(ok(json!({})))
}
