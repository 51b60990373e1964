//! The in-memory part of a flash-crowd gate: rows a burst of write requests needs before it may
//! go to the writer (an activity's sign-up rules, a benefit's stock), kept per row id, plus the
//! org paths of the members asking (audience checks).
//!
//! A popular activity or benefit gets far more requests than places, and once it is full every
//! one of them is refused. Keeping what a refusal needs in memory means such a burst touches
//! neither the read pool nor the writer. The domain gates ([`crate::activities::gate`],
//! [`crate::benefits::gate`]) decide what to keep and how to refuse; this cache keeps it fresh.
//!
//! Freshness rests on the single writer, as for [`crate::members::auth_cache`]: it reports
//! every changed row of the watched table after each batch and before answering its callers,
//! and the entry of a changed row is dropped. Tables whose change may affect every entry (org
//! paths, form templates) drop everything. A read that raced with a reported write is not
//! cached (the epoch), and entries expire after [`TTL`].

use crate::db::Db;
use crate::error::Result;
use rusqlite::{Connection, OptionalExtension};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Longest an entry is trusted without being re-read.
pub const TTL: Duration = Duration::from_secs(60);

/// Entries cached at most; past this the cache starts over.
const MAX_ENTRIES: usize = 1_000;

/// Entries of a cache fed by the writer's change reports: each kept with the time it was read,
/// trusted for [`TTL`], and the epoch that keeps a read which raced with a reported change out.
/// Not locked: its owner holds it in a mutex with whatever else shares the epoch.
pub struct Fresh<K, V> {
    entries: HashMap<K, (Arc<V>, Instant)>,
    /// Bumped by every invalidation; a read that began before one is not cached.
    epoch: u64,
    max: usize,
}

impl<K: Hash + Eq, V> Fresh<K, V> {
    /// Empty, keeping at most `max` entries (past that it starts over).
    pub fn new(max: usize) -> Self {
        Fresh {
            entries: HashMap::new(),
            epoch: 0,
            max,
        }
    }

    /// The current epoch: take it before a read whose result goes to [`Fresh::put`].
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The entry of `key` while fresh.
    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        let (v, at) = self.entries.get(key)?;
        (at.elapsed() < TTL).then(|| v.clone())
    }

    /// Keep `v` under `key`, read after [`Fresh::epoch`] returned `epoch`; false (nothing
    /// kept) when a change was reported since.
    pub fn put(&mut self, epoch: u64, key: K, v: Arc<V>) -> bool {
        if self.epoch != epoch {
            return false;
        }
        if self.entries.len() >= self.max {
            self.entries.clear();
        }
        self.entries.insert(key, (v, Instant::now()));
        true
    }

    /// Drop the entries of `keys`.
    pub fn forget<'a>(&mut self, keys: impl IntoIterator<Item = &'a K>)
    where
        K: 'a,
    {
        self.epoch = self.epoch.wrapping_add(1);
        for k in keys {
            self.entries.remove(k);
        }
    }

    /// Drop every entry.
    pub fn clear(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
        self.entries.clear();
    }
}

struct Inner<S> {
    rows: Fresh<i64, S>,
    /// Org paths; they share the rows' epoch and are dropped with them.
    org_paths: HashMap<i64, String>,
}

/// Cached snapshots of type `S` by row id, and org paths by org id; one per domain per server.
pub struct GateCache<S> {
    inner: Mutex<Inner<S>>,
}

/// What [`GateCache::get`] found: the snapshot, and the org path when the member's org was
/// cached (`Some(None)` for a member without an org).
pub type Hit<S> = (Arc<S>, Option<Option<String>>);

impl<S: Send + Sync + 'static> GateCache<S> {
    /// A cache told by `db`'s writer of every change of `table` (drops that row) and of
    /// `orgs` and each of `wide` (drops everything).
    pub fn watching(db: &Db, table: &'static str, wide: &[&'static str]) -> Arc<Self> {
        let g = Arc::new(GateCache {
            inner: Mutex::new(Inner {
                rows: Fresh::new(MAX_ENTRIES),
                org_paths: HashMap::new(),
            }),
        });
        let w = g.clone();
        db.watch(table, Arc::new(move |ids| w.lock().rows.forget(ids)));
        for t in std::iter::once(&"orgs").chain(wide) {
            let w = g.clone();
            db.watch(
                t,
                Arc::new(move |_| {
                    let mut g = w.lock();
                    g.rows.clear();
                    g.org_paths.clear();
                }),
            );
        }
        g
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<S>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current epoch: take it before a read whose result goes to [`GateCache::put`].
    pub fn epoch(&self) -> u64 {
        self.lock().rows.epoch()
    }

    /// The fresh snapshot of row `id`, with the path of `org` when known.
    pub fn get(&self, id: i64, org: Option<i64>) -> Option<Hit<S>> {
        let g = self.lock();
        let s = g.rows.get(&id)?;
        let path = match org {
            None => Some(None),
            Some(o) => g.org_paths.get(&o).map(|p| Some(p.clone())),
        };
        Some((s, path))
    }

    /// Keep `row` and `org`'s path, read after [`GateCache::epoch`] returned `epoch`; nothing
    /// is kept when a change was reported since.
    pub fn put(&self, epoch: u64, row: Option<(i64, Arc<S>)>, org: Option<(i64, String)>) {
        let mut g = self.lock();
        if g.rows.epoch() != epoch {
            return;
        }
        if let Some((id, s)) = row {
            g.rows.put(epoch, id, s);
        }
        if let Some((id, path)) = org {
            g.org_paths.insert(id, path);
        }
    }
}

/// The path of org `org` (`None` when it no longer exists).
pub fn org_path(c: &Connection, org: i64) -> Result<Option<String>> {
    Ok(c.prepare_cached("SELECT path FROM orgs WHERE id = ?1")?
        .query_row([org], |r| r.get(0))
        .optional()?)
}
