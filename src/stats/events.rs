//! Activity, news, benefit, points, aid and ticket statistics: grouped queries over those tables (tens of
//! thousands of rows at county scale, each joined to the small org table), one query per
//! table.

use super::model::{Column, GroupBy, Request, StatRow, Topic, col};
use super::query::{self, month_of, period};
use super::target::Target;
use crate::error::Result;
use rusqlite::Connection;

/// What one topic counts: its table (aliased `x`, joined to `o`), the org and time columns,
/// the category key and the numbers.
struct Spec {
    from: &'static str,
    org: &'static str,
    time: &'static str,
    filter: &'static str,
    category: &'static str,
    numbers: &'static str,
    columns: fn() -> Vec<Column>,
}

fn activity_columns() -> Vec<Column> {
    vec![
        col("activities", "活动数"),
        col("registrations", "报名人数"),
        col("checked_in", "签到人数"),
        col("attendance_rate", "到场率"),
        col("no_show", "缺席人数"),
        col("avg_rating", "平均评分"),
    ]
}

fn news_columns() -> Vec<Column> {
    vec![col("published", "发布篇数"), col("views", "阅读量")]
}

fn benefit_columns() -> Vec<Column> {
    vec![col("claims", "领取数"), col("redeemed", "核销数")]
}

fn points_columns() -> Vec<Column> {
    vec![
        col("earned", "获得积分"),
        col("spent", "消耗积分"),
        col("entries", "积分明细条数"),
    ]
}

fn aid_columns() -> Vec<Column> {
    vec![
        col("applications", "申请数"),
        col("approved", "已通过"),
        col("rejected", "未通过"),
        col("in_progress", "审批中"),
        col("disbursements", "发放次数"),
        col("amount", "发放金额（元）"),
    ]
}

fn ticket_columns() -> Vec<Column> {
    vec![
        col("tickets", "诉求数"),
        col("open", "办理中"),
        col("overdue", "超期未答复"),
        col("avg_first_reply_hours", "平均首次答复（小时）"),
        col("rated", "评价数"),
        col("avg_rating", "平均满意度"),
    ]
}

fn spec(topic: Topic) -> Spec {
    match topic {
        // Drafts are not activities yet. Attendance = checked in ÷ approved; a no-show is an
        // approved registration without check-in of an activity that has ended.
        Topic::Activities => Spec {
            from: "activities x LEFT JOIN activity_registrations r ON r.activity_id = x.id",
            org: "x.org_id",
            time: "x.starts_at",
            filter: "x.status <> 'draft'",
            category: "x.category",
            numbers: "count(DISTINCT x.id),
                SUM(CASE WHEN r.status = 'pending' OR r.status = 'approved' THEN 1 ELSE 0 END),
                SUM(CASE WHEN r.status = 'approved' AND r.checked_in_at IS NOT NULL THEN 1 ELSE 0 END),
                CAST(SUM(CASE WHEN r.status = 'approved' AND r.checked_in_at IS NOT NULL THEN 1 ELSE 0 END) AS REAL)
                    / NULLIF(SUM(CASE WHEN r.status = 'approved' THEN 1 ELSE 0 END), 0),
                SUM(CASE WHEN r.status = 'approved' AND r.checked_in_at IS NULL AND x.ends_at < unixepoch() THEN 1 ELSE 0 END),
                ROUND(AVG(r.rating), 2)",
            columns: activity_columns,
        },
        Topic::News => Spec {
            from: "news x",
            org: "x.org_id",
            time: "x.published_at",
            filter: "x.deleted_at IS NULL AND x.status = 'published'",
            category: "x.category_id",
            numbers: "count(*), SUM(x.view_count)",
            columns: news_columns,
        },
        // By the claiming member's org at the time of the claim.
        Topic::Benefits => Spec {
            from: "benefit_claims x",
            org: "x.org_id",
            time: "x.created_at",
            filter: "1=1",
            category: "''",
            numbers: "count(*), SUM(CASE WHEN x.status = 'redeemed' THEN 1 ELSE 0 END)",
            columns: benefit_columns,
        },
        // By the member's current org.
        Topic::Points => Spec {
            from: "points_ledger x JOIN members m ON m.id = x.member_id",
            org: "m.org_id",
            time: "x.created_at",
            filter: "1=1",
            category: "''",
            numbers: "SUM(CASE WHEN x.delta > 0 THEN x.delta ELSE 0 END),
                SUM(CASE WHEN x.delta < 0 THEN -x.delta ELSE 0 END), count(*)",
            columns: points_columns,
        },
        // Submitted applications by the applicant's org and type, at submission time; the
        // amounts are what staff recorded as given (the appliance pays nothing).
        Topic::Aid => Spec {
            from: "aid_applications x LEFT JOIN (SELECT application_id, count(*) AS n, SUM(amount_cents) AS cents
                FROM aid_disbursements GROUP BY application_id) d ON d.application_id = x.id",
            org: "x.org_id",
            time: "x.submitted_at",
            filter: "x.status <> 'draft' AND x.submitted_at IS NOT NULL",
            category: "CAST(x.type_id AS TEXT)",
            numbers: "count(*), SUM(CASE WHEN x.status = 'approved' THEN 1 ELSE 0 END),
                SUM(CASE WHEN x.status = 'rejected' THEN 1 ELSE 0 END),
                SUM(CASE WHEN x.status = 'pending' OR x.status = 'returned' THEN 1 ELSE 0 END),
                coalesce(SUM(d.n), 0), coalesce(SUM(d.cents), 0) / 100.0",
            columns: aid_columns,
        },
        // By the org handling the ticket now; held (unmoderated) tickets are not counted yet.
        Topic::Tickets => Spec {
            from: "tickets x",
            org: "x.org_id",
            time: "x.created_at",
            filter: "x.held = 0",
            category: "CAST(x.category_id AS TEXT)",
            numbers: "count(*), SUM(CASE WHEN x.status = 'open' THEN 1 ELSE 0 END),
                SUM(CASE WHEN x.status = 'open' AND x.answered = 0 AND x.deadline_at < unixepoch() THEN 1 ELSE 0 END),
                ROUND(AVG((x.first_reply_at - x.created_at) / 3600.0), 1),
                count(x.rating), ROUND(AVG(x.rating), 2)",
            columns: ticket_columns,
        },
        Topic::Members => unreachable!("members are counted from the aggregate"),
    }
}

