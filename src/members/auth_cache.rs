//! What every authenticated member request needs from the `members` row (status, org, token
//! version), cached in memory so that the check costs no database read.
//!
//! Correctness rests on the single writer: it reports every changed `members` row after each
//! batch ([`crate::db::Db::watch`]) and before answering the batch's callers, so a logout, a
//! deletion or a transfer is seen by the very next request. A read that raced with such a
//! write is not cached (the epoch check in [`MemberCache::put`]). Entries also expire after
//! [`TTL`], a safety net for changes made outside the server process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Longest an entry is trusted without being re-read.
pub const TTL: Duration = Duration::from_secs(60);

/// Entries kept at most; past this the cache starts over (cheaper than LRU bookkeeping, and a
/// county office has far fewer members active within one [`TTL`]).
const MAX_ENTRIES: usize = 200_000;

/// The cached facts of one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// `registered`, `pending`, `active`, `rejected`, `left` or `deleted`.
    pub status: String,
    /// The member's org.
    pub org_id: Option<i64>,
    /// Current token version (bumped on logout and deletion).
    pub token_version: i64,
}

struct Inner {
    map: HashMap<i64, (Facts, Instant)>,
    /// Bumped by every invalidation; a read that began before one is not cached.
    epoch: u64,
}

/// The cache; one per server.
pub struct MemberCache {
    inner: Mutex<Inner>,
}

impl Default for MemberCache {
    fn default() -> Self {
        MemberCache {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                epoch: 0,
            }),
        }
    }
}

impl MemberCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Cached facts of member `id`, if fresh.
    pub fn get(&self, id: i64) -> Option<Facts> {
        let g = self.lock();
        g.map
            .get(&id)
            .filter(|(_, at)| at.elapsed() < TTL)
            .map(|(f, _)| f.clone())
    }

    /// The epoch to pass to [`MemberCache::put`]; take it before reading the row.
    pub fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// Remember facts read from the database, unless a write was reported since `epoch`
    /// (the read may then have seen the row as it was before that write).
    pub fn put(&self, id: i64, facts: Facts, epoch: u64) {
        let mut g = self.lock();
        if g.epoch != epoch {
            return;
        }
        if g.map.len() >= MAX_ENTRIES {
            g.map.clear();
        }
        g.map.insert(id, (facts, Instant::now()));
    }

    /// Forget the given members (called by the writer after it changed their rows).
    pub fn invalidate(&self, ids: &[i64]) {
        let mut g = self.lock();
        g.epoch = g.epoch.wrapping_add(1);
        for id in ids {
            g.map.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(v: i64) -> Facts {
        Facts {
            status: "active".into(),
            org_id: Some(1),
            token_version: v,
        }
    }

    #[test]
    fn invalidated_rows_are_forgotten() {
        let c = MemberCache::default();
        c.put(7, facts(1), c.epoch());
        assert_eq!(c.get(7), Some(facts(1)));
        c.invalidate(&[7]);
        assert_eq!(c.get(7), None);
    }

    #[test]
    fn a_read_that_raced_with_a_write_is_not_cached() {
        let c = MemberCache::default();
        let before = c.epoch();
        // The writer changes member 7 while the request is reading its row.
        c.invalidate(&[7]);
        c.put(7, facts(1), before);
        assert_eq!(c.get(7), None);
        // A read that began after the write is cached.
        c.put(7, facts(2), c.epoch());
        assert_eq!(c.get(7), Some(facts(2)));
    }

    #[test]
    fn other_members_stay_cached() {
        let c = MemberCache::default();
        let e = c.epoch();
        c.put(7, facts(1), e);
        c.put(8, facts(1), e);
        c.invalidate(&[7]);
        assert_eq!(c.get(8), Some(facts(1)));
    }
}
