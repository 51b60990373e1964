//! What members and staff see of an application: the member their own values and a timeline
//! without any approver's personal details; staff masked values, the steps with their orgs
//! and the full log.

use super::model::{FamilySealed, Sealed, reason_name};
use super::repo::{self, AppRow};
use crate::crypto::field::FieldCipher;
use crate::crypto::mask::mask_name;
use crate::error::Result;
use rusqlite::Connection;
use serde::Serialize;

/// Chinese name of a status.
pub fn status_name(s: &str) -> &'static str {
    match s {
        "draft" => "草稿",
        "pending" => "审批中",
        "returned" => "退回补充",
        "approved" => "已通过",
        "rejected" => "未通过",
        _ => "已撤销",
    }
}

fn action_name(s: &str) -> &'static str {
    match s {
        "submit" => "提交申请",
        "resubmit" => "补充后重新提交",
        "approve" => "审批通过",
        "reject" => "不予通过",
        "return" => "退回补充",
        _ => "撤销",
    }
}

/// One entry of the member's progress timeline.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TimelineItem {
    /// Step number (none for the applicant's own submit).
    pub step_no: Option<i64>,
    /// Step name.
    pub step_name: Option<String>,
    /// `submit`, `resubmit`, `approve`, `reject`, `return` or `cancel`.
    pub action: String,
    /// Chinese name of the action.
    pub action_name: String,
    /// Opinion.
    pub opinion: Option<String>,
    /// Time.
    pub at: String,
}

/// One entry of the staff log: the timeline plus who decided.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffTimelineItem {
    /// The entry.
    #[serde(flatten)]
    pub item: TimelineItem,
    /// Deciding org.
    pub org_name: Option<String>,
    /// Deciding account's display name.
    pub admin_name: Option<String>,
}

/// A step of the application's flow.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StepView {
    /// Number, from 1.
    pub step_no: i64,
    /// Name.
    pub name: String,
    /// Org kind.
    pub level: String,
    /// Deciding org (staff view only; absent in the member's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_name: Option<String>,
}

/// A family member with its values (the applicant's own view, or a reveal).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FamilyOut {
    /// Relation.
    pub relation: String,
    /// Age.
    pub age: Option<i64>,
    /// The sealed values.
    #[serde(flatten)]
    pub values: FamilySealed,
}

/// A family member as staff see it: masked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FamilyMasked {
    /// Relation.
    pub relation: String,
    /// Age.
    pub age: Option<i64>,
    /// Name, masked.
    pub name_masked: String,
    /// ID number, masked.
    pub id_masked: Option<String>,
}

/// An evidence attachment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttachmentOut {
    /// File id (staff open it through `POST /api/v1/admin/files/{id}/signed-url`).
    pub file_id: i64,
    /// What it proves.
    pub label: String,
    /// Content type.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
}

/// A disbursement.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Disbursement {
    /// Id.
    pub id: i64,
    /// Amount in yuan, e.g. `500.00`.
    pub amount: String,
    /// Date given, `YYYY-MM-DD`.
    pub date: String,
    /// `cash`, `goods` or `service`.
    pub form: String,
    /// Note.
    pub note: String,
    /// Recorded at.
    pub created_at: String,
}

/// An application in a member's list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberItem {
    /// Id.
    pub id: i64,
    /// Type.
    pub type_id: i64,
    /// Type name.
    pub type_name: String,
    /// `draft`, `pending`, `returned`, `approved`, `rejected` or `cancelled`.
    pub status: String,
    /// Chinese status.
    pub status_name: String,
    /// Current step number.
    pub current_step: Option<i64>,
    /// Steps in the flow.
    pub step_count: i64,
    /// Name of the current step.
    pub step_name: Option<String>,
    /// Submitted.
    pub submitted_at: Option<String>,
    /// Created.
    pub created_at: String,
}

