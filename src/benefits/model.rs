//! Benefit request and response types, the validated form of a benefit, and its row mapping.

use crate::error::Result;
use crate::validate::Check;
use serde::{Deserialize, Serialize};

/// Benefit statuses.
pub const STATUSES: &[&str] = &["draft", "published", "closed"];
/// Kinds: 实物, 券, 服务.
pub const KINDS: &[&str] = &["goods", "voucher", "service"];
/// How a claim is redeemed.
pub const REDEEM_METHODS: &[&str] = &["code", "none"];
/// Largest stock of one benefit.
pub const MAX_STOCK: i64 = 1_000_000;
/// Longest description (sanitised HTML), in characters.
pub const MAX_DESCRIPTION: usize = 20_000;

fn code_method() -> String {
    "code".into()
}

fn one() -> i64 {
    1
}

/// A benefit as staff create or replace it (PATCH merges into this shape).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BenefitIn {
    /// Org whose active members (and those of orgs below) may claim; in the caller's scope.
    pub org_id: i64,
    /// Title.
    pub title: String,
    /// `goods` (实物), `voucher` (券) or `service` (服务).
    #[schema(value_type = String, pattern = "^(goods|voucher|service)$")]
    pub kind: String,
    /// Description, HTML (sanitised on save).
    #[serde(default)]
    pub description: String,
    /// Public cover image.
    pub cover_file_id: Option<i64>,
    /// Claims open (RFC 3339).
    pub starts_at: String,
    /// Claims close (RFC 3339), after `starts_at`.
    pub ends_at: String,
    /// Total stock, 1..=1000000; never below what was claimed.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub stock: i64,
    /// Claims per member, at least 1.
    #[serde(default = "one")]
    #[schema(minimum = 1, maximum = 100)]
    pub per_member_limit: i64,
    /// Only members who joined before this time (RFC 3339).
    pub joined_before: Option<String>,
    /// `code` (redeemed at a counter with the claim code) or `none`.
    #[serde(default = "code_method")]
    #[schema(value_type = String, pattern = "^(code|none)$")]
    pub redeem_method: String,
}

/// A validated benefit ready to store.
#[derive(Debug, Clone)]
pub struct BenefitData {
    /// Org.
    pub org_id: i64,
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: String,
    /// Sanitised HTML.
    pub description: String,
    /// Cover.
    pub cover_file_id: Option<i64>,
    /// Window, unix seconds.
    pub window: (i64, i64),
    /// Stock.
    pub stock: i64,
    /// Per-member limit.
    pub per_member_limit: i64,
    /// Joined before, unix seconds.
    pub joined_before: Option<i64>,
    /// `code` or `none`.
    pub redeem_method: String,
}

fn time(ck: &mut Check, field: &str, label: &str, v: &str) -> i64 {
    crate::time::parse(v.trim()).unwrap_or_else(|| {
        ck.fail(
            field,
            format!("{label}格式不正确，应为 2026-12-01T09:00:00+08:00"),
        );
        0
    })
}

impl BenefitIn {
    /// Validate every field (all errors at once) and sanitise the description.
    pub fn validate(&self, image_hosts: &[String]) -> Result<BenefitData> {
        let mut ck = Check::new();
        let title = ck.text("title", "权益名称", &self.title, 100);
        ck.one_of("kind", "权益类型", &self.kind, KINDS);
        ck.one_of(
            "redeem_method",
            "核销方式",
            &self.redeem_method,
            REDEEM_METHODS,
        );
        let description = crate::news::sanitize::clean(&self.description, image_hosts);
        if description.chars().count() > MAX_DESCRIPTION {
            ck.fail(
                "description",
                format!("权益说明不能超过 {MAX_DESCRIPTION} 个字符"),
            );
        }
        let s = time(&mut ck, "starts_at", "开始领取时间", &self.starts_at);
        let e = time(&mut ck, "ends_at", "截止领取时间", &self.ends_at);
        if s != 0 && e != 0 && e <= s {
            ck.fail("ends_at", "截止领取时间须晚于开始领取时间");
        }
        if !(1..=MAX_STOCK).contains(&self.stock) {
            ck.fail("stock", format!("库存须在 1 到 {MAX_STOCK} 之间"));
        }
        if !(1..=100).contains(&self.per_member_limit) {
            ck.fail("per_member_limit", "每人限领须在 1 到 100 之间");
        }
        let joined_before = self
            .joined_before
            .as_deref()
            .filter(|v| !v.trim().is_empty())
            .map(|v| time(&mut ck, "joined_before", "入会时间限制", v));
        ck.finish()?;
        Ok(BenefitData {
            org_id: self.org_id,
            title,
            kind: self.kind.clone(),
            description,
            cover_file_id: self.cover_file_id,
            window: (s, e),
            stock: self.stock,
            per_member_limit: self.per_member_limit,
            joined_before,
            redeem_method: self.redeem_method.clone(),
        })
    }
}

