//! Staff side of the mall goods: list, create, edit (stock never below the units sold),
//! on and off the shelf, delete (archive when orders refer to them). Orders are in
//! [`super::orders`].

use super::model::{Goods, GoodsData, GoodsIn, SELECT, map_row};
use super::repo::load_scoped;
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::permissions::codes;
use crate::auth::{AdminAuth, Scope};
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, created, ok};
use crate::http::{Page, PageQuery};
use crate::system::orgs::load_in_scope;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, params};
use serde_json::json;

/// Goods in the caller's scope (deleted ones left out), newest first.
#[utoipa::path(get, path = "/api/v1/admin/mall/goods", tag = "积分商城管理", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<Goods>), (status = 400), (status = 403)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Response> {
    let scope = me.require(codes::BENEFIT_READ)?;
    let pg = q.resolve()?;
    let (wh, p) = scope.sql("g.org_id", None);
    let wh = format!("g.deleted_at IS NULL AND {wh}");
    let out = st
        .db
        .read(move |c| {
            crate::http::fetch_page(
                c,
                &format!("SELECT count(*) FROM mall_goods g WHERE {wh}"),
                &format!("{SELECT} WHERE {wh} ORDER BY g.id DESC LIMIT ? OFFSET ?"),
                p,
                pg,
                |r| map_row(r).map(|g| g.view),
            )
        })
        .await?;
    Ok(ok(out))
}

fn check_cover(c: &Connection, cover: Option<i64>) -> Result<()> {
    if let Some(f) = cover {
        let good: bool = c.query_row(
            "SELECT count(*) > 0 FROM files WHERE id = ?1 AND deleted_at IS NULL AND visibility = 'public' AND content_type LIKE 'image/%'",
            [f],
            |r| r.get(0),
        )?;
        if !good {
            return Err(AppError::field(
                "cover_file_id",
                "封面图片不存在，请重新上传",
            ));
        }
    }
    Ok(())
}

fn write_row(c: &Connection, id: Option<i64>, d: &GoodsData, by: i64) -> Result<i64> {
    let now = crate::time::now();
    let i = &d.input;
    match id {
        None => {
            c.execute(
                "INSERT INTO mall_goods (org_id, title, description, cover_file_id, points_price, stock, per_member_limit, on_shelf, created_by, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
                params![i.org_id, d.title, d.description, i.cover_file_id, i.points_price, i.stock, i.per_member_limit, i.on_shelf, by, now],
            )?;
            Ok(c.last_insert_rowid())
        }
        Some(id) => {
            c.execute(
                "UPDATE mall_goods SET org_id = ?1, title = ?2, description = ?3, cover_file_id = ?4, points_price = ?5, stock = ?6,
                    per_member_limit = ?7, on_shelf = ?8, updated_at = ?9 WHERE id = ?10",
                params![i.org_id, d.title, d.description, i.cover_file_id, i.points_price, i.stock, i.per_member_limit, i.on_shelf, now, id],
            )?;
            Ok(id)
        }
    }
}

/// Create goods.
#[utoipa::path(post, path = "/api/v1/admin/mall/goods", tag = "积分商城管理", security(("bearer" = [])), request_body = GoodsIn,
    responses((status = 201, body = Goods), (status = 400), (status = 403), (status = 404, description = "组织不在管理范围内")))]
pub async fn create(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(req): AppJson<GoodsIn>,
) -> Result<Response> {
    let scope = me.require(codes::BENEFIT_WRITE)?;
    let d = req.validate(&st.cfg.news.image_hosts)?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            load_in_scope(c, &scope, d.input.org_id)?;
            check_cover(c, d.input.cover_file_id)?;
            let id = write_row(c, None, &d, me.id)?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "mall_goods.create",
                    "mall_goods",
                    id,
                    json!({"title": d.title, "stock": d.input.stock}),
                ),
            )?;
            Ok(load_scoped(c, &Scope::All, id)?.view)
        })
        .await?;
    Ok(created(out))
}

/// One item in scope.
#[utoipa::path(get, path = "/api/v1/admin/mall/goods/{id}", tag = "积分商城管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "商品 ID")), responses((status = 200, body = Goods), (status = 403), (status = 404)))]
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

/// Change goods (fields merged); the stock never drops below the units in live orders.
#[utoipa::path(patch, path = "/api/v1/admin/mall/goods/{id}", tag = "积分商城管理", security(("bearer" = [])), request_body = GoodsIn,
    params(("id" = i64, Path, description = "商品 ID")), responses((status = 200, body = Goods), (status = 400), (status = 403), (status = 404)))]
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
            let cur = load_scoped(c, &scope, id)?.view;
            let mut merged = json!({
                "org_id": cur.org_id, "title": cur.title, "description": cur.description, "cover_file_id": cur.cover_file_id,
                "points_price": cur.points_price, "stock": cur.stock, "per_member_limit": cur.per_member_limit, "on_shelf": cur.on_shelf,
            });
            let obj = merged.as_object_mut().ok_or_else(|| AppError::internal("shape"))?;
            let changed: Vec<String> = req.keys().cloned().collect();
            obj.extend(req);
            let input: GoodsIn = serde_json::from_value(merged)
                .map_err(|e| AppError::BadRequest(format!("请求数据格式不正确：{e}")))?;
            let d = input.validate(&hosts)?;
            if d.input.stock < cur.sold {
                return Err(AppError::field("stock", format!("库存不能少于已兑换数量 {}", cur.sold)));
            }
            load_in_scope(c, &scope, d.input.org_id)?;
            check_cover(c, d.input.cover_file_id)?;
            write_row(c, Some(id), &d, me.id)?;
            audit::record(c, &actor, &Entry::success("mall_goods.update", "mall_goods", id, json!({"fields": changed})))?;
            Ok(load_scoped(c, &Scope::All, id)?.view)
        })
        .await?;
    Ok(ok(out))
}

/// What a delete did.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Deleted {
    /// The goods.
    pub id: i64,
    /// Always true: the goods are gone from the shelf and from staff lists.
    pub deleted: bool,
    /// True when orders refer to the goods, so the row was kept (下架归档) for their history;
    /// false when it was removed.
    pub archived: bool,
}

/// Delete goods in scope. Goods no order refers to are removed; goods with orders are
/// archived: off the shelf and out of every list, while the orders keep their history and
/// pending ones can still be fulfilled or cancelled. Audited; a second delete is 404.
#[utoipa::path(delete, path = "/api/v1/admin/mall/goods/{id}", tag = "积分商城管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "商品 ID")), responses((status = 200, body = Deleted), (status = 403), (status = 404)))]
pub async fn delete(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::BENEFIT_WRITE)?;
    let (actor, by, now) = (me.actor(), me.id, st.clock.now());
    let out = st
        .db
        .write(move |c| {
            let cur = load_scoped(c, &scope, id)?.view;
            let orders: bool = c
                .prepare_cached("SELECT count(*) > 0 FROM mall_orders WHERE goods_id = ?1")?
                .query_row([id], |r| r.get(0))?;
            if orders {
                c.execute(
                    "UPDATE mall_goods SET on_shelf = 0, deleted_at = ?1, deleted_by = ?2, updated_at = ?1 WHERE id = ?3",
                    params![now, by, id],
                )?;
            } else {
                c.execute("DELETE FROM mall_goods WHERE id = ?1", [id])?;
            }
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "mall_goods.delete",
                    "mall_goods",
                    id,
                    json!({"title": cur.title, "archived": orders}),
                ),
            )?;
            Ok(Deleted {
                id,
                deleted: true,
                archived: orders,
            })
        })
        .await?;
    Ok(ok(out))
}
