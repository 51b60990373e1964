//! Staff accounts: list, view, create, change (org, roles, disabled), reset password.

use super::grants;
use super::orgs::load_in_scope;
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::permissions::codes;
use crate::auth::{AdminAuth, Scope, password, tokens};
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, created, ok};
use crate::http::{Page, PageQuery};
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A role as shown on an account.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoleBrief {
    /// Role id.
    pub id: i64,
    /// Role name.
    pub name: String,
}

/// A staff account as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Account {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub name: String,
    /// Org id.
    pub org_id: i64,
    /// Org name.
    pub org_name: String,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
    /// Must change the password at next login.
    pub must_change_password: bool,
    /// The bootstrap super administrator.
    pub is_super: bool,
    /// Roles held.
    pub roles: Vec<RoleBrief>,
    /// Created at (RFC 3339).
    pub created_at: String,
}

/// Filters for the account list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountQuery {
    /// Only this org.
    pub org_id: Option<i64>,
    /// Username or name contains.
    pub q: Option<String>,
    /// Page, from 1.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Page size (≤ 100).
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

/// Create an account.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    /// Login name: 3–32 letters, digits, `_`, `-`, `.`.
    pub username: String,
    /// Display name.
    pub name: String,
    /// Org the account works in.
    pub org_id: i64,
    /// Roles to hold.
    pub role_ids: Vec<i64>,
    /// Initial password (policy applies); the user must change it at first login.
    pub password: String,
}

/// Change an account.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    /// New display name.
    pub name: Option<String>,
    /// Move to another org.
    pub org_id: Option<i64>,
    /// Replace the roles.
    pub role_ids: Option<Vec<i64>>,
    /// Disable or enable.
    pub disabled: Option<bool>,
}

/// Reset another account's password.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    /// The new password (policy applies); the user must change it at next login.
    pub new_password: String,
}

const SELECT: &str = "SELECT a.id, a.username, a.name, a.org_id, o.name, a.disabled, a.must_change_password, a.is_super, a.created_at
                      FROM admins a JOIN orgs o ON o.id = a.org_id";

fn map(r: &rusqlite::Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        id: r.get(0)?,
        username: r.get(1)?,
        name: r.get(2)?,
        org_id: r.get(3)?,
        org_name: r.get(4)?,
        disabled: r.get(5)?,
        must_change_password: r.get(6)?,
        is_super: r.get(7)?,
        roles: vec![],
        created_at: crate::time::fmt(r.get(8)?),
    })
}

/// Attach role briefs to accounts with one query.
fn attach_roles(c: &Connection, accounts: &mut [Account]) -> Result<()> {
    if accounts.is_empty() {
        return Ok(());
    }
    let qs = vec!["?"; accounts.len()].join(",");
    let mut st = c.prepare(&format!(
        "SELECT ar.admin_id, r.id, r.name FROM admin_roles ar JOIN roles r ON r.id = ar.role_id
         WHERE ar.admin_id IN ({qs}) ORDER BY r.id"
    ))?;
    let ids: Vec<Value> = accounts.iter().map(|a| Value::Integer(a.id)).collect();
    for row in st.query_map(params_from_iter(ids), |r| {
        Ok((
            r.get::<_, i64>(0)?,
            RoleBrief {
                id: r.get(1)?,
                name: r.get(2)?,
            },
        ))
    })? {
        let (aid, brief) = row?;
        if let Some(a) = accounts.iter_mut().find(|a| a.id == aid) {
            a.roles.push(brief);
        }
    }
    Ok(())
}

/// Load one account if it is within `scope`.
fn load_scoped(c: &Connection, scope: &Scope, id: i64) -> Result<Account> {
    let (cond, mut p) = scope.sql("a.org_id", Some("a.id"));
    p.insert(0, Value::Integer(id));
    let acc = c
        .prepare(&format!("{SELECT} WHERE a.id = ? AND {cond}"))?
        .query_row(params_from_iter(p), map)
        .optional()?;
    let mut acc = acc.ok_or(AppError::NotFound)?;
    attach_roles(c, std::slice::from_mut(&mut acc))?;
    Ok(acc)
}

