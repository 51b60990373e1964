//! The moderation queue: content the gate held, decided by staff in scope of the content's
//! org. Approval publishes it (or applies the held change); rejection keeps it hidden and
//! tells the author. Every decision is audited in the same transaction.

use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, ok};
use crate::http::{Page, PageQuery};
use crate::messages::notify::{Notice, notify_member};
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Kinds of held content.
pub const KINDS: &[&str] = &[
    "ticket",
    "ticket_message",
    "ticket_rating",
    "activity_review",
    "review_image",
    "registration",
    "nickname",
];
/// Statuses of an item.
pub const STATUSES: &[&str] = &["pending", "approved", "rejected"];

/// A held item as the moderator sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ModerationItem {
    /// Id.
    pub id: i64,
    /// `ticket`, `ticket_message`, `ticket_rating`, `activity_review`, `review_image`,
    /// `registration` or `nickname`.
    pub kind: String,
    /// The held object's id.
    pub ref_id: i64,
    /// Author (member id).
    pub member_id: i64,
    /// Org whose moderators decide.
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// The text as written.
    pub content: String,
    /// The matched rule: `word:…`, `wechat:review:…`, `wechat:unavailable`, or for a photo
    /// `image:untrusted_uploader` (public photos wait for a person unless trusted by configuration).
    pub rule: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// Rejection reason.
    pub reason: Option<String>,
    /// Held at.
    pub created_at: String,
    /// Decided at.
    pub decided_at: Option<String>,
    /// For a `review_image`: a signed URL of the photo to judge (valid for a few minutes).
    pub image_url: Option<String>,
    /// The photo's file id (internal: the URL is made from it).
    #[serde(skip)]
    pub file_id: Option<i64>,
}

const COLS: &str = "mi.id, mi.kind, mi.ref_id, mi.member_id, mi.org_id, o.name, mi.content, mi.rule, mi.status, mi.reason,
    mi.created_at, mi.decided_at, CASE WHEN mi.kind = 'review_image' THEN json_extract(mi.payload, '$.file_id') END
    FROM moderation_items mi JOIN orgs o ON o.id = mi.org_id";

fn map(r: &rusqlite::Row<'_>) -> rusqlite::Result<ModerationItem> {
    Ok(ModerationItem {
        id: r.get(0)?,
        kind: r.get(1)?,
        ref_id: r.get(2)?,
        member_id: r.get(3)?,
        org_id: r.get(4)?,
        org_name: r.get(5)?,
        content: r.get(6)?,
        rule: r.get(7)?,
        status: r.get(8)?,
        reason: r.get(9)?,
        created_at: crate::time::fmt(r.get(10)?),
        decided_at: crate::time::fmt_opt(r.get(11)?),
        image_url: None,
        file_id: r.get(12)?,
    })
}

/// Give a photo item the signed URL of its file (made outside the database job).
fn with_image(st: &AppState, mut it: ModerationItem) -> ModerationItem {
    it.image_url = it
        .file_id
        .map(|f| crate::files::admin::signed_path(st, f, crate::files::admin::SIGNED_URL_TTL).0);
    it
}

/// Filters of the queue.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemQuery {
    /// `pending` (default), `approved` or `rejected`.
    #[param(pattern = "^(pending|approved|rejected)$")]
    pub status: Option<String>,
    /// Kind of content.
    #[param(
        pattern = "^(ticket|ticket_message|ticket_rating|activity_review|review_image|registration|nickname)$"
    )]
    pub kind: Option<String>,
    /// Page.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

/// Held content in the caller's scope, oldest pending first.
#[utoipa::path(get, path = "/api/v1/admin/moderation", tag = "内容安全", security(("bearer" = [])), params(ItemQuery),
    responses((status = 200, body = Page<ModerationItem>), (status = 400), (status = 403)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<ItemQuery>,
) -> Result<Response> {
    let scope = me.require(codes::SAFETY_MANAGE)?;
    let pg = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let status = q
        .status
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "pending".into());
    if !STATUSES.contains(&status.as_str()) {
        return Err(AppError::field(
            "status",
            "状态只能是 pending、approved 或 rejected",
        ));
    }
    let kind = q.kind.filter(|s| !s.is_empty());
    if kind.as_deref().is_some_and(|k| !KINDS.contains(&k)) {
        return Err(AppError::field(
            "kind",
            format!("类型取值无效，可选：{}", KINDS.join("、")),
        ));
    }
    let (cond, mut p) = scope.sql("mi.org_id", None);
    let mut wh = vec![cond, "mi.status = ?".to_string()];
    p.push(Value::Text(status.clone()));
    if let Some(k) = kind {
        wh.push("mi.kind = ?".into());
        p.push(Value::Text(k));
    }
    let wh = wh.join(" AND ");
    let order = if status == "pending" {
        "mi.id"
    } else {
        "mi.id DESC"
    };
    let mut out = st
        .db
        .read(move |c| {
            crate::http::fetch_page(
                c,
                &format!("SELECT count(*) FROM moderation_items mi WHERE {wh}"),
                &format!("SELECT {COLS} WHERE {wh} ORDER BY {order} LIMIT ? OFFSET ?"),
                p,
                pg,
                map,
            )
        })
        .await?;
    out.items = out
        .items
        .into_iter()
        .map(|it| with_image(&st, it))
        .collect();
    Ok(ok(out))
}

