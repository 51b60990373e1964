//! Staff side of tickets: the queue (overdue first), the thread, replies, transfer within
//! scope, escalation to the parent org, resolution, and the staff notices. Every read and
//! write is limited to the caller's scope over the handling org.

use super::model::{
    EscalateIn, MessageIn, SELECT, STATUSES, StaffThread, StaffTicket, TicketCategory, TicketRow,
    TicketTransferIn, map_row,
};
use super::repo::{self, check_images, load_scoped, sees_names, shown_name, staff_notice};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::permissions::codes;
use crate::auth::{AdminAuth, Scope};
use crate::cursor::CursorQuery;
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, created, ok};
use crate::http::{Page, PageQuery};
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, OptionalExtension, params, types::Value};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The enabled categories, in order.
pub fn load_categories(c: &Connection) -> Result<Vec<TicketCategory>> {
    Ok(c.prepare_cached("SELECT id, code, name, deadline_amount, deadline_unit FROM ticket_categories WHERE enabled = 1 ORDER BY sort, id")?
        .query_map([], TicketCategory::map)?
        .collect::<rusqlite::Result<_>>()?)
}

/// The categories (for the queue's filter, and for editing deadlines): `ticket:read` or
/// `ticket:category`.
#[utoipa::path(get, path = "/api/v1/admin/ticket-categories", tag = "互动管理", security(("bearer" = [])),
    responses((status = 200, body = Vec<TicketCategory>), (status = 403)))]
pub async fn categories(State(st): State<AppState>, me: AdminAuth) -> Result<Response> {
    if me.require(codes::TICKET_CATEGORY).is_err() {
        me.require(codes::TICKET_READ)?;
    }
    Ok(ok(st.db.read(load_categories).await?))
}

/// Filters of the staff queue and its export.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketQuery {
    /// `open`, `resolved` or `closed`.
    #[param(pattern = "^(open|resolved|closed)$")]
    pub status: Option<String>,
    /// TicketCategory id.
    pub category_id: Option<i64>,
    /// Handling org (in scope; its subtree is not included).
    pub org_id: Option<i64>,
    /// Only overdue (`true`) or only not overdue (`false`).
    pub overdue: Option<bool>,
    /// Part of the title or text.
    #[param(max_length = 50)]
    pub keyword: Option<String>,
    /// Page.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

/// The SQL condition of a query in scope, with its parameters; `now` decides overdue.
pub fn filter(q: &TicketQuery, scope: &Scope, now: i64) -> Result<(String, Vec<Value>)> {
    let (cond, mut p) = scope.sql("t.org_id", None);
    let mut wh = vec![cond, "t.held = 0".to_string()];
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        if !STATUSES.contains(&s) {
            return Err(AppError::field(
                "status",
                "状态只能是 open、resolved 或 closed",
            ));
        }
        wh.push("t.status = ?".into());
        p.push(Value::Text(s.into()));
    }
    if let Some(k) = q.category_id {
        wh.push("t.category_id = ?".into());
        p.push(Value::Integer(k));
    }
    if let Some(o) = q.org_id {
        wh.push("t.org_id = ?".into());
        p.push(Value::Integer(o));
    }
    if let Some(o) = q.overdue {
        let not = if o { "" } else { "NOT " };
        wh.push(format!(
            "{not}(t.status = 'open' AND t.answered = 0 AND t.deadline_at <= ?)"
        ));
        p.push(Value::Integer(now));
    }
    if let Some(k) = q
        .keyword
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        if k.chars().count() > 50 {
            return Err(AppError::field("keyword", "关键词不能超过 50 个字符"));
        }
        wh.push("(instr(t.title, ?) > 0 OR instr(t.content, ?) > 0)".into());
        p.push(Value::Text(k.into()));
        p.push(Value::Text(k.into()));
    }
    Ok((wh.join(" AND "), p))
}

/// Order of the queue: overdue first (oldest deadline first), then the newest.
pub const ORDER: &str =
    "(t.status = 'open' AND t.answered = 0 AND t.deadline_at <= ?) DESC, t.id DESC";

