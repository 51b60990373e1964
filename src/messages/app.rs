//! Member side of the message center and subscription-message acceptance.

use super::model::{AppMessage, SubscriptionsIn, SubscriptionsOut, UnreadCount};
use super::{repo, templates};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::cursor::{CursorPage, CursorQuery};
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, ok};
use crate::members::auth::MemberAuth;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{params, params_from_iter, types::Value};
use serde_json::json;

/// Most credits kept per (member, template): more acceptances than this are never needed.
const MAX_CREDITS: i64 = 100;

/// My messages, newest first, with a read flag; paged by cursor.
#[utoipa::path(get, path = "/api/v1/app/messages", tag = "消息", security(("bearer" = [])), params(CursorQuery),
    responses((status = 200, body = CursorPage<AppMessage>), (status = 400), (status = 401)))]
pub async fn list(
    State(st): State<AppState>,
    me: MemberAuth,
    AppQuery(q): AppQuery<CursorQuery>,
) -> Result<Response> {
    let w = q.resolve(1)?;
    let out = st
        .db
        .read(move |c| {
            let v = repo::viewer(c, me.id)?;
            let (cond, cp) = repo::visible(&v);
            let (read, rp) = repo::read_expr(&v);
            // Parameters in the order they appear in the text.
            let mut p: Vec<Value> = rp.into();
            p.extend(cp);
            let after = w.after.as_ref().map_or(i64::MAX, |k| k[0]);
            p.push(Value::Integer(after));
            p.push(Value::Integer(w.fetch()));
            let list = format!(
                "SELECT m.id, m.kind, m.event, m.title, m.content, m.link, m.created_at, {read}
                 FROM messages m WHERE {cond} AND m.id < ? ORDER BY m.id DESC LIMIT ?"
            );
            let rows = c
                .prepare_cached(&list)?
                .query_map(params_from_iter(p), |r| {
                    Ok(AppMessage {
                        id: r.get(0)?,
                        kind: r.get(1)?,
                        event: r.get(2)?,
                        title: r.get(3)?,
                        content: r.get(4)?,
                        link: r.get(5)?,
                        created_at: crate::time::fmt(r.get(6)?),
                        read: r.get(7)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok::<_, AppError>(w.finish(rows, |m| vec![m.id]))
        })
        .await?;
    Ok(ok(out))
}

/// How many of my messages are unread.
#[utoipa::path(get, path = "/api/v1/app/messages/unread-count", tag = "消息", security(("bearer" = [])),
    responses((status = 200, body = UnreadCount), (status = 401)))]
pub async fn unread_count(State(st): State<AppState>, me: MemberAuth) -> Result<Response> {
    let count = st
        .db
        .read(move |c| repo::unread_count(c, &repo::viewer(c, me.id)?))
        .await?;
    Ok(ok(UnreadCount { count }))
}

/// Mark one of my messages read (404 when it is not mine to see).
#[utoipa::path(post, path = "/api/v1/app/messages/{id}/read", tag = "消息", security(("bearer" = [])),
    params(("id" = i64, Path, description = "消息 ID")), responses((status = 200), (status = 401), (status = 404)))]
pub async fn read(
    State(st): State<AppState>,
    me: MemberAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    st.db
        .write(move |c| repo::mark_read(c, &repo::viewer(c, me.id)?, id))
        .await?;
    Ok(ok(json!({"id": id, "read": true})))
}

/// Mark all my messages read.
#[utoipa::path(post, path = "/api/v1/app/messages/read-all", tag = "消息", security(("bearer" = [])),
    responses((status = 200), (status = 401)))]
pub async fn read_all(State(st): State<AppState>, me: MemberAuth) -> Result<Response> {
    let n = st
        .db
        .write(move |c| repo::mark_all_read(c, &repo::viewer(c, me.id)?))
        .await?;
    Ok(ok(json!({"marked": n})))
}

/// Record the templates I accepted in `wx.requestSubscribeMessage` (one send each).
#[utoipa::path(post, path = "/api/v1/app/subscriptions", tag = "消息", security(("bearer" = [])), request_body = SubscriptionsIn,
    responses((status = 200, body = SubscriptionsOut), (status = 400), (status = 401)))]
pub async fn subscribe(
    State(st): State<AppState>,
    me: MemberAuth,
    AppJson(req): AppJson<SubscriptionsIn>,
) -> Result<Response> {
    let mut ids: Vec<String> = req
        .template_ids
        .iter()
        .map(|t| t.trim().to_string())
        .collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() || ids.len() > 3 {
        return Err(AppError::field("template_ids", "模板 ID 须为 1 到 3 个"));
    }
    if !ids.iter().all(|t| templates::valid_template_id(t)) {
        return Err(AppError::field(
            "template_ids",
            "模板 ID 须为字母、数字、下划线或短横线",
        ));
    }
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let configured = templates::load(c)?;
            let (accepted, ignored): (Vec<String>, Vec<String>) = ids
                .into_iter()
                .partition(|t| configured.values().any(|x| &x.template_id == t));
            let now = crate::time::now();
            let mut up = c.prepare_cached(
                "INSERT INTO subscription_credits (member_id, template_id, credits, updated_at) VALUES (?1, ?2, 1, ?3)
                 ON CONFLICT (member_id, template_id) DO UPDATE SET credits = min(credits + 1, ?4), updated_at = ?3",
            )?;
            for t in &accepted {
                up.execute(params![me.id, t, now, MAX_CREDITS])?;
            }
            if !accepted.is_empty() {
                audit::record(
                    c,
                    &actor,
                    &Entry::success("subscription.accept", "member", me.id, json!({"template_ids": accepted})),
                )?;
            }
            Ok(SubscriptionsOut { accepted, ignored })
        })
        .await?;
    Ok(ok(out))
}
