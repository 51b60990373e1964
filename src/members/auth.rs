//! Member identity: the `MemberAuth` extractor (audience `app`) and token issuance.

use super::auth_cache::Facts;
use crate::app::AppState;
use crate::auth::admin::bearer;
use crate::auth::tokens::{self, AUD_APP, decode_access};
use crate::error::{AppError, Result};
use crate::http::ClientIp;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

/// An authenticated member (or a logged-in user who is not a member yet).
#[derive(Debug, Clone)]
pub struct MemberAuth {
    /// Member id.
    pub id: i64,
    /// `registered`, `pending`, `active`, `rejected` or `left`.
    pub status: String,
    /// The member's org, once they applied or joined.
    pub org_id: Option<i64>,
    /// Client IP of this request.
    pub ip: String,
}

impl MemberAuth {
    /// This member as an audit actor (by id only: no personal data in the audit log).
    pub fn actor(&self) -> crate::audit::Actor {
        crate::audit::Actor {
            kind: "member",
            id: Some(self.id),
            name: format!("member:{}", self.id),
            org_id: self.org_id,
            ip: self.ip.clone(),
        }
    }
}

impl FromRequestParts<AppState> for MemberAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token = bearer(parts).ok_or_else(|| AppError::Unauthenticated("请先登录".into()))?;
        let claims = decode_access(&state.keys, token, AUD_APP)?;
        let ip = parts
            .extensions
            .get::<ClientIp>()
            .map(|c| c.0.to_string())
            .unwrap_or_default();
        let id = claims.subject();
        let facts = match state.member_cache.get(id) {
            Some(f) => Some(f),
            None => {
                let epoch = state.member_cache.epoch();
                let row: Option<Facts> = state
                    .db
                    .read(move |c| {
                        Ok(c.prepare_cached(
                            "SELECT status, org_id, token_version FROM members WHERE id = ?1",
                        )?
                        .query_row([id], |r| {
                            Ok(Facts {
                                status: r.get(0)?,
                                org_id: r.get(1)?,
                                token_version: r.get(2)?,
                            })
                        })
                        .optional()?)
                    })
                    .await?;
                if let Some(f) = &row {
                    state.member_cache.put(id, f.clone(), epoch);
                }
                row
            }
        };
        match facts {
            Some(f) if f.status != "deleted" && f.token_version == claims.ver => Ok(MemberAuth {
                id,
                status: f.status,
                org_id: f.org_id,
                ip,
            }),
            _ => Err(AppError::Unauthenticated("登录已失效，请重新登录".into())),
        }
    }
}

/// Tokens answered by every member login.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberTokens {
    /// Bearer token for `/api/v1/app/…`.
    pub access_token: String,
    /// One-time token for `/api/v1/app/auth/refresh`.
    pub refresh_token: String,
    /// Access token lifetime in seconds.
    pub expires_in: i64,
    /// The member.
    pub member: super::model::AppMe,
}

/// Issue a fresh token pair for member `id` inside a write (a new refresh family).
pub fn issue(
    st: &AppState,
    c: &Connection,
    id: i64,
    family_token: Option<String>,
) -> Result<MemberTokens> {
    let ver: i64 = c.query_row(
        "SELECT token_version FROM members WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    let ttl = st.cfg.auth.app_access_ttl_secs;
    let refresh = match family_token {
        Some(t) => t,
        None => tokens::issue_refresh(c, AUD_APP, id, None, st.cfg.auth.app_refresh_ttl_secs)?,
    };
    Ok(MemberTokens {
        access_token: tokens::issue_access(&st.keys, AUD_APP, id, ver, ttl)?,
        refresh_token: refresh,
        expires_in: ttl,
        member: super::repo::app_me(c, id)?,
    })
}
