//! Staff side of claims: the list of a benefit's claims, its xlsx export (masked, audited),
//! and redemption of a claim code at the counter by staff in scope of the benefit's org.

use super::model::{CLAIM_COLS, Claim, map_claim};
use super::repo::{self, load_scoped};
use super::xlsx::{MAX_ROWS, safe_name, sheet};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::crypto::mask::mask_name;
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, ok};
use crate::http::{Page, PageQuery};
use crate::members::xlsx::xlsx_response;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{OptionalExtension, params, types::Value};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A claim in the staff list: the claim plus who (masked).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffClaim {
    /// The claim.
    #[serde(flatten)]
    pub claim: Claim,
    /// Member id.
    pub member_id: i64,
    /// Member name, masked.
    pub member_name: String,
    /// Member phone, masked.
    pub phone_masked: Option<String>,
    /// Member's org when claiming.
    pub org_name: Option<String>,
}

/// Filters of the claims list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClaimQuery {
    /// `claimed` or `redeemed`.
    #[param(pattern = "^(claimed|redeemed)$")]
    pub status: Option<String>,
    /// Page.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

const STAFF_COLS: &str = "m.id, coalesce(m.real_name, m.nickname), m.phone_masked, og.name";
const FROM: &str = "FROM benefit_claims c JOIN benefits b ON b.id = c.benefit_id JOIN members m ON m.id = c.member_id
    LEFT JOIN orgs og ON og.id = c.org_id";

fn map_staff(r: &rusqlite::Row<'_>) -> rusqlite::Result<StaffClaim> {
    let name: Option<String> = r.get(8)?;
    Ok(StaffClaim {
        claim: map_claim(r)?,
        member_id: r.get(7)?,
        member_name: mask_name(&name.unwrap_or_default()),
        phone_masked: r.get(9)?,
        org_name: r.get(10)?,
    })
}

fn status_filter(s: Option<String>) -> Result<Option<String>> {
    match s.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if s == "claimed" || s == "redeemed" => Ok(Some(s)),
        Some(_) => Err(AppError::field("status", "状态只能是 claimed 或 redeemed")),
    }
}

/// Claims of one benefit in scope, newest first.
#[utoipa::path(get, path = "/api/v1/admin/benefits/{id}/claims", tag = "权益管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "权益 ID"), ClaimQuery),
    responses((status = 200, body = Page<StaffClaim>), (status = 400), (status = 403), (status = 404)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppQuery(q): AppQuery<ClaimQuery>,
) -> Result<Response> {
    let scope = me.require(codes::BENEFIT_READ)?;
    let pg = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let status = status_filter(q.status)?;
    let out = st
        .db
        .read(move |c| {
            load_scoped(c, &scope, id)?;
            let p = vec![Value::Integer(id), status.map_or(Value::Null, Value::Text)];
            let wh = "c.benefit_id = ? AND (?2 IS NULL OR c.status = ?2)";
            crate::http::fetch_page(
                c,
                &format!("SELECT count(*) FROM benefit_claims c WHERE {wh}"),
                &format!("SELECT {CLAIM_COLS}, {STAFF_COLS} {FROM} WHERE {wh} ORDER BY c.id DESC LIMIT ? OFFSET ?"),
                p,
                pg,
                map_staff,
            )
        })
        .await?;
    Ok(ok(out))
}

/// The claims of one benefit as xlsx: names and phones masked; audited before any byte leaves.
#[utoipa::path(get, path = "/api/v1/admin/benefits/{id}/claims/export", tag = "权益管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "权益 ID"), ClaimQuery),
    responses((status = 200, description = "xlsx 文件", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400), (status = 403), (status = 404)))]
