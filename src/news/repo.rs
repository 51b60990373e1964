//! SQL for news: loading with scope, member visibility, the search version.

use super::model::{Category, NewsDetail, NewsItem};
use crate::auth::Scope;
use crate::error::{AppError, Result};
use crate::members::auth::MemberAuth;
use rusqlite::{Connection, OptionalExtension, params_from_iter, types::Value};
use std::collections::HashMap;

/// Columns of [`NewsItem`] (then `body_html`), from `news n` with org and category joined.
pub const SELECT: &str =
    "SELECT n.id, n.org_id, o.name, n.category_id, c.name, n.title, n.summary, n.cover_file_id,
    n.status, n.pinned, n.publish_at, n.published_at, n.view_count, n.created_at, n.updated_at,
    cf.public_token AS cover_token, n.body_html
    FROM news n JOIN orgs o ON o.id = n.org_id JOIN news_categories c ON c.id = n.category_id
    LEFT JOIN files cf ON cf.id = n.cover_file_id AND cf.visibility = 'public'";

/// [`SELECT`] without the body, for lists (a body can be many pages of HTML).
pub const SELECT_ITEM: &str =
    "SELECT n.id, n.org_id, o.name, n.category_id, c.name, n.title, n.summary, n.cover_file_id,
    n.status, n.pinned, n.publish_at, n.published_at, n.view_count, n.created_at, n.updated_at,
    cf.public_token AS cover_token
    FROM news n JOIN orgs o ON o.id = n.org_id JOIN news_categories c ON c.id = n.category_id
    LEFT JOIN files cf ON cf.id = n.cover_file_id AND cf.visibility = 'public'";

/// A page of list items: the page's ids are chosen by `filter` (a `WHERE` over `news n`) and
/// `order` first, so sorting and skipping touch only index entries, then only those rows are
/// read with their org and category names.
pub fn page_sql(filter: &str, order: &str) -> (String, String) {
    let count = format!("SELECT count(*) FROM news n WHERE {filter}");
    let list = format!(
        "{SELECT_ITEM} WHERE n.id IN (SELECT n.id FROM news n WHERE {filter} ORDER BY {order} LIMIT ? OFFSET ?) ORDER BY {order}"
    );
    (count, list)
}

/// Map a row of [`SELECT`] to a list item.
pub fn map_item(r: &rusqlite::Row<'_>) -> rusqlite::Result<NewsItem> {
    let cover: Option<i64> = r.get(7)?;
    Ok(NewsItem {
        id: r.get(0)?,
        org_id: r.get(1)?,
        org_name: r.get(2)?,
        category_id: r.get(3)?,
        category_name: r.get(4)?,
        title: r.get(5)?,
        summary: r.get(6)?,
        cover_file_id: cover,
        // By position (a lookup by name scans the column names on every row): column 15 in
        // both [`SELECT`] and [`SELECT_ITEM`].
        cover_url: crate::files::public_url(r.get(15)?),
        status: r.get(8)?,
        pinned: r.get(9)?,
        publish_at: crate::time::fmt_opt(r.get(10)?),
        published_at: crate::time::fmt_opt(r.get(11)?),
        view_count: r.get(12)?,
        created_at: crate::time::fmt(r.get(13)?),
        updated_at: crate::time::fmt(r.get(14)?),
    })
}

/// Map a row of [`SELECT`] to a detail.
pub fn map_detail(r: &rusqlite::Row<'_>) -> rusqlite::Result<NewsDetail> {
    Ok(NewsDetail {
        item: map_item(r)?,
        body_html: r.get(16)?,
    })
}

/// Load a live article within a staff scope (404 otherwise).
pub fn load_scoped(c: &Connection, scope: &Scope, id: i64) -> Result<NewsDetail> {
    let (cond, mut p) = scope.sql("n.org_id", Some("n.created_by"));
    p.insert(0, Value::Integer(id));
    c.prepare(&format!(
        "{SELECT} WHERE n.id = ? AND n.deleted_at IS NULL AND {cond}"
    ))?
    .query_row(params_from_iter(p), map_detail)
    .optional()?
    .ok_or(AppError::NotFound)
}

