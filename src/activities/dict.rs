//! The `activity_category` dictionary: built-in codes plus codes staff add.

use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppError, AppJson, AppPath, Result, created, ok};
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The only dictionary served here.
pub const ACTIVITY_CATEGORY: &str = "activity_category";

/// One dictionary entry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Item {
    /// Code.
    pub code: String,
    /// Chinese name.
    pub name: String,
    /// Shipped with the system.
    pub builtin: bool,
}

/// A new entry.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemIn {
    /// Code (letters, digits, `_`, `-`).
    pub code: String,
    /// Chinese name.
    pub name: String,
}

fn known(dict: &str) -> Result<()> {
    if dict == ACTIVITY_CATEGORY {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Entries of a dictionary (a short list, not paginated: at most a few dozen codes).
#[utoipa::path(get, path = "/api/v1/admin/dictionaries/{dict}", tag = "活动管理", security(("bearer" = [])),
    params(("dict" = String, Path, description = "字典，目前为 activity_category")), responses((status = 200, body = Vec<Item>), (status = 404)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(dict): AppPath<String>,
) -> Result<Response> {
    me.require(codes::ACTIVITY_READ)?;
    known(&dict)?;
    Ok(ok(st.db.read(move |c| items(c, &dict)).await?))
}

/// Every entry of `dict`, in display order.
pub fn items(c: &rusqlite::Connection, dict: &str) -> Result<Vec<Item>> {
    let mut s = c.prepare_cached(
        "SELECT code, name, builtin FROM dictionary_items WHERE dict = ?1 ORDER BY sort, code LIMIT 500",
    )?;
    let v = s
        .query_map([dict], |r| {
            Ok(Item {
                code: r.get(0)?,
                name: r.get(1)?,
                builtin: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(v)
}

/// Add an entry (needs `activity:write` over the whole org tree); 409 when the code exists.
#[utoipa::path(post, path = "/api/v1/admin/dictionaries/{dict}", tag = "活动管理", security(("bearer" = [])), request_body = ItemIn,
    params(("dict" = String, Path, description = "字典，目前为 activity_category")),
    responses((status = 201, body = Item), (status = 400), (status = 403), (status = 404), (status = 409)))]
pub async fn create(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(dict): AppPath<String>,
    AppJson(req): AppJson<ItemIn>,
) -> Result<Response> {
    let scope = me.require(codes::ACTIVITY_WRITE)?;
    known(&dict)?;
    let mut ck = Check::new();
    let code = ck.code("code", "类别编码", &req.code, 32);
    let name = ck.text("name", "类别名称", &req.name, 20);
    ck.finish()?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            scope.require_whole_tree(c, "字典")?;
            let n: i64 = c.query_row("SELECT count(*) FROM dictionary_items WHERE dict = ?1", [&dict], |r| r.get(0))?;
            if n >= 500 {
                return Err(AppError::conflict("字典条目已达上限"));
            }
            c.execute(
                "INSERT INTO dictionary_items (dict, code, name, sort, builtin, created_at) VALUES (?1, ?2, ?3, 100, 0, ?4)",
                params![dict, code, name, crate::time::now()],
            )
            .map_err(|e| {
                if crate::error::is_unique_violation(&e) {
                    AppError::conflict_code("code_taken", "该类别编码已存在")
                } else {
                    e.into()
                }
            })?;
            audit::record(c, &actor, &Entry::success("dictionary.create", "dictionary", format!("{dict}:{code}"), json!({"name": name})))?;
            Ok(Item { code, name, builtin: false })
        })
        .await?;
    Ok(created(out))
}
