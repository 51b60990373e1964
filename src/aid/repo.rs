//! SQL shared by the aid handlers: who may see an application, the flow resolved to orgs,
//! writing the form (sealed), the log and the notices.

use super::model::{ApplicationData, FamilySealed, Sealed};
use super::types::{self, Step};
use crate::auth::{AdminAuth, Scope};
use crate::crypto::field::FieldCipher;
use crate::error::{AppError, Result};
use crate::messages::notify::{Notice, notify_member};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};
use serde_json::json;

/// Encryption context of an application's sealed values.
pub const AAD_APP: &str = "aid.application";
/// Encryption context of a family member's sealed values.
pub const AAD_FAMILY: &str = "aid.family_member";
/// `file_refs.ref_type` of an evidence attachment.
pub const REF_TYPE: &str = "aid_application";

/// The plain columns of an application (alias `a`, type `t`, member `m`, org `o`).
#[derive(Debug, Clone)]
pub struct AppRow {
    /// Id.
    pub id: i64,
    /// Type.
    pub type_id: i64,
    /// Type name.
    pub type_name: String,
    /// Applicant.
    pub member_id: i64,
    /// Applicant's name (plain; callers mask it for staff).
    pub member_name: String,
    /// Applicant's org.
    pub org_id: i64,
    /// Org name.
    pub org_name: String,
    /// Status.
    pub status: String,
    /// Current step.
    pub current_step: Option<i64>,
    /// Cause code.
    pub reason_code: String,
    /// Household size.
    pub household_size: i64,
    /// Sealed values.
    pub sealed: Option<String>,
    /// 代申请 clerk.
    pub proxy_admin_id: Option<i64>,
    /// Submitted.
    pub submitted_at: Option<i64>,
    /// Decided.
    pub decided_at: Option<i64>,
    /// Created.
    pub created_at: i64,
    /// Steps in the flow (0 before the first submit).
    pub step_count: i64,
    /// Name of the current step.
    pub step_name: Option<String>,
    /// Org deciding the current step.
    pub step_org_id: Option<i64>,
}

/// Columns of [`AppRow`].
pub const SELECT: &str = "SELECT a.id, a.type_id, t.name, a.member_id, coalesce(m.real_name, m.nickname, ''), a.org_id, o.name,
    a.status, a.current_step, a.reason_code, a.household_size, a.sealed, a.proxy_admin_id, a.submitted_at, a.decided_at,
    a.created_at, (SELECT count(*) FROM aid_steps s WHERE s.application_id = a.id), cs.name, cs.org_id
    FROM aid_applications a JOIN aid_types t ON t.id = a.type_id JOIN members m ON m.id = a.member_id
    JOIN orgs o ON o.id = a.org_id
    LEFT JOIN aid_steps cs ON cs.application_id = a.id AND cs.step_no = a.current_step";

/// Map a [`SELECT`] row.
pub fn map_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AppRow> {
    Ok(AppRow {
        id: r.get(0)?,
        type_id: r.get(1)?,
        type_name: r.get(2)?,
        member_id: r.get(3)?,
        member_name: r.get(4)?,
        org_id: r.get(5)?,
        org_name: r.get(6)?,
        status: r.get(7)?,
        current_step: r.get(8)?,
        reason_code: r.get(9)?,
        household_size: r.get(10)?,
        sealed: r.get(11)?,
        proxy_admin_id: r.get(12)?,
        submitted_at: r.get(13)?,
        decided_at: r.get(14)?,
        created_at: r.get(15)?,
        step_count: r.get(16)?,
        step_name: r.get(17)?,
        step_org_id: r.get(18)?,
    })
}

/// SQL condition (alias `a`) for the applications staff account `me` may see with `scope`:
/// in the scope, never a member's draft, and either filed by `me` (代申请) or at or past a
/// step of `me`'s own org. The step orgs are the applicant's own org chain, so a sibling
/// county matches nothing.
pub fn visible_sql(me: &AdminAuth, scope: &Scope) -> (String, Vec<Value>) {
    let (cond, mut p) = scope.sql("a.org_id", None);
    p.push(Value::Integer(me.id));
    p.push(Value::Integer(me.org_id));
    (
        format!(
            "{cond} AND a.status <> 'draft' AND (a.proxy_admin_id = ? OR EXISTS (SELECT 1 FROM aid_steps s
             WHERE s.application_id = a.id AND s.org_id = ? AND s.step_no <= a.current_step))"
        ),
        p,
    )
}