pub async fn export(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppQuery(q): AppQuery<ClaimQuery>,
) -> Result<Response> {
    let scope = me.require(codes::BENEFIT_EXPORT)?;
    let status = status_filter(q.status)?;
    let (title, rows) = st
        .db
        .read(move |c| {
            let b = load_scoped(c, &scope, id)?;
            let mut stmt = c.prepare(&format!(
                "SELECT {CLAIM_COLS}, {STAFF_COLS} {FROM} WHERE c.benefit_id = ?1 AND (?2 IS NULL OR c.status = ?2) ORDER BY c.id LIMIT ?3"
            ))?;
            let rows = stmt
                .query_map(params![id, status, MAX_ROWS], map_staff)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((b.view.title, rows))
        })
        .await?;
    let count = rows.len();
    let cells: Vec<Vec<String>> = rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let status = if r.claim.status == "redeemed" {
                "已核销"
            } else {
                "未核销"
            };
            vec![
                (i + 1).to_string(),
                r.member_name,
                r.phone_masked.unwrap_or_default(),
                r.org_name.unwrap_or_default(),
                r.claim.code,
                status.into(),
                r.claim.created_at,
                r.claim.redeemed_at.unwrap_or_default(),
            ]
        })
        .collect();
    let bytes = tokio::task::spawn_blocking(move || {
        sheet(
            "领取记录",
            &[
                "序号",
                "姓名",
                "手机号",
                "所属组织",
                "领取码",
                "状态",
                "领取时间",
                "核销时间",
            ],
            &cells,
        )
    })
    .await
    .map_err(AppError::internal)??;
    let actor = me.actor();
    st.db
        .write(move |c| {
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "benefit.export",
                    "benefit",
                    id,
                    json!({"count": count, "masked": true}),
                ),
            )?;
            Ok(())
        })
        .await?;
    xlsx_response(
        bytes,
        &format!("{}-领取记录.xlsx", safe_name(&title)),
        &format!("benefit-{id}-claims.xlsx"),
    )
}

/// A code typed or scanned at the counter.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemIn {
    /// The claim code, or the whole QR payload.
    #[schema(max_length = 64)]
    pub code: String,
    /// When given, the code must belong to this benefit (the counter serves one benefit).
    pub benefit_id: Option<i64>,
}

/// Redeem a claim once: `409 already_redeemed` the second time; a code of a benefit outside
/// the caller's scope is 404, as is a code of another benefit than `benefit_id`.
#[utoipa::path(post, path = "/api/v1/admin/benefit-claims/redeem", tag = "权益管理", security(("bearer" = [])), request_body = RedeemIn,
    responses((status = 200, body = Claim), (status = 400), (status = 403), (status = 404),
        (status = 409, description = "already_redeemed / nothing_to_redeem")))]
pub async fn redeem(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(req): AppJson<RedeemIn>,
) -> Result<Response> {
    let scope = me.require(codes::BENEFIT_REDEEM)?;
    let code = repo::normalise_code(&req.code);
    if code.is_empty() || code.len() > 32 {
        return Err(AppError::field("code", "请输入或扫描领取码"));
    }
    let (actor, by, only) = (me.actor(), me.id, req.benefit_id);
    let out = st
        .db
        .write(move |c| {
            let found: Option<(i64, i64, i64, String)> = c
                .query_row(
                    "SELECT id, benefit_id, member_id, status FROM benefit_claims WHERE code = ?1",
                    [&code],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let Some((cid, bid, member, status)) = found else {
                return Err(AppError::NotFound);
            };
            if only.is_some_and(|b| b != bid) {
                return Err(AppError::NotFound);
            }
            let b = load_scoped(c, &scope, bid)?;
            if b.view.redeem_method != "code" {
                return Err(AppError::conflict_code("nothing_to_redeem", "此权益无需核销"));
            }
            if status == "redeemed" {
                return Err(AppError::conflict_code("already_redeemed", "此领取码已核销，不能重复使用"));
            }
            let now = crate::time::now();
            c.execute(
                "UPDATE benefit_claims SET status = 'redeemed', redeemed_at = ?1, redeemed_by = ?2 WHERE id = ?3 AND status = 'claimed'",
                params![now, by, cid],
            )?;
            repo::notify(c, member, &b, "benefit.redeemed", cid, &code)?;
            audit::record(c, &actor, &Entry::success("benefit.redeem", "benefit_claim", cid, json!({"benefit_id": bid})))?;
            Ok(c.query_row(
                &format!("SELECT {CLAIM_COLS} FROM benefit_claims c JOIN benefits b ON b.id = c.benefit_id WHERE c.id = ?1"),
                [cid],
                map_claim,
            )?)
        })
        .await?;
    Ok(ok(out))
}
