//! Member side of news. Audience: an active member reads the news of their org and of every
//! org above it; anyone else logged in (not, not yet or no longer a member) reads only the
//! root org's news, which is public.

use super::feed_cache;
use super::model::{Category, NewsDetail, NewsHit, NewsItem};
use super::repo::{self, SELECT, map_detail, visible_orgs};
use crate::app::AppState;
use crate::cursor::{CursorPage, CursorQuery};
use crate::error::{AppError, AppPath, AppQuery, Result, ok};
use crate::http::{Page, PageQuery};
use crate::members::auth::MemberAuth;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{OptionalExtension, params_from_iter, types::Value};
use serde::Deserialize;

/// Filters of the member list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AppNewsQuery {
    /// Category.
    pub category_id: Option<i64>,
    /// `next_cursor` of the previous response; absent for the first slice.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
    /// Items per slice, default 20, at most 50.
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

/// Search parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to search for, 1–50 characters.
    pub q: Option<String>,
    /// Category.
    pub category_id: Option<i64>,
    /// Page.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

fn in_list(col: &str, ids: &[i64]) -> (String, Vec<Value>) {
    let qs = vec!["?"; ids.len().max(1)].join(",");
    let mut p: Vec<Value> = ids.iter().map(|i| Value::Integer(*i)).collect();
    if p.is_empty() {
        p.push(Value::Integer(-1));
    }
    (format!("{col} IN ({qs})"), p)
}

/// Published news the member may read: pinned first, newest first; paged by cursor.
#[utoipa::path(get, path = "/api/v1/app/news", tag = "新闻（小程序）", security(("bearer" = [])), params(AppNewsQuery),
    responses((status = 200, body = CursorPage<NewsItem>), (status = 400), (status = 401)))]
pub async fn list(
    State(st): State<AppState>,
    me: MemberAuth,
    AppQuery(q): AppQuery<AppNewsQuery>,
) -> Result<Response> {
    let w = CursorQuery {
        cursor: q.cursor.clone(),
        limit: q.limit,
    }
    .resolve(3)?;
    let views = st.news.views.clone();
    // The first page is the same for every member of an audience: from memory when cached.
    let first = w
        .after
        .is_none()
        .then(|| feed_cache::key(&me, q.category_id, w.limit));
    let read = st.db.read(move |c| {
        let orgs = visible_orgs(c, &me)?;
        super::feed::slice(c, &orgs, q.category_id, &w)
    });
    let page = st.news.feed.get_or_read(first, read).await?;
    let mut out = (*page).clone();
    for i in &mut out.items {
        i.view_count += views.pending(i.id);
    }
    Ok(ok(out))
}

/// Categories for the mini-program's tabs.
#[utoipa::path(get, path = "/api/v1/app/news/categories", tag = "新闻（小程序）", security(("bearer" = [])),
    responses((status = 200, body = Vec<Category>), (status = 401)))]
pub async fn categories(State(st): State<AppState>, _me: MemberAuth) -> Result<Response> {
    Ok(ok(st.db.read(repo::categories).await?))
}

/// One published article the member may read; counts a view.
#[utoipa::path(get, path = "/api/v1/app/news/{id}", tag = "新闻（小程序）", security(("bearer" = [])),
    params(("id" = i64, Path, description = "新闻 ID")), responses((status = 200, body = NewsDetail), (status = 404)))]
pub async fn get(
    State(st): State<AppState>,
    me: MemberAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let mut d = st
        .db
        .read(move |c| {
            let orgs = visible_orgs(c, &me)?;
            let (cond, mut p) = in_list("n.org_id", &orgs);
            p.insert(0, Value::Integer(id));
            c.prepare_cached(&format!(
                "{SELECT} WHERE n.id = ? AND n.status = 'published' AND n.deleted_at IS NULL AND {cond}"
            ))?
            .query_row(params_from_iter(p), map_detail)
            .optional()?
            .ok_or(AppError::NotFound)
        })
        .await?;
    st.news.views.record(id);
    d.item.view_count += st.news.views.pending(id);
    Ok(ok(d))
}

/// Full-text search over the published news the member may read, best match first.
#[utoipa::path(get, path = "/api/v1/app/news/search", tag = "新闻（小程序）", security(("bearer" = [])), params(SearchQuery),
    responses((status = 200, body = Page<NewsHit>), (status = 400, description = "搜索词为空或过长"), (status = 401)))]
pub async fn search(
    State(st): State<AppState>,
    me: MemberAuth,
    AppQuery(q): AppQuery<SearchQuery>,
) -> Result<Response> {
    let text = crate::search::query::check_query(q.q.as_deref())?;
    let pq = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let category_id = q.category_id;
    let page = super::find::find(&st, pq, move |c| {
        let orgs = visible_orgs(c, &me)?;
        let req = crate::search::SearchRequest {
            q: text,
            status: Some("published".into()),
            org_ids: Some(orgs.clone()),
            category_id,
            offset: pq.2 as usize,
            limit: pq.1 as usize,
        };
        Ok((req, move |item: &NewsItem| {
            item.status == "published" && orgs.contains(&item.org_id)
        }))
    })
    .await?;
    Ok(ok(page))
}
