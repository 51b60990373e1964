//! Editing a ticket category's reply deadline. Categories apply to every org, so only staff
//! with `ticket:category` over the whole tree change them; a change applies to deadlines set
//! from then on (tickets already waiting keep theirs).

use super::calendar::UNITS;
use super::model::TicketCategory;
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppError, AppJson, AppPath, Result, ok};
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{OptionalExtension, params};
use serde::Deserialize;
use serde_json::json;

/// Most working hours a deadline may have (90 working days of 8 hours).
pub const MAX_WORK_HOURS: i64 = 720;
/// Most working days a deadline may have.
pub const MAX_WORK_DAYS: i64 = 90;

/// A category's new deadline.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketCategoryPatch {
    /// `work_hours` or `work_days`.
    #[schema(pattern = "^(work_hours|work_days)$")]
    pub deadline_unit: String,
    /// 1 to 720 working hours, or 1 to 90 working days.
    #[schema(minimum = 1, maximum = 720)]
    pub deadline_amount: i64,
}

/// Change a category's reply deadline (`ticket:category`, whole-tree scope).
#[utoipa::path(patch, path = "/api/v1/admin/ticket-categories/{id}", tag = "互动管理", security(("bearer" = [])),
    request_body = TicketCategoryPatch, params(("id" = i64, Path, description = "分类 ID")),
    responses((status = 200, body = TicketCategory), (status = 400), (status = 403), (status = 404)))]
pub async fn patch(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<TicketCategoryPatch>,
) -> Result<Response> {
    let scope = me.require(codes::TICKET_CATEGORY)?;
    let mut ck = Check::new();
    ck.one_of("deadline_unit", "期限单位", &req.deadline_unit, UNITS);
    let max = if req.deadline_unit == "work_days" {
        MAX_WORK_DAYS
    } else {
        MAX_WORK_HOURS
    };
    if !(1..=max).contains(&req.deadline_amount) {
        let unit = if max == MAX_WORK_DAYS {
            "个工作日"
        } else {
            "个工作小时"
        };
        ck.fail("deadline_amount", format!("答复期限须为 1 到 {max} {unit}"));
    }
    ck.finish()?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            scope.require_whole_tree(c, "诉求分类")?;
            let before: (i64, String) = c
                .query_row(
                    "SELECT deadline_amount, deadline_unit FROM ticket_categories WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or(AppError::NotFound)?;
            c.execute(
                "UPDATE ticket_categories SET deadline_amount = ?1, deadline_unit = ?2 WHERE id = ?3",
                params![req.deadline_amount, req.deadline_unit, id],
            )?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "ticket.category_update",
                    "ticket_category",
                    id,
                    json!({"from": format!("{} {}", before.0, before.1),
                        "deadline_unit": req.deadline_unit, "deadline_amount": req.deadline_amount}),
                ),
            )?;
            Ok(c.query_row(
                "SELECT id, code, name, deadline_amount, deadline_unit FROM ticket_categories WHERE id = ?1",
                [id],
                TicketCategory::map,
            )?)
        })
        .await?;
    Ok(ok(out))
}
