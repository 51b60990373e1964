//! Staff side of the message center: send to orgs or members in scope, list and inspect
//! messages of their scope with delivery and read statistics.

use super::model::{AdminMessage, AudienceIn, AudienceOrg, SendIn, Stats};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::permissions::codes;
use crate::auth::{AdminAuth, Scope};
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, created, ok};
use crate::http::{Page, PageQuery};
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde::Deserialize;
use serde_json::json;

/// Most target orgs in one broadcast.
const MAX_ORGS: usize = 50;
/// Most members in one direct message.
const MAX_MEMBERS: usize = 1000;

/// A validated audience.
enum Audience {
    Orgs { ids: Vec<i64>, descendants: bool },
    Members(Vec<i64>),
}

/// Sorted, deduplicated ids.
fn dedupe(mut v: Vec<i64>) -> Vec<i64> {
    v.sort_unstable();
    v.dedup();
    v
}

fn check_audience(ck: &mut Check, a: AudienceIn) -> Option<Audience> {
    let orgs = a.org_ids.filter(|v| !v.is_empty());
    let members = a.member_ids.filter(|v| !v.is_empty());
    match (orgs, members) {
        (Some(o), None) => {
            let o = dedupe(o);
            if o.len() > MAX_ORGS {
                ck.fail(
                    "audience.org_ids",
                    format!("一次最多发送给 {MAX_ORGS} 个组织"),
                );
            }
            Some(Audience::Orgs {
                ids: o,
                descendants: a.include_descendants.unwrap_or(true),
            })
        }
        (None, Some(m)) => {
            if a.include_descendants.is_some() {
                ck.fail("audience.include_descendants", "按会员发送时不能指定该项");
            }
            let m = dedupe(m);
            if m.len() > MAX_MEMBERS {
                ck.fail(
                    "audience.member_ids",
                    format!("一次最多发送给 {MAX_MEMBERS} 名会员"),
                );
            }
            Some(Audience::Members(m))
        }
        _ => {
            ck.fail(
                "audience",
                "请指定接收组织（org_ids）或接收会员（member_ids），二者选一",
            );
            None
        }
    }
}

/// Plain text with line breaks: 1..=max characters, no other control characters.
fn body_text(ck: &mut Check, field: &str, label: &str, v: &str, max: usize) -> String {
    let t = v.trim();
    if t.is_empty() {
        ck.fail(field, format!("{label}不能为空"));
    } else if t.chars().count() > max {
        ck.fail(field, format!("{label}不能超过 {max} 个字符"));
    } else if t
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        ck.fail(field, format!("{label}含有不允许的字符"));
    }
    t.to_string()
}

/// A mini-program page path (optional).
pub fn check_link(ck: &mut Check, v: Option<&str>) -> Option<String> {
    let t = v.map(str::trim).filter(|t| !t.is_empty())?;
    if t.chars().count() > 200
        || t.contains("://")
        || t.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        ck.fail(
            "link",
            "链接须为小程序页面路径，如 pages/news/detail?id=3，不超过 200 个字符",
        );
    }
    Some(t.to_string())
}

/// Send a message to orgs (broadcast) or members (direct) in the sender's scope.
#[utoipa::path(post, path = "/api/v1/admin/messages", tag = "消息", security(("bearer" = [])), request_body = SendIn,
    responses((status = 201, body = AdminMessage), (status = 400), (status = 403), (status = 404)))]