/// A benefit as staff and members see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Benefit {
    /// Id.
    pub id: i64,
    /// Org.
    pub org_id: i64,
    /// Org name.
    pub org_name: String,
    /// Title.
    pub title: String,
    /// `goods`, `voucher` or `service`.
    pub kind: String,
    /// Sanitised HTML.
    pub description: String,
    /// Cover.
    pub cover_file_id: Option<i64>,
    /// Claims open.
    pub starts_at: String,
    /// Claims close.
    pub ends_at: String,
    /// Total stock.
    pub stock: i64,
    /// Claimed so far.
    pub claimed: i64,
    /// Still available.
    pub remaining: i64,
    /// Claims per member.
    pub per_member_limit: i64,
    /// Only members who joined before.
    pub joined_before: Option<String>,
    /// `code` or `none`.
    pub redeem_method: String,
    /// `draft`, `published` or `closed`.
    pub status: String,
    /// Created.
    pub created_at: String,
}

/// A benefit row with the raw values rules need.
#[derive(Debug, Clone)]
pub struct BenefitRow {
    /// The view.
    pub view: Benefit,
    /// Org path (audience and scope checks).
    pub org_path: String,
    /// Window, unix seconds.
    pub window: (i64, i64),
    /// Joined before, unix seconds.
    pub joined_before: Option<i64>,
}

/// Columns of a benefit (alias `b`, org `o`).
pub const SELECT: &str = "SELECT b.id, b.org_id, o.name, b.title, b.kind, b.description, b.cover_file_id, b.starts_at, b.ends_at,
    b.stock, b.claimed, b.per_member_limit, b.joined_before, b.redeem_method, b.status, b.created_at, o.path
    FROM benefits b JOIN orgs o ON o.id = b.org_id";

/// Map a [`SELECT`] row.
pub fn map_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BenefitRow> {
    let (s, e): (i64, i64) = (r.get(7)?, r.get(8)?);
    let (stock, claimed): (i64, i64) = (r.get(9)?, r.get(10)?);
    let jb: Option<i64> = r.get(12)?;
    Ok(BenefitRow {
        view: Benefit {
            id: r.get(0)?,
            org_id: r.get(1)?,
            org_name: r.get(2)?,
            title: r.get(3)?,
            kind: r.get(4)?,
            description: r.get(5)?,
            cover_file_id: r.get(6)?,
            starts_at: crate::time::fmt(s),
            ends_at: crate::time::fmt(e),
            stock,
            claimed,
            remaining: stock - claimed,
            per_member_limit: r.get(11)?,
            joined_before: crate::time::fmt_opt(jb),
            redeem_method: r.get(13)?,
            status: r.get(14)?,
            created_at: crate::time::fmt(r.get(15)?),
        },
        org_path: r.get(16)?,
        window: (s, e),
        joined_before: jb,
    })
}

/// A claim as the member and staff see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Claim {
    /// Id.
    pub id: i64,
    /// Benefit.
    pub benefit_id: i64,
    /// Benefit title.
    pub benefit_title: String,
    /// Claim code (typed at the counter).
    pub code: String,
    /// What to show as a QR code at the counter.
    pub qr_payload: String,
    /// `claimed` or `redeemed`.
    pub status: String,
    /// Claimed at.
    pub created_at: String,
    /// Redeemed at.
    pub redeemed_at: Option<String>,
}

/// Prefix of a claim's QR payload; the redeem endpoint accepts the payload or the bare code.
pub const QR_PREFIX: &str = "GHB:";

/// Columns of a claim (alias `c`, benefit `b`).
pub const CLAIM_COLS: &str =
    "c.id, c.benefit_id, b.title, c.code, c.status, c.created_at, c.redeemed_at";

/// Map [`CLAIM_COLS`].
pub fn map_claim(r: &rusqlite::Row<'_>) -> rusqlite::Result<Claim> {
    let code: String = r.get(3)?;
    Ok(Claim {
        id: r.get(0)?,
        benefit_id: r.get(1)?,
        benefit_title: r.get(2)?,
        qr_payload: format!("{QR_PREFIX}{code}"),
        code,
        status: r.get(4)?,
        created_at: crate::time::fmt(r.get(5)?),
        redeemed_at: crate::time::fmt_opt(r.get(6)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> BenefitIn {
        BenefitIn {
            org_id: 1,
            title: "电影票".into(),
            kind: "voucher".into(),
            description: "<p>好</p><script>x</script>".into(),
            cover_file_id: None,
            starts_at: "2026-12-01T09:00:00+08:00".into(),
            ends_at: "2026-12-31T09:00:00+08:00".into(),
            stock: 100,
            per_member_limit: 1,
            joined_before: None,
            redeem_method: "code".into(),
        }
    }

    #[test]
    fn a_good_benefit_is_sanitised() {
        assert_eq!(good().validate(&[]).unwrap().description, "<p>好</p>");
    }

    /// Negative stock, limit 0, a window ending before it starts and an unknown kind are
    /// all reported at once.
    #[test]
    fn bad_fields_are_reported_together() {
        let mut b = good();
        b.stock = -1;
        b.per_member_limit = 0;
        b.ends_at = "2026-11-01T09:00:00+08:00".into();
        b.kind = "cash".into();
        let Err(crate::error::AppError::Validation(f)) = b.validate(&[]) else {
            panic!()
        };
        for k in ["stock", "per_member_limit", "ends_at", "kind"] {
            assert!(f.contains_key(k), "{k}: {f:?}");
        }
    }
}
