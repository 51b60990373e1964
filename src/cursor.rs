//! Keyset ("cursor") pagination for the lists a phone scrolls endlessly.
//!
//! A page-numbered list counts every matching row on every request and skips `OFFSET` rows
//! to reach a page; a member scrolling a feed needs neither. A cursor list returns the next
//! `limit` rows after the sort key of the last row it gave out, so each request reads about
//! `limit` index entries however far the member has scrolled and however many rows exist.
//!
//! The cursor is the last row's sort key, encoded as an opaque string: clients pass back what
//! they were given. A forged cursor only moves the window: every list still applies its
//! visibility filter, so it cannot reveal anything.

use crate::error::AppError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// Default number of items per slice.
pub const DEFAULT_LIMIT: i64 = 20;
/// Most items per slice.
pub const MAX_LIMIT: i64 = 50;

/// Query of a cursor-paged list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CursorQuery {
    /// `next_cursor` of the previous response; absent for the first slice.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
    /// Items per slice, default 20, at most 50.
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

/// One slice of an endless list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CursorPage<T> {
    /// Items of this slice, in list order.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next slice; null when the list has no more items.
    pub next_cursor: Option<String>,
}

/// A validated cursor request: the sort key to continue after (if any) and the slice size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Sort key of the last item already shown; `None` for the first slice.
    pub after: Option<Vec<i64>>,
    /// Items wanted.
    pub limit: i64,
}

impl CursorQuery {
    /// Validate the query for a list whose sort key has `arity` integer parts.
    pub fn resolve(&self, arity: usize) -> Result<Window, AppError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::field(
                "limit",
                format!("每次加载条数须在 1 到 {MAX_LIMIT} 之间"),
            ));
        }
        let after = match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(
                decode(c, arity)
                    .ok_or_else(|| AppError::field("cursor", "分页游标无效，请从第一页重新加载"))?,
            ),
        };
        Ok(Window { after, limit })
    }
}

impl Window {
    /// The first `limit + 1` rows were fetched: keep `limit`, and make the cursor from the key
    /// of the last kept row when a further row shows the list goes on.
    pub fn finish<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> Vec<i64>) -> CursorPage<T> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| encode(&key(r)))
        } else {
            None
        };
        CursorPage {
            items: rows,
            next_cursor,
        }
    }

    /// Rows to fetch: one more than shown, to learn whether the list goes on.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }
}

/// Encode a sort key as an opaque cursor.
pub fn encode(key: &[i64]) -> String {
    let text = key.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    URL_SAFE_NO_PAD.encode(format!("k1:{text}"))
}

/// Decode a cursor made by [`encode`] with exactly `arity` parts.
fn decode(cursor: &str, arity: usize) -> Option<Vec<i64>> {
    if cursor.len() > 200 {
        return None;
    }
    let raw = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = std::str::from_utf8(&raw).ok()?.strip_prefix("k1:")?;
    let key = text
        .split(',')
        .map(|p| p.parse::<i64>().ok())
        .collect::<Option<Vec<_>>>()?;
    (key.len() == arity).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(cursor: Option<&str>, limit: Option<i64>) -> CursorQuery {
        CursorQuery {
            cursor: cursor.map(String::from),
            limit,
        }
    }

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let c = encode(&[1, -5, i64::MAX]);
        let w = q(Some(&c), None).resolve(3).unwrap();
        assert_eq!(w.after, Some(vec![1, -5, i64::MAX]));
        assert_eq!(w.limit, DEFAULT_LIMIT);
        // Wrong arity, garbage, other prefixes and huge strings are a 400, never a panic.
        assert!(q(Some(&c), None).resolve(2).is_err());
        for bad in [
            "x",
            "%%%",
            "azE6",
            &"A".repeat(500),
            &URL_SAFE_NO_PAD.encode("k1:1,x"),
        ] {
            assert!(q(Some(bad), None).resolve(1).is_err(), "{bad}");
        }
        // An empty cursor is the first slice.
        assert_eq!(q(Some(""), Some(5)).resolve(1).unwrap().after, None);
    }

    #[test]
    fn limits_are_bounded() {
        assert!(q(None, Some(0)).resolve(1).is_err());
        assert!(q(None, Some(51)).resolve(1).is_err());
        assert!(q(None, Some(i64::MIN)).resolve(1).is_err());
        assert_eq!(q(None, Some(50)).resolve(1).unwrap().limit, 50);
    }

    #[test]
    fn finish_sets_the_cursor_only_when_more_rows_exist() {
        let w = Window {
            after: None,
            limit: 2,
        };
        let p = w.finish(vec![9, 8, 7], |r| vec![*r]);
        assert_eq!(p.items, vec![9, 8]);
        assert_eq!(p.next_cursor, Some(encode(&[8])));
        let p = w.finish(vec![9, 8], |r| vec![*r]);
        assert_eq!(p.next_cursor, None);
    }
}
