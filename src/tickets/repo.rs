//! SQL shared by the ticket handlers: loading with scope or ownership, image checks, the
//! thread's messages, notices to either side, and what a moderation decision does.

use super::model::{
    Image, MemberMessage, Route, SELECT, StaffMessage, TicketRow, held_text, ids, map_row,
};
use crate::app::AppState;
use crate::auth::{AdminAuth, Scope};
use crate::cursor::{CursorPage, Window};
use crate::error::{AppError, Result};
use crate::messages::notify::{Notice, notify_member};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};
use serde_json::json;

/// Associated data of the sealed call-back phone.
pub const AAD_PHONE: &str = "ticket.callback_phone";

/// A ticket in the staff scope, visible to staff (not held or rejected by moderation); 404
/// otherwise.
pub fn load_scoped(c: &Connection, scope: &Scope, id: i64) -> Result<TicketRow> {
    let (cond, mut p) = scope.sql("t.org_id", None);
    p.insert(0, Value::Integer(id));
    c.prepare_cached(&format!(
        "{SELECT} WHERE t.id = ? AND t.held = 0 AND {cond}"
    ))?
    .query_row(params_from_iter(p), map_row)
    .optional()?
    .ok_or(AppError::NotFound)
}

/// A ticket of `member` (404 for anybody else's).
pub fn load_own(c: &Connection, member: i64, id: i64) -> Result<TicketRow> {
    c.prepare_cached(&format!("{SELECT} WHERE t.id = ?1 AND t.member_id = ?2"))?
        .query_row([id, member], map_row)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// Any ticket by id.
pub fn load(c: &Connection, id: i64) -> Result<TicketRow> {
    c.prepare_cached(&format!("{SELECT} WHERE t.id = ?1"))?
        .query_row([id], map_row)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// `400` unless every file is a live image uploaded by this writer (`owner` is `member` or
/// `admin`): nobody attaches somebody else's file.
pub fn check_images(c: &Connection, files: &[i64], owner: &str, owner_id: i64) -> Result<()> {
    let mut st = c.prepare_cached(
        "SELECT count(*) > 0 FROM files WHERE id = ?1 AND deleted_at IS NULL AND owner_type = ?2 AND owner_id = ?3
           AND content_type LIKE 'image/%'",
    )?;
    for f in files {
        let good: bool = st.query_row(params![f, owner, owner_id], |r| r.get(0))?;
        if !good {
            return Err(AppError::field(
                "file_ids",
                "图片不存在或不是您上传的，请重新上传",
            ));
        }
    }
    Ok(())
}

/// Signed URLs for images (made outside the database job: they need only the key).
pub fn images(st: &AppState, files: &[i64]) -> Vec<Image> {
    files
        .iter()
        .map(|id| Image {
            id: *id,
            url: crate::files::admin::signed_path(st, *id, crate::files::admin::SIGNED_URL_TTL).0,
        })
        .collect()
}

/// One raw message row.
#[derive(Debug, Clone)]
pub struct MsgRow {
    /// Id.
    pub id: i64,
    /// `member` or `staff`.
    pub author: String,
    /// Org answered for.
    pub org_name: Option<String>,
    /// Staff account name.
    pub staff_name: Option<String>,
    /// Text.
    pub content: String,
    /// Images.
    pub files: Vec<i64>,
    /// Moderation state.
    pub held: i64,
    /// Written at.
    pub created_at: i64,
}

/// Messages of ticket `id` after the window's cursor, oldest first. `with_held` includes the
/// member's own held and rejected messages (the member's view); staff never see them.
pub fn messages(
    c: &Connection,
    id: i64,
    w: &Window,
    with_held: bool,
) -> Result<CursorPage<MsgRow>> {
    let after = w.after.as_ref().map_or(0, |k| k[0]);
    let held = if with_held { "" } else { " AND tm.held = 0" };
    let rows = c
        .prepare_cached(&format!(
            "SELECT tm.id, tm.author, o.name, a.name, tm.content, tm.file_ids, tm.held, tm.created_at
             FROM ticket_messages tm LEFT JOIN orgs o ON o.id = tm.org_id LEFT JOIN admins a ON a.id = tm.admin_id
             WHERE tm.ticket_id = ?1 AND tm.id > ?2{held} ORDER BY tm.id LIMIT ?3"
        ))?
        .query_map(params![id, after, w.fetch()], |r| {
            Ok(MsgRow {
                id: r.get(0)?,
                author: r.get(1)?,
                org_name: r.get(2)?,
                staff_name: r.get(3)?,
                content: r.get(4)?,
                files: ids(&r.get::<_, String>(5)?),
                held: r.get(6)?,
                created_at: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(w.finish(rows, |m| vec![m.id]))
}

/// The member's view of a page of messages: staff replies carry only the org's name.
pub fn for_member(st: &AppState, p: CursorPage<MsgRow>) -> CursorPage<MemberMessage> {
    CursorPage {
        items: p
            .items
            .into_iter()
            .map(|m| MemberMessage {
                id: m.id,
                org_name: if m.author == "staff" {
                    m.org_name
                } else {
                    None
                },
                author: m.author,
                content: m.content,
                images: images(st, &m.files),
                moderation: held_text(m.held).into(),
                created_at: crate::time::fmt(m.created_at),
            })
            .collect(),
        next_cursor: p.next_cursor,
    }
}

/// The staff view of a page of messages.
pub fn for_staff(st: &AppState, p: CursorPage<MsgRow>) -> CursorPage<StaffMessage> {
    CursorPage {
        items: p
            .items
            .into_iter()
            .map(|m| {
                let staff = m.author == "staff";
                StaffMessage {
                    id: m.id,
                    org_name: if staff { m.org_name } else { None },
                    staff_name: if staff { m.staff_name } else { None },
                    author: m.author,
                    content: m.content,
                    images: images(st, &m.files),
                    created_at: crate::time::fmt(m.created_at),
                }
            })
            .collect(),
        next_cursor: p.next_cursor,
    }
}

/// Transfers and escalations of a ticket, oldest first (few per ticket).
pub fn routes(c: &Connection, id: i64) -> Result<Vec<Route>> {
    Ok(c.prepare_cached(
        "SELECT r.kind, f.name, t.name, r.note, r.created_at FROM ticket_routes r
         JOIN orgs f ON f.id = r.from_org_id JOIN orgs t ON t.id = r.to_org_id
         WHERE r.ticket_id = ?1 ORDER BY r.id LIMIT 200",
    )?
    .query_map([id], |r| {
        Ok(Route {
            kind: r.get(0)?,
            from_org_name: r.get(1)?,
            to_org_name: r.get(2)?,
            note: r.get(3)?,
            created_at: crate::time::fmt(r.get(4)?),
        })
    })?
    .collect::<rusqlite::Result<_>>()?)
}

/// True when `me` may see anonymous members' names: staff of a county, prefecture or the root
/// org (and the super admin); grassroots staff see 匿名职工.
pub fn sees_names(c: &Connection, me: &AdminAuth) -> Result<bool> {
    if me.is_super {
        return Ok(true);
    }
    Ok(c.prepare_cached(
        "SELECT kind = 'county' OR kind = 'prefecture' OR parent_id IS NULL FROM orgs WHERE id = ?1",
    )?
    .query_row([me.org_id], |r| r.get(0))
    .optional()?
    .unwrap_or(false))
}

/// The member's name as this caller may see it; `masked` for lists and exports.
pub fn shown_name(t: &TicketRow, sees: bool, masked: bool) -> String {
    if t.anonymous && !sees {
        return super::model::ANONYMOUS.into();
    }
    if masked {
        crate::crypto::mask::mask_name(&t.member_name)
    } else {
        t.member_name.clone()
    }
}

/// Tell the member about a change of their ticket (message center + subscription outbox).
pub fn notify(
    c: &Connection,
    t: &TicketRow,
    event: &'static str,
    content: String,
    result: &str,
    key: String,
) -> Result<i64> {
    notify_member(
        c,
        t.member_id,
        &Notice {
            event,
            title: format!(
                "您的诉求「{}」有新进展",
                crate::wechat::truncate_chars(&t.title, 20)
            ),
            content,
            link: Some(format!("tickets/detail?id={}", t.id)),
            org_id: Some(t.org_id),
            fields: json!({"title": t.title, "result": result, "time": crate::time::fmt(crate::time::now())}),
            key,
        },
    )
}

/// Tell the staff of `org` about ticket `ticket` (their notice list); `key` dedupes.
pub fn staff_notice(
    c: &Connection,
    org: i64,
    ticket: i64,
    event: &str,
    title: String,
    key: String,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO ticket_notices (org_id, ticket_id, event, title, dedupe_key, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (dedupe_key) DO NOTHING",
    )?
    .execute(params![org, ticket, event, title, key, crate::time::now()])?;
    Ok(())
}

/// Apply a moderation decision on a held ticket or message: approval makes it visible (a
/// ticket's deadline starts then) and tells the staff; rejection keeps it hidden (a rejected
/// ticket is closed).
pub fn moderated(
    c: &Connection,
    cal: &super::calendar::WorkCalendar,
    kind: &str,
    id: i64,
    approved: bool,
    now: i64,
) -> Result<()> {
    match (kind, approved) {
        ("ticket", true) => {
            let due = load(c, id)?.due(cal, now);
            c.execute(
                "UPDATE tickets SET held = 0, deadline_at = ?1, updated_at = ?2 WHERE id = ?3 AND held = 1",
                params![due, now, id],
            )?;
            let t = load(c, id)?;
            staff_notice(
                c,
                t.org_id,
                id,
                "ticket.created",
                format!("新诉求：{}", t.title),
                format!("ticket.created:{id}"),
            )?;
        }
        ("ticket", false) => {
            c.execute(
                "UPDATE tickets SET held = 2, status = 'closed', closed_at = ?1, updated_at = ?1 WHERE id = ?2 AND held = 1",
                params![now, id],
            )?;
        }
        ("ticket_message", _) => {
            let held = if approved { 0 } else { 2 };
            c.execute(
                "UPDATE ticket_messages SET held = ?1 WHERE id = ?2 AND held = 1",
                params![held, id],
            )?;
            if approved {
                let (tid, org): (i64, i64) = c.query_row(
                    "SELECT t.id, t.org_id FROM ticket_messages tm JOIN tickets t ON t.id = tm.ticket_id WHERE tm.id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                staff_notice(
                    c,
                    org,
                    tid,
                    "ticket.member_message",
                    "职工补充了诉求内容".into(),
                    format!("ticket.message:{id}"),
                )?;
            }
        }
        ("ticket_rating", true) => {
            let comment: Option<String> = c.query_row(
                "SELECT json_extract(payload, '$.comment') FROM moderation_items WHERE kind = 'ticket_rating' AND ref_id = ?1 AND status = 'pending'",
                [id],
                |r| r.get(0),
            ).optional()?.flatten();
            c.execute(
                "UPDATE tickets SET rating_comment = ?1 WHERE id = ?2",
                params![comment, id],
            )?;
        }
        _ => {}
    }
    Ok(())
}

/// Erase a deleted member's personal data from tickets and the moderation queue: the sealed
/// call-back phone, and a nickname still waiting for moderation (which must never be applied
/// to the erased account). The casework itself stays with the union.
pub fn erase_member(c: &Connection, member: i64) -> Result<()> {
    c.execute(
        "UPDATE tickets SET callback_phone_enc = NULL, callback_phone_masked = NULL WHERE member_id = ?1",
        [member],
    )?;
    c.execute(
        "UPDATE moderation_items SET content = '', payload = '{}',
            status = CASE status WHEN 'pending' THEN 'rejected' ELSE status END,
            reason = coalesce(reason, '账号已注销') WHERE member_id = ?1 AND kind = 'nickname'",
        [member],
    )?;
    Ok(())
}