/// Load an application staff account `me` may see with `scope` (else 404).
pub fn load_staff(c: &Connection, me: &AdminAuth, scope: &Scope, id: i64) -> Result<AppRow> {
    let (cond, mut p) = visible_sql(me, scope);
    p.insert(0, Value::Integer(id));
    c.prepare_cached(&format!("{SELECT} WHERE a.id = ? AND {cond}"))?
        .query_row(params_from_iter(p), map_row)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// Load one of the member's own applications (else 404).
pub fn load_own(c: &Connection, member: i64, id: i64) -> Result<AppRow> {
    c.prepare_cached(&format!("{SELECT} WHERE a.id = ?1 AND a.member_id = ?2"))?
        .query_row([id, member], map_row)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// Load any application by id (after a write, for the answer).
pub fn load_any(c: &Connection, id: i64) -> Result<AppRow> {
    c.prepare_cached(&format!("{SELECT} WHERE a.id = ?1"))?
        .query_row([id], map_row)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// One step resolved to the org that decides it.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Step name.
    pub name: String,
    /// Org kind.
    pub level: String,
    /// Deciding org.
    pub org_id: i64,
}

/// Resolve a flow for an applicant in `org_id`: each step goes to the nearest org of its
/// kind on the chain from the applicant's org up to the root (the org itself included); a
/// step whose kind is not on the chain is skipped.
pub fn resolve(c: &Connection, steps: &[Step], org_id: i64) -> Result<Vec<Resolved>> {
    let path: String = c.query_row("SELECT path FROM orgs WHERE id = ?1", [org_id], |r| {
        r.get(0)
    })?;
    let ids: Vec<i64> = path.split('/').filter_map(|s| s.parse().ok()).collect();
    let mut chain = Vec::new();
    for id in ids.iter().rev() {
        let kind: Option<String> = c
            .prepare_cached("SELECT kind FROM orgs WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        if let Some(k) = kind {
            chain.push((*id, k));
        }
    }
    Ok(steps
        .iter()
        .filter_map(|s| {
            chain
                .iter()
                .find(|(_, k)| *k == s.level)
                .map(|(id, _)| Resolved {
                    name: s.name.clone(),
                    level: s.level.clone(),
                    org_id: *id,
                })
        })
        .collect())
}

/// Take the flow snapshot of application `id` (type `type_id`, applicant org `org_id`) at its
/// first submit; `409 no_approver` when no step of the flow has an org on the chain.
pub fn snapshot_steps(c: &Connection, id: i64, type_id: i64, org_id: i64) -> Result<()> {
    let t = types::load(c, type_id)?;
    let steps = resolve(c, &t.steps, org_id)?;
    if steps.is_empty() {
        return Err(AppError::conflict_code(
            "no_approver",
            "所在组织的上级中没有负责审批此类帮扶的工会，请联系工会工作人员",
        ));
    }
    c.execute("DELETE FROM aid_steps WHERE application_id = ?1", [id])?;
    let mut ins = c.prepare_cached(
        "INSERT INTO aid_steps (application_id, step_no, name, level, org_id) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (i, s) in steps.iter().enumerate() {
        ins.execute(params![id, i as i64 + 1, s.name, s.level, s.org_id])?;
    }
    Ok(())
}

/// Check that every attachment is a live private `attachment` upload of the applicant (or,
/// for 代申请, of the filing clerk); a field error names the first that is not.
pub fn check_files(
    c: &Connection,
    d: &ApplicationData,
    member: i64,
    clerk: Option<i64>,
) -> Result<()> {
    let mut st = c.prepare_cached(
        "SELECT count(*) > 0 FROM files WHERE id = ?1 AND deleted_at IS NULL AND visibility = 'private'
         AND purpose = 'attachment' AND ((owner_type = 'member' AND owner_id = ?2) OR (owner_type = 'admin' AND owner_id = ?3))",
    )?;
    for (i, (f, _)) in d.attachments.iter().enumerate() {
        let good: bool = st.query_row(params![f, member, clerk.unwrap_or(-1)], |r| r.get(0))?;
        if !good {
            return Err(AppError::field(
                &format!("attachments[{i}].file_id"),
                "材料不存在或不是申请人本人上传的，请重新上传",
            ));
        }
    }
    Ok(())
}

/// Write the form of application `id`: sealed values, family members, attachments (and their
/// file references), replacing what was there.
pub fn write_form(
    c: &Connection,
    cipher: &dyn FieldCipher,
    id: i64,
    d: &ApplicationData,
) -> Result<()> {
    let sealed = seal(cipher, &d.sealed, AAD_APP)?;
    c.execute(
        "UPDATE aid_applications SET reason_code = ?1, household_size = ?2, sealed = ?3, updated_at = ?4 WHERE id = ?5",
        params![d.reason_code, d.household_size, sealed, crate::time::now(), id],
    )?;
    c.execute(
        "DELETE FROM aid_family_members WHERE application_id = ?1",
        [id],
    )?;
    let mut ins = c.prepare_cached(
        "INSERT INTO aid_family_members (application_id, seq, relation, age, name_masked, id_masked, sealed)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (i, f) in d.family.iter().enumerate() {
        let s = seal(cipher, &f.sealed, AAD_FAMILY)?;
        ins.execute(params![
            id,
            i as i64 + 1,
            f.relation,
            f.age,
            f.name_masked,
            f.id_masked,
            s
        ])?;
    }
    c.execute(
        "DELETE FROM aid_attachments WHERE application_id = ?1",
        [id],
    )?;
    c.execute(
        "DELETE FROM file_refs WHERE ref_type = ?1 AND ref_id = ?2",
        params![REF_TYPE, id],
    )?;
    let mut ins = c.prepare_cached(
        "INSERT INTO aid_attachments (application_id, file_id, label) VALUES (?1, ?2, ?3)",
    )?;
    for (f, label) in &d.attachments {
        ins.execute(params![id, f, label])?;
    }
    let files: Vec<i64> = d.attachments.iter().map(|a| a.0).collect();
    crate::files::refs::link(c, &files, REF_TYPE, id)
}

/// Encrypt a value as JSON.
pub fn seal<T: serde::Serialize>(cipher: &dyn FieldCipher, v: &T, aad: &str) -> Result<String> {
    cipher.encrypt(&serde_json::to_string(v).map_err(AppError::internal)?, aad)
}

/// Decrypt the application's sealed values (empty once erased).
pub fn open_app(cipher: &dyn FieldCipher, sealed: Option<&str>) -> Result<Sealed> {
    match sealed {
        None => Ok(Sealed::default()),
        Some(s) => serde_json::from_str(&cipher.decrypt(s, AAD_APP)?).map_err(AppError::internal),
    }
}

/// Decrypt a family member's sealed values (empty once erased).
pub fn open_family(cipher: &dyn FieldCipher, sealed: Option<&str>) -> Result<FamilySealed> {
    match sealed {
        None => Ok(FamilySealed::default()),
        Some(s) => {
            serde_json::from_str(&cipher.decrypt(s, AAD_FAMILY)?).map_err(AppError::internal)
        }
    }
}

/// Append to the log of application `id`.
#[allow(clippy::too_many_arguments)]
pub fn log(
    c: &Connection,
    id: i64,
    step: Option<(i64, &str)>,
    action: &str,
    opinion: Option<&str>,
    admin: Option<i64>,
    org: Option<i64>,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO aid_log (application_id, step_no, step_name, action, opinion, admin_id, org_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![id, step.map(|s| s.0), step.map(|s| s.1), action, opinion, admin, org, crate::time::now()])?;
    Ok(())
}

/// Notify the applicant of a transition: `aid.submitted`, `aid.returned`, `aid.approved` or
/// `aid.rejected` (message center and subscription outbox, in the caller's transaction).
pub fn notify(
    c: &Connection,
    a: &AppRow,
    event: &'static str,
    opinion: Option<&str>,
) -> Result<()> {
    let (title, result) = match event {
        "aid.submitted" => ("帮扶申请已提交", "已提交，等待审批"),
        "aid.returned" => ("帮扶申请被退回补充材料", "退回补充"),
        "aid.approved" => ("帮扶申请已通过", "审批通过"),
        _ => ("帮扶申请未通过", "未通过"),
    };
    let mut content = format!("您的「{}」申请：{result}。", a.type_name);
    if let Some(o) = opinion.filter(|o| !o.is_empty()) {
        content.push_str(&format!("意见：{o}"));
    }
    // The log id keeps a resubmission's notice apart from the first one.
    let seq: i64 = c.query_row(
        "SELECT coalesce(max(id), 0) FROM aid_log WHERE application_id = ?1",
        [a.id],
        |r| r.get(0),
    )?;
    notify_member(
        c,
        a.member_id,
        &Notice {
            event,
            title: title.into(),
            content,
            link: Some(format!("aid/detail?id={}", a.id)),
            org_id: Some(a.org_id),
            fields: json!({"title": a.type_name, "result": result, "reason": opinion.unwrap_or(""),
                "time": crate::time::fmt(crate::time::now())}),
            key: format!("{event}:{}:{seq}", a.id),
        },
    )?;
    Ok(())
}
