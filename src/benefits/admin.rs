//! Staff side of benefits: list, create, edit, delete drafts, publish, close. Every read and
//! write is limited to the caller's scope.

use super::model::{Benefit, BenefitData, BenefitIn, BenefitRow, SELECT, STATUSES, map_row};
use super::repo::load_scoped;
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::permissions::codes;
use crate::auth::{AdminAuth, Scope};
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, created, ok};
use crate::http::{Page, PageQuery};
use crate::system::orgs::load_in_scope;
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, params, types::Value};
use serde::Deserialize;
use serde_json::json;

/// Filters for the staff benefit list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BenefitQuery {
    /// `draft`, `published` or `closed`.
    #[param(pattern = "^(draft|published|closed)$")]
    pub status: Option<String>,
    /// Page.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

/// Benefits in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/admin/benefits", tag = "权益管理", security(("bearer" = [])), params(BenefitQuery),
    responses((status = 200, body = Page<Benefit>), (status = 400), (status = 403)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<BenefitQuery>,
) -> Result<Response> {
    let scope = me.require(codes::BENEFIT_READ)?;
    let pg = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let (cond, mut p) = scope.sql("b.org_id", None);
    let mut wh = vec![cond];
    if let Some(s) = q.status.filter(|s| !s.is_empty()) {
        if !STATUSES.contains(&s.as_str()) {
            return Err(AppError::field(
                "status",
                "状态只能是 draft、published 或 closed",
            ));
        }
        wh.push("b.status = ?".into());
        p.push(Value::Text(s));
    }
    let wh = wh.join(" AND ");
    let out = st
        .db
        .read(move |c| {
            crate::http::fetch_page(
                c,
                &format!("SELECT count(*) FROM benefits b WHERE {wh}"),
                &format!("{SELECT} WHERE {wh} ORDER BY b.id DESC LIMIT ? OFFSET ?"),
                p,
                pg,
                |r| map_row(r).map(|b| b.view),
            )
        })
        .await?;
    Ok(ok(out))
}

/// Org in scope (404) and a live public cover image (field error).
fn check_refs(c: &Connection, scope: &Scope, d: &BenefitData) -> Result<()> {
    load_in_scope(c, scope, d.org_id)?;
    let mut ck = Check::new();
    if let Some(f) = d.cover_file_id {
        let good: bool = c.query_row(
            "SELECT count(*) > 0 FROM files WHERE id = ?1 AND deleted_at IS NULL AND visibility = 'public' AND content_type LIKE 'image/%'",
            [f],
            |r| r.get(0),
        )?;
        if !good {
            ck.fail("cover_file_id", "封面图片不存在，请重新上传");
        }
    }
    ck.finish()
}

fn write_row(c: &Connection, id: Option<i64>, d: &BenefitData, by: i64) -> Result<i64> {
    let now = crate::time::now();
    let (s, e) = d.window;
    match id {
        None => {
            c.execute(
                "INSERT INTO benefits (org_id, title, kind, description, cover_file_id, starts_at, ends_at, stock, per_member_limit,
                    joined_before, redeem_method, created_by, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
                params![d.org_id, d.title, d.kind, d.description, d.cover_file_id, s, e, d.stock, d.per_member_limit,
                    d.joined_before, d.redeem_method, by, now],
            )?;
            Ok(c.last_insert_rowid())
        }
        Some(id) => {
            c.execute(
                "UPDATE benefits SET org_id = ?1, title = ?2, kind = ?3, description = ?4, cover_file_id = ?5, starts_at = ?6,
                    ends_at = ?7, stock = ?8, per_member_limit = ?9, joined_before = ?10, redeem_method = ?11, updated_at = ?12
                 WHERE id = ?13",
                params![d.org_id, d.title, d.kind, d.description, d.cover_file_id, s, e, d.stock, d.per_member_limit,
                    d.joined_before, d.redeem_method, now, id],
            )?;
            Ok(id)
        }
    }
}

/// Create a draft benefit.
#[utoipa::path(post, path = "/api/v1/admin/benefits", tag = "权益管理", security(("bearer" = [])), request_body = BenefitIn,
    responses((status = 201, body = Benefit), (status = 400), (status = 403), (status = 404, description = "组织不在管理范围内")))]
pub async fn create(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(req): AppJson<BenefitIn>,
) -> Result<Response> {
    let scope = me.require(codes::BENEFIT_WRITE)?;
    let d = req.validate(&st.cfg.news.image_hosts)?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            check_refs(c, &scope, &d)?;
            let id = write_row(c, None, &d, me.id)?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "benefit.create",
                    "benefit",
                    id,
                    json!({"org_id": d.org_id, "title": d.title, "stock": d.stock}),
                ),
            )?;
            Ok(load_scoped(c, &Scope::All, id)?.view)
        })
        .await?;
    Ok(created(out))
}

/// One benefit in scope.
#[utoipa::path(get, path = "/api/v1/admin/benefits/{id}", tag = "权益管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "权益 ID")), responses((status = 200, body = Benefit), (status = 403), (status = 404)))]
pub async fn get(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::BENEFIT_READ)?;
    Ok(ok(st
        .db
        .read(move |c| Ok(load_scoped(c, &scope, id)?.view))
        .await?))
}

/// The current benefit in its input shape, for merging a PATCH.
fn as_input(b: &BenefitRow) -> serde_json::Value {
    let v = &b.view;
    json!({
        "org_id": v.org_id, "title": v.title, "kind": v.kind, "description": v.description,
        "cover_file_id": v.cover_file_id, "starts_at": v.starts_at, "ends_at": v.ends_at, "stock": v.stock,
        "per_member_limit": v.per_member_limit, "joined_before": v.joined_before, "redeem_method": v.redeem_method,
    })
}

