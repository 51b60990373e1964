//! Answers of hot reads kept in memory, told of every change by the writer: first pages of
//! member lists per audience ([`FirstPages`]), and the member statistics tables per viewer
//! and query (`crate::stats::api`).
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
use crate::error::Result;
use crate::gate::Fresh;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Answers cached at most; past this the cache starts over.
const MAX_PAGES: usize = 10_000;

/// Answers of one read by key `K` (audience and filters); one per read per server.
pub struct ReadCache<K, V> {
    inner: Mutex<Fresh<K, V>>,
}

/// First pages of one list by key `K`.
pub type FirstPages<K, T> = ReadCache<K, CursorPage<T>>;

impl<K: Hash + Eq + Send + 'static, V: Send + Sync + 'static> ReadCache<K, V> {
    /// A cache told by `db`'s writer of every change of `tables`.
    pub fn watching(db: &Db, tables: &[&'static str]) -> Arc<Self> {
        let cache = Arc::new(ReadCache {
            inner: Mutex::new(Fresh::new(MAX_PAGES)),
        });
        for table in tables {
            let c = cache.clone();
            db.watch(table, Arc::new(move |_| c.lock().clear()));
        }
        cache
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Fresh<K, V>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The answer `read` gives, from memory when `key` (of a cacheable answer, such as a first
    /// page) is cached; an answer read is kept unless a change was reported meanwhile.
    /// Uncacheable reads (`None`, such as later pages) are always read.
    pub async fn get_or_read(
        &self,
        key: Option<K>,
        read: impl Future<Output = Result<V>>,
    ) -> Result<Arc<V>> {
        if let Some(hit) = key.as_ref().and_then(|k| self.lock().get(k)) {
            return Ok(hit);
        }
        let epoch = self.lock().epoch();
        let answer = Arc::new(read.await?);
        if let Some(k) = key {
            self.lock().put(epoch, k, answer.clone());
        }
        Ok(answer)
    }
}

/// The org part of a first page's key: a member's org counts only while they are an active
/// member (everyone else sees what is public).
pub fn audience(me: &crate::members::auth::MemberAuth) -> Option<i64> {
    me.org_id.filter(|_| me.status == "active")
}
