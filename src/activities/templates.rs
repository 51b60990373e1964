//! Registration form templates for staff. A template whose fields are in use by a published or
//! finished activity cannot change its fields (409 `template_in_use`): answers already given
//! must stay valid against the form they were given for. Renaming stays allowed.

use super::form::{FieldDef, check_fields};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::permissions::codes;
use crate::auth::{AdminAuth, Scope};
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, created, ok};
use crate::http::{Page, PageQuery};
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A form template.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Template {
    /// Id.
    pub id: i64,
    /// Owning org (the creator's).
    pub org_id: i64,
    /// Name.
    pub name: String,
    /// Fields.
    pub fields: Vec<FieldDef>,
    /// Activities using it.
    pub used_by: i64,
    /// Last change.
    pub updated_at: String,
}

/// A template to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateIn {
    /// Name.
    pub name: String,
    /// Fields.
    pub fields: Vec<FieldDef>,
}

/// A template change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplatePatch {
    /// New name.
    pub name: Option<String>,
    /// New fields.
    pub fields: Option<Vec<FieldDef>>,
}

const SELECT: &str = "SELECT t.id, t.org_id, t.name, t.fields, t.updated_at,
    (SELECT count(*) FROM activities a WHERE a.form_template_id = t.id) FROM form_templates t";

fn map(r: &rusqlite::Row<'_>) -> rusqlite::Result<Template> {
    let fields: String = r.get(3)?;
    Ok(Template {
        id: r.get(0)?,
        org_id: r.get(1)?,
        name: r.get(2)?,
        fields: serde_json::from_str(&fields).unwrap_or_default(),
        updated_at: crate::time::fmt(r.get(4)?),
        used_by: r.get(5)?,
    })
}

/// Load a template in scope (404 otherwise).
pub fn load_scoped(c: &Connection, scope: &Scope, id: i64) -> Result<Template> {
    let (cond, mut p) = scope.sql("t.org_id", None);
    p.insert(0, Value::Integer(id));
    c.prepare(&format!("{SELECT} WHERE t.id = ? AND {cond}"))?
        .query_row(params_from_iter(p), map)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// The fields of a template, unscoped (for members registering).
pub fn fields_of(c: &Connection, id: i64) -> Result<Vec<FieldDef>> {
    let raw: Option<String> = c
        .prepare_cached("SELECT fields FROM form_templates WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    raw.map(|s| serde_json::from_str(&s).map_err(AppError::internal))
        .transpose()
        .map(Option::unwrap_or_default)
}

fn checked(
    name: Option<&str>,
    fields: Option<&[FieldDef]>,
) -> Result<(Option<String>, Option<String>)> {
    let mut ck = Check::new();
    let name = name.map(|n| ck.text("name", "表单名称", n, 50));
    if let Some(f) = fields {
        check_fields(&mut ck, f);
    }
    ck.finish()?;
    let fields = fields.map(|f| {
        let trimmed: Vec<FieldDef> = f
            .iter()
            .map(|d| FieldDef {
                key: d.key.trim().into(),
                label: d.label.trim().into(),
                options: d
                    .options
                    .as_ref()
                    .map(|o| o.iter().map(|s| s.trim().to_string()).collect()),
                ..d.clone()
            })
            .collect();
        serde_json::to_string(&trimmed).unwrap_or_else(|_| "[]".into())
    });
    Ok((name, fields))
}

/// Templates in scope.
#[utoipa::path(get, path = "/api/v1/admin/form-templates", tag = "活动管理", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<Template>), (status = 403)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Response> {
    let scope = me.require(codes::ACTIVITY_READ)?;
    let pg = q.resolve()?;
    let out = st
        .db
        .read(move |c| {
            let (cond, p) = scope.sql("t.org_id", None);
            crate::http::fetch_page(
                c,
                &format!("SELECT count(*) FROM form_templates t WHERE {cond}"),
                &format!("{SELECT} WHERE {cond} ORDER BY t.id DESC LIMIT ? OFFSET ?"),
                p,
                pg,
                map,
            )
        })
        .await?;
    Ok(ok(out))
}

/// Create a template in the caller's org.
#[utoipa::path(post, path = "/api/v1/admin/form-templates", tag = "活动管理", security(("bearer" = [])), request_body = TemplateIn,
    responses((status = 201, body = Template), (status = 400), (status = 403)))]
