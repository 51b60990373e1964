//! Member side of benefits: what the member may claim, the claim itself (stock and limit
//! checked inside the single writer job that inserts) and "my claims" with their codes.

use super::gate;
use super::model::{Benefit, CLAIM_COLS, Claim, SELECT, map_claim, map_row};
use super::repo::{self, Claimant, audience_sql, claimant, claims_of, load_visible, refusal};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::cursor::{CursorPage, CursorQuery};
use crate::error::{AppError, AppPath, AppQuery, Result, created, ok};
use crate::members::auth::MemberAuth;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{OptionalExtension, params, params_from_iter, types::Value};
use serde::Serialize;
use serde_json::json;

/// Published benefits of the member's org chain, newest first; paged by cursor. Members who
/// are not active see none.
#[utoipa::path(get, path = "/api/v1/app/benefits", tag = "权益", security(("bearer" = [])), params(CursorQuery),
    responses((status = 200, body = CursorPage<Benefit>), (status = 400)))]
pub async fn list(
    State(st): State<AppState>,
    me: MemberAuth,
    AppQuery(q): AppQuery<CursorQuery>,
) -> Result<Response> {
    let w = q.resolve(1)?;
    let member = me.id;
    let out = st
        .db
        .read(move |c| {
            let m = claimant(c, member)?;
            let (aud, mut p) = audience_sql(&m);
            let mut wh = vec![aud, "b.status = 'published'".to_string()];
            if let Some(k) = &w.after {
                wh.push("b.id < ?".into());
                p.push(Value::Integer(k[0]));
            }
            p.push(Value::Integer(w.fetch()));
            let rows = c
                .prepare_cached(&format!(
                    "{SELECT} WHERE {} ORDER BY b.id DESC LIMIT ?",
                    wh.join(" AND ")
                ))?
                .query_map(params_from_iter(p), |r| map_row(r).map(|b| b.view))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok::<_, AppError>(w.finish(rows, |b| vec![b.id]))
        })
        .await?;
    Ok(ok(out))
}

/// A benefit as the member sees it, with whether they may claim now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AppBenefit {
    /// The benefit (with `remaining`).
    #[serde(flatten)]
    pub benefit: Benefit,
    /// Claims the member holds of it.
    pub my_claims: i64,
    /// True when a claim now would be accepted (stock permitting).
    pub can_claim: bool,
    /// Why not: `claim_closed`, `not_eligible`, `limit_reached`, `out_of_stock`.
    pub reason_code: Option<String>,
    /// Why not, in Chinese.
    pub reason: Option<String>,
}

fn answer(c: &rusqlite::Connection, m: &Claimant, id: i64) -> Result<AppBenefit> {
    let b = load_visible(c, m, id)?;
    let mine = claims_of(c, id, m.id)?;
    let why = refusal(&b, m, mine, crate::time::now());
    Ok(AppBenefit {
        benefit: b.view,
        my_claims: mine,
        can_claim: why.is_none(),
        reason_code: why.as_ref().map(|w| w.0.to_string()),
        reason: why.map(|w| w.1),
    })
}

/// One benefit of the member's org chain (drafts and others' benefits are 404).
#[utoipa::path(get, path = "/api/v1/app/benefits/{id}", tag = "权益", security(("bearer" = [])),
    params(("id" = i64, Path, description = "权益 ID")), responses((status = 200, body = AppBenefit), (status = 404)))]
pub async fn get(
    State(st): State<AppState>,
    me: MemberAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let member = me.id;
    Ok(ok(st
        .db
        .read(move |c| answer(c, &claimant(c, member)?, id))
        .await?))
}

/// Claim one: stock, the member's limit and the window are checked inside the writer job that
/// decrements the stock and inserts the claim, so a flash crowd can never over-claim.
#[utoipa::path(post, path = "/api/v1/app/benefits/{id}/claims", tag = "权益", security(("bearer" = [])),
    params(("id" = i64, Path, description = "权益 ID")),
    responses((status = 201, body = Claim), (status = 404),
        (status = 409, description = "out_of_stock / limit_reached / claim_closed / not_eligible")))]