/// List accounts in scope.
#[utoipa::path(get, path = "/api/v1/admin/accounts", tag = "管理员账号", security(("bearer" = [])), params(AccountQuery),
    responses((status = 200, body = Page<Account>)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<AccountQuery>,
) -> Result<Response> {
    let scope = me.require(codes::ACCOUNT_READ)?;
    let (page, size, offset) = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let out = st
        .db
        .read(move |c| {
            let (cond, mut p) = scope.sql("a.org_id", Some("a.id"));
            let mut wh = vec![cond];
            if let Some(o) = q.org_id {
                wh.push("a.org_id = ?".into());
                p.push(Value::Integer(o));
            }
            if let Some(k) = q.q.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
                wh.push("(a.username LIKE ? OR a.name LIKE ?)".into());
                let like = format!("%{}%", k.replace(['%', '_'], ""));
                p.push(Value::Text(like.clone()));
                p.push(Value::Text(like));
            }
            let wh = wh.join(" AND ");
            let count = format!("SELECT count(*) FROM admins a WHERE {wh}");
            let list = format!("{SELECT} WHERE {wh} ORDER BY a.id LIMIT ? OFFSET ?");
            let mut out = crate::http::fetch_page(c, &count, &list, p, (page, size, offset), map)?;
            attach_roles(c, &mut out.items)?;
            Ok(out)
        })
        .await?;
    Ok(ok(out))
}

/// One account in scope.
#[utoipa::path(get, path = "/api/v1/admin/accounts/{id}", tag = "管理员账号", security(("bearer" = [])),
    params(("id" = i64, Path, description = "账号 ID")), responses((status = 200, body = Account), (status = 404)))]
pub async fn get(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::ACCOUNT_READ)?;
    Ok(ok(st.db.read(move |c| load_scoped(c, &scope, id)).await?))
}

fn check_username(ck: &mut Check, u: &str) -> String {
    let u = u.trim().to_lowercase();
    let good = (3..=32).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    if !good {
        ck.fail(
            "username",
            "用户名须为 3 到 32 位字母、数字、下划线、短横线或点",
        );
    }
    u
}

/// Create an account in an org in scope, with roles the caller may grant.
#[utoipa::path(post, path = "/api/v1/admin/accounts", tag = "管理员账号", security(("bearer" = [])), request_body = CreateAccount,
    responses((status = 201, body = Account), (status = 400), (status = 403), (status = 409)))]
pub async fn create(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(req): AppJson<CreateAccount>,
) -> Result<Response> {
    let scope = me.require(codes::ACCOUNT_WRITE)?;
    let mut ck = Check::new();
    let username = check_username(&mut ck, &req.username);
    let name = ck.text("name", "姓名", &req.name, 50);
    if let Err(AppError::Validation(f)) =
        password::check_policy("password", &req.password, &username)
    {
        for (k, v) in f {
            ck.fail(&k, v);
        }
    }
    ck.finish()?;
    let hash = password::hash_async(req.password).await?;
    let actor = me.actor();
    let acc = st
        .db
        .write(move |c| {
            // Out of scope answers 404, like a missing org.
            let org = super::orgs::load_active_in_scope(c, &scope, req.org_id, "org_id", "新建账号")?;
            let roles = grants::load_roles_by_ids(c, &req.role_ids)?;
            grants::check_assignable(c, &me, &scope, &roles, &org.path)?;
            let now = crate::time::now();
            c.execute(
                "INSERT INTO admins (username, name, org_id, password_hash, must_change_password, created_by, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?6)",
                params![username, name, org.id, hash, me.id, now],
            )
            .map_err(|e| if crate::error::is_unique_violation(&e) { AppError::field("username", "用户名已存在") } else { e.into() })?;
            let id = c.last_insert_rowid();
            for r in &roles {
                c.execute("INSERT OR IGNORE INTO admin_roles (admin_id, role_id) VALUES (?1, ?2)", params![id, r.id])?;
            }
            audit::record(c, &actor, &Entry::success("account.create", "admin", id, json!({"username": username, "org_id": org.id, "role_ids": req.role_ids})))?;
            load_scoped(c, &Scope::All, id)
        })
        .await?;
    Ok(created(acc))
}

