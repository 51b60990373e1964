//! Member side of aid: fill in a draft, change it while it is a draft or returned, submit it
//! into its flow, follow its progress. Another member's application is 404.

use super::model::AidApplicationIn;
use super::repo::{self, AppRow, SELECT, load_own, map_row};
use super::views::{MemberApplication, MemberItem, member_item, member_view};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::cursor::{CursorPage, CursorQuery};
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, created, ok};
use crate::members::auth::MemberAuth;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, params, params_from_iter, types::Value};
use serde_json::json;

/// The applicant's org; 409 unless the member is active in an org.
fn applicant_org(c: &Connection, member: i64) -> Result<i64> {
    let (status, org): (String, Option<i64>) = c.query_row(
        "SELECT status, org_id FROM members WHERE id = ?1",
        [member],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    match (status.as_str(), org) {
        ("active", Some(o)) => Ok(o),
        _ => Err(AppError::conflict_code(
            "not_member",
            "只有已入会的职工可以申请帮扶",
        )),
    }
}

/// The type must exist and be open for applications.
fn check_type(c: &Connection, type_id: i64) -> Result<()> {
    let t =
        super::types::load(c, type_id).map_err(|_| AppError::field("type_id", "帮扶类型不存在"))?;
    if !t.enabled {
        return Err(AppError::field("type_id", "此帮扶类型暂停受理"));
    }
    Ok(())
}

/// `409 open_exists` for the unique index of open applications.
pub fn open_exists(e: rusqlite::Error) -> AppError {
    if crate::error::is_unique_violation(&e) {
        AppError::conflict_code(
            "open_exists",
            "您已有一份同类帮扶申请正在办理中，请在原申请上补充或等待审批结果",
        )
    } else {
        e.into()
    }
}

/// Insert an application row in `status`; its id.
pub fn insert(
    c: &Connection,
    type_id: i64,
    member: i64,
    org: i64,
    status: &str,
    proxy: Option<i64>,
) -> Result<i64> {
    let now = crate::time::now();
    c.execute(
        "INSERT INTO aid_applications (type_id, member_id, org_id, status, reason_code, household_size, proxy_admin_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'other', 1, ?5, ?6, ?6)",
        params![type_id, member, org, status, proxy, now],
    )
    .map_err(open_exists)?;
    Ok(c.last_insert_rowid())
}

/// Start an application (a draft: nothing is sent for approval until it is submitted).
#[utoipa::path(post, path = "/api/v1/app/aid/applications", tag = "帮扶服务", security(("bearer" = [])), request_body = AidApplicationIn,
    responses((status = 201, body = MemberApplication), (status = 400), (status = 401),
        (status = 409, description = "open_exists（同类申请办理中） / not_member")))]
pub async fn create(
    State(st): State<AppState>,
    me: MemberAuth,
    AppJson(req): AppJson<AidApplicationIn>,
) -> Result<Response> {
    let d = req.validate()?;
    let (member, actor, cipher) = (me.id, me.actor(), st.cipher.clone());
    let out = st
        .db
        .write(move |c| {
            check_type(c, d.type_id)?;
            let org = applicant_org(c, member)?;
            repo::check_files(c, &d, member, None)?;
            let id = insert(c, d.type_id, member, org, "draft", None)?;
            repo::write_form(c, cipher.as_ref(), id, &d)?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "aid.create",
                    "aid_application",
                    id,
                    json!({"type_id": d.type_id}),
                ),
            )?;
            member_view(c, cipher.as_ref(), &load_own(c, member, id)?)
        })
        .await?;
    Ok(created(out))
}

/// My applications, newest first; paged by cursor.
#[utoipa::path(get, path = "/api/v1/app/aid/applications", tag = "帮扶服务", security(("bearer" = [])), params(CursorQuery),
    responses((status = 200, body = CursorPage<MemberItem>), (status = 400), (status = 401)))]
pub async fn list(
    State(st): State<AppState>,
    me: MemberAuth,
    AppQuery(q): AppQuery<CursorQuery>,
) -> Result<Response> {
    let w = q.resolve(1)?;
    let member = me.id;
    let out = st
        .db
        .read(move |c| {
            let mut p = vec![Value::Integer(member)];
            let mut cond = String::new();
            if let Some(k) = &w.after {
                cond = " AND a.id < ?".into();
                p.push(Value::Integer(k[0]));
            }
            p.push(Value::Integer(w.fetch()));
            let rows: Vec<AppRow> = c
                .prepare_cached(&format!(
                    "{SELECT} WHERE a.member_id = ? AND a.status <> 'cancelled'{cond} ORDER BY a.id DESC LIMIT ?"
                ))?
                .query_map(params_from_iter(p), map_row)?
                .collect::<rusqlite::Result<_>>()?;
            let items: Vec<MemberItem> = rows.iter().map(member_item).collect();
            Ok::<_, AppError>(w.finish(items, |i| vec![i.id]))
        })
        .await?;
    Ok(ok(out))
}

/// One of my applications with its values and progress (step, result, opinion, time).
#[utoipa::path(get, path = "/api/v1/app/aid/applications/{id}", tag = "帮扶服务", security(("bearer" = [])),
    params(("id" = i64, Path, description = "帮扶申请 ID")),
    responses((status = 200, body = MemberApplication), (status = 401), (status = 404)))]
