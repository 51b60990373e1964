//! Deciding a step (approve, reject, return for supplement) and recording disbursements.
//!
//! Only staff of the org that owns the current step decide it, with `aid:approve`. An
//! application the caller cannot see is 404; one the caller's org already decided, or one no
//! longer pending, is `409`; one the caller sees only because they filed it (代申请) while the
//! current step belongs to another org is `403 not_your_step`.

use super::model::money;
use super::repo::{self, AppRow, load_staff};
use super::views::{Disbursement, StaffDetail, staff_view};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppError, AppJson, AppPath, Result, created, ok};
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, params};
use serde::Deserialize;
use serde_json::json;

/// A decision.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionIn {
    /// Opinion; required to reject or return.
    #[schema(max_length = 500)]
    pub opinion: Option<String>,
    /// Register level when the final approval of a register type puts the worker in the
    /// 困难职工 register: `general` (一般困难, default) or `deep` (深度困难).
    #[schema(pattern = "^(general|deep)$")]
    pub level: Option<String>,
}

/// Checks common to every decision; the application and the opinion.
fn decidable(
    c: &Connection,
    me: &AdminAuth,
    id: i64,
    opinion: Option<&str>,
    required: bool,
) -> Result<(AppRow, Option<String>)> {
    let scope = me.require(codes::AID_APPROVE)?;
    let a = load_staff(c, me, &scope, id)?;
    let opinion = opinion
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(String::from);
    if required && opinion.is_none() {
        return Err(AppError::field("opinion", "请填写意见"));
    }
    if opinion.as_deref().is_some_and(|o| o.chars().count() > 500) {
        return Err(AppError::field("opinion", "意见不能超过 500 个字"));
    }
    if a.status != "pending" {
        return Err(AppError::conflict_code(
            "not_pending",
            "此申请当前不在审批中，不能重复审批",
        ));
    }
    if a.step_org_id != Some(me.org_id) {
        let mine_passed: bool = c.query_row(
            "SELECT count(*) > 0 FROM aid_steps WHERE application_id = ?1 AND org_id = ?2 AND step_no < ?3",
            params![id, me.org_id, a.current_step.unwrap_or(0)],
            |r| r.get(0),
        )?;
        if mine_passed {
            return Err(AppError::conflict_code(
                "already_decided",
                "本级已审批，不能重复审批",
            ));
        }
        return Err(AppError::Forbidden("当前审批步骤不属于本组织".into()));
    }
    Ok((a, opinion))
}

/// Put (or refresh) the worker in the register after the final approval of a register type.
fn enter_register(c: &Connection, a: &AppRow, level: &str) -> Result<()> {
    let now = crate::time::now();
    let until = (chrono::Local::now().date_naive() + chrono::Months::new(12))
        .format("%Y-%m-%d")
        .to_string();
    let n = c.execute(
        "UPDATE aid_register SET application_id = ?1, level = ?2, valid_until = ?3, org_id = ?4, updated_at = ?5
         WHERE member_id = ?6 AND status = 'active'",
        params![a.id, level, until, a.org_id, now, a.member_id],
    )?;
    if n == 0 {
        c.execute(
            "INSERT INTO aid_register (member_id, org_id, application_id, level, valid_until, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            params![a.member_id, a.org_id, a.id, level, until, now],
        )?;
    }
    Ok(())
}

async fn decide(
    st: AppState,
    me: AdminAuth,
    id: i64,
    action: &'static str,
    req: DecisionIn,
) -> Result<Response> {
    let level = req.level.clone().unwrap_or_else(|| "general".into());
    if level != "general" && level != "deep" {
        return Err(AppError::field(
            "level",
            "困难等级只能是 general（一般困难）或 deep（深度困难）",
        ));
    }
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let (a, opinion) = decidable(c, &me, id, req.opinion.as_deref(), action != "approve")?;
            let step = a.current_step.unwrap_or(1);
            let name = a.step_name.clone().unwrap_or_default();
            let now = crate::time::now();
            let (status, next, event) = match action {
                "approve" if step < a.step_count => ("pending", step + 1, None),
                "approve" => ("approved", step, Some("aid.approved")),
                "reject" => ("rejected", step, Some("aid.rejected")),
                _ => ("returned", step, Some("aid.returned")),
            };
            let decided = (status == "approved" || status == "rejected").then_some(now);
            c.execute(
                "UPDATE aid_applications SET status = ?1, current_step = ?2, decided_at = ?3, updated_at = ?4 WHERE id = ?5 AND status = 'pending'",
                params![status, next, decided, now, id],
            )?;
            repo::log(c, id, Some((step, &name)), action, opinion.as_deref(), Some(me.id), Some(me.org_id))?;
            if status == "approved" {
                let registers: bool = c.query_row("SELECT registers FROM aid_types WHERE id = ?1", [a.type_id], |r| r.get(0))?;
                if registers {
                    enter_register(c, &a, &level)?;
                }
            }
            if let Some(e) = event {
                repo::notify(c, &a, e, opinion.as_deref())?;
            }
            let code = match action {
                "approve" => "aid.approve",
                "reject" => "aid.reject",
                _ => "aid.return",
            };
            audit::record(c, &actor, &Entry::success(code, "aid_application", id, json!({"step": step, "status": status})))?;
            staff_view(c, &repo::load_any(c, id)?, me.org_id)
        })
        .await?;
    Ok(ok(out))
}