/// Change a benefit: any field of a draft; a published one keeps its org, audience rule and
/// redeem method, and its stock can be raised but never below what was claimed.
#[utoipa::path(patch, path = "/api/v1/admin/benefits/{id}", tag = "权益管理", security(("bearer" = [])), request_body = BenefitIn,
    params(("id" = i64, Path, description = "权益 ID")), responses((status = 200, body = Benefit), (status = 400), (status = 403), (status = 404), (status = 409)))]
pub async fn patch(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<serde_json::Map<String, serde_json::Value>>,
) -> Result<Response> {
    let scope = me.require(codes::BENEFIT_WRITE)?;
    let actor = me.actor();
    let hosts = st.cfg.news.image_hosts.clone();
    let out = st
        .db
        .write(move |c| {
            let cur = load_scoped(c, &scope, id)?;
            if cur.view.status == "closed" {
                return Err(AppError::conflict_code(
                    "benefit_closed",
                    "权益已结束，不能修改",
                ));
            }
            let mut merged = as_input(&cur);
            let obj = merged
                .as_object_mut()
                .ok_or_else(|| AppError::internal("shape"))?;
            let mut changed = Vec::new();
            for (k, v) in req {
                if obj.get(&k) != Some(&v) {
                    changed.push(k.clone());
                }
                obj.insert(k, v);
            }
            let input: BenefitIn = serde_json::from_value(merged)
                .map_err(|e| AppError::BadRequest(format!("请求数据格式不正确：{e}")))?;
            let d = input.validate(&hosts)?;
            if cur.view.status == "published" {
                let frozen = [
                    "org_id",
                    "joined_before",
                    "redeem_method",
                    "per_member_limit",
                ];
                if let Some(f) = changed.iter().find(|k| frozen.contains(&k.as_str())) {
                    return Err(AppError::field(f, "权益已发布，不能修改此项"));
                }
            }
            if d.stock < cur.view.claimed {
                return Err(AppError::field(
                    "stock",
                    format!("库存不能少于已领取数量 {}", cur.view.claimed),
                ));
            }
            check_refs(c, &scope, &d)?;
            write_row(c, Some(id), &d, me.id)?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "benefit.update",
                    "benefit",
                    id,
                    json!({"fields": changed, "stock": d.stock}),
                ),
            )?;
            Ok(load_scoped(c, &Scope::All, id)?.view)
        })
        .await?;
    Ok(ok(out))
}

/// Delete a draft.
#[utoipa::path(delete, path = "/api/v1/admin/benefits/{id}", tag = "权益管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "权益 ID")), responses((status = 200), (status = 403), (status = 404), (status = 409)))]
pub async fn delete(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::BENEFIT_WRITE)?;
    let actor = me.actor();
    st.db
        .write(move |c| {
            let cur = load_scoped(c, &scope, id)?;
            if cur.view.status != "draft" {
                return Err(AppError::conflict_code(
                    "benefit_not_draft",
                    "只能删除未发布的权益；已发布的权益请结束",
                ));
            }
            c.execute("DELETE FROM benefits WHERE id = ?1", [id])?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "benefit.delete",
                    "benefit",
                    id,
                    json!({"title": cur.view.title}),
                ),
            )?;
            Ok(())
        })
        .await?;
    Ok(ok(json!({"id": id, "deleted": true})))
}

/// Publish a draft: its audience can see and claim it inside the window.
#[utoipa::path(post, path = "/api/v1/admin/benefits/{id}/publish", tag = "权益管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "权益 ID")), responses((status = 200, body = Benefit), (status = 403), (status = 404), (status = 409)))]
pub async fn publish(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    transition(st, me, id, "draft", "published").await
}

/// Close a published benefit: no more claims; existing claim codes can still be redeemed.
#[utoipa::path(post, path = "/api/v1/admin/benefits/{id}/close", tag = "权益管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "权益 ID")), responses((status = 200, body = Benefit), (status = 403), (status = 404), (status = 409)))]
pub async fn close(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    transition(st, me, id, "published", "closed").await
}

async fn transition(
    st: AppState,
    me: AdminAuth,
    id: i64,
    from: &'static str,
    to: &'static str,
) -> Result<Response> {
    let scope = me.require(codes::BENEFIT_WRITE)?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let cur = load_scoped(c, &scope, id)?;
            if cur.view.status != from {
                return Err(match to {
                    "published" => {
                        AppError::conflict_code("benefit_not_draft", "只能发布草稿状态的权益")
                    }
                    _ => AppError::conflict_code("benefit_not_published", "只能结束已发布的权益"),
                });
            }
            let now = crate::time::now();
            if to == "published" && cur.window.1 <= now {
                return Err(AppError::conflict_code(
                    "benefit_ended",
                    "截止领取时间已过，不能发布",
                ));
            }
            let col = if to == "published" {
                "published_at"
            } else {
                "closed_at"
            };
            c.execute(
                &format!(
                    "UPDATE benefits SET status = ?1, {col} = ?2, updated_at = ?2 WHERE id = ?3"
                ),
                params![to, now, id],
            )?;
            let action = if to == "published" {
                "benefit.publish"
            } else {
                "benefit.close"
            };
            audit::record(c, &actor, &Entry::success(action, "benefit", id, json!({})))?;
            Ok(load_scoped(c, &Scope::All, id)?.view)
        })
        .await?;
    Ok(ok(out))
}