pub async fn get(
    State(st): State<AppState>,
    me: MemberAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let (member, cipher) = (me.id, st.cipher.clone());
    Ok(ok(st
        .db
        .read(move |c| member_view(c, cipher.as_ref(), &load_own(c, member, id)?))
        .await?))
}

/// Replace the form of a draft or a returned application (the type cannot change).
#[utoipa::path(patch, path = "/api/v1/app/aid/applications/{id}", tag = "帮扶服务", security(("bearer" = [])), request_body = AidApplicationIn,
    params(("id" = i64, Path, description = "帮扶申请 ID")),
    responses((status = 200, body = MemberApplication), (status = 400), (status = 401), (status = 404),
        (status = 409, description = "not_editable（已提交审批）")))]
pub async fn patch(
    State(st): State<AppState>,
    me: MemberAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<AidApplicationIn>,
) -> Result<Response> {
    replace_form(st, me, id, req).await
}

/// The same as PATCH: the mini-program's `wx.request` cannot send PATCH, so the member client
/// replaces the form with PUT (the body is always the whole form anyway).
#[utoipa::path(put, path = "/api/v1/app/aid/applications/{id}", tag = "帮扶服务", security(("bearer" = [])), request_body = AidApplicationIn,
    params(("id" = i64, Path, description = "帮扶申请 ID")),
    responses((status = 200, body = MemberApplication), (status = 400), (status = 401), (status = 404),
        (status = 409, description = "not_editable（已提交审批）")))]
pub async fn put(
    State(st): State<AppState>,
    me: MemberAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<AidApplicationIn>,
) -> Result<Response> {
    replace_form(st, me, id, req).await
}

async fn replace_form(
    st: AppState,
    me: MemberAuth,
    id: i64,
    req: AidApplicationIn,
) -> Result<Response> {
    let d = req.validate()?;
    let (member, actor, cipher) = (me.id, me.actor(), st.cipher.clone());
    let out = st
        .db
        .write(move |c| {
            let a = load_own(c, member, id)?;
            if a.status != "draft" && a.status != "returned" {
                return Err(AppError::conflict_code(
                    "not_editable",
                    "申请已提交审批或已办结，不能修改",
                ));
            }
            if a.type_id != d.type_id {
                return Err(AppError::field("type_id", "帮扶类型不能修改，请另行申请"));
            }
            repo::check_files(c, &d, member, a.proxy_admin_id)?;
            repo::write_form(c, cipher.as_ref(), id, &d)?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "aid.update",
                    "aid_application",
                    id,
                    json!({"type_id": d.type_id}),
                ),
            )?;
            member_view(c, cipher.as_ref(), &load_own(c, member, id)?)
        })
        .await?;
    Ok(ok(out))
}

/// Put application `a` into its flow: a draft enters step 1 (the flow resolved to orgs now);
/// a returned one goes back into the step that returned it. Logs, notifies, audits.
pub fn submit_row(c: &Connection, a: &AppRow, actor: &crate::audit::Actor) -> Result<()> {
    let now = crate::time::now();
    let (step, action) = match a.status.as_str() {
        "draft" => {
            repo::snapshot_steps(c, a.id, a.type_id, a.org_id)?;
            (1, "submit")
        }
        "returned" => (a.current_step.unwrap_or(1), "resubmit"),
        _ => {
            return Err(AppError::conflict_code(
                "already_submitted",
                "申请已提交，不能重复提交",
            ));
        }
    };
    c.execute(
        "UPDATE aid_applications SET status = 'pending', current_step = ?1, submitted_at = coalesce(submitted_at, ?2), updated_at = ?2 WHERE id = ?3",
        params![step, now, a.id],
    )?;
    let name: String = c.query_row(
        "SELECT name FROM aid_steps WHERE application_id = ?1 AND step_no = ?2",
        params![a.id, step],
        |r| r.get(0),
    )?;
    repo::log(
        c,
        a.id,
        Some((step, &name)),
        action,
        None,
        actor.id.filter(|_| actor.kind == "admin"),
        None,
    )?;
    repo::notify(c, a, "aid.submitted", None)?;
    audit::record(
        c,
        actor,
        &Entry::success("aid.submit", "aid_application", a.id, json!({"step": step})),
    )?;
    Ok(())
}

/// Submit a draft, or resubmit a returned application into the step that returned it;
/// `409 already_submitted` when it is already in its flow or decided.
#[utoipa::path(post, path = "/api/v1/app/aid/applications/{id}/submit", tag = "帮扶服务", security(("bearer" = [])),
    params(("id" = i64, Path, description = "帮扶申请 ID")),
    responses((status = 200, body = MemberApplication), (status = 401), (status = 404),
        (status = 409, description = "already_submitted / no_approver")))]
pub async fn submit(
    State(st): State<AppState>,
    me: MemberAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let (member, actor, cipher) = (me.id, me.actor(), st.cipher.clone());
    let out = st
        .db
        .write(move |c| {
            let a = load_own(c, member, id)?;
            submit_row(c, &a, &actor)?;
            member_view(c, cipher.as_ref(), &load_own(c, member, id)?)
        })
        .await?;
    Ok(ok(out))
}
