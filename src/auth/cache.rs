//! The staff principal (account, org path, roles with permissions and custom orgs) per live
//! session, cached in memory so a staff request costs no database read, as a member request.
//!
//! Revocation stays immediate because every change goes through the single writer, whose
//! update hook reports changed rows after each batch and before the batch's callers are
//! answered ([`crate::db::Db::watch`]): any change to `admins`, `roles`, `admin_sessions`,
//! `orgs` or `auth_changes` (bumped by triggers on the WITHOUT ROWID grant tables, migration
//! 0023) empties the whole cache. Such changes are rare next to reads, so forgetting
//! everything is simpler than tracking which accounts a role change reaches, and cannot miss
//! one. A read that raced with such a write is not cached (the epoch), and entries expire
//! after [`TTL`], the safety net for changes made outside the server (`gonghui admin …`).

use super::AdminAuth;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Longest an entry is trusted without being re-read.
pub const TTL: Duration = Duration::from_secs(60);

/// Entries kept at most (live staff sessions); past this the cache starts over.
const MAX_ENTRIES: usize = 20_000;

/// Tables whose change empties the cache.
pub const WATCHED: &[&str] = &["admins", "roles", "admin_sessions", "orgs", "auth_changes"];

struct Inner {
    /// Session id → (principal as loaded, disabled, when).
    map: HashMap<i64, (AdminAuth, bool, Instant)>,
    epoch: u64,
}

/// The cache; one per server.
pub struct StaffCache {
    inner: Mutex<Inner>,
}

impl Default for StaffCache {
    fn default() -> Self {
        StaffCache {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                epoch: 0,
            }),
        }
    }
}

impl StaffCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached principal of live session `sid` of account `admin_id` with its disabled
    /// flag, if fresh.
    pub fn get(&self, sid: i64, admin_id: i64) -> Option<(AdminAuth, bool)> {
        let g = self.lock();
        g.map
            .get(&sid)
            .filter(|(a, _, at)| a.id == admin_id && at.elapsed() < TTL)
            .map(|(a, d, _)| (a.clone(), *d))
    }

    /// The epoch to pass to [`StaffCache::put`]; take it before reading.
    pub fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// Remember a principal read for live session `sid`, unless a watched write was
    /// reported since `epoch`.
    pub fn put(&self, sid: i64, principal: AdminAuth, disabled: bool, epoch: u64) {
        let mut g = self.lock();
        if g.epoch != epoch {
            return;
        }
        if g.map.len() >= MAX_ENTRIES {
            g.map.clear();
        }
        g.map.insert(sid, (principal, disabled, Instant::now()));
    }

    /// Forget everything (a watched table changed).
    pub fn clear(&self) {
        let mut g = self.lock();
        g.epoch = g.epoch.wrapping_add(1);
        g.map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(id: i64) -> AdminAuth {
        AdminAuth {
            id,
            username: "u".into(),
            name: "n".into(),
            org_id: 1,
            org_path: "/1/".into(),
            is_super: false,
            must_change_password: false,
            token_version: 1,
            roles: vec![],
            ip: String::new(),
            session_id: None,
        }
    }

    #[test]
    fn cleared_and_raced_entries_are_not_served() {
        let c = StaffCache::default();
        c.put(5, principal(7), false, c.epoch());
        assert!(c.get(5, 7).is_some());
        // Another account presenting the same session id gets nothing.
        assert!(c.get(5, 8).is_none());
        c.clear();
        assert!(c.get(5, 7).is_none());
        let before = c.epoch();
        c.clear();
        c.put(5, principal(7), false, before);
        assert!(c.get(5, 7).is_none());
    }
}