/// The table for `req` on `t` (any topic but members).
pub fn table(c: &Connection, t: &Target, req: &Request) -> Result<(Vec<Column>, Vec<StatRow>)> {
    let s = spec(req.topic);
    let columns = (s.columns)();
    let n = columns.len();
    let (within, mut p) = t.within(s.org);
    let (when, pp) = period(s.time, req.from, req.until);
    p.extend(pp);
    let bucket = t.child_bucket();
    let month = month_of(s.time);
    let key = match req.group_by {
        GroupBy::Org => bucket.as_str(),
        GroupBy::Month => month.as_str(),
        _ => s.category,
    };
    let sql = format!(
        "SELECT {key} AS k, {numbers} FROM {from} JOIN orgs o ON o.id = {org}
         WHERE {filter} AND {within}{when} GROUP BY k ORDER BY k",
        numbers = s.numbers,
        from = s.from,
        org = s.org,
        filter = s.filter,
    );
    let groups = query::groups(c, &sql, p, n)?;
    let labels = if req.group_by == GroupBy::Category {
        category_labels(c, req.topic)?
    } else {
        vec![]
    };
    let zero: Vec<Option<f64>> = columns
        .iter()
        .map(|c| match c.key {
            "attendance_rate" | "avg_rating" | "avg_first_reply_hours" => None,
            _ => Some(0.0),
        })
        .collect();
    let rows = match req.group_by {
        GroupBy::Org => query::org_rows(c, t, groups, &zero)?,
        _ => query::plain_rows(groups, |k| {
            labels
                .iter()
                .find(|(code, _)| code == k)
                .map_or_else(|| k.to_string(), |(_, l)| l.clone())
        }),
    };
    Ok((columns, rows))
}

/// Category codes and names of a topic (small tables).
fn category_labels(c: &Connection, topic: Topic) -> Result<Vec<(String, String)>> {
    let sql = match topic {
        Topic::Activities => {
            "SELECT code, name FROM dictionary_items WHERE dict = 'activity_category'"
        }
        Topic::News => "SELECT CAST(id AS TEXT), name FROM news_categories",
        Topic::Aid => "SELECT CAST(id AS TEXT), name FROM aid_types",
        Topic::Tickets => "SELECT CAST(id AS TEXT), name FROM ticket_categories",
        _ => return Ok(vec![]),
    };
    let mut st = c.prepare_cached(sql)?;
    let v = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(v)
}