pub async fn send(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(req): AppJson<SendIn>,
) -> Result<Response> {
    let scope = me.require(codes::MESSAGE_WRITE)?;
    let mut ck = Check::new();
    let title = ck.text("title", "标题", &req.title, 50);
    let content = body_text(&mut ck, "content", "内容", &req.content, 2000);
    let link = check_link(&mut ck, req.link.as_deref());
    let audience = check_audience(&mut ck, req.audience);
    ck.finish()?;
    let Some(audience) = audience else {
        return Err(AppError::field("audience", "请指定接收对象"));
    };
    let actor = me.actor();
    let (admin_id, org_id) = (me.id, me.org_id);
    let out = st
        .db
        .write(move |c| {
            let now = crate::time::now();
            let (kind, recipients, summary) = match &audience {
                Audience::Orgs { ids, descendants } => {
                    let paths = scoped_orgs(c, &scope, ids)?;
                    let n = count_active(c, &paths, *descendants)?;
                    ("broadcast", n, json!({"org_ids": ids, "include_descendants": descendants}))
                }
                Audience::Members(ids) => {
                    scoped_members(c, &scope, ids)?;
                    ("direct", ids.len() as i64, json!({"member_count": ids.len()}))
                }
            };
            c.execute(
                "INSERT INTO messages (kind, title, content, link, org_id, sender_admin_id, recipient_count, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![kind, title, content, link, org_id, admin_id, recipients, now],
            )?;
            let id = c.last_insert_rowid();
            match &audience {
                Audience::Orgs { ids, descendants } => {
                    let mut ins = c.prepare_cached(
                        "INSERT INTO message_orgs (message_id, org_id, org_path, include_descendants)
                         SELECT ?1, id, path, ?2 FROM orgs WHERE id = ?3",
                    )?;
                    for o in ids {
                        ins.execute(params![id, descendants, o])?;
                    }
                }
                Audience::Members(ids) => {
                    let mut ins = c.prepare_cached(
                        "INSERT INTO message_recipients (member_id, message_id) VALUES (?1, ?2)",
                    )?;
                    for m in ids {
                        ins.execute(params![m, id])?;
                    }
                }
            }
            let mut summary = summary;
            summary["kind"] = json!(kind);
            summary["recipients"] = json!(recipients);
            audit::record(c, &actor, &Entry::success("message.send", "message", id, summary))?;
            load(c, &Scope::All, id, true)
        })
        .await?;
    Ok(created(out))
}

