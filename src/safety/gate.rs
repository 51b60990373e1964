//! The one gate member-written text passes: the local list first (refuse or hold), then, for
//! mini-program members when WeChat is configured, msgSecCheck v2. WeChat being unreachable
//! never loses a post: it is accepted and held for a person to review.

use super::words::{self, Local};
use crate::app::AppState;
use crate::error::{AppError, Result};
use crate::wechat::{SecScene, Suggest};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

/// The refusal: the same words whatever matched, so nobody can probe the list.
pub fn rejected() -> AppError {
    AppError::Rejected {
        code: "content_rejected",
        message: "内容包含不适宜发布的信息，请修改后再提交".into(),
    }
}

/// The gate's answer for accepted content: `None` to publish, or the rule that holds it.
pub type Hold = Option<String>;

/// Screen the texts one member wrote in one request (joined; empty parts skipped). `Err` is
/// the `400 content_rejected`; `Ok(Some(rule))` means accept but hold for moderation.
pub async fn screen(
    st: &AppState,
    member_id: i64,
    scene: SecScene,
    texts: &[&str],
) -> Result<Hold> {
    let text = texts
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    if text.is_empty() {
        return Ok(None);
    }
    let configured = st.wechat.is_configured();
    let (t, cache) = (text.clone(), st.safety_words.clone());
    let (local, openid) = st
        .db
        .read(move |c| {
            let local = words::check(c, &cache, &t)?;
            let openid: Option<String> = if configured && local != Local::Block {
                c.prepare_cached("SELECT openid FROM members WHERE id = ?1")?
                    .query_row([member_id], |r| r.get(0))
                    .optional()?
                    .flatten()
            } else {
                None
            };
            Ok((local, openid))
        })
        .await?;
    let mut hold = match local {
        Local::Block => return Err(rejected()),
        Local::Review(w) => Some(format!("word:{w}")),
        Local::Pass => None,
    };
    if let Some(openid) = openid {
        match st.wechat.msg_sec_check(&openid, scene, &text).await {
            Ok(v) if v.suggest == Suggest::Risky => return Err(rejected()),
            Ok(v) if v.suggest == Suggest::Review => {
                hold.get_or_insert(format!("wechat:review:{}", v.label));
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "msgSecCheck unavailable; content held for review");
                hold.get_or_insert("wechat:unavailable".into());
            }
        }
    }
    Ok(hold)
}

/// A held item for the moderation queue.
#[derive(Debug, Clone)]
pub struct Held<'a> {
    /// `ticket`, `ticket_message`, `activity_review`, `registration`, `nickname`.
    pub kind: &'static str,
    /// The held object.
    pub ref_id: i64,
    /// Its author.
    pub member_id: i64,
    /// The org whose moderators decide.
    pub org_id: i64,
    /// The text as written.
    pub content: &'a str,
    /// What approval applies (e.g. the new nickname).
    pub payload: Value,
    /// The matched rule.
    pub rule: &'a str,
}

/// Queue `h` in the caller's transaction; the item id.
pub fn queue(c: &Connection, h: &Held<'_>) -> Result<i64> {
    c.prepare_cached(
        "INSERT INTO moderation_items (kind, ref_id, member_id, org_id, content, payload, rule, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        h.kind,
        h.ref_id,
        h.member_id,
        h.org_id,
        h.content,
        h.payload.to_string(),
        h.rule,
        crate::time::now()
    ])?;
    Ok(c.last_insert_rowid())
}

/// The org that moderates a member's own content (nickname): their org, or the root org.
pub fn member_org(c: &Connection, member_id: i64) -> Result<i64> {
    let org: Option<i64> = c
        .prepare_cached("SELECT org_id FROM members WHERE id = ?1")?
        .query_row([member_id], |r| r.get(0))
        .optional()?
        .flatten();
    match org {
        Some(o) => Ok(o),
        None => Ok(c.query_row(
            "SELECT id FROM orgs WHERE parent_id IS NULL ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )?),
    }
}
