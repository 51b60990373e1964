//! The delivery log for staff: outbox rows of members in scope, members shown masked.

use crate::app::AppState;
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppError, AppQuery, Result, ok};
use crate::http::{Page, PageQuery};
use axum::extract::State;
use axum::response::Response;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};

/// Filters of the delivery log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutboxQuery {
    /// `pending`, `sent`, `refused`, `failed` or `skipped`.
    pub status: Option<String>,
    /// Row kind, e.g. `subscribe`.
    pub kind: Option<String>,
    /// Page (from 1).
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Page size (≤ 100).
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

/// One delivery.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    /// Row id.
    pub id: i64,
    /// Kind (`subscribe` is delivered as a WeChat subscription message).
    pub kind: String,
    /// Event type, e.g. `membership.approved`.
    pub event: Option<String>,
    /// Member id.
    pub member_id: Option<i64>,
    /// Member name, masked.
    pub member_name: Option<String>,
    /// Member phone, masked.
    pub member_phone: Option<String>,
    /// `pending`, `sent`, `refused`, `failed` or `skipped` (deliberately not sent).
    pub status: String,
    /// Machine-readable reason (`skipped_no_credit`, `wechat_rejected`, …).
    pub reason_code: Option<String>,
    /// Why it failed or was skipped, or the last transient error (Chinese).
    pub reason: Option<String>,
    /// Send attempts so far.
    pub attempts: i64,
    /// Next attempt (pending rows).
    pub next_attempt_at: Option<String>,
    /// Queued at.
    pub created_at: String,
    /// Finished at.
    pub done_at: Option<String>,
}

const STATUSES: &[&str] = &["pending", "sent", "refused", "failed", "skipped"];

/// Delivery log of members in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/admin/outbox", tag = "消息", security(("bearer" = [])), params(OutboxQuery),
    responses((status = 200, body = Page<Delivery>), (status = 400), (status = 403)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<OutboxQuery>,
) -> Result<Response> {
    let scope = me.require(codes::MESSAGE_READ)?;
    let pq = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    if let Some(s) = &q.status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(AppError::field(
            "status",
            format!("状态取值无效，可选：{}", STATUSES.join("、")),
        ));
    }
    let out = st
        .db
        .read(move |c| {
            // Rows without a member belong to no org: only an all-scope account sees them.
            let (cond, mut p) = scope.sql("m.org_id", None);
            let all = if scope.is_all() { 1 } else { 0 };
            let mut wh = vec![format!("(o.member_id IS NOT NULL OR {all}) AND {cond}")];
            match q.status.as_deref() {
                Some("skipped") => wh.push("o.status = 'failed' AND o.reason_code LIKE 'skipped%'".into()),
                Some("failed") => wh.push(
                    "o.status = 'failed' AND (o.reason_code IS NULL OR o.reason_code NOT LIKE 'skipped%')".into(),
                ),
                Some(s) => {
                    wh.push("o.status = ?".into());
                    p.push(Value::Text(s.to_string()));
                }
                None => {}
            }
            if let Some(k) = q.kind {
                wh.push("o.kind = ?".into());
                p.push(Value::Text(k));
            }
            let wh = wh.join(" AND ");
            let from = "FROM outbox o LEFT JOIN members m ON m.id = o.member_id";
            let count = format!("SELECT count(*) {from} WHERE {wh}");
            let list = format!(
                "SELECT o.id, o.kind, json_extract(o.payload, '$.event'), o.member_id, m.real_name, m.phone_masked,
                    o.status, o.reason_code, o.last_error, o.attempts, o.next_attempt_at, o.created_at, o.done_at
                 {from} WHERE {wh} ORDER BY o.id DESC LIMIT ? OFFSET ?"
            );
            crate::http::fetch_page(c, &count, &list, p, pq, map)
        })
        .await?;
    Ok(ok(out))
}

fn map(r: &rusqlite::Row<'_>) -> rusqlite::Result<Delivery> {
    let status: String = r.get(6)?;
    let reason_code: Option<String> = r.get(7)?;
    let skipped = reason_code
        .as_deref()
        .is_some_and(|c| c.starts_with("skipped"));
    let name: Option<String> = r.get(4)?;
    Ok(Delivery {
        id: r.get(0)?,
        kind: r.get(1)?,
        event: r.get(2)?,
        member_id: r.get(3)?,
        member_name: name.map(|n| crate::crypto::mask::mask_name(&n)),
        member_phone: r.get(5)?,
        next_attempt_at: (status == "pending")
            .then(|| r.get(10).map(crate::time::fmt))
            .transpose()?,
        status: if skipped { "skipped".into() } else { status },
        reason_code,
        reason: r.get(8)?,
        attempts: r.get(9)?,
        created_at: crate::time::fmt(r.get(11)?),
        done_at: crate::time::fmt_opt(r.get(12)?),
    })
}
