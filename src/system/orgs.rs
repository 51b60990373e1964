//! Org tree routes: list as a tree within scope, create, rename/move, delete-if-empty.

use super::org_repo::{self, KINDS, Org};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppError, AppJson, AppPath, Result, created, ok};
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// An org with its children, for the tree view.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrgNode {
    /// The org.
    #[serde(flatten)]
    pub org: Org,
    /// Children within scope.
    #[schema(no_recursion)]
    pub children: Vec<OrgNode>,
}

/// Create an org.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrg {
    /// Parent org id.
    pub parent_id: i64,
    /// Name (1–50 characters).
    pub name: String,
    /// Unique code (letters, digits, `_`, `-`).
    pub code: String,
    /// `prefecture`, `county`, `grassroots` or `other`.
    pub kind: String,
}

/// Change an org; moving carries the whole subtree.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrg {
    /// New name.
    pub name: Option<String>,
    /// New code.
    pub code: Option<String>,
    /// New parent (moves the subtree).
    pub parent_id: Option<i64>,
    /// `active` or `disabled` (停用). The root org, and the caller's own org or an ancestor of
    /// it, cannot be disabled.
    #[schema(pattern = "^(active|disabled)$")]
    pub status: Option<String>,
    /// Order among its siblings, 0–9999 (smaller first).
    #[schema(minimum = 0, maximum = 9999)]
    pub sort: Option<i64>,
}

/// Org statuses.
pub const STATUSES: &[&str] = &["active", "disabled"];

/// Build trees from a flat, scope-filtered list: an org whose parent is not in the list is a root.
pub fn build_tree(orgs: Vec<Org>) -> Vec<OrgNode> {
    use std::collections::HashMap;
    let ids: std::collections::HashSet<i64> = orgs.iter().map(|o| o.id).collect();
    let mut children: HashMap<i64, Vec<Org>> = HashMap::new();
    let mut roots = Vec::new();
    for o in orgs {
        match o.parent_id {
            Some(p) if ids.contains(&p) => children.entry(p).or_default().push(o),
            _ => roots.push(o),
        }
    }
    fn attach(o: Org, children: &mut HashMap<i64, Vec<Org>>) -> OrgNode {
        let kids = children.remove(&o.id).unwrap_or_default();
        OrgNode {
            children: kids.into_iter().map(|k| attach(k, children)).collect(),
            org: o,
        }
    }
    roots
        .into_iter()
        .map(|r| attach(r, &mut children))
        .collect()
}

/// The org tree within the caller's scope.
#[utoipa::path(get, path = "/api/v1/admin/orgs", tag = "组织", security(("bearer" = [])),
    responses((status = 200, description = "组织树", body = Vec<OrgNode>)))]
pub async fn list(State(st): State<AppState>, me: AdminAuth) -> Result<Response> {
    let scope = me.require(codes::ORG_READ)?;
    let orgs = st
        .db
        .read(move |c| {
            let (cond, params) = scope.sql("orgs.id", None);
            org_repo::list_where(c, &cond, params)
        })
        .await?;
    Ok(ok(build_tree(orgs)))
}

/// Load an org that must be in `scope` (else 404, same as missing).
pub fn load_in_scope(c: &rusqlite::Connection, scope: &crate::auth::Scope, id: i64) -> Result<Org> {
    match org_repo::get(c, id)? {
        Some(o) if scope.contains_org(o.id, &o.path) => Ok(o),
        _ => Err(AppError::NotFound),
    }
}

/// Load an org in `scope` that something new is placed in: a disabled (停用) org answers a
/// field error on `field` saying `what` cannot be added there.
pub fn load_active_in_scope(
    c: &rusqlite::Connection,
    scope: &crate::auth::Scope,
    id: i64,
    field: &str,
    what: &str,
) -> Result<Org> {
    let org = load_in_scope(c, scope, id)?;
    if org.status == "disabled" {
        return Err(AppError::field(
            field,
            format!("“{}”已停用，不能在其下{what}", org.name),
        ));
    }
    Ok(org)
}

/// Create an org under a parent in scope.
#[utoipa::path(post, path = "/api/v1/admin/orgs", tag = "组织", security(("bearer" = [])), request_body = CreateOrg,
    responses((status = 201, body = Org), (status = 400), (status = 404, description = "上级组织不存在或不在管理范围内"), (status = 409)))]
pub async fn create(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(req): AppJson<CreateOrg>,
) -> Result<Response> {
    let scope = me.require(codes::ORG_WRITE)?;
    let mut ck = Check::new();
    let name = ck.text("name", "组织名称", &req.name, 50);
    let code = ck.code("code", "组织编码", &req.code, 32);
    ck.one_of("kind", "组织类型", &req.kind, KINDS);
    ck.finish()?;
    let actor = me.actor();
    let org = st
        .db
        .write(move |c| {
            // Out of scope answers 404, like a missing org.
            let parent = load_active_in_scope(c, &scope, req.parent_id, "parent_id", "新建组织")?;
            // The new org must itself fall inside the caller's scope.
            if !scope.covers_subtree(&format!("{}0/", parent.path)) {
                return Err(AppError::Forbidden("新组织将超出您的管理范围".into()));
            }
            let org = org_repo::insert(c, &parent, &name, &code, &req.kind)?;
            audit::record(c, &actor, &Entry::success("org.create", "org", org.id, json!({"name": org.name, "code": org.code, "kind": org.kind, "parent_id": parent.id})))?;
            Ok(org)
        })
        .await?;
    Ok(created(org))
}

