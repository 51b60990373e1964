//! Real-name conflicts (issue 17, item 10): a member's real-name submission was refused
//! because another account already holds the ID number. Staff with `member:review` see the
//! conflict (ID masked) and, after checking the person's ID card, release the number from the
//! holding account so the real person can register it. Audited; scoped by the holder's org.
//!
//! Scope: a holder with an org is the business of staff whose `member:review` scope covers that
//! org (404 otherwise). A holder with no org never applied anywhere, so no county owns it:
//! staff see it when the claimant's org is in scope or the claimant has none either.
//! An active (or former) member's number is never released here: staff correct a member's
//! identity through member administration (409 `holder_is_member`).

use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::permissions::codes;
use crate::auth::{AdminAuth, Scope};
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, ok};
use crate::http::{Page, PageQuery};
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Remember an open conflict (once per claimant and holder).
pub fn record(c: &Connection, claimant: i64, holder: i64, bidx: &str) -> Result<()> {
    c.execute(
        "INSERT INTO realname_conflicts (claimant_id, holder_id, id_bidx, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (claimant_id, holder_id) WHERE status = 'open' DO NOTHING",
        params![claimant, holder, bidx, crate::time::now()],
    )?;
    Ok(())
}

/// Forget every conflict of an erased account: a conflict names a person's ID number (by its
/// blind index) and is moot once either side is gone.
pub fn forget(c: &Connection, member: i64) -> Result<()> {
    c.execute(
        "DELETE FROM realname_conflicts WHERE claimant_id = ?1 OR holder_id = ?1",
        [member],
    )?;
    Ok(())
}

/// A conflict as staff see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Conflict {
    /// Id.
    pub id: i64,
    /// The account whose submission was refused.
    pub claimant_id: i64,
    /// The account holding the ID number.
    pub holder_id: i64,
    /// Holder's status (`registered`, `pending`, `active`, …).
    pub holder_status: String,
    /// Holder's org name, if any.
    pub holder_org_name: Option<String>,
    /// Holder's name, masked (`张**`).
    pub holder_name_masked: Option<String>,
    /// The ID number, masked.
    pub id_number_masked: Option<String>,
    /// `open`, `released` or `dismissed`.
    pub status: String,
    /// When the submission was refused.
    pub created_at: String,
}

/// Filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConflictQuery {
    /// `open` (default), `released` or `dismissed`.
    pub status: Option<String>,
    /// Page.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

const FROM: &str = "FROM realname_conflicts k JOIN members h ON h.id = k.holder_id
    JOIN members m ON m.id = k.claimant_id LEFT JOIN orgs o ON o.id = h.org_id";

/// The scope condition on a conflict (see the module comment).
fn scoped(scope: &Scope) -> (String, Vec<Value>) {
    let (holder, mut p) = scope.sql("h.org_id", None);
    let (claimant, p2) = scope.sql("m.org_id", None);
    p.extend(p2);
    (
        format!("({holder} OR (h.org_id IS NULL AND (m.org_id IS NULL OR {claimant})))"),
        p,
    )
}

/// An open conflict as release and dismiss need it.
struct Open {
    claimant: i64,
    holder: i64,
    bidx: String,
    holder_status: String,
    holder_bidx: Option<String>,
}

/// The open conflict `id` in `scope`: 404 outside scope or missing, 409 once handled.
fn load_open(c: &rusqlite::Connection, scope: &Scope, id: i64) -> Result<Open> {
    let (cond, mut p) = scoped(scope);
    p.insert(0, Value::Integer(id));
    let row = c
        .query_row(
            &format!("SELECT k.claimant_id, k.holder_id, k.id_bidx, k.status, h.status, h.id_bidx {FROM} WHERE k.id = ? AND {cond}"),
            params_from_iter(p),
            |r| {
                Ok((
                    r.get::<_, String>(3)?,
                    Open {
                        claimant: r.get(0)?,
                        holder: r.get(1)?,
                        bidx: r.get(2)?,
                        holder_status: r.get(4)?,
                        holder_bidx: r.get(5)?,
                    },
                ))
            },
        )
        .optional()?;
    match row {
        None => Err(AppError::NotFound),
        Some((status, _)) if status != "open" => {
            Err(AppError::conflict_code("conflict_closed", "该冲突已处理"))
        }
        Some((_, open)) => Ok(open),
    }
}

fn map(r: &rusqlite::Row<'_>) -> rusqlite::Result<Conflict> {
    let name: Option<String> = r.get(5)?;
    Ok(Conflict {
        id: r.get(0)?,
        claimant_id: r.get(1)?,
        holder_id: r.get(2)?,
        holder_status: r.get(3)?,
        holder_org_name: r.get(4)?,
        holder_name_masked: name.as_deref().map(crate::crypto::mask::mask_name),
        id_number_masked: r.get(6)?,
        status: r.get(7)?,
        created_at: crate::time::fmt(r.get(8)?),
    })
}