/// Paths of `ids`; 404 when any is missing or outside scope.
fn scoped_orgs(c: &Connection, scope: &Scope, ids: &[i64]) -> Result<Vec<(i64, String)>> {
    let qs = vec!["?"; ids.len()].join(",");
    let mut st = c.prepare(&format!("SELECT id, path FROM orgs WHERE id IN ({qs})"))?;
    let rows: Vec<(i64, String)> = st
        .query_map(params_from_iter(ids), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if rows.len() != ids.len() || !rows.iter().all(|(id, p)| scope.contains_org(*id, p)) {
        return Err(AppError::NotFound);
    }
    Ok(rows)
}

/// 404 unless every member exists and belongs to an org in scope.
fn scoped_members(c: &Connection, scope: &Scope, ids: &[i64]) -> Result<()> {
    let qs = vec!["?"; ids.len()].join(",");
    let mut st = c.prepare(&format!(
        "SELECT m.org_id, o.path FROM members m JOIN orgs o ON o.id = m.org_id
         WHERE m.id IN ({qs}) AND m.status <> 'deleted'"
    ))?;
    let rows: Vec<(i64, String)> = st
        .query_map(params_from_iter(ids), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if rows.len() != ids.len() || !rows.iter().all(|(o, p)| scope.contains_org(*o, p)) {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Active members a broadcast reaches now.
fn count_active(c: &Connection, orgs: &[(i64, String)], descendants: bool) -> Result<i64> {
    let (cond, p): (Vec<String>, Vec<Value>) = orgs
        .iter()
        .map(|(id, path)| {
            if descendants {
                ("path GLOB ?".to_string(), Value::Text(format!("{path}*")))
            } else {
                ("id = ?".to_string(), Value::Integer(*id))
            }
        })
        .unzip();
    let sql = format!(
        "SELECT count(*) FROM members WHERE status = 'active'
         AND org_id IN (SELECT id FROM orgs WHERE {})",
        cond.join(" OR ")
    );
    Ok(c.query_row(&sql, params_from_iter(p), |r| r.get(0))?)
}

const SELECT: &str =
    "SELECT m.id, m.kind, m.event, m.title, m.content, m.link, m.org_id, a.name, m.created_at,
    m.recipient_count, m.read_count FROM messages m LEFT JOIN admins a ON a.id = m.sender_admin_id";

fn map(r: &rusqlite::Row<'_>, with_content: bool) -> rusqlite::Result<AdminMessage> {
    Ok(AdminMessage {
        id: r.get(0)?,
        kind: r.get(1)?,
        event: r.get(2)?,
        title: r.get(3)?,
        content: if with_content { r.get(4)? } else { None },
        link: r.get(5)?,
        org_id: r.get(6)?,
        sender_name: r.get(7)?,
        created_at: crate::time::fmt(r.get(8)?),
        stats: Stats {
            recipients: r.get(9)?,
            read: r.get(10)?,
        },
        audience_orgs: None,
    })
}

/// One message in scope with its target orgs; 404 outside scope.
fn load(c: &Connection, scope: &Scope, id: i64, detail: bool) -> Result<AdminMessage> {
    let (cond, mut p) = scope.sql("m.org_id", Some("m.sender_admin_id"));
    p.insert(0, Value::Integer(id));
    let mut msg = c
        .prepare(&format!("{SELECT} WHERE m.id = ? AND {cond}"))?
        .query_row(params_from_iter(p), |r| map(r, detail))
        .optional()?
        .ok_or(AppError::NotFound)?;
    if detail && msg.kind == "broadcast" {
        let mut st = c.prepare_cached(
            "SELECT mo.org_id, o.name, mo.include_descendants FROM message_orgs mo
             JOIN orgs o ON o.id = mo.org_id WHERE mo.message_id = ?1 ORDER BY mo.org_id",
        )?;
        let orgs = st
            .query_map([id], |r| {
                Ok(AudienceOrg {
                    org_id: r.get(0)?,
                    org_name: r.get(1)?,
                    include_descendants: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        msg.audience_orgs = Some(orgs);
    }
    Ok(msg)
}

/// Filters of the staff message list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `broadcast`, `direct` or `event`.
    pub kind: Option<String>,
    /// Page (from 1).
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Page size (≤ 100).
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

/// Messages owned by orgs in the caller's scope, newest first, with statistics.
#[utoipa::path(get, path = "/api/v1/admin/messages", tag = "消息", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = Page<AdminMessage>), (status = 400), (status = 403)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<Response> {
    let scope = me.require(codes::MESSAGE_READ)?;
    let pq = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    if let Some(k) = &q.kind {
        let mut ck = Check::new();
        ck.one_of("kind", "消息类型", k, &["broadcast", "direct", "event"]);
        ck.finish()?;
    }
    let out = st
        .db
        .read(move |c| {
            let (cond, mut p) = scope.sql("m.org_id", Some("m.sender_admin_id"));
            let mut wh = vec![cond];
            if let Some(k) = q.kind {
                wh.push("m.kind = ?".into());
                p.push(Value::Text(k));
            }
            let wh = wh.join(" AND ");
            let count = format!("SELECT count(*) FROM messages m WHERE {wh}");
            let list = format!("{SELECT} WHERE {wh} ORDER BY m.id DESC LIMIT ? OFFSET ?");
            crate::http::fetch_page(c, &count, &list, p, pq, |r| map(r, false))
        })
        .await?;
    Ok(ok(out))
}

/// One message with content, audience and statistics.
#[utoipa::path(get, path = "/api/v1/admin/messages/{id}", tag = "消息", security(("bearer" = [])),
    params(("id" = i64, Path, description = "消息 ID")),
    responses((status = 200, body = AdminMessage), (status = 403), (status = 404)))]
pub async fn get(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::MESSAGE_READ)?;
    Ok(ok(st.db.read(move |c| load(c, &scope, id, true)).await?))
}
