//! Aid types (帮扶类型) and their approval flows. The dictionary is shared by the whole tree,
//! so it is changed only with `aid:type` over the whole tree; changing a flow never changes
//! applications already submitted (they carry their own resolved steps, see `aid_steps`).

use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppError, AppJson, AppPath, Result, created, ok};
use crate::members::auth::MemberAuth;
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Org kinds a step can name.
pub const LEVELS: &[&str] = &["grassroots", "county", "prefecture"];
/// Most steps in one flow.
pub const MAX_STEPS: usize = 6;

/// One step of a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Step name, e.g. 县级审核.
    #[schema(max_length = 20)]
    pub name: String,
    /// Org kind that decides it: `grassroots`, `county` or `prefecture`.
    #[schema(pattern = "^(grassroots|county|prefecture)$")]
    pub level: String,
}

/// An aid type with its flow.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AidType {
    /// Id.
    pub id: i64,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Approval steps in order.
    pub steps: Vec<Step>,
    /// An approved application enters the 困难职工 register.
    pub registers: bool,
    /// Members may apply.
    pub enabled: bool,
    /// Display order.
    pub sort: i64,
}

/// A new type, or the fields to change (PATCH: every field optional).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TypeIn {
    /// Code (letters, digits, `_`, `-`); only on create.
    #[schema(max_length = 32)]
    pub code: Option<String>,
    /// Name.
    #[schema(max_length = 20)]
    pub name: Option<String>,
    /// Description.
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Steps in order, 1 to 6.
    #[schema(min_items = 1, max_items = 6)]
    pub steps: Option<Vec<Step>>,
    /// Approved applications enter the register.
    pub registers: Option<bool>,
    /// Members may apply.
    pub enabled: Option<bool>,
    /// Display order.
    #[schema(minimum = 0, maximum = 10000)]
    pub sort: Option<i64>,
}

const COLS: &str = "id, code, name, description, steps, registers, enabled, sort FROM aid_types";

fn map(r: &rusqlite::Row<'_>) -> rusqlite::Result<AidType> {
    let steps: String = r.get(4)?;
    Ok(AidType {
        id: r.get(0)?,
        code: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        steps: serde_json::from_str(&steps).unwrap_or_default(),
        registers: r.get(5)?,
        enabled: r.get(6)?,
        sort: r.get(7)?,
    })
}

/// Every type (a short dictionary), in display order.
pub fn all(c: &Connection, only_enabled: bool) -> Result<Vec<AidType>> {
    let sql = format!("SELECT {COLS} WHERE (?1 = 0 OR enabled = 1) ORDER BY sort, id LIMIT 200");
    Ok(c.prepare_cached(&sql)?
        .query_map([only_enabled], map)?
        .collect::<rusqlite::Result<_>>()?)
}

/// One type, 404 when missing.
pub fn load(c: &Connection, id: i64) -> Result<AidType> {
    c.prepare_cached(&format!("SELECT {COLS} WHERE id = ?1"))?
        .query_row([id], map)
        .optional()?
        .ok_or(AppError::NotFound)
}

fn check_steps(ck: &mut Check, steps: &[Step]) {
    if steps.is_empty() || steps.len() > MAX_STEPS {
        ck.fail("steps", format!("审批步骤须为 1 到 {MAX_STEPS} 步"));
    }
    for (i, s) in steps.iter().enumerate() {
        ck.text(&format!("steps[{i}].name"), "步骤名称", &s.name, 20);
        ck.one_of(&format!("steps[{i}].level"), "审批层级", &s.level, LEVELS);
    }
}

/// Aid types for members: enabled ones with their step names.
#[utoipa::path(get, path = "/api/v1/app/aid/types", tag = "帮扶服务", security(("bearer" = [])),
    responses((status = 200, body = Vec<AidType>), (status = 401)))]
pub async fn app_list(State(st): State<AppState>, _me: MemberAuth) -> Result<Response> {
    Ok(ok(st.db.read(|c| all(c, true)).await?))
}

/// One cause of hardship (致困原因).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Reason {
    /// Code sent as `reason_code`, e.g. `illness`.
    pub code: &'static str,
    /// Chinese name, e.g. 因病.
    pub name: &'static str,
}

/// Causes of hardship for members, in display order: the dictionary an application's
/// `reason_code` is checked against (staff read it as `aid_reason` in `/api/v1/admin/dictionaries`).
#[utoipa::path(get, path = "/api/v1/app/aid/reasons", tag = "帮扶服务", security(("bearer" = [])),
    responses((status = 200, body = Vec<Reason>), (status = 401)))]
pub async fn app_reasons(_me: MemberAuth) -> Result<Response> {
    Ok(ok(crate::aid::model::REASONS
        .iter()
        .map(|(code, name)| Reason { code, name })
        .collect::<Vec<_>>()))
}

/// Every aid type with its flow (`aid:read` or `aid:type`).
#[utoipa::path(get, path = "/api/v1/admin/aid/types", tag = "帮扶服务", security(("bearer" = [])),
    responses((status = 200, body = Vec<AidType>), (status = 403)))]