const COLS: &str = "k.id, k.claimant_id, k.holder_id, h.status, o.name, h.real_name, h.id_masked, k.status, k.created_at";

/// Real-name conflicts in scope, newest first.
#[utoipa::path(get, path = "/api/v1/admin/members/realname-conflicts", tag = "会员管理", security(("bearer" = [])), params(ConflictQuery),
    responses((status = 200, body = Page<Conflict>), (status = 400), (status = 403)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<ConflictQuery>,
) -> Result<Response> {
    let scope = me.require(codes::MEMBER_REVIEW)?;
    let pg = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let status = q.status.unwrap_or_else(|| "open".into());
    if !["open", "released", "dismissed"].contains(&status.as_str()) {
        return Err(AppError::field(
            "status",
            "状态只能是 open、released 或 dismissed",
        ));
    }
    let (cond, mut p) = scoped(&scope);
    p.insert(0, Value::Text(status));
    let out = st
        .db
        .read(move |c| {
            let wh = format!("k.status = ? AND {cond}");
            crate::http::fetch_page(
                c,
                &format!("SELECT count(*) {FROM} WHERE {wh}"),
                &format!("SELECT {COLS} {FROM} WHERE {wh} ORDER BY k.id DESC LIMIT ? OFFSET ?"),
                p,
                pg,
                map,
            )
        })
        .await?;
    Ok(ok(out))
}

/// Why the number is released.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseIn {
    /// How the claimant's identity was checked (1–200 characters), kept in the audit log.
    pub reason: String,
}

/// Release the ID number from the holding account after checking the claimant's ID card:
/// the holder's real-name data is erased (a pending application withdrawn), the claimant can
/// then register the number. One writer transaction with its audit row.
#[utoipa::path(post, path = "/api/v1/admin/members/realname-conflicts/{id}/release", tag = "会员管理", security(("bearer" = [])),
    request_body = ReleaseIn, params(("id" = i64, Path, description = "冲突记录 ID")),
    responses((status = 200, body = Conflict), (status = 400), (status = 404),
        (status = 409, description = "conflict_closed / holder_is_member / conflict_stale")))]
pub async fn release(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<ReleaseIn>,
) -> Result<Response> {
    let scope = me.require(codes::MEMBER_REVIEW)?;
    let mut ck = Check::new();
    let reason = ck.text("reason", "核验说明", &req.reason, 200);
    ck.finish()?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let Open {
                claimant,
                holder,
                bidx,
                holder_status,
                holder_bidx,
            } = load_open(c, &scope, id)?;
            if holder_status == "active" || holder_status == "left" {
                return Err(AppError::conflict_code(
                    "holder_is_member",
                    "该身份证号属于会员档案，请核实后在会员管理中更正",
                ));
            }
            if holder_bidx.as_deref() != Some(bidx.as_str()) {
                return Err(AppError::conflict_code("conflict_stale", "该账号已不再占用此身份证号"));
            }
            let now = crate::time::now();
            super::repo::clear_realname(c, holder, now)?;
            c.execute(
                "UPDATE realname_conflicts SET status = 'released', resolved_by = ?1, resolved_at = ?2
                 WHERE status = 'open' AND holder_id = ?3 AND id_bidx = ?4",
                params![actor.id, now, holder, bidx],
            )?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "member.realname_release",
                    "member",
                    holder,
                    json!({"conflict_id": id, "claimant_id": claimant, "reason": reason}),
                ),
            )?;
            Ok(c.query_row(&format!("SELECT {COLS} {FROM} WHERE k.id = ?1"), [id], map)?)
        })
        .await?;
    Ok(ok(out))
}

/// Close a conflict without touching either account, e.g. when the claimant could not show
/// the ID card or typed a wrong number. Audited.
#[utoipa::path(post, path = "/api/v1/admin/members/realname-conflicts/{id}/dismiss", tag = "会员管理", security(("bearer" = [])),
    request_body = ReleaseIn, params(("id" = i64, Path, description = "冲突记录 ID")),
    responses((status = 200, body = Conflict), (status = 400), (status = 404), (status = 409, description = "conflict_closed")))]
pub async fn dismiss(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<ReleaseIn>,
) -> Result<Response> {
    let scope = me.require(codes::MEMBER_REVIEW)?;
    let mut ck = Check::new();
    let reason = ck.text("reason", "处理说明", &req.reason, 200);
    ck.finish()?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let holder = load_open(c, &scope, id)?.holder;
            c.execute(
                "UPDATE realname_conflicts SET status = 'dismissed', resolved_by = ?1, resolved_at = ?2 WHERE id = ?3",
                params![actor.id, crate::time::now(), id],
            )?;
            audit::record(
                c,
                &actor,
                &Entry::success("member.realname_dismiss", "member", holder, json!({"conflict_id": id, "reason": reason})),
            )?;
            Ok(c.query_row(&format!("SELECT {COLS} {FROM} WHERE k.id = ?1"), [id], map)?)
        })
        .await?;
    Ok(ok(out))
}
