//! Staff side of mall orders: the list in scope, fulfilment by pickup code, cancel with a
//! reason (points refunded once), and the xlsx export (masked, audited).

use super::model::{FulfilIn, ORDER_COLS, Order, OrderCancelIn, map_order};
use super::repo::{self, Canceller, order_scoped};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::benefits::repo::normalise_code;
use crate::benefits::xlsx::{MAX_ROWS, sheet};
use crate::crypto::mask::mask_name;
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, ok};
use crate::http::{Page, PageQuery};
use crate::members::xlsx::xlsx_response;
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{params, params_from_iter, types::Value};
use serde::Deserialize;
use serde_json::json;

/// Filters of the order list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// `pending`, `fulfilled` or `cancelled`.
    #[param(pattern = "^(pending|fulfilled|cancelled)$")]
    pub status: Option<String>,
    /// Only orders of these goods.
    pub goods_id: Option<i64>,
    /// Page.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

fn filters(me: &AdminAuth, perm: &str, q: &OrderQuery) -> Result<(String, Vec<Value>)> {
    let scope = me.require(perm)?;
    let (cond, mut p) = scope.sql("r.org_id", None);
    let mut wh = vec![cond];
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        if !["pending", "fulfilled", "cancelled"].contains(&s) {
            return Err(AppError::field(
                "status",
                "状态只能是 pending、fulfilled 或 cancelled",
            ));
        }
        wh.push("r.status = ?".into());
        p.push(Value::Text(s.into()));
    }
    if let Some(g) = q.goods_id {
        wh.push("r.goods_id = ?".into());
        p.push(Value::Integer(g));
    }
    Ok((wh.join(" AND "), p))
}

/// Orders of goods in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/admin/mall/orders", tag = "积分商城管理", security(("bearer" = [])), params(OrderQuery),
    responses((status = 200, body = Page<Order>), (status = 400), (status = 403)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<OrderQuery>,
) -> Result<Response> {
    let (wh, p) = filters(&me, codes::BENEFIT_READ, &q)?;
    let pg = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let out = st
        .db
        .read(move |c| {
            crate::http::fetch_page(
                c,
                &format!("SELECT count(*) FROM mall_orders r WHERE {wh}"),
                &format!("SELECT {ORDER_COLS} FROM mall_orders r JOIN mall_goods g ON g.id = r.goods_id WHERE {wh} ORDER BY r.id DESC LIMIT ? OFFSET ?"),
                p,
                pg,
                map_order,
            )
        })
        .await?;
    Ok(ok(out))
}

/// Hand over a pending order: the pickup code the member shows must match (400 otherwise).
#[utoipa::path(post, path = "/api/v1/admin/mall/orders/{id}/fulfil", tag = "积分商城管理", security(("bearer" = [])), request_body = FulfilIn,
    params(("id" = i64, Path, description = "订单 ID")),
    responses((status = 200, body = Order), (status = 400), (status = 403), (status = 404), (status = 409, description = "order_not_pending")))]
pub async fn fulfil(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<FulfilIn>,
) -> Result<Response> {
    let scope = me.require(codes::BENEFIT_REDEEM)?;
    let code = normalise_code(&req.pickup_code);
    let (actor, by) = (me.actor(), me.id);
    let out = st
        .db
        .write(move |c| {
            let o = order_scoped(c, &scope, id)?;
            if o.status != "pending" {
                return Err(AppError::conflict_code("order_not_pending", "订单已提货或已取消"));
            }
            if o.pickup_code != code {
                return Err(AppError::field("pickup_code", "提货码不正确"));
            }
            let now = crate::time::now();
            c.execute(
                "UPDATE mall_orders SET status = 'fulfilled', fulfilled_at = ?1, fulfilled_by = ?2 WHERE id = ?3 AND status = 'pending'",
                params![now, by, id],
            )?;
            repo::notify(c, &o, "mall.fulfilled", "已提货", None)?;
            audit::record(c, &actor, &Entry::success("mall.fulfil", "mall_order", id, json!({"goods_id": o.goods_id})))?;
            repo::order(c, id)
        })
        .await?;
    Ok(ok(out))
}