/// The member's own application with its values and progress.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberApplication {
    /// Summary.
    #[serde(flatten)]
    pub item: MemberItem,
    /// Cause code.
    pub reason_code: String,
    /// Cause.
    pub reason_name: String,
    /// Household size.
    pub household_size: i64,
    /// The applicant's values.
    pub form: Sealed,
    /// Family members.
    pub family: Vec<FamilyOut>,
    /// Evidence.
    pub attachments: Vec<AttachmentOut>,
    /// The flow (after the first submit).
    pub steps: Vec<StepView>,
    /// Progress.
    pub timeline: Vec<TimelineItem>,
}

/// An application in the staff list: masked.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffItem {
    /// Summary.
    #[serde(flatten)]
    pub item: MemberItem,
    /// Applicant.
    pub member_id: i64,
    /// Applicant's name, masked.
    pub member_name: String,
    /// Applicant's org.
    pub org_id: i64,
    /// Org name.
    pub org_name: String,
    /// Cause code.
    pub reason_code: String,
    /// Cause.
    pub reason_name: String,
    /// Household size.
    pub household_size: i64,
    /// Filed by a clerk (代申请).
    pub proxy: bool,
    /// The current step is the caller's org's.
    pub waiting_for_me: bool,
    /// Decided.
    pub decided_at: Option<String>,
}

/// The staff detail: masked values, the flow with its orgs, the log, disbursements.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffDetail {
    /// Summary.
    #[serde(flatten)]
    pub item: StaffItem,
    /// Income, health, housing and the cause text are hidden: `POST …/reveal` shows them.
    pub values_masked: String,
    /// Family members, masked.
    pub family: Vec<FamilyMasked>,
    /// Evidence.
    pub attachments: Vec<AttachmentOut>,
    /// The flow.
    pub steps: Vec<StepView>,
    /// The log.
    pub timeline: Vec<StaffTimelineItem>,
    /// What was given.
    pub disbursements: Vec<Disbursement>,
}

/// Summary of a row.
pub fn member_item(a: &AppRow) -> MemberItem {
    MemberItem {
        id: a.id,
        type_id: a.type_id,
        type_name: a.type_name.clone(),
        status: a.status.clone(),
        status_name: status_name(&a.status).into(),
        current_step: a.current_step,
        step_count: a.step_count,
        step_name: a.step_name.clone(),
        submitted_at: crate::time::fmt_opt(a.submitted_at),
        created_at: crate::time::fmt(a.created_at),
    }
}

/// Staff summary of a row for account `me_org`.
pub fn staff_item(a: &AppRow, me_org: i64) -> StaffItem {
    StaffItem {
        item: member_item(a),
        member_id: a.member_id,
        member_name: mask_name(&a.member_name),
        org_id: a.org_id,
        org_name: a.org_name.clone(),
        reason_code: a.reason_code.clone(),
        reason_name: reason_name(&a.reason_code),
        household_size: a.household_size,
        proxy: a.proxy_admin_id.is_some(),
        waiting_for_me: a.status == "pending" && a.step_org_id == Some(me_org),
        decided_at: crate::time::fmt_opt(a.decided_at),
    }
}