/// Rename, recode or move an org; set its status (停用) and sort order.
#[utoipa::path(patch, path = "/api/v1/admin/orgs/{id}", tag = "组织", security(("bearer" = [])), request_body = UpdateOrg,
    params(("id" = i64, Path, description = "组织 ID")),
    responses((status = 200, body = Org), (status = 400), (status = 404), (status = 409)))]
pub async fn update(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<UpdateOrg>,
) -> Result<Response> {
    let scope = me.require(codes::ORG_WRITE)?;
    let mut ck = Check::new();
    let name = req
        .name
        .as_deref()
        .map(|n| ck.text("name", "组织名称", n, 50));
    let code = req
        .code
        .as_deref()
        .map(|c| ck.code("code", "组织编码", c, 32));
    if let Some(s) = &req.status {
        ck.one_of("status", "组织状态", s, STATUSES);
    }
    if req.sort.is_some_and(|s| !(0..=9999).contains(&s)) {
        ck.fail("sort", "排序须为 0 到 9999 之间的整数");
    }
    ck.finish()?;
    let actor = me.actor();
    let actor_org = me.org_id;
    let org = st
        .db
        .write(move |c| {
            let org = load_in_scope(c, &scope, id)?;
            let mut changed = serde_json::Map::new();
            let new_name = name.unwrap_or_else(|| org.name.clone());
            let new_code = code.unwrap_or_else(|| org.code.clone());
            if new_name != org.name {
                changed.insert("name".into(), json!({"from": org.name, "to": new_name}));
            }
            if new_code != org.code {
                changed.insert("code".into(), json!({"from": org.code, "to": new_code}));
            }
            let new_status = req.status.clone().unwrap_or_else(|| org.status.clone());
            if new_status != org.status {
                if org.parent_id.is_none() {
                    return Err(AppError::field("status", "根组织不能停用"));
                }
                // Disabling the org the caller works in, or one above it, would shut the
                // caller out of its own work: refused, whoever it is (another account above
                // may still do it).
                if new_status == "disabled" && disables_own_org(c, actor_org, &org)? {
                    return Err(AppError::field(
                        "status",
                        "不能停用您所在的组织或其上级组织，否则您将无法继续管理",
                    ));
                }
                changed.insert(
                    "status".into(),
                    json!({"from": org.status, "to": new_status}),
                );
            }
            let new_sort = req.sort.unwrap_or(org.sort);
            if new_sort != org.sort {
                changed.insert("sort".into(), json!({"from": org.sort, "to": new_sort}));
            }
            org_repo::update_fields(c, id, &new_name, &new_code, &new_status, new_sort)?;
            if let Some(pid) = req.parent_id.filter(|p| Some(*p) != org.parent_id) {
                if org.parent_id.is_none() {
                    return Err(AppError::field("parent_id", "根组织不能移动"));
                }
                // Out of scope answers 404, like a missing org.
                let parent = load_in_scope(c, &scope, pid)?;
                if parent.path.starts_with(&org.path) {
                    return Err(AppError::field(
                        "parent_id",
                        "不能移动到自身或其下级组织之下",
                    ));
                }
                // A move carries every descendant: the whole subtree must be in scope, before
                // and after (as for a new org), or orgs outside the scope would move too.
                if !scope.covers_subtree(&org.path) {
                    return Err(AppError::Forbidden(
                        "该组织的下级组织不全在您的管理范围内，不能移动".into(),
                    ));
                }
                let new_path = format!("{}{}/", parent.path, org.id);
                if !scope.covers_subtree(&new_path) {
                    return Err(AppError::Forbidden("移动后将超出您的管理范围".into()));
                }
                org_repo::move_subtree(c, &org, &parent)?;
                changed.insert(
                    "parent_id".into(),
                    json!({"from": org.parent_id, "to": pid}),
                );
            }
            audit::record(
                c,
                &actor,
                &Entry::success("org.update", "org", id, serde_json::Value::Object(changed)),
            )?;
            org_repo::get(c, id)?.ok_or(AppError::NotFound)
        })
        .await?;
    Ok(ok(org))
}

/// True when `org` is the org `actor_org` or one of its ancestors (read from the database, so
/// a move since the token was issued counts).
fn disables_own_org(c: &rusqlite::Connection, actor_org: i64, org: &Org) -> Result<bool> {
    Ok(org_repo::get(c, actor_org)?.is_some_and(|own| own.path.starts_with(&org.path)))
}

/// Delete an org that has no children, accounts or members.
#[utoipa::path(delete, path = "/api/v1/admin/orgs/{id}", tag = "组织", security(("bearer" = [])),
    params(("id" = i64, Path, description = "组织 ID")),
    responses((status = 200), (status = 404), (status = 409, description = "仍有下级组织、成员或账号")))]
pub async fn delete(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::ORG_WRITE)?;
    let actor = me.actor();
    st.db
        .write(move |c| {
            let org = load_in_scope(c, &scope, id)?;
            if org.parent_id.is_none() {
                return Err(AppError::conflict("根组织不能删除"));
            }
            let deps = org_repo::dependents(c, id)?;
            if !deps.is_empty() {
                return Err(AppError::conflict(format!(
                    "该组织下仍有{}，不能删除",
                    deps.join("、")
                )));
            }
            org_repo::delete(c, id)?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "org.delete",
                    "org",
                    id,
                    json!({"name": org.name, "code": org.code}),
                ),
            )?;
            Ok(())
        })
        .await?;
    Ok(ok(json!({})))
}
