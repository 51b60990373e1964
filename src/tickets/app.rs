//! Member side of tickets: open one (routed to the member's org, or the root org for
//! non-members), my tickets, the thread, add to it while open, rate once resolved, reopen once
//! within 7 days. Everything the member writes passes the content-safety gate first.

use super::model::{
    MemberThread, MessageIn, MyTicket, RatingIn, SELECT, TicketCategory, TicketIn, map_row,
};
use super::repo::{self, AAD_PHONE, check_images, load_own, notify, staff_notice};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::cursor::{CursorPage, CursorQuery};
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, created, ok};
use crate::members::auth::MemberAuth;
use crate::safety::gate::{Held, queue, screen};
use crate::wechat::SecScene;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{OptionalExtension, params};
use serde_json::json;

/// The enabled categories, in order.
#[utoipa::path(get, path = "/api/v1/app/ticket-categories", tag = "互动", security(("bearer" = [])),
    responses((status = 200, body = Vec<TicketCategory>), (status = 401)))]
pub async fn categories(State(st): State<AppState>, _me: MemberAuth) -> Result<Response> {
    Ok(ok(st.db.read(super::admin::load_categories).await?))
}

/// Open a ticket. `400 content_rejected` when the text may not be published; text to review
/// is accepted but held (invisible to staff) until a moderator approves it.
#[utoipa::path(post, path = "/api/v1/app/tickets", tag = "互动", security(("bearer" = [])), request_body = TicketIn,
    responses((status = 201, body = MyTicket), (status = 400, description = "validation_failed / content_rejected"), (status = 401)))]
pub async fn create(
    State(st): State<AppState>,
    me: MemberAuth,
    AppJson(req): AppJson<TicketIn>,
) -> Result<Response> {
    let d = req.validate()?;
    let hold = screen(&st, me.id, SecScene::Forum, &[&d.title, &d.content]).await?;
    let sealed = match &d.phone {
        Some(p) => Some((
            st.cipher.encrypt(p, AAD_PHONE)?,
            crate::crypto::mask::mask_phone(p),
        )),
        None => None,
    };
    let (member, actor, now) = (me.id, me.actor(), st.clock.now());
    let cal = super::calendar::of(&st);
    let out = st
        .db
        .write(move |c| {
            let limit: Option<(i64, String)> = c
                .query_row("SELECT deadline_amount, deadline_unit FROM ticket_categories WHERE id = ?1 AND enabled = 1",
                    [d.category_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((amount, unit)) = limit else {
                return Err(AppError::field("category_id", "请选择有效的诉求分类"));
            };
            // A held ticket's deadline is set again when a moderator approves it.
            let due = cal.deadline(now, super::calendar::Unit::parse(&unit), amount);
            check_images(c, &d.file_ids, "member", member)?;
            // Members of an org go to it; everyone else to the top-level union.
            let org: i64 = c.query_row(
                "SELECT coalesce((SELECT org_id FROM members WHERE id = ?1 AND status = 'active'),
                    (SELECT id FROM orgs WHERE parent_id IS NULL ORDER BY id LIMIT 1))",
                [member],
                |r| r.get(0),
            )?;
            let held = i64::from(hold.is_some());
            let (enc, masked) = sealed.unzip();
            c.execute(
                "INSERT INTO tickets (member_id, org_id, origin_org_id, category_id, title, content, file_ids, anonymous,
                    callback_phone_enc, callback_phone_masked, held, deadline_at, created_at, updated_at)
                 VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
                params![member, org, d.category_id, d.title, d.content, json!(d.file_ids).to_string(), d.anonymous,
                    enc, masked, held, due, now],
            )?;
            let id = c.last_insert_rowid();
            crate::files::refs::link(c, &d.file_ids, "ticket", id)?;
            match &hold {
                Some(rule) => {
                    let text = format!("{}\n{}", d.title, d.content);
                    queue(c, &Held { kind: "ticket", ref_id: id, member_id: member, org_id: org, content: &text, payload: json!({}), rule })?;
                }
                None => staff_notice(c, org, id, "ticket.created", format!("新诉求：{}", d.title), format!("ticket.created:{id}"))?,
            }
            audit::record(c, &actor, &Entry::success("ticket.create", "ticket", id,
                json!({"org_id": org, "category_id": d.category_id, "files": d.file_ids.len(), "held": hold.is_some()})))?;
            Ok(repo::load(c, id)?.mine(now))
        })
        .await?;
    Ok(created(out))
}

/// My tickets, newest first; paged by cursor.
#[utoipa::path(get, path = "/api/v1/app/tickets", tag = "互动", security(("bearer" = [])), params(CursorQuery),
    responses((status = 200, body = CursorPage<MyTicket>), (status = 400), (status = 401)))]
