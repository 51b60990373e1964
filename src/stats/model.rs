//! The statistics request and the one table shape every topic answers with (the admin page
//! draws it and the export writes it, so both show the same numbers).

use crate::error::{AppError, Result};
use chrono::{FixedOffset, NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// 会员: by status, gender, age band, join year/month, org.
    Members,
    /// 活动: activities, registrations, attendance, no-shows, ratings.
    Activities,
    /// 资讯: published articles and views.
    News,
    /// 权益: claims and redemptions.
    Benefits,
    /// 积分: points earned and spent, mall orders.
    Points,
    /// 帮扶: applications submitted and decided, amounts recorded as given.
    Aid,
    /// 职工诉求: tickets, open and overdue, first-reply time, satisfaction.
    Tickets,
}

impl Topic {
    /// Chinese name (sheet and file name of the export).
    pub fn label(self) -> &'static str {
        match self {
            Topic::Members => "会员统计",
            Topic::Activities => "活动统计",
            Topic::News => "资讯统计",
            Topic::Benefits => "权益统计",
            Topic::Points => "积分统计",
            Topic::Aid => "帮扶统计",
            Topic::Tickets => "诉求统计",
        }
    }

    /// Code as in the path.
    pub fn code(self) -> &'static str {
        match self {
            Topic::Members => "members",
            Topic::Activities => "activities",
            Topic::News => "news",
            Topic::Benefits => "benefits",
            Topic::Points => "points",
            Topic::Aid => "aid",
            Topic::Tickets => "tickets",
        }
    }

    /// The module read permission a topic needs besides `stats:read`: aid and ticket counts
    /// of a small org can point at a person.
    pub fn also_needs(self) -> Option<&'static str> {
        match self {
            Topic::Aid => Some(crate::auth::permissions::codes::AID_READ),
            Topic::Tickets => Some(crate::auth::permissions::codes::TICKET_READ),
            _ => None,
        }
    }

    /// The grouping used when none is asked for, and the ones the topic allows.
    pub fn groupings(self) -> &'static [GroupBy] {
        use GroupBy::*;
        match self {
            Topic::Members => &[Status, Gender, AgeBand, JoinYear, JoinMonth, Org],
            Topic::Activities => &[Category, Org, Month],
            Topic::News | Topic::Aid | Topic::Tickets => &[Category, Org, Month],
            Topic::Benefits | Topic::Points => &[Org, Month],
        }
    }
}

/// How rows are grouped. Which values a topic accepts: members — status, gender, age_band,
/// join_year, join_month, org; activities, news, aid and tickets — category, org, month;
/// benefits and points — org, month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// Member status.
    Status,
    /// Gender.
    Gender,
    /// Age band (from the birth year).
    AgeBand,
    /// Year of joining.
    JoinYear,
    /// Month of joining.
    JoinMonth,
    /// Direct child orgs of `org_id`, each with its whole subtree (drill-down).
    Org,
    /// Category.
    Category,
    /// Month (+08:00) of the event's time.
    Month,
}

impl GroupBy {
    /// Parse the query value.
    pub fn parse(s: &str) -> Option<GroupBy> {
        use GroupBy::*;
        Some(match s {
            "status" => Status,
            "gender" => Gender,
            "age_band" => AgeBand,
            "join_year" => JoinYear,
            "join_month" => JoinMonth,
            "org" => Org,
            "category" => Category,
            "month" => Month,
            _ => return None,
        })
    }

    /// Code as in the query.
    pub fn code(self) -> &'static str {
        use GroupBy::*;
        match self {
            Status => "status",
            Gender => "gender",
            AgeBand => "age_band",
            JoinYear => "join_year",
            JoinMonth => "join_month",
            Org => "org",
            Category => "category",
            Month => "month",
        }
    }

    /// Chinese name of the grouping column.
    pub fn label(self) -> &'static str {
        use GroupBy::*;
        match self {
            Status => "状态",
            Gender => "性别",
            AgeBand => "年龄段",
            JoinYear => "入会年份",
            JoinMonth => "入会月份",
            Org => "组织",
            Category => "类别",
            Month => "月份",
        }
    }
}