/// Cancel a pending order with a reason: stock back, points refunded exactly once.
#[utoipa::path(post, path = "/api/v1/admin/mall/orders/{id}/cancel", tag = "积分商城管理", security(("bearer" = [])), request_body = OrderCancelIn,
    params(("id" = i64, Path, description = "订单 ID")),
    responses((status = 200, body = Order), (status = 400), (status = 403), (status = 404), (status = 409, description = "order_not_pending")))]
pub async fn cancel(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<OrderCancelIn>,
) -> Result<Response> {
    let scope = me.require(codes::BENEFIT_WRITE)?;
    let mut ck = Check::new();
    let reason = ck.text("reason", "取消原因", &req.reason, 200);
    ck.finish()?;
    let (actor, by, now) = (me.actor(), me.id, st.clock.now());
    let out = st
        .db
        .write(move |c| {
            let o = order_scoped(c, &scope, id)?;
            let o = repo::cancel(c, &o, Canceller::Admin(by), &reason, now)?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "mall.cancel",
                    "mall_order",
                    id,
                    json!({"refund": o.points, "by": "admin", "reason": reason}),
                ),
            )?;
            Ok(o)
        })
        .await?;
    Ok(ok(out))
}

/// Orders in scope as xlsx (names masked); audited before any byte leaves.
#[utoipa::path(get, path = "/api/v1/admin/mall/orders/export", tag = "积分商城管理", security(("bearer" = [])), params(OrderQuery),
    responses((status = 200, description = "xlsx 文件", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400), (status = 403)))]
pub async fn export(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<OrderQuery>,
) -> Result<Response> {
    let (wh, mut p) = filters(&me, codes::BENEFIT_EXPORT, &q)?;
    p.push(Value::Integer(MAX_ROWS));
    let rows = st
        .db
        .read(move |c| {
            let mut s = c.prepare(&format!(
                "SELECT {ORDER_COLS}, coalesce(m.real_name, m.nickname), m.phone_masked FROM mall_orders r
                 JOIN mall_goods g ON g.id = r.goods_id JOIN members m ON m.id = r.member_id WHERE {wh} ORDER BY r.id LIMIT ?"
            ))?;
            let rows = s
                .query_map(params_from_iter(p), |r| {
                    let name: Option<String> = r.get(16)?;
                    Ok((map_order(r)?, mask_name(&name.unwrap_or_default()), r.get::<_, Option<String>>(17)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await?;
    let count = rows.len();
    let cells: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(o, name, phone)| {
            let status = match o.status.as_str() {
                "pending" => "待提货",
                "fulfilled" => "已提货",
                _ => "已取消",
            };
            vec![
                o.id.to_string(),
                o.goods_title,
                o.quantity.to_string(),
                o.points.to_string(),
                name,
                phone.unwrap_or_default(),
                status.into(),
                o.created_at,
                o.fulfilled_at.or(o.cancelled_at).unwrap_or_default(),
            ]
        })
        .collect();
    let bytes = tokio::task::spawn_blocking(move || {
        sheet(
            "商城订单",
            &[
                "订单号",
                "商品",
                "数量",
                "积分",
                "姓名",
                "手机号",
                "状态",
                "下单时间",
                "处理时间",
            ],
            &cells,
        )
    })
    .await
    .map_err(AppError::internal)??;
    let actor = me.actor();
    st.db
        .write(move |c| {
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "mall.export",
                    "mall_order",
                    0,
                    json!({"count": count, "masked": true}),
                ),
            )?;
            Ok(())
        })
        .await?;
    xlsx_response(bytes, "积分商城订单.xlsx", "mall-orders.xlsx")
}
