//! SQL shared by the activity handlers: loading activities with scope, and member notices.

use super::model::{ActivityRow, SELECT, map_row};
use crate::auth::Scope;
use crate::error::{AppError, Result};
use crate::messages::notify::{Notice, notify_member};
use rusqlite::{Connection, OptionalExtension, params_from_iter, types::Value};
use serde_json::json;

/// Load an activity in the staff scope (404 when missing or outside).
pub fn load_scoped(c: &Connection, scope: &Scope, id: i64) -> Result<ActivityRow> {
    let (cond, mut p) = scope.sql("a.org_id", None);
    p.insert(0, Value::Integer(id));
    c.prepare_cached(&format!("{SELECT} WHERE a.id = ? AND {cond}"))?
        .query_row(params_from_iter(p), map_row)
        .optional()?
        .ok_or(AppError::NotFound)
}

/// [`SELECT`] for one activity by id, with an empty string in place of the description: the
/// sign-up job reads the activity for its rules and its notice on every registration, and a long
/// description (overflow pages of HTML) would be read for nothing.
static SIGNUP_SELECT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{} WHERE a.id = ?1",
        SELECT.replacen("a.description", "''", 1)
    )
});

/// [`load_visible`] as the sign-up job needs it: the description left empty.
pub fn load_for_signup(c: &Connection, v: &Viewer, id: i64) -> Result<ActivityRow> {
    let a = c
        .prepare_cached(&SIGNUP_SELECT)?
        .query_row([id], map_row)
        .optional()?
        .ok_or(AppError::NotFound)?;
    visible(v, a)
}

/// Load an activity without scope (member side applies its own visibility rule).
pub fn load(c: &Connection, id: i64) -> Result<ActivityRow> {
    load_scoped(c, &Scope::All, id)
}

/// The member's status and org path, as visibility rules need them.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// Member id.
    pub id: i64,
    /// Member status.
    pub status: String,
    /// Org id, if any.
    pub org_id: Option<i64>,
    /// Org path, if any.
    pub org_path: Option<String>,
}

/// Load the viewer (status and org read fresh: membership may have changed since login).
pub fn viewer(c: &Connection, member_id: i64) -> Result<Viewer> {
    let (status, org_id, org_path) = c
        .prepare_cached(
            "SELECT m.status, m.org_id, o.path FROM members m LEFT JOIN orgs o ON o.id = m.org_id WHERE m.id = ?1",
        )?
        .query_row([member_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(Viewer {
        id: member_id,
        status,
        org_id,
        org_path,
    })
}

/// True when the member belongs to the audience of a members-only activity: an active
/// member of the activity's org or an org below it.
pub fn in_audience(v: &Viewer, a: &ActivityRow) -> bool {
    !a.view.members_only
        || (v.status == "active"
            && v.org_path
                .as_deref()
                .is_some_and(|p| p.starts_with(&a.org_path)))
}

/// SQL condition (on alias `a`) for activities a member may see, with its parameters.
pub fn visible_sql(v: &Viewer) -> (String, Vec<Value>) {
    let path = if v.status == "active" {
        v.org_path.clone()
    } else {
        None
    };
    match path {
        // The member's path starts with the activity org's path: the org is an ancestor.
        Some(p) => (
            "a.status IN ('published', 'finished', 'cancelled') AND (a.members_only = 0 OR substr(?, 1, length(o.path)) = o.path)"
                .into(),
            vec![Value::Text(p)],
        ),
        None => (
            "a.status IN ('published', 'finished', 'cancelled') AND a.members_only = 0".into(),
            vec![],
        ),
    }
}

/// Load an activity the member may see (drafts and members-only outside the chain are 404).
pub fn load_visible(c: &Connection, v: &Viewer, id: i64) -> Result<ActivityRow> {
    visible(v, load(c, id)?)
}

/// `a` when member `v` may see it; 404 for drafts and members-only activities outside the
/// member's chain.
fn visible(v: &Viewer, a: ActivityRow) -> Result<ActivityRow> {
    if a.view.status == "draft" || !in_audience(v, &a) {
        return Err(AppError::NotFound);
    }
    Ok(a)
}

/// Notify one member about `a`: message centre row plus queued subscription message.
pub fn notify(
    c: &Connection,
    member_id: i64,
    a: &ActivityRow,
    event: &'static str,
    key: String,
    result: &str,
    reason: Option<&str>,
) -> Result<i64> {
    let (title, content) = match event {
        "activity.reminder" => (
            "活动即将开始".to_string(),
            format!(
                "您报名的活动「{}」将于 {} 在{}开始，请准时参加。",
                a.view.title,
                super::model::local_time(a.times[0]),
                a.view.location_name
            ),
        ),
        _ => (
            format!("活动报名{result}"),
            format!(
                "您报名的活动「{}」：{result}{}",
                a.view.title,
                reason.map(|r| format!("。原因：{r}")).unwrap_or_default()
            ),
        ),
    };
    notify_member(
        c,
        member_id,
        &Notice {
            event,
            title,
            content,
            link: Some(format!("pages/activity/detail?id={}", a.view.id)),
            org_id: Some(a.view.org_id),
            fields: json!({
                "title": a.view.title,
                "time": super::model::local_time(a.times[0]),
                "place": a.view.location_name,
                "result": result,
                "reason": reason.unwrap_or(""),
            }),
            key,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sign-up query leaves the description out and still lines up with [`map_row`]: it
    /// prepares against the real schema with as many columns as [`SELECT`].
    #[test]
    fn the_signup_query_skips_the_description_and_keeps_the_columns() {
        let mut c = Connection::open_in_memory().unwrap();
        crate::migrations::apply(&mut c).unwrap();
        assert!(!SIGNUP_SELECT.contains("a.description"));
        let full = c.prepare(SELECT).unwrap().column_count();
        assert_eq!(c.prepare(&SIGNUP_SELECT).unwrap().column_count(), full);
    }
}