/// Approve the current step: the next step's org decides next; after the last step the
/// application is approved (a register type puts the worker in the 困难职工 register).
#[utoipa::path(post, path = "/api/v1/admin/aid/applications/{id}/approve", tag = "帮扶服务", security(("bearer" = [])), request_body = DecisionIn,
    params(("id" = i64, Path, description = "帮扶申请 ID")),
    responses((status = 200, body = StaffDetail), (status = 400), (status = 403, description = "not_your_step"), (status = 404),
        (status = 409, description = "not_pending / already_decided")))]
pub async fn approve(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<DecisionIn>,
) -> Result<Response> {
    me.require(codes::AID_APPROVE)?;
    decide(st, me, id, "approve", req).await
}

/// Reject at the current step (opinion required); the application is closed.
#[utoipa::path(post, path = "/api/v1/admin/aid/applications/{id}/reject", tag = "帮扶服务", security(("bearer" = [])), request_body = DecisionIn,
    params(("id" = i64, Path, description = "帮扶申请 ID")),
    responses((status = 200, body = StaffDetail), (status = 400), (status = 403), (status = 404), (status = 409)))]
pub async fn reject(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<DecisionIn>,
) -> Result<Response> {
    me.require(codes::AID_APPROVE)?;
    decide(st, me, id, "reject", req).await
}

/// Return for supplement (opinion required): the applicant edits and resubmits into the same
/// step.
#[utoipa::path(post, path = "/api/v1/admin/aid/applications/{id}/return", tag = "帮扶服务", security(("bearer" = [])), request_body = DecisionIn,
    params(("id" = i64, Path, description = "帮扶申请 ID")),
    responses((status = 200, body = StaffDetail), (status = 400), (status = 403), (status = 404), (status = 409)))]
pub async fn return_(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<DecisionIn>,
) -> Result<Response> {
    me.require(codes::AID_APPROVE)?;
    decide(st, me, id, "return", req).await
}

/// What was given.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisbursementIn {
    /// Amount (or value of goods or service) in yuan, e.g. `500.00`.
    #[schema(pattern = r"^\d{1,9}(\.\d{1,2})?$")]
    pub amount: String,
    /// Date given, `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub date: String,
    /// `cash` (现金), `goods` (实物) or `service` (服务).
    #[schema(pattern = "^(cash|goods|service)$")]
    pub form: String,
    /// Note.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub note: String,
}

/// Record a disbursement of an approved application (`aid:write`; the system records what was
/// given, it pays nothing); `409 not_approved` before approval.
#[utoipa::path(post, path = "/api/v1/admin/aid/applications/{id}/disbursements", tag = "帮扶服务", security(("bearer" = [])), request_body = DisbursementIn,
    params(("id" = i64, Path, description = "帮扶申请 ID")),
    responses((status = 201, body = Disbursement), (status = 400), (status = 403), (status = 404), (status = 409, description = "not_approved")))]
pub async fn disburse(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<DisbursementIn>,
) -> Result<Response> {
    let scope = me.require(codes::AID_WRITE)?;
    let mut ck = Check::new();
    let amount = money(&mut ck, "amount", "金额", &req.amount);
    if amount.as_ref().is_some_and(|a| a.1 == 0) {
        ck.fail("amount", "金额须大于 0");
    }
    let date = chrono::NaiveDate::parse_from_str(req.date.trim(), "%Y-%m-%d").ok();
    if date.is_none() {
        ck.fail("date", "发放日期格式不正确，应为 2026-12-01");
    }
    ck.one_of("form", "发放形式", &req.form, &["cash", "goods", "service"]);
    if req.note.chars().count() > 200 {
        ck.fail("note", "备注不能超过 200 个字");
    }
    ck.finish()?;
    let cents = amount.map(|a| a.1).unwrap_or_default();
    let date = date
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let a = load_staff(c, &me, &scope, id)?;
            if a.status != "approved" {
                return Err(AppError::conflict_code("not_approved", "申请审批通过后才能登记发放"));
            }
            c.execute(
                "INSERT INTO aid_disbursements (application_id, amount_cents, given_on, form, note, admin_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![id, cents, date, req.form, req.note.trim(), me.id, crate::time::now()],
            )?;
            let did = c.last_insert_rowid();
            audit::record(c, &actor, &Entry::success("aid.disburse", "aid_application", id, json!({"amount": cents, "form": req.form})))?;
            super::views::disbursements(c, id)?
                .into_iter()
                .find(|d| d.id == did)
                .ok_or_else(|| AppError::internal("disbursement vanished"))
        })
        .await?;
    Ok(created(out))
}
