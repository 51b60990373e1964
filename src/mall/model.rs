//! Mall request and response types and their row mappings.

use crate::error::Result;
use crate::validate::Check;
use serde::{Deserialize, Serialize};

/// Largest stock of one item.
pub const MAX_STOCK: i64 = 1_000_000;
/// Highest points price.
pub const MAX_PRICE: i64 = 1_000_000;
/// Most units in one order.
pub const MAX_QUANTITY: i64 = 99;

fn one() -> i64 {
    1
}

/// Goods as staff create or replace them (PATCH merges into this shape).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoodsIn {
    /// Org whose active members (and those of orgs below) may order; in the caller's scope.
    pub org_id: i64,
    /// Title.
    pub title: String,
    /// Description, HTML (sanitised on save).
    #[serde(default)]
    pub description: String,
    /// Public cover image.
    pub cover_file_id: Option<i64>,
    /// Points per unit.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub points_price: i64,
    /// Total stock; never below the units in live orders.
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub stock: i64,
    /// Units per member (live orders).
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 99)]
    pub per_member_limit: i64,
    /// On the shelf (members see and order it).
    #[serde(default)]
    pub on_shelf: bool,
}

/// Validated goods.
#[derive(Debug, Clone)]
pub struct GoodsData {
    /// The input, checked.
    pub input: GoodsIn,
    /// Sanitised description.
    pub description: String,
    /// Trimmed title.
    pub title: String,
}

impl GoodsIn {
    /// Validate every field (all errors at once).
    pub fn validate(self, image_hosts: &[String]) -> Result<GoodsData> {
        let mut ck = Check::new();
        let title = ck.text("title", "商品名称", &self.title, 100);
        let description = crate::news::sanitize::clean(&self.description, image_hosts);
        if description.chars().count() > 20_000 {
            ck.fail("description", "商品说明不能超过 20000 个字符");
        }
        if !(1..=MAX_PRICE).contains(&self.points_price) {
            ck.fail(
                "points_price",
                format!("兑换积分须在 1 到 {MAX_PRICE} 之间"),
            );
        }
        if !(0..=MAX_STOCK).contains(&self.stock) {
            ck.fail("stock", format!("库存须在 0 到 {MAX_STOCK} 之间"));
        }
        if !(1..=MAX_QUANTITY).contains(&self.per_member_limit) {
            ck.fail(
                "per_member_limit",
                format!("每人限兑须在 1 到 {MAX_QUANTITY} 之间"),
            );
        }
        ck.finish()?;
        Ok(GoodsData {
            input: self,
            description,
            title,
        })
    }
}

/// Goods as staff and members see them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Goods {
    /// Id.
    pub id: i64,
    /// Org.
    pub org_id: i64,
    /// Org name.
    pub org_name: String,
    /// Title.
    pub title: String,
    /// Sanitised HTML.
    pub description: String,
    /// Cover.
    pub cover_file_id: Option<i64>,
    /// Points per unit.
    pub points_price: i64,
    /// Total stock.
    pub stock: i64,
    /// Units in live orders.
    pub sold: i64,
    /// Still available.
    pub remaining: i64,
    /// Units per member.
    pub per_member_limit: i64,
    /// On the shelf.
    pub on_shelf: bool,
}

/// Goods with the org path for scope and audience checks.
#[derive(Debug, Clone)]
pub struct GoodsRow {
    /// The view.
    pub view: Goods,
    /// Org path.
    pub org_path: String,
}

/// Columns of goods (alias `g`, org `o`).
pub const SELECT: &str = "SELECT g.id, g.org_id, o.name, g.title, g.description, g.cover_file_id, g.points_price, g.stock, g.sold,
    g.per_member_limit, g.on_shelf, o.path FROM mall_goods g JOIN orgs o ON o.id = g.org_id";

/// Map a [`SELECT`] row.
pub fn map_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<GoodsRow> {
    let (stock, sold): (i64, i64) = (r.get(7)?, r.get(8)?);
    Ok(GoodsRow {
        view: Goods {
            id: r.get(0)?,
            org_id: r.get(1)?,
            org_name: r.get(2)?,
            title: r.get(3)?,
            description: r.get(4)?,
            cover_file_id: r.get(5)?,
            points_price: r.get(6)?,
            stock,
            sold,
            remaining: stock - sold,
            per_member_limit: r.get(9)?,
            on_shelf: r.get(10)?,
        },
        org_path: r.get(11)?,
    })
}

/// An order body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderIn {
    /// Goods.
    pub goods_id: i64,
    /// Units, 1..=99.
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 99)]
    pub quantity: i64,
}

/// An order.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Order {
    /// Id.
    pub id: i64,
    /// Goods.
    pub goods_id: i64,
    /// Goods title.
    pub goods_title: String,
    /// Org of the goods.
    pub org_id: i64,
    /// Member.
    pub member_id: i64,
    /// Units.
    pub quantity: i64,
    /// Points paid.
    pub points: i64,
    /// Code shown at pickup.
    pub pickup_code: String,
    /// `pending` (待提货), `fulfilled` (已提货) or `cancelled` (已取消).
    pub status: String,
    /// Ordered at.
    pub created_at: String,
    /// Fulfilled at.
    pub fulfilled_at: Option<String>,
    /// Staff account that handed the goods over.
    pub fulfilled_by: Option<i64>,
    /// Cancelled at.
    pub cancelled_at: Option<String>,
    /// `member` or `admin`.
    pub cancelled_by_kind: Option<String>,
    /// Staff account that cancelled (when `cancelled_by_kind` is `admin`).
    pub cancelled_by: Option<i64>,
    /// Cancel reason.
    pub cancel_reason: Option<String>,
}

/// Columns of an order (alias `r`, goods `g`).
pub const ORDER_COLS: &str = "r.id, r.goods_id, g.title, r.org_id, r.member_id, r.quantity, r.points, r.pickup_code, r.status,
    r.created_at, r.fulfilled_at, r.cancelled_at, r.cancelled_by_kind, r.cancel_reason, r.fulfilled_by, r.cancelled_by";

/// Map [`ORDER_COLS`].
pub fn map_order(r: &rusqlite::Row<'_>) -> rusqlite::Result<Order> {
    Ok(Order {
        id: r.get(0)?,
        goods_id: r.get(1)?,
        goods_title: r.get(2)?,
        org_id: r.get(3)?,
        member_id: r.get(4)?,
        quantity: r.get(5)?,
        points: r.get(6)?,
        pickup_code: r.get(7)?,
        status: r.get(8)?,
        created_at: crate::time::fmt(r.get(9)?),
        fulfilled_at: crate::time::fmt_opt(r.get(10)?),
        cancelled_at: crate::time::fmt_opt(r.get(11)?),
        cancelled_by_kind: r.get(12)?,
        cancel_reason: r.get(13)?,
        fulfilled_by: r.get(14)?,
        cancelled_by: r.get(15)?,
    })
}

/// A reason (staff cancel).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderCancelIn {
    /// Why (shown to the member).
    pub reason: String,
}

/// The pickup code the member shows.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FulfilIn {
    /// The order's pickup code.
    #[schema(max_length = 64)]
    pub pickup_code: String,
}
