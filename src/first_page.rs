//! First pages of member lists, kept in memory per audience.
//!
//! Every member opening the app asks for the first page of the news feed and of the
//! activities list, and every active member of the same org (or everyone who is not an active
//! member) sees the same one: its rows depend only on the orgs a member may read and the
//! filters. So a first page is read from SQLite once per audience and change, not once per
//! request; later pages (scrolling) are read as before.
//!
//! Freshness rests on the single writer, as for [`crate::gate`]: it reports every change of the
//! watched tables after each batch and before answering its callers, and any of them drops
//! every page. A read that raced with a reported write is not cached (the epoch), and pages
//! expire after [`crate::gate::TTL`].

use crate::cursor::CursorPage;
use crate::db::Db;
use crate::gate::TTL;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Pages cached at most; past this the cache starts over.
const MAX_PAGES: usize = 10_000;

struct Inner<K, T> {
    pages: HashMap<K, (Arc<CursorPage<T>>, Instant)>,
    /// Bumped by every invalidation; a read that began before one is not cached.
    epoch: u64,
}

/// First pages of one list by key `K` (audience and filters); one per list per server.
pub struct FirstPages<K, T> {
    inner: Mutex<Inner<K, T>>,
}

impl<K: Hash + Eq + Send + 'static, T: Send + Sync + 'static> FirstPages<K, T> {
    /// A cache told by `db`'s writer of every change of `tables`.
    pub fn watching(db: &Db, tables: &[&'static str]) -> Arc<Self> {
        let cache = Arc::new(FirstPages {
            inner: Mutex::new(Inner {
                pages: HashMap::new(),
                epoch: 0,
            }),
        });
        for table in tables {
            let c = cache.clone();
            db.watch(table, Arc::new(move |_| c.clear()));
        }
        cache
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, T>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn clear(&self) {
        let mut g = self.lock();
        g.epoch = g.epoch.wrapping_add(1);
        g.pages.clear();
    }

    /// The current epoch: take it before a read whose result goes to [`FirstPages::put`].
    pub fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// The fresh first page of `key`.
    pub fn get(&self, key: &K) -> Option<Arc<CursorPage<T>>> {
        let g = self.lock();
        let (page, at) = g.pages.get(key)?;
        (at.elapsed() < TTL).then(|| page.clone())
    }

    /// Keep the first page of `key`, read after [`FirstPages::epoch`] returned `epoch`;
    /// nothing is kept when a change was reported since.
    pub fn put(&self, epoch: u64, key: K, page: Arc<CursorPage<T>>) {
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

/// The org part of a first page's key: a member's org counts only while they are an active
/// member (everyone else sees what is public).
pub fn audience(me: &crate::members::auth::MemberAuth) -> Option<i64> {
    me.org_id.filter(|_| me.status == "active")
}
