//! "What you see is what you may do": the effective scope of every permission the signed-in
//! account holds (for `/me`) and the roles it may grant (for the account form's role picker).

use super::{grants, org_repo};
use crate::app::AppState;
use crate::auth::admin::RoleGrant;
use crate::auth::permissions::codes;
use crate::auth::{AdminAuth, Scope};
use crate::error::{AppError, AppQuery, Result, ok};
use axum::extract::State;
use axum::response::Response;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The data scope of one permission, as the admin UI needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ScopeOut {
    /// `all` (every org) or `limited` (the union below).
    pub kind: String,
    /// Single orgs in scope.
    pub org_ids: Vec<i64>,
    /// Orgs whose whole subtree is in scope.
    pub subtree_org_ids: Vec<i64>,
    /// Rows created by this account are in scope.
    pub own: bool,
}

/// The last id of an org path such as `/1/5/`.
fn path_leaf(path: &str) -> Option<i64> {
    path.trim_end_matches('/').rsplit('/').next()?.parse().ok()
}

impl From<&Scope> for ScopeOut {
    fn from(s: &Scope) -> Self {
        match s {
            Scope::All => ScopeOut {
                kind: "all".into(),
                org_ids: vec![],
                subtree_org_ids: vec![],
                own: false,
            },
            Scope::Limited {
                subtrees,
                orgs,
                owner,
            } => {
                let mut org_ids = orgs.clone();
                org_ids.sort();
                org_ids.dedup();
                let mut subtree_org_ids: Vec<i64> =
                    subtrees.iter().filter_map(|p| path_leaf(p)).collect();
                subtree_org_ids.sort();
                subtree_org_ids.dedup();
                ScopeOut {
                    kind: "limited".into(),
                    org_ids,
                    subtree_org_ids,
                    own: owner.is_some(),
                }
            }
        }
    }
}

/// Effective scopes of `a`: per permission held, its scope, and the permissions whose scope
/// covers the whole org tree (what changing shared settings needs). An account that must
/// change its password may do nothing yet, so both are empty for it.
pub fn effective(
    c: &Connection,
    a: &AdminAuth,
) -> Result<(BTreeMap<String, ScopeOut>, Vec<String>)> {
    let mut scopes = BTreeMap::new();
    let mut whole = Vec::new();
    // Read once: every permission's scope is tested against the same root.
    let root = crate::auth::scope::root_path(c)?;
    for code in a.permissions() {
        // Same function every handler calls, so the answer cannot drift from enforcement.
        let Ok(scope) = a.require(&code) else {
            continue;
        };
        if scope.covers_subtree(&root) {
            whole.push(code.clone());
        }
        scopes.insert(code, ScopeOut::from(&scope));
    }
    Ok((scopes, whole))
}

/// Query of the assignable-roles route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AssignableQuery {
    /// Org of the account that would receive the roles; the caller's own org when absent.
    pub org_id: Option<i64>,
}

/// Roles `me` may grant to an account in `org_id`, judged one by one by
/// [`grants::check_assignable`], the rule account creation and update apply. Refusals
/// (403/400) leave a role out; any other error is a real failure and is returned.
pub fn assignable(c: &Connection, me: &AdminAuth, org_id: Option<i64>) -> Result<Vec<RoleGrant>> {
    let scope = me.require(codes::ACCOUNT_WRITE)?;
    let org = org_repo::get(c, org_id.unwrap_or(me.org_id))?
        .filter(|o| scope.contains_org(o.id, &o.path))
        .ok_or(AppError::NotFound)?;
    let ids: Vec<i64> = c
        .prepare("SELECT id FROM roles ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for r in grants::load_roles_by_ids(c, &ids)? {
        match grants::check_assignable(c, me, &scope, std::slice::from_ref(&r), &org.path) {
            Ok(()) => out.push(r),
            Err(AppError::Forbidden(_) | AppError::Validation(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Roles the caller may grant to an account in the given org (its own by default). A role
/// with a `duty` (三员) cannot be combined with a role of another duty on one account.
#[utoipa::path(get, path = "/api/v1/admin/roles/assignable", tag = "角色", security(("bearer" = [])),
    params(AssignableQuery), responses((status = 200, body = Vec<RoleGrant>), (status = 403), (status = 404)))]
pub async fn assignable_roles(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<AssignableQuery>,
) -> Result<Response> {
    Ok(ok(st
        .db
        .read(move |c| assignable(c, &me, q.org_id))
        .await?))
}