fn timeline(c: &Connection, id: i64) -> Result<Vec<StaffTimelineItem>> {
    let mut st = c.prepare_cached(
        "SELECT l.step_no, l.step_name, l.action, l.opinion, l.created_at, o.name, ad.name FROM aid_log l
         LEFT JOIN orgs o ON o.id = l.org_id LEFT JOIN admins ad ON ad.id = l.admin_id
         WHERE l.application_id = ?1 ORDER BY l.id LIMIT 500",
    )?;
    let rows = st
        .query_map([id], |r| {
            let action: String = r.get(2)?;
            Ok(StaffTimelineItem {
                item: TimelineItem {
                    step_no: r.get(0)?,
                    step_name: r.get(1)?,
                    action_name: action_name(&action).into(),
                    action,
                    opinion: r.get(3)?,
                    at: crate::time::fmt(r.get(4)?),
                },
                org_name: r.get(5)?,
                admin_name: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

fn steps(c: &Connection, id: i64, with_org: bool) -> Result<Vec<StepView>> {
    let mut st = c.prepare_cached(
        "SELECT s.step_no, s.name, s.level, o.name FROM aid_steps s JOIN orgs o ON o.id = s.org_id
         WHERE s.application_id = ?1 ORDER BY s.step_no",
    )?;
    let rows = st
        .query_map([id], |r| {
            Ok(StepView {
                step_no: r.get(0)?,
                name: r.get(1)?,
                level: r.get(2)?,
                org_name: if with_org { r.get(3)? } else { None },
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Attachments of application `id`.
pub fn attachments(c: &Connection, id: i64) -> Result<Vec<AttachmentOut>> {
    let mut st = c.prepare_cached(
        "SELECT x.file_id, x.label, f.content_type, f.size FROM aid_attachments x JOIN files f ON f.id = x.file_id
         WHERE x.application_id = ?1 AND f.deleted_at IS NULL ORDER BY x.file_id",
    )?;
    let rows = st
        .query_map([id], |r| {
            Ok(AttachmentOut {
                file_id: r.get(0)?,
                label: r.get(1)?,
                content_type: r.get(2)?,
                size: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// A family member row: relation, age, masked name, masked ID number, sealed values.
pub type FamilyRow = (String, Option<i64>, String, Option<String>, Option<String>);

/// Family members with their sealed values.
pub fn family_sealed(c: &Connection, id: i64) -> Result<Vec<FamilyRow>> {
    let mut st = c.prepare_cached(
        "SELECT relation, age, name_masked, id_masked, sealed FROM aid_family_members WHERE application_id = ?1 ORDER BY seq",
    )?;
    let rows = st
        .query_map([id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Decrypted family members.
pub fn family_open(c: &Connection, cipher: &dyn FieldCipher, id: i64) -> Result<Vec<FamilyOut>> {
    family_sealed(c, id)?
        .into_iter()
        .map(|(relation, age, _, _, s)| {
            Ok(FamilyOut {
                relation,
                age,
                values: repo::open_family(cipher, s.as_deref())?,
            })
        })
        .collect()
}

/// Disbursements of application `id`.
pub fn disbursements(c: &Connection, id: i64) -> Result<Vec<Disbursement>> {
    let mut st = c.prepare_cached(
        "SELECT id, amount_cents, given_on, form, note, created_at FROM aid_disbursements WHERE application_id = ?1 ORDER BY id LIMIT 500",
    )?;
    let rows = st
        .query_map([id], |r| {
            let cents: i64 = r.get(1)?;
            Ok(Disbursement {
                id: r.get(0)?,
                amount: format!("{}.{:02}", cents / 100, cents % 100),
                date: r.get(2)?,
                form: r.get(3)?,
                note: r.get(4)?,
                created_at: crate::time::fmt(r.get(5)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The member's own view.
pub fn member_view(
    c: &Connection,
    cipher: &dyn FieldCipher,
    a: &AppRow,
) -> Result<MemberApplication> {
    Ok(MemberApplication {
        item: member_item(a),
        reason_code: a.reason_code.clone(),
        reason_name: reason_name(&a.reason_code),
        household_size: a.household_size,
        form: repo::open_app(cipher, a.sealed.as_deref())?,
        family: family_open(c, cipher, a.id)?,
        attachments: attachments(c, a.id)?,
        steps: steps(c, a.id, false)?,
        timeline: timeline(c, a.id)?.into_iter().map(|t| t.item).collect(),
    })
}

/// The staff view for account `me_org`.
pub fn staff_view(c: &Connection, a: &AppRow, me_org: i64) -> Result<StaffDetail> {
    Ok(StaffDetail {
        item: staff_item(a, me_org),
        values_masked: if a.sealed.is_some() { "****" } else { "" }.into(),
        family: family_sealed(c, a.id)?
            .into_iter()
            .map(|(relation, age, name_masked, id_masked, _)| FamilyMasked {
                relation,
                age,
                name_masked,
                id_masked,
            })
            .collect(),
        attachments: attachments(c, a.id)?,
        steps: steps(c, a.id, true)?,
        timeline: timeline(c, a.id)?,
        disbursements: disbursements(c, a.id)?,
    })
}