/// The queue in the caller's scope, overdue first.
#[utoipa::path(get, path = "/api/v1/admin/tickets", tag = "互动管理", security(("bearer" = [])), params(TicketQuery),
    responses((status = 200, body = Page<StaffTicket>), (status = 400), (status = 403)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<TicketQuery>,
) -> Result<Response> {
    let scope = me.require(codes::TICKET_READ)?;
    let pg = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let now = st.clock.now();
    let (wh, p) = filter(&q, &scope, now)?;
    let out = st
        .db
        .read(move |c| {
            let sees = sees_names(c, &me)?;
            let count = format!("SELECT count(*) FROM tickets t WHERE {wh}");
            // The ORDER's `?` comes after the WHERE parameters and before LIMIT/OFFSET.
            let list = format!(
                "{SELECT} WHERE {wh} ORDER BY {} LIMIT ? OFFSET ?",
                ORDER.replace('?', &now.to_string())
            );
            crate::http::fetch_page(c, &count, &list, p, pg, |r| {
                map_row(r).map(|t| t.staff(now, shown_name(&t, sees, true)))
            })
        })
        .await?;
    Ok(ok(out))
}

fn thread(
    st: &AppState,
    me: &AdminAuth,
    c: &Connection,
    t: TicketRow,
    w: &crate::cursor::Window,
    now: i64,
) -> Result<StaffThread> {
    let sees = sees_names(c, me)?;
    let hidden = t.anonymous && !sees;
    let phone = if hidden {
        t.phone_masked.clone()
    } else {
        match &t.phone_enc {
            Some(e) => Some(st.cipher.decrypt(e, repo::AAD_PHONE)?),
            None => None,
        }
    };
    let msgs = repo::messages(c, t.id, w, false)?;
    Ok(StaffThread {
        member_id: (!hidden).then_some(t.member_id),
        content: t.content.clone(),
        images: repo::images(st, &t.file_ids),
        callback_phone: phone,
        rating_comment: t.rating_comment.clone(),
        routes: repo::routes(c, t.id)?,
        messages: repo::for_staff(st, msgs),
        ticket: t.staff(now, shown_name(&t, sees, false)),
    })
}

/// One ticket with its thread (messages after `cursor`, oldest first) and routing history.
#[utoipa::path(get, path = "/api/v1/admin/tickets/{id}", tag = "互动管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "工单 ID"), CursorQuery),
    responses((status = 200, body = StaffThread), (status = 400), (status = 403), (status = 404)))]
pub async fn get(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppQuery(q): AppQuery<CursorQuery>,
) -> Result<Response> {
    let scope = me.require(codes::TICKET_READ)?;
    let w = q.resolve(1)?;
    let now = st.clock.now();
    let s2 = st.clone();
    let out = st
        .db
        .read(move |c| {
            let t = load_scoped(c, &scope, id)?;
            thread(&s2, &me, c, t, &w, now)
        })
        .await?;
    Ok(ok(out))
}

/// Load an open ticket in scope for a staff action (`409 ticket_not_open` otherwise).
fn open_in_scope(c: &Connection, scope: &Scope, id: i64) -> Result<TicketRow> {
    let t = load_scoped(c, scope, id)?;
    if t.status != "open" {
        return Err(AppError::conflict_code(
            "ticket_not_open",
            "诉求已办结或已关闭，不能再操作",
        ));
    }
    Ok(t)
}

/// The result of a staff action: the ticket as the queue shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Done {
    /// The ticket after the change.
    #[serde(flatten)]
    pub ticket: StaffTicket,
}

fn done(c: &Connection, me: &AdminAuth, id: i64, now: i64) -> Result<Done> {
    let t = repo::load(c, id)?;
    let sees = sees_names(c, me)?;
    Ok(Done {
        ticket: t.staff(now, shown_name(&t, sees, true)),
    })
}

/// Reply to an open ticket in scope; the member sees only the org's name.
#[utoipa::path(post, path = "/api/v1/admin/tickets/{id}/messages", tag = "互动管理", security(("bearer" = [])), request_body = MessageIn,
    params(("id" = i64, Path, description = "工单 ID")),
    responses((status = 201, body = Done), (status = 400), (status = 403), (status = 404), (status = 409, description = "ticket_not_open")))]