/// A pending item in scope (404 outside it; 409 once decided).
fn load_pending(
    c: &Connection,
    scope: &crate::auth::Scope,
    id: i64,
) -> Result<(ModerationItem, String)> {
    let (cond, mut p) = scope.sql("mi.org_id", None);
    p.insert(0, Value::Integer(id));
    let found = c
        .query_row(
            &format!("SELECT {COLS} WHERE mi.id = ? AND {cond}"),
            params_from_iter(p),
            map,
        )
        .optional()?
        .ok_or(AppError::NotFound)?;
    if found.status != "pending" {
        return Err(AppError::conflict_code("already_decided", "该内容已审核过"));
    }
    let payload: String = c.query_row(
        "SELECT payload FROM moderation_items WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    Ok((found, payload))
}

/// Apply the decision to the held object itself.
fn apply(
    c: &Connection,
    cal: &crate::tickets::calendar::WorkCalendar,
    it: &ModerationItem,
    payload: &str,
    approved: bool,
    now: i64,
) -> Result<()> {
    let pl: serde_json::Value = serde_json::from_str(payload).unwrap_or_default();
    match (it.kind.as_str(), approved) {
        ("ticket" | "ticket_message" | "ticket_rating", _) => {
            crate::tickets::repo::moderated(c, cal, &it.kind, it.ref_id, approved, now)?;
        }
        ("activity_review", true) => {
            c.execute(
                "UPDATE activity_registrations SET comment = ?1 WHERE id = ?2",
                params![pl["comment"].as_str(), it.ref_id],
            )?;
        }
        ("review_image", _) => crate::activities::reviews::moderated(c, it.ref_id, approved)?,
        ("nickname", true) => {
            c.execute(
                "UPDATE members SET nickname = ?1, updated_at = ?2 WHERE id = ?3",
                params![
                    pl["nickname"].as_str().unwrap_or_default(),
                    now,
                    it.member_id
                ],
            )?;
        }
        // Registration answers are only shown to the organising staff: the item is a flag.
        _ => {}
    }
    Ok(())
}

/// What a rejection tells the author.
fn what(kind: &str) -> &'static str {
    match kind {
        "ticket" => "您提交的诉求",
        "ticket_message" => "您在诉求中的留言",
        "ticket_rating" => "您对诉求办理的评价内容",
        "activity_review" => "您的活动评价",
        "review_image" => "您在活动评价中上传的照片",
        "registration" => "您的报名填写内容",
        _ => "您修改的昵称",
    }
}

async fn decide(st: AppState, me: AdminAuth, id: i64, reason: Option<String>) -> Result<Response> {
    let scope = me.require(codes::SAFETY_MANAGE)?;
    let (actor, by, now) = (me.actor(), me.id, st.clock.now());
    let cal = crate::tickets::calendar::of(&st);
    let out = st
        .db
        .write(move |c| {
            let (it, payload) = load_pending(c, &scope, id)?;
            let approved = reason.is_none();
            apply(c, &cal, &it, &payload, approved, now)?;
            let status = if approved { "approved" } else { "rejected" };
            c.execute(
                "UPDATE moderation_items SET status = ?1, reason = ?2, decided_by = ?3, decided_at = ?4 WHERE id = ?5",
                params![status, reason, by, now, id],
            )?;
            if let Some(r) = &reason {
                notify_member(
                    c,
                    it.member_id,
                    &Notice {
                        event: "content.rejected",
                        title: "内容未通过审核".into(),
                        content: format!("{}未通过审核，原因：{r}", what(&it.kind)),
                        link: None,
                        org_id: Some(it.org_id),
                        fields: json!({"title": "内容审核", "result": "未通过", "reason": r, "time": crate::time::fmt(now)}),
                        key: format!("content.rejected:{id}"),
                    },
                )?;
            }
            let action = if approved { "safety.approve" } else { "safety.reject" };
            audit::record(
                c,
                &actor,
                &Entry::success(action, "moderation_item", id, json!({"kind": it.kind, "rule": it.rule, "reason": reason})),
            )?;
            let (cond, mut p) = crate::auth::Scope::All.sql("mi.org_id", None);
            p.insert(0, Value::Integer(id));
            Ok(c.query_row(&format!("SELECT {COLS} WHERE mi.id = ? AND {cond}"), params_from_iter(p), map)?)
        })
        .await?;
    Ok(ok(with_image(&st, out)))
}

/// Approve: the content becomes visible (or the held change is applied).
#[utoipa::path(post, path = "/api/v1/admin/moderation/{id}/approve", tag = "内容安全", security(("bearer" = [])),
    params(("id" = i64, Path, description = "审核项 ID")),
    responses((status = 200, body = ModerationItem), (status = 403), (status = 404), (status = 409, description = "already_decided")))]
pub async fn approve(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    decide(st, me, id, None).await
}

/// A rejection reason.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModerationRejectIn {
    /// Reason told to the author, 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub reason: String,
}

/// Reject: the content stays hidden and the author is told why.
#[utoipa::path(post, path = "/api/v1/admin/moderation/{id}/reject", tag = "内容安全", security(("bearer" = [])), request_body = ModerationRejectIn,
    params(("id" = i64, Path, description = "审核项 ID")),
    responses((status = 200, body = ModerationItem), (status = 400), (status = 403), (status = 404), (status = 409, description = "already_decided")))]
pub async fn reject(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<ModerationRejectIn>,
) -> Result<Response> {
    let mut ck = crate::validate::Check::new();
    let reason = ck.text("reason", "驳回原因", &req.reason, 200);
    ck.finish()?;
    decide(st, me, id, Some(reason)).await
}
