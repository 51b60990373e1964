//! The sign-up gate: what a registration request needs to know before it may go to the writer
//! (the activity, its form, who already holds a place), kept in memory per activity.
//!
//! A popular activity gets far more sign-up requests than places, and once it is full (or no
//! longer open) every one of them is refused. Such activities are kept in memory, so a burst
//! of refusals touches neither the read pool nor the writer. An activity still filling up is
//! kept too, without its registrations: its requests go on to the writer, which re-checks
//! everything (window, quota, a second registration) inside its job, so the gate can never
//! oversell. Each writer batch that takes places drops the entry, so a filling activity is read
//! once per batch rather than once per request.
//!
//! Freshness rests on the single writer, as for [`crate::members::auth_cache`]: it reports
//! every changed `activities` row after each batch and before answering its callers. Every
//! change of who holds a place changes the activity's `live_count` (triggers of migration 0008),
//! so a new, cancelled or rejected registration drops the activity's entry as well. Form
//! templates and orgs are few and rarely change: any change of them drops everything. A read
//! that raced with a reported write is not cached (the epoch), and entries expire after
//! [`crate::gate::TTL`] (the shared cache is [`crate::gate::GateCache`]).

use super::form::FieldDef;
use super::model::ActivityRow;
use super::repo::{self, Viewer};
use crate::app::AppState;
use crate::db::Db;
use crate::error::{AppError, Result};
use crate::gate::{GateCache, org_path};
use crate::members::auth::MemberAuth;
use rusqlite::Connection;
use std::collections::HashSet;
use std::sync::Arc;

/// Full activities with more live registrations than this are not cached (the set would be
/// large; such activities take the read-pool path).
const MAX_LIVE: i64 = 50_000;

/// What the gate knows of one activity.
pub struct Snapshot {
    /// The activity as loaded.
    pub row: ActivityRow,
    /// Its registration form.
    pub fields: Vec<FieldDef>,
    /// Members holding a live (pending or approved) registration; empty while the activity is
    /// still filling up (the writer then tells a second registration apart).
    live: HashSet<i64>,
}

impl Snapshot {
    /// Why `member` may not register now (closed, outside the window, registered, full).
    pub fn refusal(&self, member: i64, now: i64) -> Option<AppError> {
        closed_or_outside(&self.row, now)
            .or_else(|| self.live.contains(&member).then(already_registered))
            .or_else(|| (self.row.view.registered >= self.row.view.quota).then(quota_full))
    }
}

/// The refusal when every place is taken.
pub fn quota_full() -> AppError {
    AppError::conflict_code("quota_full", "名额已满")
}

/// The refusal for a second live registration.
pub fn already_registered() -> AppError {
    AppError::conflict_code("already_registered", "您已报名此活动")
}

/// Why nobody may register for `a` at `now`: not open, or outside the signup window.
pub fn closed_or_outside(a: &ActivityRow, now: i64) -> Option<AppError> {
    if a.view.status != "published" {
        return Some(super::model::closed(&a.view.status));
    }
    if now < a.times[2] {
        return Some(AppError::conflict_code("signup_closed", "报名尚未开始"));
    }
    if now >= a.times[3] {
        return Some(AppError::conflict_code("signup_closed", "报名已截止"));
    }
    None
}

/// The activity gate: snapshots by activity id; one per server.
pub type Gate = GateCache<Snapshot>;

/// A gate told of every change by `db`'s writer.
pub fn watching(db: &Db) -> Arc<Gate> {
    GateCache::watching(db, "activities", &["form_templates"])
}

/// Read activity `id`, its form and, when the activity is worth caching, its live
/// registrations on `c` (`None` otherwise).
///
/// An activity that is not open (nobody gets in) or full (everybody is refused, as already
/// registered or as full, which the live set tells apart) is cached with what it needs to
/// refuse. One still filling up is cached without its live set: loading that set whenever a
/// batch of sign-ups drops the entry would make a large sign-up quadratic, and the writer
/// refuses a second registration anyway. Only a full activity with a very large live set is
/// not cached; its requests read one row instead.
fn load(c: &Connection, id: i64) -> Result<(ActivityRow, Vec<FieldDef>, Option<HashSet<i64>>)> {
    let row = repo::load(c, id)?;
    let fields = match row.view.form_template_id {
        Some(t) => super::templates::fields_of(c, t)?,
        None => vec![],
    };
    let (status, registered, quota) = (&row.view.status, row.view.registered, row.view.quota);
    let live = if status != "published" {
        Some(HashSet::new())
    } else if registered >= quota && registered <= MAX_LIVE {
        let mut st = c.prepare_cached(
            "SELECT member_id FROM activity_registrations WHERE activity_id = ?1 AND status IN ('pending', 'approved')",
        )?;
        let ids = st.query_map([id], |r| r.get::<_, i64>(0))?;
        Some(ids.collect::<rusqlite::Result<HashSet<i64>>>()?)
    } else if registered < quota {
        Some(HashSet::new())
    } else {
        None
    };
    Ok((row, fields, live))
}

/// The activity as member `me` may see it for signing up (404 for drafts and members-only
/// activities outside the member's chain), from memory when possible.
pub async fn snapshot(st: &AppState, me: &MemberAuth, id: i64) -> Result<Arc<Snapshot>> {
    let gate = st.activity_gate.clone();
    let cached = gate.get(id, me.org_id);
    let (snap, path) = match cached {
        Some((snap, Some(path))) => (snap, path),
        _ => {
            let epoch = gate.epoch();
            let (member, org) = (me.id, me.org_id);
            let (snap, cacheable, path) = st
                .db
                .read(move |c| {
                    let (row, fields, live) = load(c, id)?;
                    let path = match org {
                        Some(o) => org_path(c, o)?,
                        None => None,
                    };
                    // Not cached: answer this request from the same snapshot.
                    let registered = match &live {
                        Some(_) => false,
                        None => registered(c, id, member)?,
                    };
                    Ok((row, fields, live, path, registered))
                })
                .await
                .map(|(row, fields, live, path, registered)| {
                    let cacheable = live.is_some();
                    let mut set = live.unwrap_or_default();
                    if registered {
                        set.insert(member);
                    }
                    let snap = Arc::new(Snapshot {
                        row,
                        fields,
                        live: set,
                    });
                    (snap, cacheable, path)
                })?;
            let org_entry = org.zip(path.clone());
            gate.put(epoch, cacheable.then(|| (id, snap.clone())), org_entry);
            (snap, path)
        }
    };
    let viewer = Viewer {
        id: me.id,
        status: me.status.clone(),
        org_id: me.org_id,
        org_path: path,
    };
    if snap.row.view.status == "draft" || !repo::in_audience(&viewer, &snap.row) {
        return Err(AppError::NotFound);
    }
    Ok(snap)
}

/// True when `member` holds a live registration for `activity`.
pub fn registered(c: &Connection, activity: i64, member: i64) -> Result<bool> {
    Ok(c
        .prepare_cached("SELECT count(*) > 0 FROM activity_registrations WHERE activity_id = ?1 AND member_id = ?2 AND status IN ('pending', 'approved')")?
        .query_row(rusqlite::params![activity, member], |r| r.get(0))?)
}