pub async fn list(
    State(st): State<AppState>,
    me: MemberAuth,
    AppQuery(q): AppQuery<CursorQuery>,
) -> Result<Response> {
    let w = q.resolve(1)?;
    let (member, now) = (me.id, st.clock.now());
    let out = st
        .db
        .read(move |c| {
            let after = w.after.as_ref().map_or(i64::MAX, |k| k[0]);
            let rows = c
                .prepare_cached(&format!(
                    "{SELECT} WHERE t.member_id = ?1 AND t.id < ?2 ORDER BY t.id DESC LIMIT ?3"
                ))?
                .query_map(params![member, after, w.fetch()], |r| {
                    map_row(r).map(|t| t.mine(now))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(w.finish(rows, |t| vec![t.id]))
        })
        .await?;
    Ok(ok(out))
}

/// The thread of one of my tickets: the ticket and its messages after `cursor`, oldest first
/// (my own held messages included, marked). Another member's ticket is 404.
#[utoipa::path(get, path = "/api/v1/app/tickets/{id}", tag = "互动", security(("bearer" = [])),
    params(("id" = i64, Path, description = "工单 ID"), CursorQuery),
    responses((status = 200, body = MemberThread), (status = 400), (status = 401), (status = 404)))]
pub async fn get(
    State(st): State<AppState>,
    me: MemberAuth,
    AppPath(id): AppPath<i64>,
    AppQuery(q): AppQuery<CursorQuery>,
) -> Result<Response> {
    let w = q.resolve(1)?;
    let (member, now) = (me.id, st.clock.now());
    let (t, msgs) = st
        .db
        .read(move |c| {
            let t = load_own(c, member, id)?;
            let m = repo::messages(c, id, &w, true)?;
            Ok((t, m))
        })
        .await?;
    Ok(ok(MemberThread {
        ticket: t.mine(now),
        content: t.content.clone(),
        images: repo::images(&st, &t.file_ids),
        callback_phone_masked: t.phone_masked.clone(),
        messages: repo::for_member(&st, msgs),
    }))
}

/// Add to my open ticket. `409 ticket_not_open` once resolved or closed (reopen first).
#[utoipa::path(post, path = "/api/v1/app/tickets/{id}/messages", tag = "互动", security(("bearer" = [])), request_body = MessageIn,
    params(("id" = i64, Path, description = "工单 ID")),
    responses((status = 201, body = MyTicket), (status = 400, description = "validation_failed / content_rejected"), (status = 401), (status = 404),
        (status = 409, description = "ticket_not_open")))]
pub async fn add_message(
    State(st): State<AppState>,
    me: MemberAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<MessageIn>,
) -> Result<Response> {
    let (text, files) = req.validate()?;
    let member = me.id;
    // The ticket must be mine and open before anything is screened.
    let t = st.db.read(move |c| load_own(c, member, id)).await?;
    if t.status != "open" {
        return Err(not_open());
    }
    let hold = screen(&st, member, SecScene::Forum, &[&text]).await?;
    let (actor, now) = (me.actor(), st.clock.now());
    let out = st
        .db
        .write(move |c| {
            let t = load_own(c, member, id)?;
            if t.status != "open" {
                return Err(not_open());
            }
            check_images(c, &files, "member", member)?;
            c.execute(
                "INSERT INTO ticket_messages (ticket_id, author, content, file_ids, held, created_at) VALUES (?1, 'member', ?2, ?3, ?4, ?5)",
                params![id, text, json!(files).to_string(), i64::from(hold.is_some()), now],
            )?;
            let mid = c.last_insert_rowid();
            crate::files::refs::link(c, &files, "ticket_message", mid)?;
            c.execute("UPDATE tickets SET updated_at = ?1 WHERE id = ?2", params![now, id])?;
            match &hold {
                Some(rule) => {
                    queue(c, &Held { kind: "ticket_message", ref_id: mid, member_id: member, org_id: t.org_id, content: &text, payload: json!({}), rule })?;
                }
                // A held ticket's staff learn of it on approval.
                None if t.held == 0 => staff_notice(c, t.org_id, id, "ticket.member_message", format!("职工补充了诉求：{}", t.title), format!("ticket.message:{mid}"))?,
                None => {}
            }
            audit::record(c, &actor, &Entry::success("ticket.message", "ticket", id, json!({"files": files.len(), "held": hold.is_some()})))?;
            Ok(repo::load(c, id)?.mine(now))
        })
        .await?;
    Ok(created(out))
}

fn not_open() -> AppError {
    AppError::conflict_code(
        "ticket_not_open",
        "诉求已办结或已关闭，不能再留言；如问题未解决，请在 7 天内重新打开",
    )
}

