//! Org search for the membership application: a member picks the union org to join by name.
//! Only the id and name are shown (no codes, paths or structure beyond what the name says).
//! Only a member who may apply (not yet a member, rejected, or left) browses the whole list; a
//! member of an org, or one whose application is pending, sees only that org, since the
//! application form is closed to them and the org tree is none of their business.

use super::auth::MemberAuth;
use crate::app::AppState;
use crate::error::{AppQuery, Result, ok};
use crate::http::{Page, PageQuery};
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};

/// Most characters of a search term; a longer one cannot be an org name.
const MAX_Q: usize = 50;

/// `?q=&page=&page_size=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgSearch {
    /// Part of the org's name; empty lists every org.
    #[param(max_length = 50)]
    pub q: Option<String>,
    /// Page number, from 1.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Items per page, default 20, at most 100.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

/// An org as the application form shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrgPick {
    /// Org id (the application's `org_id`).
    pub id: i64,
    /// Name.
    pub name: String,
}

/// Orgs whose name contains `q`, grassroots unions first, then by the staff's sort order.
#[utoipa::path(get, path = "/api/v1/app/orgs", tag = "入会", security(("bearer" = [])), params(OrgSearch),
    responses((status = 200, body = Page<OrgPick>), (status = 400), (status = 401)))]
pub async fn search(
    State(st): State<AppState>,
    me: MemberAuth,
    AppQuery(q): AppQuery<OrgSearch>,
) -> Result<Response> {
    let pg = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let term = q.q.unwrap_or_default().trim().to_string();
    if term.chars().count() > MAX_Q {
        return Err(crate::error::AppError::field(
            "q",
            format!("搜索词最多 {MAX_Q} 个字"),
        ));
    }
    let own = match me.status.as_str() {
        "active" | "pending" => Some(me.org_id.unwrap_or(0)),
        _ => None,
    };
    let out = st
        .db
        .read(move |c| {
            use rusqlite::types::Value;
            let mut wh = vec!["1 = 1"];
            let mut params = Vec::new();
            if let Some(org) = own {
                wh.push("id = ?");
                params.push(Value::Integer(org));
            }
            // instr() instead of LIKE: a `%` or `_` the member types is matched literally.
            if !term.is_empty() {
                wh.push("instr(name, ?) > 0");
                params.push(Value::Text(term));
            }
            let cond = wh.join(" AND ");
            crate::http::fetch_page(
                c,
                &format!("SELECT count(*) FROM orgs WHERE {cond}"),
                &format!(
                    "SELECT id, name FROM orgs WHERE {cond}
                     ORDER BY kind <> 'grassroots', sort, id LIMIT ? OFFSET ?"
                ),
                params,
                pg,
                |r| {
                    Ok(OrgPick {
                        id: r.get(0)?,
                        name: r.get(1)?,
                    })
                },
            )
        })
        .await?;
    Ok(ok(out))
}
