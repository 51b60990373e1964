//! `[points]` settings: how many points the automatic events give, the daily cap, and whether
//! points expire at the end of the year after they were earned.

use serde::{Deserialize, Serialize};

/// Points rules an office may tune (points per activity check-in come from the activity).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PointsConfig {
    /// Points for the daily sign-in (0 turns the sign-in off).
    pub sign_in_points: i64,
    /// Points credited when a membership application is approved (0 = none).
    pub membership_bonus: i64,
    /// Most points a member earns per day from automatic events (check-in, sign-in,
    /// membership); 0 = no cap. Staff adjustments and refunds are never capped.
    pub daily_cap: i64,
    /// Points expire at the end of the year after the year they were earned (FIFO); off by
    /// default because an office must announce such a rule to its members first.
    pub expiry_enabled: bool,
    /// Days before an expiry date when members holding expiring points get one notice.
    pub expiry_notice_days: i64,
}

impl Default for PointsConfig {
    fn default() -> Self {
        PointsConfig {
            sign_in_points: 1,
            membership_bonus: 10,
            daily_cap: 0,
            expiry_enabled: false,
            expiry_notice_days: 30,
        }
    }
}

impl PointsConfig {
    /// Refuse negative values at start rather than crediting nonsense later.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.sign_in_points < 0 || self.membership_bonus < 0 || self.daily_cap < 0 {
            anyhow::bail!("配置无效: points 的签到积分、入会积分和每日上限不能为负数");
        }
        if self.sign_in_points > 10_000 || self.membership_bonus > 100_000 {
            anyhow::bail!("配置无效: points 的单次积分过大");
        }
        if !(1..=365).contains(&self.expiry_notice_days) {
            anyhow::bail!("配置无效: points.expiry_notice_days 须在 1 到 365 之间");
        }
        Ok(())
    }
}