pub async fn create(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(req): AppJson<TemplateIn>,
) -> Result<Response> {
    me.require(codes::ACTIVITY_WRITE)?;
    let (name, fields) = checked(Some(&req.name), Some(&req.fields))?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let now = crate::time::now();
            c.execute(
                "INSERT INTO form_templates (org_id, name, fields, created_by, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![me.org_id, name, fields, me.id, now],
            )?;
            let id = c.last_insert_rowid();
            audit::record(c, &actor, &Entry::success("form_template.create", "form_template", id, json!({})))?;
            load_scoped(c, &Scope::All, id)
        })
        .await?;
    Ok(created(out))
}

/// One template.
#[utoipa::path(get, path = "/api/v1/admin/form-templates/{id}", tag = "活动管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "表单 ID")), responses((status = 200, body = Template), (status = 404)))]
pub async fn get(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::ACTIVITY_READ)?;
    Ok(ok(st.db.read(move |c| load_scoped(c, &scope, id)).await?))
}

/// Rename a template or change its fields (409 `template_in_use` when published activities
/// use its fields).
#[utoipa::path(patch, path = "/api/v1/admin/form-templates/{id}", tag = "活动管理", security(("bearer" = [])), request_body = TemplatePatch,
    params(("id" = i64, Path, description = "表单 ID")), responses((status = 200, body = Template), (status = 400), (status = 404), (status = 409)))]
pub async fn patch(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<TemplatePatch>,
) -> Result<Response> {
    let scope = me.require(codes::ACTIVITY_WRITE)?;
    let (name, fields) = checked(req.name.as_deref(), req.fields.as_deref())?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let cur = load_scoped(c, &scope, id)?;
            if let Some(f) = &fields {
                let same = serde_json::to_string(&cur.fields).ok().as_ref() == Some(f);
                let live: i64 = c.query_row(
                    "SELECT count(*) FROM activities WHERE form_template_id = ?1 AND status IN ('published', 'finished')",
                    [id],
                    |r| r.get(0),
                )?;
                if live > 0 && !same {
                    return Err(AppError::conflict_code(
                        "template_in_use",
                        "已发布的活动正在使用此报名表，不能修改表单项；请复制为新表单后修改",
                    ));
                }
            }
            c.execute(
                "UPDATE form_templates SET name = COALESCE(?1, name), fields = COALESCE(?2, fields), updated_at = ?3 WHERE id = ?4",
                params![name, fields, crate::time::now(), id],
            )?;
            let changed: Vec<&str> = [("name", name.is_some()), ("fields", fields.is_some())]
                .iter()
                .filter(|x| x.1)
                .map(|x| x.0)
                .collect();
            audit::record(c, &actor, &Entry::success("form_template.update", "form_template", id, json!({"fields": changed})))?;
            load_scoped(c, &Scope::All, id)
        })
        .await?;
    Ok(ok(out))
}

/// Delete a template no activity uses.
#[utoipa::path(delete, path = "/api/v1/admin/form-templates/{id}", tag = "活动管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "表单 ID")), responses((status = 200), (status = 404), (status = 409)))]
pub async fn delete(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::ACTIVITY_WRITE)?;
    let actor = me.actor();
    st.db
        .write(move |c| {
            let cur = load_scoped(c, &scope, id)?;
            if cur.used_by > 0 {
                return Err(AppError::conflict_code(
                    "template_in_use",
                    "有活动正在使用此报名表，不能删除",
                ));
            }
            c.execute("DELETE FROM form_templates WHERE id = ?1", [id])?;
            audit::record(
                c,
                &actor,
                &Entry::success("form_template.delete", "form_template", id, json!({})),
            )?;
            Ok(())
        })
        .await?;
    Ok(ok(json!({"id": id, "deleted": true})))
}
