//! The member news feed, paged by cursor: pinned first, then newest first.
//!
//! A member reads the news of a handful of orgs (their org and its ancestors). One query over
//! all of them would have to sort every visible article to find the newest few, because the
//! feed index is ordered within one org only. Instead each (org, pinned) part is read in index
//! order, at most one slice from each, and the parts are merged here: every request touches
//! about `orgs × limit` index entries, however many articles exist or how far the member has
//! scrolled.

use super::model::NewsItem;
use super::repo::{SELECT_ITEM, map_item};
use crate::cursor::{CursorPage, Window};
use crate::error::Result;
use rusqlite::{Connection, OptionalExtension, params_from_iter, types::Value};

/// Sort key of a feed item: `(pinned, published_at, id)`, all descending.
type Key = (i64, i64, i64);

/// One slice of the feed of `orgs` (optionally one category) after `w.after`.
pub fn slice(
    c: &Connection,
    orgs: &[i64],
    category: Option<i64>,
    w: &Window,
) -> Result<CursorPage<NewsItem>> {
    let start: Key = match &w.after {
        Some(k) => (k[0], k[1], k[2]),
        None => (1, i64::MAX, i64::MAX),
    };
    let want = w.fetch() as usize;
    let mut keys: Vec<Key> = Vec::with_capacity(want);
    // Pinned articles (1) come before the others (0); a cursor inside the unpinned part skips
    // the pinned one.
    for pinned in [1, 0] {
        if pinned > start.0 || keys.len() >= want {
            continue;
        }
        let (from_t, from_id) = if pinned == start.0 {
            (start.1, start.2)
        } else {
            (i64::MAX, i64::MAX)
        };
        let mut part = Vec::new();
        for org in orgs {
            part.extend(org_part(
                c,
                *org,
                pinned,
                category,
                (from_t, from_id),
                want - keys.len(),
            )?);
        }
        part.sort_unstable_by(|a, b| b.cmp(a));
        part.truncate(want - keys.len());
        keys.extend(part);
    }
    let page = w.finish(load(c, &keys)?, |(k, _)| vec![k.0, k.1, k.2]);
    Ok(CursorPage {
        items: page.items.into_iter().map(|(_, i)| i).collect(),
        next_cursor: page.next_cursor,
    })
}

/// Up to `n` keys of one org's published articles with `pinned`, older than `(t, id)`.
fn org_part(
    c: &Connection,
    org: i64,
    pinned: i64,
    category: Option<i64>,
    (t, id): (i64, i64),
    n: usize,
) -> Result<Vec<Key>> {
    let sql = part_sql(category.is_some());
    let mut p = vec![
        Value::Integer(org),
        Value::Integer(pinned),
        Value::Integer(t),
        Value::Integer(t),
        Value::Integer(id),
    ];
    if let Some(cat) = category {
        p.push(Value::Integer(cat));
    }
    p.push(Value::Integer(n as i64));
    let rows = c
        .prepare_cached(sql)?
        .query_map(params_from_iter(p), |r| {
            Ok((pinned, r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The query of one feed part (org, pinned, older than a key), optionally of one category.
fn part_sql(category: bool) -> &'static str {
    // `published_at <= ?` bounds the index range; the OR only breaks ties within one second.
    // `+` keeps the planner on the feed index when a category is given.
    macro_rules! part {
        ($cat:literal) => {
            concat!(
                "SELECT n.published_at, n.id FROM news n
         WHERE n.status = 'published' AND n.org_id = ? AND n.pinned = ? AND n.deleted_at IS NULL
           AND n.published_at <= ? AND (n.published_at < ? OR n.id < ?)",
                $cat,
                " ORDER BY n.published_at DESC, n.id DESC LIMIT ?"
            )
        };
    }
    if category {
        part!(" AND +n.category_id = ?")
    } else {
        part!("")
    }
}

/// The list items of `keys` with their keys, in the order of `keys`.
///
/// One cached rowid lookup per key rather than `WHERE n.id IN (…)`: for an `IN` list SQLite
/// builds a temporary b-tree on every run (a page-sized allocation and its set-up), which
/// cost more than the twenty lookups themselves.
fn load(c: &Connection, keys: &[Key]) -> Result<Vec<(Key, NewsItem)>> {
    let mut st = c.prepare_cached(&format!("{SELECT_ITEM} WHERE n.id = ?1"))?;
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        if let Some(item) = st.query_row([k.2], map_item).optional()? {
            out.push((*k, item));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::db::query_plan;
    use rusqlite::Connection;

    /// Each part of the feed is read in index order from the covering index: no temporary
    /// b-tree to sort by id (migration 0030), with or without a category.
    #[test]
    fn feed_parts_are_read_in_index_order() {
        let mut c = Connection::open_in_memory().unwrap();
        crate::migrations::apply(&mut c).unwrap();
        for category in [false, true] {
            let plan = query_plan(&c, super::part_sql(category));
            assert!(
                plan.contains("USING COVERING INDEX news_member_feed"),
                "{plan}"
            );
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
    }
}