/// Query of a statistics request. Strings are checked by hand so a bad value is a 400 naming
/// the field in Chinese; the documented types are the exact accepted values.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// The org whose subtree is counted (default: the caller's own org); outside the
    /// caller's scope it is a 404.
    #[param(minimum = 1)]
    pub org_id: Option<i64>,
    /// First day (`YYYY-MM-DD`, +08:00), inclusive. Members: join month; activities: start;
    /// news: publication; benefits: claim; points: ledger entry time.
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Last day (`YYYY-MM-DD`, +08:00), inclusive.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    /// Grouping (default: the topic's first).
    #[param(value_type = Option<GroupBy>)]
    pub group_by: Option<String>,
}

/// A checked request.
#[derive(Debug, Clone)]
pub struct Request {
    /// Topic.
    pub topic: Topic,
    /// Grouping.
    pub group_by: GroupBy,
    /// Org asked for (`None`: the caller's own).
    pub org_id: Option<i64>,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive (the day after `to`).
    pub until: Option<i64>,
    /// The days as given, echoed back.
    pub from_day: Option<String>,
    /// The days as given, echoed back.
    pub to_day: Option<String>,
}

fn day(field: &str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| (1900..=2200).contains(&chrono::Datelike::year(d)))
        .ok_or_else(|| AppError::field(field, "日期格式应为 YYYY-MM-DD"))
}

fn local_midnight(d: NaiveDate) -> i64 {
    let tz = FixedOffset::east_opt(8 * 3600).expect("valid offset");
    tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .map_or(0, |t| t.timestamp())
}

impl StatsQuery {
    /// Check the query for `topic`: 400 with a field message on any bad value.
    pub fn check(&self, topic: Topic) -> Result<Request> {
        let group_by = match self.group_by.as_deref().map(str::trim) {
            None | Some("") => topic.groupings()[0],
            Some(s) => GroupBy::parse(s)
                .filter(|g| topic.groupings().contains(g))
                .ok_or_else(|| {
                    let allowed: Vec<&str> = topic.groupings().iter().map(|g| g.code()).collect();
                    AppError::field(
                        "group_by",
                        format!("分组方式取值无效，可选：{}", allowed.join("、")),
                    )
                })?,
        };
        if self.org_id.is_some_and(|o| o < 1) {
            return Err(AppError::field("org_id", "组织编号无效"));
        }
        let from = match self.from.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(s) => Some(day("from", s)?),
            None => None,
        };
        let to = match self.to.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(s) => Some(day("to", s)?),
            None => None,
        };
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(AppError::field("to", "截止日期不能早于起始日期"));
        }
        Ok(Request {
            topic,
            group_by,
            org_id: self.org_id,
            from: from.map(local_midnight),
            until: to.map(|t| local_midnight(t) + 86_400),
            from_day: from.map(|d| d.format("%Y-%m-%d").to_string()),
            to_day: to.map(|d| d.format("%Y-%m-%d").to_string()),
        })
    }
}

/// One column of numbers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Column {
    /// Stable code, e.g. `active`.
    pub key: &'static str,
    /// Chinese header.
    pub label: &'static str,
}

/// One row: a group and its numbers (in column order; `null` where undefined, e.g. the
/// average rating of a group without ratings).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatRow {
    /// Group code (status code, `2024-03`, org id, category code, …).
    pub key: String,
    /// Chinese label of the group.
    pub label: String,
    /// For `group_by=org`: the child org to drill into (absent on the 本级 row, which holds
    /// the org's own direct members or records).
    pub org_id: Option<i64>,
    /// The numbers.
    pub values: Vec<Option<f64>>,
}

/// A statistics table.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatsTable {
    /// Topic.
    pub topic: Topic,
    /// Grouping used.
    pub group_by: GroupBy,
    /// The org counted (its whole subtree within the caller's scope).
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// Its parent, when that is in the caller's scope too (for 返回上级).
    pub parent_org_id: Option<i64>,
    /// Period start as asked.
    pub from: Option<String>,
    /// Period end as asked.
    pub to: Option<String>,
    /// Columns.
    pub columns: Vec<Column>,
    /// Rows.
    pub rows: Vec<StatRow>,
}

/// Shorthand for a column.
pub const fn col(key: &'static str, label: &'static str) -> Column {
    Column { key, label }
}