pub async fn reply(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<MessageIn>,
) -> Result<Response> {
    let scope = me.require(codes::TICKET_REPLY)?;
    let (text, files) = req.validate()?;
    let (actor, now) = (me.actor(), st.clock.now());
    let out = st
        .db
        .write(move |c| {
            let t = open_in_scope(c, &scope, id)?;
            check_images(c, &files, "admin", me.id)?;
            c.execute(
                "INSERT INTO ticket_messages (ticket_id, author, admin_id, org_id, content, file_ids, created_at) VALUES (?1, 'staff', ?2, ?3, ?4, ?5, ?6)",
                params![id, me.id, t.org_id, text, json!(files).to_string(), now],
            )?;
            let mid = c.last_insert_rowid();
            crate::files::refs::link(c, &files, "ticket_message", mid)?;
            c.execute(
                "UPDATE tickets SET answered = 1, first_reply_at = coalesce(first_reply_at, ?1), updated_at = ?1 WHERE id = ?2",
                params![now, id],
            )?;
            super::app::tell_member(c, &t, "ticket.replied", format!("{}回复了您的诉求「{}」。", t.org_name, t.title), "已回复", format!("ticket.replied:{mid}"))?;
            audit::record(c, &actor, &Entry::success("ticket.reply", "ticket", id, json!({"files": files.len()})))?;
            done(c, &me, id, now)
        })
        .await?;
    Ok(created(out))
}

fn note(n: &str) -> Result<String> {
    let mut ck = Check::new();
    let t = ck.text("note", "说明", n, super::model::MAX_NOTE);
    ck.finish()?;
    Ok(t)
}

/// Move the ticket to `to`, recording the route, telling the new org's staff and the member.
fn route(
    c: &Connection,
    me: &AdminAuth,
    t: &TicketRow,
    kind: &'static str,
    to: (i64, String),
    note: &str,
    now: i64,
) -> Result<()> {
    c.execute(
        "UPDATE tickets SET org_id = ?1, overdue_notified_at = NULL, updated_at = ?2 WHERE id = ?3",
        params![to.0, now, t.id],
    )?;
    c.execute(
        "INSERT INTO ticket_routes (ticket_id, kind, from_org_id, to_org_id, note, admin_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![t.id, kind, t.org_id, to.0, note, me.id, now],
    )?;
    let rid = c.last_insert_rowid();
    let verb = if kind == "transfer" {
        "转办"
    } else {
        "上报"
    };
    staff_notice(
        c,
        to.0,
        t.id,
        &format!("ticket.{kind}"),
        format!("{}{verb}来的诉求：{}", t.org_name, t.title),
        format!("ticket.{kind}:{rid}"),
    )?;
    super::app::tell_member(
        c,
        t,
        "ticket.transferred",
        format!("您的诉求「{}」已{verb}至{}办理。", t.title, to.1),
        verb,
        format!("ticket.route:{rid}"),
    )?;
    let action = if kind == "transfer" {
        "ticket.transfer"
    } else {
        "ticket.escalate"
    };
    audit::record(
        c,
        &me.actor(),
        &Entry::success(
            action,
            "ticket",
            t.id,
            json!({"from": t.org_id, "org_id": to.0}),
        ),
    )?;
    Ok(())
}

/// Transfer an open ticket to another org in the caller's scope (404 outside it).
#[utoipa::path(post, path = "/api/v1/admin/tickets/{id}/transfer", tag = "互动管理", security(("bearer" = [])), request_body = TicketTransferIn,
    params(("id" = i64, Path, description = "工单 ID")),
    responses((status = 200, body = Done), (status = 400), (status = 403), (status = 404), (status = 409, description = "ticket_not_open / same_org")))]
pub async fn transfer(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<TicketTransferIn>,
) -> Result<Response> {
    let scope = me.require(codes::TICKET_REPLY)?;
    let n = note(&req.note)?;
    let now = st.clock.now();
    let out = st
        .db
        .write(move |c| {
            let t = open_in_scope(c, &scope, id)?;
            let to = crate::system::orgs::load_in_scope(c, &scope, req.org_id)?;
            if to.id == t.org_id {
                return Err(AppError::conflict_code("same_org", "诉求已在该组织办理"));
            }
            route(c, &me, &t, "transfer", (to.id, to.name), &n, now)?;
            done(c, &me, id, now)
        })
        .await?;
    Ok(ok(out))
}