/// Bump an article's search version from the global sequence (inside the change's transaction).
pub fn bump(c: &Connection, id: i64) -> Result<i64> {
    let seq: i64 = c.query_row(
        "UPDATE news_search_seq SET seq = seq + 1 WHERE id = 1 RETURNING seq",
        [],
        |r| r.get(0),
    )?;
    c.execute(
        "UPDATE news SET search_version = ?1 WHERE id = ?2",
        [seq, id],
    )?;
    Ok(seq)
}

/// Next value of the global sequence (for inserts).
pub fn next_seq(c: &Connection) -> Result<i64> {
    Ok(c.query_row(
        "UPDATE news_search_seq SET seq = seq + 1 WHERE id = 1 RETURNING seq",
        [],
        |r| r.get(0),
    )?)
}

/// The root org (its news is public).
pub fn root_org(c: &Connection) -> Result<i64> {
    Ok(c.query_row(
        "SELECT id FROM orgs WHERE parent_id IS NULL ORDER BY id LIMIT 1",
        [],
        |r| r.get(0),
    )?)
}

/// Orgs whose news a member may read: an active member's org and its ancestors (from the
/// materialised path); anyone else (not or no longer a member) only the root org (public).
pub fn visible_orgs(c: &Connection, me: &MemberAuth) -> Result<Vec<i64>> {
    if me.status == "active"
        && let Some(org) = me.org_id
    {
        let path: Option<String> = c
            .prepare_cached("SELECT path FROM orgs WHERE id = ?1")?
            .query_row([org], |r| r.get(0))
            .optional()?;
        if let Some(path) = path {
            return Ok(path
                .split('/')
                .filter_map(|s| s.parse::<i64>().ok())
                .collect());
        }
    }
    Ok(vec![root_org(c)?])
}

/// Org ids inside a staff scope (`None` for every org).
pub fn scope_orgs(c: &Connection, scope: &Scope) -> Result<Option<Vec<i64>>> {
    if scope.is_all() {
        return Ok(None);
    }
    let (cond, p) = scope.sql("orgs.id", None);
    let mut st = c.prepare(&format!("SELECT id FROM orgs WHERE {cond}"))?;
    let ids = st
        .query_map(params_from_iter(p), |r| r.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(ids))
}

/// Load articles by id (with body text for snippets), keyed by id.
pub fn by_ids(c: &Connection, ids: &[i64]) -> Result<HashMap<i64, (NewsItem, String)>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let qs = vec!["?"; ids.len()].join(",");
    let sql = format!(
        "{}, n.body_text FROM {} WHERE n.id IN ({qs}) AND n.deleted_at IS NULL",
        SELECT.split(" FROM ").next().unwrap_or(SELECT),
        SELECT.split_once(" FROM ").map(|x| x.1).unwrap_or("news n"),
    );
    let mut st = c.prepare_cached(&sql)?;
    let rows = st.query_map(params_from_iter(ids.iter()), |r| {
        Ok((map_item(r)?, r.get::<_, String>("body_text")?))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (item, text) = row?;
        out.insert(item.id, (item, text));
    }
    Ok(out)
}

/// Every category, in order.
pub fn categories(c: &Connection) -> Result<Vec<Category>> {
    let mut st =
        c.prepare_cached("SELECT id, name, sort FROM news_categories ORDER BY sort, id")?;
    Ok(st
        .query_map([], |r| {
            Ok(Category {
                id: r.get(0)?,
                name: r.get(1)?,
                sort: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The member list's page of ids must come from the covering feed index alone: walking
    /// the older status-only index looked up every article's row (~80 ms at 100k articles).
    #[test]
    fn member_list_pages_through_the_covering_index() {
        let mut c = Connection::open_in_memory().unwrap();
        crate::migrations::apply(&mut c).unwrap();
        let plan = |sql: &str| crate::db::query_plan(&c, sql);
        for filter in [
            "n.status = 'published' AND n.deleted_at IS NULL AND n.org_id IN (?,?,?)",
            "n.status = 'published' AND n.deleted_at IS NULL AND n.org_id IN (?,?,?) AND +n.category_id = ?",
        ] {
            let (count, list) = page_sql(filter, "n.pinned DESC, n.published_at DESC, n.id DESC");
            let p = plan(&list);
            assert!(p.contains("USING COVERING INDEX news_member_feed"), "{p}");
            assert!(p.contains("USING INTEGER PRIMARY KEY"), "{p}");
            let p = plan(&count);
            assert!(p.contains("USING COVERING INDEX news_member_feed"), "{p}");
        }
    }
}
