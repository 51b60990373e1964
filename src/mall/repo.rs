//! SQL shared by the mall handlers: goods with scope or audience, orders, the cancel that
//! refunds exactly once, notices.

use super::model::{GoodsRow, ORDER_COLS, Order, SELECT, map_order, map_row};
use crate::auth::Scope;
use crate::error::{AppError, Result};
use crate::messages::notify::{Notice, notify_member};
use crate::points::ledger::{self, Posted, Posting, Source};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};
use serde_json::json;

/// Goods in the staff scope (404 when missing, deleted or outside).
pub fn load_scoped(c: &Connection, scope: &Scope, id: i64) -> Result<GoodsRow> {
    let (cond, mut p) = scope.sql("g.org_id", None);
    p.insert(0, Value::Integer(id));
    c.prepare_cached(&format!(
        "{SELECT} WHERE g.id = ? AND g.deleted_at IS NULL AND {cond}"
    ))?
    .query_row(params_from_iter(p), map_row)
    .optional()?
    .ok_or(AppError::NotFound)
}

/// One order by id, without scope.
pub fn order(c: &Connection, id: i64) -> Result<Order> {
    c.prepare_cached(&format!(
        "SELECT {ORDER_COLS} FROM mall_orders r JOIN mall_goods g ON g.id = r.goods_id WHERE r.id = ?1"
    ))?
    .query_row([id], map_order)
    .optional()?
    .ok_or(AppError::NotFound)
}

/// An order in the staff scope (by the goods' org), 404 otherwise.
pub fn order_scoped(c: &Connection, scope: &Scope, id: i64) -> Result<Order> {
    let o = order(c, id)?;
    let path: String = c.query_row("SELECT path FROM orgs WHERE id = ?1", [o.org_id], |r| {
        r.get(0)
    })?;
    if !scope.contains_org(o.org_id, &path) {
        return Err(AppError::NotFound);
    }
    Ok(o)
}

/// Who cancels.
#[derive(Debug, Clone, Copy)]
pub enum Canceller {
    /// The member who ordered.
    Member,
    /// A staff account.
    Admin(i64),
}

/// Cancel a pending order: stock back, points refunded through the ledger (keyed by the
/// order, so never twice), the member notified. Anything but `pending` is
/// `409 order_not_pending`. `now` is the app clock's time (the refund's date in the ledger).
pub fn cancel(c: &Connection, o: &Order, by: Canceller, reason: &str, now: i64) -> Result<Order> {
    if o.status != "pending" {
        return Err(AppError::conflict_code(
            "order_not_pending",
            if o.status == "cancelled" {
                "订单已取消"
            } else {
                "订单已提货，不能取消"
            },
        ));
    }
    let (kind, admin) = match by {
        Canceller::Member => ("member", None),
        Canceller::Admin(a) => ("admin", Some(a)),
    };
    let n = c.execute(
        "UPDATE mall_orders SET status = 'cancelled', cancelled_at = ?1, cancelled_by_kind = ?2, cancelled_by = ?3, cancel_reason = ?4
         WHERE id = ?5 AND status = 'pending'",
        params![now, kind, admin, reason, o.id],
    )?;
    if n != 1 {
        return Err(AppError::conflict_code("order_not_pending", "订单已处理"));
    }
    c.execute(
        "UPDATE mall_goods SET sold = sold - ?1 WHERE id = ?2",
        params![o.quantity, o.goods_id],
    )?;
    let p = Posting {
        member_id: o.member_id,
        delta: o.points,
        source: Source::MallRefund,
        source_id: o.id,
        reason: Some("商城订单取消退还"),
        operator_id: admin,
    };
    if ledger::post_at(c, &p, 0, now)? == Posted::Duplicate {
        // The status check above makes this unreachable; refunding twice would be worse.
        return Err(AppError::internal("order already refunded"));
    }
    notify(
        c,
        o,
        "mall.cancelled",
        &format!("已取消，{} 积分已退还", o.points),
        Some(reason),
    )?;
    order(c, o.id)
}

/// Notify the ordering member about `o`.
pub fn notify(
    c: &Connection,
    o: &Order,
    event: &'static str,
    result: &str,
    reason: Option<&str>,
) -> Result<i64> {
    let title = match event {
        "mall.fulfilled" => "商城订单已提货",
        "mall.cancelled" => "商城订单已取消",
        _ => "商城兑换成功",
    };
    notify_member(
        c,
        o.member_id,
        &Notice {
            event,
            title: title.into(),
            content: format!(
                "您兑换的「{}」×{}：{result}{}",
                o.goods_title,
                o.quantity,
                reason
                    .filter(|r| !r.is_empty())
                    .map(|r| format!("。原因：{r}"))
                    .unwrap_or_default()
            ),
            link: Some(format!("pages/mall/order?id={}", o.id)),
            org_id: Some(o.org_id),
            fields: json!({"title": o.goods_title, "result": result, "reason": reason.unwrap_or(""), "time": crate::time::fmt(crate::time::now())}),
            key: format!("{event}:{}", o.id),
        },
    )
}
