//! Member side of the mall: goods on the shelf, ordering (points and stock taken in one writer
//! job), my orders, cancelling my pending order (points refunded once).

use super::model::{Goods, MAX_QUANTITY, ORDER_COLS, Order, OrderIn, SELECT, map_order, map_row};
use super::repo::{self, Canceller};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::benefits::repo::{audience_sql, claimant, in_audience, new_code};
use crate::cursor::{CursorPage, CursorQuery};
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, created, ok};
use crate::members::auth::MemberAuth;
use crate::points::ledger::{self, Posting, Source};
use axum::extract::State;
use axum::response::Response;
use rusqlite::{params, params_from_iter, types::Value};
use serde_json::json;

/// Goods on the shelf for the member's org chain, newest first; paged by cursor.
#[utoipa::path(get, path = "/api/v1/app/mall/goods", tag = "积分商城", security(("bearer" = [])), params(CursorQuery),
    responses((status = 200, body = CursorPage<Goods>), (status = 400)))]
pub async fn goods(
    State(st): State<AppState>,
    me: MemberAuth,
    AppQuery(q): AppQuery<CursorQuery>,
) -> Result<Response> {
    let w = q.resolve(1)?;
    let member = me.id;
    let out = st
        .db
        .read(move |c| {
            let m = claimant(c, member)?;
            let (aud, mut p) = audience_sql(&m);
            let mut wh = vec![aud, "g.on_shelf = 1 AND g.deleted_at IS NULL".to_string()];
            if let Some(k) = &w.after {
                wh.push("g.id < ?".into());
                p.push(Value::Integer(k[0]));
            }
            p.push(Value::Integer(w.fetch()));
            let rows = c
                .prepare_cached(&format!(
                    "{SELECT} WHERE {} ORDER BY g.id DESC LIMIT ?",
                    wh.join(" AND ")
                ))?
                .query_map(params_from_iter(p), |r| map_row(r).map(|g| g.view))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok::<_, AppError>(w.finish(rows, |g| vec![g.id]))
        })
        .await?;
    Ok(ok(out))
}

/// Order goods: limit, stock and points are checked and taken in one writer job →
/// `201`, or `409 insufficient_points / out_of_stock / limit_reached`; goods off the shelf or
/// outside the member's org chain are 404.
#[utoipa::path(post, path = "/api/v1/app/mall/orders", tag = "积分商城", security(("bearer" = [])), request_body = OrderIn,
    responses((status = 201, body = Order), (status = 400), (status = 404),
        (status = 409, description = "insufficient_points / out_of_stock / limit_reached")))]