/// Rate my resolved ticket 1–5 with an optional comment, once; the ticket is then closed.
/// `409 ticket_not_resolved` while open, `409 already_rated` the second time.
#[utoipa::path(post, path = "/api/v1/app/tickets/{id}/rating", tag = "互动", security(("bearer" = [])), request_body = RatingIn,
    params(("id" = i64, Path, description = "工单 ID")),
    responses((status = 200, body = MyTicket), (status = 400, description = "validation_failed / content_rejected"), (status = 401), (status = 404),
        (status = 409, description = "ticket_not_resolved / already_rated")))]
pub async fn rate(
    State(st): State<AppState>,
    me: MemberAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<RatingIn>,
) -> Result<Response> {
    let mut ck = crate::validate::Check::new();
    if !(1..=5).contains(&req.rating) {
        ck.fail("rating", "评分须为 1 到 5 分");
    }
    let comment = req
        .comment
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .map(|c| ck.text("comment", "评价内容", c, super::model::MAX_NOTE));
    ck.finish()?;
    let member = me.id;
    let t = st.db.read(move |c| load_own(c, member, id)).await?;
    rating_allowed(&t)?;
    let hold = match &comment {
        Some(cm) => screen(&st, member, SecScene::Comment, &[cm]).await?,
        None => None,
    };
    let (actor, now, rating) = (me.actor(), st.clock.now(), req.rating);
    let out = st
        .db
        .write(move |c| {
            let t = load_own(c, member, id)?;
            rating_allowed(&t)?;
            // A held comment is stored on approval; the rating itself counts at once.
            let shown = if hold.is_some() { None } else { comment.clone() };
            c.execute(
                "UPDATE tickets SET rating = ?1, rating_comment = ?2, rated_at = ?3, status = 'closed', closed_at = ?3, updated_at = ?3
                 WHERE id = ?4 AND status = 'resolved' AND rating IS NULL",
                params![rating, shown, now, id],
            )?;
            if let (Some(rule), Some(cm)) = (&hold, &comment) {
                queue(c, &Held { kind: "ticket_rating", ref_id: id, member_id: member, org_id: t.org_id, content: cm, payload: json!({"comment": cm}), rule })?;
            }
            staff_notice(c, t.org_id, id, "ticket.rated", format!("职工评价了诉求：{}（{rating} 分）", t.title), format!("ticket.rated:{id}"))?;
            audit::record(c, &actor, &Entry::success("ticket.rate", "ticket", id, json!({"rating": rating})))?;
            Ok(repo::load(c, id)?.mine(now))
        })
        .await?;
    Ok(ok(out))
}

fn rating_allowed(t: &super::model::TicketRow) -> Result<()> {
    if t.rating.is_some() {
        return Err(AppError::conflict_code("already_rated", "您已评价过此诉求"));
    }
    if t.status != "resolved" {
        return Err(AppError::conflict_code(
            "ticket_not_resolved",
            "诉求办结后才能评价",
        ));
    }
    Ok(())
}

/// Reopen my resolved ticket: once, within 7 days of its resolution; the reply deadline starts
/// again. `409 reopen_not_allowed` otherwise.
#[utoipa::path(post, path = "/api/v1/app/tickets/{id}/reopen", tag = "互动", security(("bearer" = [])),
    params(("id" = i64, Path, description = "工单 ID")),
    responses((status = 200, body = MyTicket), (status = 401), (status = 404), (status = 409, description = "reopen_not_allowed")))]
pub async fn reopen(
    State(st): State<AppState>,
    me: MemberAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let (member, actor, now) = (me.id, me.actor(), st.clock.now());
    let cal = super::calendar::of(&st);
    let out = st
        .db
        .write(move |c| {
            let t = load_own(c, member, id)?;
            if !t.mine(now).can_reopen {
                let msg = if t.reopened {
                    "每条诉求只能重新打开一次"
                } else if t.status == "open" {
                    "诉求尚在办理中"
                } else {
                    "只能在办结后 7 天内重新打开，且评价后不能重新打开"
                };
                return Err(AppError::conflict_code("reopen_not_allowed", msg));
            }
            c.execute(
                "UPDATE tickets SET status = 'open', reopened = 1, answered = 0, resolved_at = NULL, overdue_notified_at = NULL,
                    deadline_at = ?2, updated_at = ?1 WHERE id = ?3",
                params![now, t.due(&cal, now), id],
            )?;
            staff_notice(c, t.org_id, id, "ticket.reopened", format!("职工重新打开了诉求：{}", t.title), format!("ticket.reopened:{id}"))?;
            audit::record(c, &actor, &Entry::success("ticket.reopen", "ticket", id, json!({})))?;
            Ok(repo::load(c, id)?.mine(now))
        })
        .await?;
    Ok(ok(out))
}

/// Notify the member of a staff-side change (used by the staff handlers).
pub fn tell_member(
    c: &rusqlite::Connection,
    t: &super::model::TicketRow,
    event: &'static str,
    content: String,
    result: &str,
    key: String,
) -> Result<()> {
    notify(c, t, event, content, result, key).map(|_| ())
}
