//! First pages of the member news feed, kept in memory per audience (see
//! [`crate::first_page`]). View counts not yet written are added per request, as for pages
//! read from SQLite.

use super::model::NewsItem;
use crate::db::Db;
use crate::first_page::FirstPages;
use std::sync::Arc;

/// Whose feed: the member's org when an active member (`None`: the public feed of everyone
/// else), the category and the page size.
pub type Key = (Option<i64>, Option<i64>, i64);

/// The cache; one per server.
pub type FeedCache = FirstPages<Key, NewsItem>;

/// Tables whose change may alter a cached page: articles (publishing, edits, withdrawals, the
/// view-count flush), org names and paths, category names, cover links.
const WATCHED: [&str; 4] = ["news", "orgs", "news_categories", "files"];

/// A cache told by `db`'s writer of every change that may alter a page.
pub fn watching(db: &Db) -> Arc<FeedCache> {
    FirstPages::watching(db, &WATCHED)
}

/// The cache key of a first page for `me` (see [`super::repo::visible_orgs`]).
pub fn key(me: &crate::members::auth::MemberAuth, category: Option<i64>, limit: i64) -> Key {
    (crate::first_page::audience(me), category, limit)
}
