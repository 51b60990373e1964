//! The claim gate: what a claim request needs before it may go to the writer (the benefit, and
//! once it is sold out, how many claims each member holds), kept in memory per benefit.
//!
//! A flash claim (200 cinema tickets, thousands of members tapping at 10:00) is refused far
//! more often than it succeeds. A sold-out or closed benefit is kept with what a refusal needs,
//! so the burst's refusals touch neither the read pool nor the writer. A benefit with stock
//! left is kept without claims: its requests go straight to the writer, which re-checks the
//! window, the member's limit and the stock inside its job, so the gate can never over-claim.
//! Every claim changes the benefit row (`claimed`), so each writer batch that claims drops the
//! entry and a benefit is read once per batch, not once per request (see [`crate::gate`]).
//!
//! Benefits limited to members who joined before a date need the member's join date, which the
//! per-request member check does not carry: their requests take the read-pool path.

use super::model::BenefitRow;
use super::repo::{self, claims_of, load_scoped};
use crate::app::AppState;
use crate::auth::Scope;
use crate::db::Db;
use crate::error::{AppError, Result};
use crate::gate::{GateCache, org_path};
use crate::members::auth::MemberAuth;
use rusqlite::Connection;
use std::collections::HashMap;
use std::sync::Arc;

/// Sold-out benefits with more claims than this are not cached (the map would be large).
const MAX_CLAIMS: i64 = 50_000;

/// What the gate knows of one benefit.
pub struct Snapshot {
    /// The benefit as loaded.
    pub row: BenefitRow,
    /// Claims held per member: empty while stock is left (the writer checks limits then),
    /// all of them once sold out, `None` for a sold-out benefit with very many claims (not
    /// cached; its refusals come from the read pool).
    claims: Option<HashMap<i64, i64>>,
}

/// The claim gate: snapshots by benefit id; one per server.
pub type Gate = GateCache<Snapshot>;

/// A gate told of every change by `db`'s writer.
pub fn watching(db: &Db) -> Arc<Gate> {
    GateCache::watching(db, "benefits", &[])
}

/// What a claim request does next.
#[derive(Debug)]
pub enum Next {
    /// Go to the writer, which checks everything again.
    Writer,
    /// Ask the read pool (a join-date rule, or a sold-out benefit too large to cache).
    ReadPool,
}

/// Decide a claim by `me` of benefit `id` from memory when possible: a refusal as its error
/// (404 outside the audience, 409 otherwise), or where the request goes next.
pub async fn check(st: &AppState, me: &MemberAuth, id: i64) -> Result<Next> {
    let gate = st.benefit_gate.clone();
    let (snap, path) = match gate.get(id, me.org_id) {
        Some((snap, Some(path))) => (snap, path),
        _ => {
            let epoch = gate.epoch();
            let org = me.org_id;
            let (snap, path) = st
                .db
                .read(move |c| {
                    let snap = load(c, id)?;
                    let path = match org {
                        Some(o) => org_path(c, o)?,
                        None => None,
                    };
                    Ok((Arc::new(snap), path))
                })
                .await?;
            let row = snap.claims.is_some().then(|| (id, snap.clone()));
            gate.put(epoch, row, org.zip(path.clone()));
            (snap, path)
        }
    };
    decide(&snap, me, path.as_deref())
}

/// The decision of [`check`], in the order of [`repo::refusal`]: audience (404), window,
/// join date (read pool), then — sold out only — the member's limit and the stock.
fn decide(s: &Snapshot, me: &MemberAuth, path: Option<&str>) -> Result<Next> {
    let b = &s.row;
    let in_audience = me.status == "active" && path.is_some_and(|p| p.starts_with(&b.org_path));
    if b.view.status == "draft" || !in_audience {
        return Err(AppError::NotFound);
    }
    if let Some(r) = repo::closed(b, crate::time::now()) {
        return Err(repo::refused(r));
    }
    if b.joined_before.is_some() {
        return Ok(Next::ReadPool);
    }
    if b.view.remaining > 0 {
        return Ok(Next::Writer);
    }
    let Some(claims) = &s.claims else {
        return Ok(Next::ReadPool);
    };
    let mine = claims.get(&me.id).copied().unwrap_or(0);
    if mine >= b.view.per_member_limit {
        return Err(repo::limit_reached(b.view.per_member_limit));
    }
    Err(repo::out_of_stock())
}

/// Benefit `id` (any status; 404 when missing) with its claims per member as
/// [`Snapshot::claims`] describes.
fn load(c: &Connection, id: i64) -> Result<Snapshot> {
    let row = load_scoped(c, &Scope::All, id)?;
    let claims = if row.view.remaining > 0 || row.view.status != "published" {
        Some(HashMap::new())
    } else if row.view.stock <= MAX_CLAIMS {
        let mut st = c.prepare_cached(
            "SELECT member_id, count(*) FROM benefit_claims WHERE benefit_id = ?1 GROUP BY member_id",
        )?;
        let rows = st.query_map([id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
        Some(rows.collect::<rusqlite::Result<HashMap<i64, i64>>>()?)
    } else {
        None
    };
    Ok(Snapshot { row, claims })
}

/// The read-pool answer for a member's claim the gate could not decide: the member's own
/// claims counted, their join date read.
pub async fn read_check(st: &AppState, me: &MemberAuth, id: i64) -> Result<()> {
    let member = me.id;
    st.db
        .read(move |c| {
            let m = repo::claimant(c, member)?;
            let b = repo::load_visible(c, &m, id)?;
            let mine = claims_of(c, id, member)?;
            match repo::refusal(&b, &m, mine, crate::time::now()) {
                Some(r) => Err(repo::refused(r)),
                None => Ok(()),
            }
        })
        .await
}