pub async fn order(
    State(st): State<AppState>,
    me: MemberAuth,
    AppJson(req): AppJson<OrderIn>,
) -> Result<Response> {
    if !(1..=MAX_QUANTITY).contains(&req.quantity) {
        return Err(AppError::field(
            "quantity",
            format!("兑换数量须在 1 到 {MAX_QUANTITY} 之间"),
        ));
    }
    let (member, gid, qty, actor) = (me.id, req.goods_id, req.quantity, me.actor());
    let (clock, expiry) = (st.clock.now(), st.cfg.points.expiry_enabled);
    let out = st
        .db
        .write(move |c| {
            let m = claimant(c, member)?;
            let g = repo::load_scoped(c, &crate::auth::Scope::All, gid)?;
            if !g.view.on_shelf || !in_audience(&m, &g.org_path) {
                return Err(AppError::NotFound);
            }
            let held: i64 = c
                .prepare_cached("SELECT coalesce(sum(quantity), 0) FROM mall_orders WHERE goods_id = ?1 AND member_id = ?2 AND status <> 'cancelled'")?
                .query_row([gid, member], |r| r.get(0))?;
            if held + qty > g.view.per_member_limit {
                return Err(AppError::conflict_code("limit_reached", format!("每人限兑 {} 件，您已兑换 {held} 件", g.view.per_member_limit)));
            }
            let n = c
                .prepare_cached("UPDATE mall_goods SET sold = sold + ?1 WHERE id = ?2 AND sold + ?1 <= stock")?
                .execute([qty, gid])?;
            if n == 0 {
                return Err(AppError::conflict_code("out_of_stock", "库存不足，已经兑完了"));
            }
            let points = g.view.points_price * qty;
            let now = crate::time::now();
            let mut code = new_code();
            // A clash of random codes (never seen in practice) is retried.
            for _ in 0..5 {
                let r = c
                    .prepare_cached("INSERT INTO mall_orders (goods_id, member_id, org_id, quantity, points, pickup_code, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?
                    .execute(params![gid, member, g.view.org_id, qty, points, code, now]);
                match r {
                    Ok(_) => break,
                    Err(e) if crate::error::is_unique_violation(&e) => code = new_code(),
                    Err(e) => return Err(e.into()),
                }
            }
            let oid = c.last_insert_rowid();
            // Points that expired at midnight are gone before paying, even if the job has not
            // run yet. An overdraft fails the whole job: the stock, the order and that expiry
            // roll back with it (the job posts the expiry later).
            if expiry {
                crate::points::expiry::expire_member(c, member, clock)?;
            }
            ledger::post_at(c, &Posting { member_id: member, delta: -points, source: Source::MallOrder, source_id: oid, reason: Some(&g.view.title), operator_id: None }, 0, clock)?;
            audit::record(c, &actor, &Entry::success("mall.order", "mall_order", oid, json!({"goods_id": gid, "quantity": qty, "points": points})))?;
            let o = repo::order(c, oid)?;
            repo::notify(c, &o, "mall.ordered", &format!("兑换成功，提货码 {code}"), None)?;
            Ok(o)
        })
        .await?;
    Ok(created(out))
}

/// My orders, newest first; paged by cursor.
#[utoipa::path(get, path = "/api/v1/app/me/mall/orders", tag = "积分商城", security(("bearer" = [])), params(CursorQuery),
    responses((status = 200, body = CursorPage<Order>), (status = 400)))]
pub async fn mine(
    State(st): State<AppState>,
    me: MemberAuth,
    AppQuery(q): AppQuery<CursorQuery>,
) -> Result<Response> {
    let w = q.resolve(1)?;
    let member = me.id;
    let out = st
        .db
        .read(move |c| {
            let mut p = vec![Value::Integer(member)];
            let mut cond = String::new();
            if let Some(k) = &w.after {
                cond = " AND r.id < ?".into();
                p.push(Value::Integer(k[0]));
            }
            p.push(Value::Integer(w.fetch()));
            let rows = c
                .prepare_cached(&format!(
                    "SELECT {ORDER_COLS} FROM mall_orders r JOIN mall_goods g ON g.id = r.goods_id WHERE r.member_id = ?{cond} ORDER BY r.id DESC LIMIT ?"
                ))?
                .query_map(params_from_iter(p), map_order)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok::<_, AppError>(w.finish(rows, |o| vec![o.id]))
        })
        .await?;
    Ok(ok(out))
}

/// Cancel my pending order: stock back, points refunded exactly once
/// (`409 order_not_pending` the second time).
#[utoipa::path(post, path = "/api/v1/app/me/mall/orders/{id}/cancel", tag = "积分商城", security(("bearer" = [])),
    params(("id" = i64, Path, description = "订单 ID")),
    responses((status = 200, body = Order), (status = 404), (status = 409, description = "order_not_pending")))]
pub async fn cancel(
    State(st): State<AppState>,
    me: MemberAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let (member, actor, now) = (me.id, me.actor(), st.clock.now());
    let out = st
        .db
        .write(move |c| {
            let o = repo::order(c, id)?;
            if o.member_id != member {
                return Err(AppError::NotFound);
            }
            let o = repo::cancel(c, &o, Canceller::Member, "会员自行取消", now)?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "mall.cancel",
                    "mall_order",
                    id,
                    json!({"refund": o.points, "by": "member"}),
                ),
            )?;
            Ok(o)
        })
        .await?;
    Ok(ok(out))
}