pub async fn claim(
    State(st): State<AppState>,
    me: MemberAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let member = me.id;
    // The refusals of a burst (sold out, already claimed) are answered from memory; the
    // writer re-checks everything.
    if let gate::Next::ReadPool = gate::check(&st, &me, id).await? {
        gate::read_check(&st, &me, id).await?;
    }
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let m = claimant(c, member)?;
            let b = load_visible(c, &m, id)?;
            let now = crate::time::now();
            if let Some(r) = refusal(&b, &m, claims_of(c, id, member)?, now) {
                return Err(repo::refused(r));
            }
            // Read in this job on the single writer: nobody can claim in between. The CHECK
            // (claimed <= stock) backs it up.
            let n = c
                .prepare_cached(
                    "UPDATE benefits SET claimed = claimed + 1 WHERE id = ?1 AND claimed < stock",
                )?
                .execute([id])?;
            if n == 0 {
                return Err(repo::out_of_stock());
            }
            let code = insert_claim(c, id, member, m.org_id, now)?;
            let cid = c.last_insert_rowid();
            repo::notify(c, member, &b, "benefit.claimed", cid, &code)?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "benefit.claim",
                    "benefit_claim",
                    cid,
                    json!({"benefit_id": id}),
                ),
            )?;
            Ok(Claim {
                id: cid,
                benefit_id: id,
                benefit_title: b.view.title,
                qr_payload: format!("{}{code}", super::model::QR_PREFIX),
                code,
                status: "claimed".into(),
                created_at: crate::time::fmt(now),
                redeemed_at: None,
            })
        })
        .await?;
    Ok(created(out))
}

/// Insert the claim row with a fresh code; a clash of random codes (never seen in practice)
/// is retried, the failed statement having changed nothing.
fn insert_claim(
    c: &rusqlite::Connection,
    id: i64,
    member: i64,
    org: Option<i64>,
    now: i64,
) -> Result<String> {
    for _ in 0..5 {
        let code = repo::new_code();
        let r = c
            .prepare_cached(
                "INSERT INTO benefit_claims (benefit_id, member_id, org_id, code, status, created_at) VALUES (?1, ?2, ?3, ?4, 'claimed', ?5)",
            )?
            .execute(params![id, member, org, code, now]);
        match r {
            Ok(_) => return Ok(code),
            Err(e) if crate::error::is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::internal("no free claim code"))
}

/// My claims with their codes, newest first; paged by cursor.
#[utoipa::path(get, path = "/api/v1/app/me/benefit-claims", tag = "权益", security(("bearer" = [])), params(CursorQuery),
    responses((status = 200, body = CursorPage<Claim>), (status = 400)))]
pub async fn mine(
    State(st): State<AppState>,
    me: MemberAuth,
    AppQuery(q): AppQuery<CursorQuery>,
) -> Result<Response> {
    let w = q.resolve(1)?;
    let member = me.id;
    let out = st
        .db
        .read(move |c| {
            let mut p = vec![Value::Integer(member)];
            let mut cond = String::new();
            if let Some(k) = &w.after {
                cond = " AND c.id < ?".into();
                p.push(Value::Integer(k[0]));
            }
            p.push(Value::Integer(w.fetch()));
            let rows = c
                .prepare_cached(&format!(
                    "SELECT {CLAIM_COLS} FROM benefit_claims c JOIN benefits b ON b.id = c.benefit_id
                     WHERE c.member_id = ?{cond} ORDER BY c.id DESC LIMIT ?"
                ))?
                .query_map(params_from_iter(p), map_claim)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok::<_, AppError>(w.finish(rows, |c| vec![c.id]))
        })
        .await?;
    Ok(ok(out))
}

/// The claim code as a PNG QR code, for the member to show at the counter (the H5 page cannot
/// draw one itself); another member's claim is 404.
#[utoipa::path(get, path = "/api/v1/app/me/benefit-claims/{id}/qr.png", tag = "权益", security(("bearer" = [])),
    params(("id" = i64, Path, description = "领取记录 ID")),
    responses((status = 200, content_type = "image/png"), (status = 404)))]
pub async fn claim_qr(
    State(st): State<AppState>,
    me: MemberAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let member = me.id;
    let code: String = st
        .db
        .read(move |c| {
            c.prepare_cached("SELECT code FROM benefit_claims WHERE id = ?1 AND member_id = ?2")?
                .query_row([id, member], |r| r.get(0))
                .optional()?
                .ok_or(AppError::NotFound)
        })
        .await?;
    crate::members::card::qr_png_response(format!("{}{code}", super::model::QR_PREFIX)).await
}
