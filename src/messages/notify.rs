//! Personal notices from system events (membership decisions, registration results, activity
//! cancellations, reminders): one message-center row for the member and one outbox row for the
//! WeChat subscription message, written in the caller's transaction.

use crate::error::Result;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};

/// One event notice for one member.
#[derive(Debug, Clone)]
pub struct Notice {
    /// Event type, e.g. `membership.approved`, `activity.registered`; selects the subscription
    /// template in the settings.
    pub event: &'static str,
    /// Message title shown in the message center.
    pub title: String,
    /// Message body (plain text).
    pub content: String,
    /// Mini-program page to open, e.g. `pages/activity/detail?id=3`.
    pub link: Option<String>,
    /// Owning org, so staff of that org and above see the message in their statistics.
    pub org_id: Option<i64>,
    /// Values for the subscription template by our own field names (`title`, `time`, `place`,
    /// `result`, `reason`, …); the settings map them to the template's keys.
    pub fields: Value,
    /// Unique per event occurrence (e.g. `activity.registered:42`); a repeat is a no-op.
    pub key: String,
}

/// Store `notice` for `member_id` and queue its subscription message. Returns the message id
/// (the existing one when the same `key` was already notified).
pub fn notify_member(c: &Connection, member_id: i64, notice: &Notice) -> Result<i64> {
    let now = crate::time::now();
    // Cached statements: every sign-up and review runs these inside the single writer.
    let inserted = c
        .prepare_cached(
            "INSERT INTO messages (kind, event, title, content, link, org_id, recipient_count, dedupe_key, created_at)
             VALUES ('event', ?1, ?2, ?3, ?4, ?5, 1, ?6, ?7)
             ON CONFLICT (dedupe_key) DO NOTHING",
        )?
        .execute(params![notice.event, notice.title, notice.content, notice.link, notice.org_id, notice.key, now])?;
    if inserted == 0 {
        let id: Option<i64> = c
            .query_row(
                "SELECT id FROM messages WHERE dedupe_key = ?1",
                [&notice.key],
                |r| r.get(0),
            )
            .optional()?;
        return Ok(id.unwrap_or_default());
    }
    let id = c.last_insert_rowid();
    c.prepare_cached("INSERT INTO message_recipients (member_id, message_id) VALUES (?1, ?2)")?
        .execute(params![member_id, id])?;
    let payload = json!({
        "event": notice.event,
        "message_id": id,
        "page": notice.link,
        "fields": notice.fields,
    });
    crate::outbox::enqueue(c, "subscribe", Some(member_id), &payload, Some(&notice.key))?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(key: &str) -> Notice {
        Notice {
            event: "membership.approved",
            title: "入会申请已通过".into(),
            content: "欢迎加入工会".into(),
            link: None,
            org_id: None,
            fields: json!({"result": "已通过"}),
            key: key.into(),
        }
    }

    #[test]
    fn same_key_notifies_once() {
        let mut c = Connection::open_in_memory().unwrap();
        crate::migrations::apply(&mut c).unwrap();
        c.execute(
            "INSERT INTO members (id, created_at, updated_at) VALUES (7, 0, 0)",
            [],
        )
        .unwrap();
        let a = notify_member(&c, 7, &notice("k")).unwrap();
        let b = notify_member(&c, 7, &notice("k")).unwrap();
        assert_eq!(a, b);
        let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(count("SELECT count(*) FROM messages"), 1);
        assert_eq!(
            count("SELECT count(*) FROM message_recipients WHERE member_id = 7"),
            1
        );
        assert_eq!(
            count("SELECT count(*) FROM outbox WHERE kind = 'subscribe'"),
            1
        );
        notify_member(&c, 7, &notice("other")).unwrap();
        assert_eq!(count("SELECT count(*) FROM messages"), 2);
    }
}