/// Escalate an open ticket to the parent of its org (`409 no_parent` at the top).
#[utoipa::path(post, path = "/api/v1/admin/tickets/{id}/escalate", tag = "互动管理", security(("bearer" = [])), request_body = EscalateIn,
    params(("id" = i64, Path, description = "工单 ID")),
    responses((status = 200, body = Done), (status = 400), (status = 403), (status = 404), (status = 409, description = "ticket_not_open / no_parent")))]
pub async fn escalate(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<EscalateIn>,
) -> Result<Response> {
    let scope = me.require(codes::TICKET_REPLY)?;
    let n = note(&req.note)?;
    let now = st.clock.now();
    let out = st
        .db
        .write(move |c| {
            let t = open_in_scope(c, &scope, id)?;
            let parent: Option<(i64, String)> = c
                .query_row(
                    "SELECT p.id, p.name FROM orgs o JOIN orgs p ON p.id = o.parent_id WHERE o.id = ?1",
                    [t.org_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some(parent) = parent else {
                return Err(AppError::conflict_code("no_parent", "已是最上级工会，无法再上报"));
            };
            route(c, &me, &t, "escalate", parent, &n, now)?;
            done(c, &me, id, now)
        })
        .await?;
    Ok(ok(out))
}

/// Mark an open ticket resolved; the member may then rate it or reopen it once within 7 days.
#[utoipa::path(post, path = "/api/v1/admin/tickets/{id}/resolve", tag = "互动管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "工单 ID")),
    responses((status = 200, body = Done), (status = 403), (status = 404), (status = 409, description = "ticket_not_open")))]
pub async fn resolve(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::TICKET_REPLY)?;
    let now = st.clock.now();
    let out = st
        .db
        .write(move |c| {
            let t = open_in_scope(c, &scope, id)?;
            c.execute("UPDATE tickets SET status = 'resolved', resolved_at = ?1, updated_at = ?1 WHERE id = ?2", params![now, id])?;
            super::app::tell_member(c, &t, "ticket.resolved", format!("您的诉求「{}」已办结，欢迎评价；如问题未解决，可在 7 天内重新打开一次。", t.title), "已办结", format!("ticket.resolved:{id}:{now}"))?;
            audit::record(c, &me.actor(), &Entry::success("ticket.resolve", "ticket", id, json!({"org_id": t.org_id})))?;
            done(c, &me, id, now)
        })
        .await?;
    Ok(ok(out))
}

/// A notice for the staff of an org.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffNotice {
    /// Id.
    pub id: i64,
    /// The org told.
    pub org_id: i64,
    /// The ticket.
    pub ticket_id: i64,
    /// `ticket.created`, `ticket.member_message`, `ticket.overdue`, `ticket.transfer`, `ticket.escalate`, `ticket.reopened`, `ticket.rated`.
    pub event: String,
    /// Text.
    pub title: String,
    /// When.
    pub created_at: String,
}

/// Notices for the orgs in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/admin/tickets/notices", tag = "互动管理", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<StaffNotice>), (status = 400), (status = 403)))]
pub async fn notices(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Response> {
    let scope = me.require(codes::TICKET_READ)?;
    let pg = q.resolve()?;
    let (cond, p) = scope.sql("n.org_id", None);
    let out = st
        .db
        .read(move |c| {
            crate::http::fetch_page(
                c,
                &format!("SELECT count(*) FROM ticket_notices n WHERE {cond}"),
                &format!("SELECT n.id, n.org_id, n.ticket_id, n.event, n.title, n.created_at FROM ticket_notices n WHERE {cond} ORDER BY n.id DESC LIMIT ? OFFSET ?"),
                p,
                pg,
                |r| Ok(StaffNotice { id: r.get(0)?, org_id: r.get(1)?, ticket_id: r.get(2)?, event: r.get(3)?, title: r.get(4)?, created_at: crate::time::fmt(r.get(5)?) }),
            )
        })
        .await?;
    Ok(ok(out))
}
