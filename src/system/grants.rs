//! Rules for handing out roles: nobody grants a permission they lack, a data scope wider than
//! their own, or two of the three separated duties (三员) to one account.

use super::org_repo;
use crate::auth::admin::RoleGrant;
use crate::auth::{AdminAuth, Scope};
use crate::error::{AppError, Result};
use rusqlite::{Connection, OptionalExtension};

/// Load roles by id with permissions and custom orgs; unknown ids are a field error.
pub fn load_roles_by_ids(c: &Connection, ids: &[i64]) -> Result<Vec<RoleGrant>> {
    let mut out = Vec::new();
    for id in ids {
        // Role lists are a handful of ids; the per-id lookups are index hits.
        let r = super::roles::load_one(c, *id)?
            .ok_or_else(|| AppError::field("role_ids", format!("角色 {id} 不存在")))?;
        out.push(r);
    }
    Ok(out)
}

/// Check that `me`, acting with `assign_scope`, may give `roles` to an account in `target_org_path`.
pub fn check_assignable(
    c: &Connection,
    me: &AdminAuth,
    assign_scope: &Scope,
    roles: &[RoleGrant],
    target_org_path: &str,
) -> Result<()> {
    let mut duties: Vec<&str> = roles.iter().filter_map(|r| r.duty.as_deref()).collect();
    duties.sort();
    duties.dedup();
    if duties.len() > 1 {
        return Err(AppError::field(
            "role_ids",
            "系统管理员、安全保密管理员、安全审计员三类角色不能授予同一账号",
        ));
    }
    for r in roles {
        check_role_visible(c, assign_scope, r.id)?;
        check_role_within(c, me, assign_scope, r, Some(target_org_path))?;
    }
    Ok(())
}

/// A role made by an org (not built in) is that org's object: it can be given only by staff
/// whose scope covers the org, as it can only be seen and edited by them. Otherwise it answers
/// like an unknown role, so a neighbour's roles are neither usable nor discoverable.
fn check_role_visible(c: &Connection, scope: &Scope, role_id: i64) -> Result<()> {
    let owner: Option<(i64, String)> = c
        .prepare_cached(
            "SELECT o.id, o.path FROM roles r JOIN orgs o ON o.id = r.org_id WHERE r.id = ?1",
        )?
        .query_row([role_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match owner {
        Some((org_id, path)) if !scope.contains_org(org_id, &path) => Err(AppError::field(
            "role_ids",
            format!("角色 {role_id} 不存在"),
        )),
        _ => Ok(()),
    }
}

/// Check that a role's permissions and scope do not exceed the caller's own.
/// `my_scope` is the caller's scope for the granting permission (`role:write` or
/// `account:write`); the role's scope must also fit the caller's scope for each permission
/// it grants, so that a narrow right cannot be handed out with a wider scope.
/// `target_org_path` is the org of the account receiving it, when known.
pub fn check_role_within(
    c: &Connection,
    me: &AdminAuth,
    my_scope: &Scope,
    r: &RoleGrant,
    target_org_path: Option<&str>,
) -> Result<()> {
    if let Some(p) = r.permissions.iter().find(|p| !me.has(p)) {
        return Err(AppError::Forbidden(format!(
            "不能授予您自己没有的权限：{p}"
        )));
    }
    check_scope_within(c, my_scope, r, target_org_path)?;
    for p in &r.permissions {
        check_scope_within(c, &me.require(p)?, r, target_org_path)?;
    }
    Ok(())
}

/// Check that a role's data scope fits inside `my_scope`.
fn check_scope_within(
    c: &Connection,
    my_scope: &Scope,
    r: &RoleGrant,
    target_org_path: Option<&str>,
) -> Result<()> {
    if my_scope.is_all() {
        return Ok(());
    }
    let wider = || AppError::Forbidden(format!("角色「{}」的数据范围超出您的管理范围", r.name));
    match r.data_scope.as_str() {
        "all" => return Err(wider()),
        "org" => {
            // The holder's own org: the last id of its path.
            let own = |p: &str| {
                p.trim_end_matches('/')
                    .rsplit('/')
                    .next()?
                    .parse::<i64>()
                    .ok()
            };
            if let Some(path) = target_org_path
                && !own(path).is_some_and(|id| my_scope.contains_org(id, path))
            {
                return Err(wider());
            }
        }
        "org_and_below" => {
            if let Some(path) = target_org_path
                && !my_scope.covers_subtree(path)
            {
                return Err(wider());
            }
        }
        "custom" => {
            for oid in &r.custom_org_ids {
                let inside =
                    org_repo::get(c, *oid)?.is_some_and(|o| my_scope.contains_org(o.id, &o.path));
                if !inside {
                    return Err(wider());
                }
            }
        }
        _ => {}
    }
    Ok(())
}
