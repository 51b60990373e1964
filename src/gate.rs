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
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Longest an entry is trusted without being re-read.
pub const TTL: Duration = Duration::from_secs(60);

/// Entries cached at most; past this the cache starts over.
const MAX_ENTRIES: usize = 1_000;

struct Inner<S> {
    rows: HashMap<i64, (Arc<S>, Instant)>,
    org_paths: HashMap<i64, String>,
    /// Bumped by every invalidation; a read that began before one is not cached.
    epoch: u64,
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
                rows: HashMap::new(),
                org_paths: HashMap::new(),
                epoch: 0,
            }),
        });
        let w = g.clone();
        db.watch(table, Arc::new(move |ids| w.forget(ids)));
        for t in std::iter::once(&"orgs").chain(wide) {
            let w = g.clone();
            db.watch(t, Arc::new(move |_| w.forget_all()));
        }
        g
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<S>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn forget(&self, ids: &[i64]) {
        let mut g = self.lock();
        g.epoch = g.epoch.wrapping_add(1);
        for id in ids {
            g.rows.remove(id);
        }
    }

    fn forget_all(&self) {
        let mut g = self.lock();
        g.epoch = g.epoch.wrapping_add(1);
        g.rows.clear();
        g.org_paths.clear();
    }

    /// The current epoch: take it before a read whose result goes to [`GateCache::put`].
    pub fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// The fresh snapshot of row `id`, with the path of `org` when known.
    pub fn get(&self, id: i64, org: Option<i64>) -> Option<Hit<S>> {
        let g = self.lock();
        let (s, at) = g.rows.get(&id)?;
        if at.elapsed() >= TTL {
            return None;
        }
        let path = match org {
            None => Some(None),
            Some(o) => g.org_paths.get(&o).map(|p| Some(p.clone())),
        };
        Some((s.clone(), path))
    }

    /// Keep `row` and `org`'s path, read after [`GateCache::epoch`] returned `epoch`; nothing
    /// is kept when a change was reported since.
    pub fn put(&self, epoch: u64, row: Option<(i64, Arc<S>)>, org: Option<(i64, String)>) {
        let mut g = self.lock();
        if g.epoch != epoch {
            return;
        }
        if let Some((id, s)) = row {
            if g.rows.len() >= MAX_ENTRIES {
                g.rows.clear();
            }
            g.rows.insert(id, (s, Instant::now()));
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