pub async fn list(State(st): State<AppState>, me: AdminAuth) -> Result<Response> {
    if me.require(codes::AID_TYPE).is_err() {
        me.require(codes::AID_READ)?;
    }
    Ok(ok(st.db.read(|c| all(c, false)).await?))
}

/// Add an aid type (`aid:type` over the whole tree); `409 type_exists` on a taken code or name.
#[utoipa::path(post, path = "/api/v1/admin/aid/types", tag = "帮扶服务", security(("bearer" = [])), request_body = TypeIn,
    responses((status = 201, body = AidType), (status = 400), (status = 403), (status = 409)))]
pub async fn create(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(req): AppJson<TypeIn>,
) -> Result<Response> {
    let scope = me.require(codes::AID_TYPE)?;
    let mut ck = Check::new();
    let code = ck.code("code", "类型编码", req.code.as_deref().unwrap_or(""), 32);
    let name = ck.text("name", "类型名称", req.name.as_deref().unwrap_or(""), 20);
    let description = req.description.clone().unwrap_or_default();
    if description.chars().count() > 500 {
        ck.fail("description", "说明不能超过 500 个字");
    }
    let steps = req.steps.clone().unwrap_or_default();
    check_steps(&mut ck, &steps);
    if req.sort.is_some_and(|s| !(0..=10000).contains(&s)) {
        ck.fail("sort", "排序须在 0 到 10000 之间");
    }
    ck.finish()?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            scope.require_whole_tree(c, "帮扶类型")?;
            let now = crate::time::now();
            let r = c.execute(
                "INSERT INTO aid_types (code, name, description, steps, registers, enabled, sort, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                params![code, name, description, serde_json::to_string(&steps).map_err(AppError::internal)?,
                    req.registers.unwrap_or(false), req.enabled.unwrap_or(true), req.sort.unwrap_or(100), now],
            );
            match r {
                Err(e) if crate::error::is_unique_violation(&e) => {
                    return Err(AppError::conflict_code("type_exists", "类型编码或名称已存在"));
                }
                r => r?,
            };
            let id = c.last_insert_rowid();
            audit::record(c, &actor, &Entry::success("aid.type_create", "aid_type", id, json!({"code": code, "name": name})))?;
            load(c, id)
        })
        .await?;
    Ok(created(out))
}

/// Change an aid type (`aid:type` over the whole tree). A new flow applies to applications
/// submitted from now on; those already submitted keep theirs.
#[utoipa::path(patch, path = "/api/v1/admin/aid/types/{id}", tag = "帮扶服务", security(("bearer" = [])), request_body = TypeIn,
    params(("id" = i64, Path, description = "帮扶类型 ID")),
    responses((status = 200, body = AidType), (status = 400), (status = 403), (status = 404), (status = 409)))]
pub async fn patch(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<TypeIn>,
) -> Result<Response> {
    let scope = me.require(codes::AID_TYPE)?;
    let mut ck = Check::new();
    if req.code.is_some() {
        ck.fail("code", "类型编码创建后不能修改");
    }
    let name = req
        .name
        .as_deref()
        .map(|n| ck.text("name", "类型名称", n, 20));
    if req
        .description
        .as_deref()
        .is_some_and(|d| d.chars().count() > 500)
    {
        ck.fail("description", "说明不能超过 500 个字");
    }
    if let Some(s) = &req.steps {
        check_steps(&mut ck, s);
    }
    if req.sort.is_some_and(|s| !(0..=10000).contains(&s)) {
        ck.fail("sort", "排序须在 0 到 10000 之间");
    }
    ck.finish()?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            scope.require_whole_tree(c, "帮扶类型")?;
            let cur = load(c, id)?;
            let mut fields = Vec::new();
            if name.is_some() { fields.push("name"); }
            if req.description.is_some() { fields.push("description"); }
            if req.steps.is_some() { fields.push("steps"); }
            if req.registers.is_some() { fields.push("registers"); }
            if req.enabled.is_some() { fields.push("enabled"); }
            if req.sort.is_some() { fields.push("sort"); }
            let steps = req.steps.unwrap_or(cur.steps);
            let r = c.execute(
                "UPDATE aid_types SET name = ?1, description = ?2, steps = ?3, registers = ?4, enabled = ?5, sort = ?6, updated_at = ?7 WHERE id = ?8",
                params![name.unwrap_or(cur.name), req.description.unwrap_or(cur.description),
                    serde_json::to_string(&steps).map_err(AppError::internal)?, req.registers.unwrap_or(cur.registers),
                    req.enabled.unwrap_or(cur.enabled), req.sort.unwrap_or(cur.sort), crate::time::now(), id],
            );
            match r {
                Err(e) if crate::error::is_unique_violation(&e) => {
                    return Err(AppError::conflict_code("type_exists", "类型名称已存在"));
                }
                r => r?,
            };
            audit::record(c, &actor, &Entry::success("aid.type_update", "aid_type", id, json!({"fields": fields})))?;
            load(c, id)
        })
        .await?;
    Ok(ok(out))
}