/// Change an account; role, org or status changes revoke its tokens.
#[utoipa::path(patch, path = "/api/v1/admin/accounts/{id}", tag = "管理员账号", security(("bearer" = [])), request_body = UpdateAccount,
    params(("id" = i64, Path, description = "账号 ID")), responses((status = 200, body = Account), (status = 400), (status = 403), (status = 404)))]
pub async fn update(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<UpdateAccount>,
) -> Result<Response> {
    let scope = me.require(codes::ACCOUNT_WRITE)?;
    let mut ck = Check::new();
    let name = req.name.as_deref().map(|n| ck.text("name", "姓名", n, 50));
    ck.finish()?;
    let actor = me.actor();
    let acc =
        st.db
            .write(move |c| {
                let cur = load_scoped(c, &scope, id)?;
                if cur.is_super && !me.is_super {
                    return Err(AppError::Forbidden("不能修改超级管理员".into()));
                }
                if id == me.id
                    && (req.disabled.is_some() || req.role_ids.is_some() || req.org_id.is_some())
                {
                    return Err(AppError::Forbidden("不能修改自己的组织、角色或状态".into()));
                }
                if req.disabled.is_some() || req.role_ids.is_some() || req.org_id.is_some() {
                    // Disabling or re-homing an account is as strong as granting its roles: a
                    // system admin must not switch off the security or audit admin (三员分立).
                    let cur_org = load_in_scope(c, &scope, cur.org_id)?;
                    let held: Vec<i64> = cur.roles.iter().map(|r| r.id).collect();
                    for r in grants::load_roles_by_ids(c, &held)? {
                        grants::check_role_within(c, &me, &scope, &r, Some(&cur_org.path))
                            .map_err(|_| {
                                AppError::Forbidden(format!(
                                    "该账号持有您无权授予的角色「{}」，不能停用或调整",
                                    r.name
                                ))
                            })?;
                    }
                }
                let mut changed = serde_json::Map::new();
                let mut revoke = false;
                let org_id = req.org_id.unwrap_or(cur.org_id);
                let org = load_in_scope(c, &scope, org_id)?; // out of scope answers 404, like a missing org
                if org_id != cur.org_id {
                    changed.insert("org_id".into(), json!({"from": cur.org_id, "to": org_id}));
                    revoke = true;
                }
                let role_ids: Vec<i64> = match &req.role_ids {
                    Some(r) => r.clone(),
                    None => cur.roles.iter().map(|r| r.id).collect(),
                };
                let roles = grants::load_roles_by_ids(c, &role_ids)?;
                if req.role_ids.is_some() || org_id != cur.org_id {
                    grants::check_assignable(c, &me, &scope, &roles, &org.path)?;
                }
                let old_ids: Vec<i64> = cur.roles.iter().map(|r| r.id).collect();
                if req.role_ids.is_some() {
                    let mut a = old_ids.clone();
                    let mut b = role_ids.clone();
                    a.sort();
                    b.sort();
                    b.dedup();
                    if a != b {
                        c.execute("DELETE FROM admin_roles WHERE admin_id = ?1", [id])?;
                        for r in &roles {
                            c.execute(
                            "INSERT OR IGNORE INTO admin_roles (admin_id, role_id) VALUES (?1, ?2)",
                            params![id, r.id],
                        )?;
                        }
                        changed.insert("role_ids".into(), json!({"from": old_ids, "to": b}));
                        revoke = true;
                    }
                }
                if let Some(d) = req.disabled.filter(|d| *d != cur.disabled) {
                    changed.insert("disabled".into(), json!({"from": cur.disabled, "to": d}));
                    revoke = revoke || d;
                }
                let new_name = name.unwrap_or_else(|| cur.name.clone());
                if new_name != cur.name {
                    changed.insert("name".into(), json!({"from": cur.name, "to": new_name}));
                }
                c.execute(
                    "UPDATE admins SET name = ?1, org_id = ?2, disabled = ?3, updated_at = ?4,
                    token_version = token_version + ?5 WHERE id = ?6",
                    params![
                        new_name,
                        org_id,
                        req.disabled.unwrap_or(cur.disabled),
                        crate::time::now(),
                        revoke as i64,
                        id
                    ],
                )?;
                if revoke {
                    tokens::revoke_all(c, tokens::AUD_ADMIN, id)?;
                }
                audit::record(
                    c,
                    &actor,
                    &Entry::success(
                        "account.update",
                        "admin",
                        id,
                        serde_json::Value::Object(changed),
                    ),
                )?;
                load_scoped(c, &Scope::All, id)
            })
            .await?;
    Ok(ok(acc))
}

