//! First pages of the member news feed, kept in memory per audience.
//!
//! Every member opening the app asks for the first page of the feed, and every member of the
//! same org (active members) or every non-member sees the same one: its articles depend only
//! on the orgs a member may read, the category and the page size. So a first page is read from
//! SQLite once per audience and change, not once per request; later pages (scrolling) are
//! read as before.
//!
//! Freshness rests on the single writer, as for [`crate::gate`]: it reports every change of
//! `news` (publishing, edits, withdrawals, the view-count flush), of `orgs` (names, paths),
//! of `news_categories` (names) and of `files` (cover links) after each batch and before
//! answering its callers, and any of them drops every page. A read that raced with a reported
//! write is not cached (the epoch), and pages expire after [`crate::gate::TTL`]. View counts
//! not yet written are added per request, as for pages read from SQLite.

use super::model::NewsItem;
use crate::cursor::CursorPage;
use crate::db::Db;
use crate::gate::TTL;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Whose feed: the member's org when an active member (`None`: the public feed of everyone
/// else), the category and the page size.
pub type Key = (Option<i64>, Option<i64>, i64);

/// Pages cached at most; past this the cache starts over.
const MAX_PAGES: usize = 10_000;

/// Tables whose change may alter a cached page.
const WATCHED: [&str; 4] = ["news", "orgs", "news_categories", "files"];

#[derive(Default)]
struct Inner {
    pages: HashMap<Key, (Arc<CursorPage<NewsItem>>, Instant)>,
    /// Bumped by every invalidation; a read that began before one is not cached.
    epoch: u64,
}

/// The cache; one per server.
#[derive(Default)]
pub struct FeedCache {
    inner: Mutex<Inner>,
}

impl FeedCache {
    /// A cache told by `db`'s writer of every change that may alter a page.
    pub fn watching(db: &Db) -> Arc<FeedCache> {
        let cache = Arc::new(FeedCache::default());
        for table in WATCHED {
            let c = cache.clone();
            db.watch(table, Arc::new(move |_| c.clear()));
        }
        cache
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn clear(&self) {
        let mut g = self.lock();
        g.epoch = g.epoch.wrapping_add(1);
        g.pages.clear();
    }

    /// The current epoch: take it before a read whose result goes to [`FeedCache::put`].
    pub fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// The fresh first page of `key`.
    pub fn get(&self, key: &Key) -> Option<Arc<CursorPage<NewsItem>>> {
        let g = self.lock();
        let (page, at) = g.pages.get(key)?;
        (at.elapsed() < TTL).then(|| page.clone())
    }

    /// Keep the first page of `key`, read after [`FeedCache::epoch`] returned `epoch`; nothing
    /// is kept when a change was reported since.
    pub fn put(&self, epoch: u64, key: Key, page: Arc<CursorPage<NewsItem>>) {
        let mut g = self.lock();
        if g.epoch != epoch {
            return;
        }
        if g.pages.len() >= MAX_PAGES {
            g.pages.clear();
        }
        g.pages.insert(key, (page, Instant::now()));
    }
}

/// The cache key of a first page for `me`: the org only matters for an active member (see
/// [`super::repo::visible_orgs`]).
pub fn key(me: &crate::members::auth::MemberAuth, category: Option<i64>, limit: i64) -> Key {
    let org = me.org_id.filter(|_| me.status == "active");
    (org, category, limit)
}