/// Set a new password for another account; it must be changed at next login.
#[utoipa::path(post, path = "/api/v1/admin/accounts/{id}/password", tag = "管理员账号", security(("bearer" = [])), request_body = ResetPassword,
    params(("id" = i64, Path, description = "账号 ID")), responses((status = 200), (status = 400), (status = 403), (status = 404)))]
pub async fn reset_password(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<ResetPassword>,
) -> Result<Response> {
    let scope = me.require(codes::ACCOUNT_WRITE)?;
    // A reset needs no old password: on one's own account it would turn a stolen access token
    // into a permanent takeover. The self-service change (with the old password) is the way.
    if id == me.id {
        return Err(AppError::Forbidden(
            "不能重置自己的密码，请在个人中心用原密码修改".into(),
        ));
    }
    let target = {
        let scope = scope.clone();
        st.db.read(move |c| load_scoped(c, &scope, id)).await?
    };
    if target.is_super && !me.is_super {
        return Err(AppError::Forbidden("不能修改超级管理员".into()));
    }
    password::check_policy("new_password", &req.new_password, &target.username)?;
    let hash = password::hash_async(req.new_password).await?;
    let actor = me.actor();
    st.db
        .write(move |c| {
            let target = load_scoped(c, &scope, id)?;
            // Whoever sets a password can sign in as the account: only for an account whose
            // every role the caller could have granted (no taking over wider rights).
            let org = load_in_scope(c, &scope, target.org_id)?;
            let ids: Vec<i64> = target.roles.iter().map(|r| r.id).collect();
            for r in grants::load_roles_by_ids(c, &ids)? {
                grants::check_role_within(c, &me, &scope, &r, Some(&org.path)).map_err(
                    |e| match e {
                        AppError::Forbidden(_) => {
                            AppError::Forbidden("该账号的权限超出您的权限，不能重置其密码".into())
                        }
                        e => e,
                    },
                )?;
            }
            set_password(c, id, &hash, true)?;
            audit::record(
                c,
                &actor,
                &Entry::success("account.reset_password", "admin", id, json!({})),
            )?;
            Ok(())
        })
        .await?;
    Ok(ok(json!({})))
}

/// Store a new password hash, revoke every token and record a reset in the login log (which
/// also clears a lockout).
pub fn set_password(c: &Connection, id: i64, hash: &str, must_change: bool) -> Result<()> {
    c.execute(
        "UPDATE admins SET password_hash = ?1, must_change_password = ?2, token_version = token_version + 1, updated_at = ?3 WHERE id = ?4",
        params![hash, must_change, crate::time::now(), id],
    )?;
    tokens::revoke_all(c, tokens::AUD_ADMIN, id)?;
    c.execute(
        "INSERT INTO login_logs (at, audience, username, admin_id, org_id, ip, success, reason)
         SELECT ?1, 'admin', username, id, org_id, '', 1, 'password_reset' FROM admins WHERE id = ?2",
        params![crate::time::now(), id],
    )?;
    Ok(())
}
