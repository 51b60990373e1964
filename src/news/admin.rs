//! Staff side of news: list (with full-text search), create, edit, publish or schedule,
//! withdraw, delete. Every change bumps the article's search version, is audited in the same
//! transaction and is pushed to the search index after the commit.

use super::model::{NewsDetail, NewsIn, NewsItem, NewsPatch, PublishIn};
use super::repo::{self, load_scoped, map_item};
use super::sanitize;
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::permissions::codes;
use crate::auth::{AdminAuth, Scope};
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, created, ok};
use crate::http::{Page, PageQuery};
use crate::system::orgs::load_in_scope;
use crate::validate::Check;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, OptionalExtension, params, types::Value};
use serde::Deserialize;
use serde_json::json;

/// Largest body HTML accepted, in characters.
const MAX_BODY: usize = 200_000;
/// Article statuses.
pub const STATUSES: &[&str] = &["draft", "scheduled", "published", "withdrawn"];

/// Validated article text fields.
struct Text {
    title: Option<String>,
    summary: Option<String>,
    body: Option<(String, String)>,
    publish_at: Option<i64>,
}

fn check_text(
    st: &AppState,
    title: Option<&str>,
    summary: Option<&str>,
    body: Option<&str>,
    publish_at: Option<&str>,
) -> Result<Text> {
    let mut ck = Check::new();
    let title = title.map(|t| ck.text("title", "标题", t, 100));
    let summary = summary.map(|s| s.trim().to_string());
    if let Some(s) = &summary
        && s.chars().count() > 300
    {
        ck.fail("summary", "摘要不能超过 300 个字符");
    }
    let body = body.and_then(|b| {
        if b.chars().count() > MAX_BODY {
            ck.fail("body_html", format!("正文不能超过 {MAX_BODY} 个字符"));
            return None;
        }
        let clean = sanitize::clean(b, &st.cfg.news.image_hosts);
        let text = sanitize::text_of(&clean);
        if text.is_empty() && !clean.contains("<img") {
            ck.fail("body_html", "正文不能为空");
        }
        Some((clean, text))
    });
    let publish_at = match publish_at.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match crate::time::parse(s) {
            Some(t) => Some(t),
            None => {
                ck.fail(
                    "publish_at",
                    "发布时间格式不正确，应如 2026-12-01T09:00:00+08:00",
                );
                None
            }
        },
    };
    ck.finish()?;
    Ok(Text {
        title,
        summary,
        body,
        publish_at,
    })
}

/// The category must exist and the cover must be a live public image.
fn check_refs(c: &Connection, category_id: Option<i64>, cover: Option<i64>) -> Result<()> {
    let mut ck = Check::new();
    if let Some(cat) = category_id {
        let found: Option<i64> = c
            .query_row("SELECT id FROM news_categories WHERE id = ?1", [cat], |r| {
                r.get(0)
            })
            .optional()?;
        if found.is_none() {
            ck.fail("category_id", "栏目不存在");
        }
    }
    if let Some(f) = cover {
        let ok: Option<i64> = c
            .query_row(
                "SELECT id FROM files WHERE id = ?1 AND deleted_at IS NULL AND visibility = 'public'
                 AND content_type LIKE 'image/%'",
                [f],
                |r| r.get(0),
            )
            .optional()?;
        if ok.is_none() {
            ck.fail("cover_file_id", "封面须为已上传的公开图片");
        }
    }
    ck.finish()
}

/// Filters of the staff list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminNewsQuery {
    /// Full-text search (ranked by relevance when given).
    pub q: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// Category.
    pub category_id: Option<i64>,
    /// Page.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

/// Articles in scope: pinned first, newest first; with `q`, ranked search hits.
#[utoipa::path(get, path = "/api/v1/admin/news", tag = "新闻", security(("bearer" = [])), params(AdminNewsQuery),
    responses((status = 200, body = Page<NewsItem>), (status = 400), (status = 403)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<AdminNewsQuery>,
) -> Result<Response> {
    let scope = me.require(codes::NEWS_READ)?;
    let pq = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    if let Some(s) = q.status.as_deref()
        && !STATUSES.contains(&s)
    {
        return Err(AppError::field(
            "status",
            "状态取值无效，可选：draft、scheduled、published、withdrawn",
        ));
    }
    // An empty search box means "no search" in the staff list.
    if let Some(raw) = q.q.as_deref().filter(|s| !s.trim().is_empty()) {
        let text = crate::search::query::check_query(Some(raw))?;
        let (sc, status, category_id) = (scope.clone(), q.status.clone(), q.category_id);
        let page = super::find::find(&st, pq, move |c| {
            let orgs = repo::scope_orgs(c, &sc)?;
            let req = crate::search::SearchRequest {
                q: text,
                status,
                org_ids: orgs.clone(),
                category_id,
                offset: pq.2 as usize,
                limit: pq.1 as usize,
            };
            Ok((req, move |item: &super::model::NewsItem| {
                orgs.as_ref().is_none_or(|o| o.contains(&item.org_id))
            }))
        })
        .await?;
        let items = page.items.into_iter().map(|h| h.item).collect();
        return Ok(ok(Page {
            items,
            total: page.total,
            page: page.page,
            page_size: page.page_size,
        }));
    }
    let (cond, mut p) = scope.sql("n.org_id", Some("n.created_by"));
    let mut wh = vec![cond, "n.deleted_at IS NULL".to_string()];
    if let Some(s) = q.status {
        wh.push("n.status = ?".into());
        p.push(Value::Text(s));
    }
    if let Some(cat) = q.category_id {
        wh.push("n.category_id = ?".into());
        p.push(Value::Integer(cat));
    }
    let wh = wh.join(" AND ");
    let out = st
        .db
        .read(move |c| {
            let (count, list) = repo::page_sql(&wh, "n.pinned DESC, n.id DESC");
            crate::http::fetch_page(c, &count, &list, p, pq, map_item)
        })
        .await?;
    Ok(ok(out))
}

/// One article in scope.
#[utoipa::path(get, path = "/api/v1/admin/news/{id}", tag = "新闻", security(("bearer" = [])),
    params(("id" = i64, Path, description = "新闻 ID")), responses((status = 200, body = NewsDetail), (status = 404)))]
pub async fn get(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::NEWS_READ)?;
    Ok(ok(st.db.read(move |c| load_scoped(c, &scope, id)).await?))
}

/// Create a draft article (body sanitised).
#[utoipa::path(post, path = "/api/v1/admin/news", tag = "新闻", security(("bearer" = [])), request_body = NewsIn,
    responses((status = 201, body = NewsDetail), (status = 400), (status = 403), (status = 404, description = "组织不存在或不在管理范围内")))]
pub async fn create(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(req): AppJson<NewsIn>,
) -> Result<Response> {
    let scope = me.require(codes::NEWS_WRITE)?;
    let t = check_text(
        &st,
        Some(&req.title),
        req.summary.as_deref(),
        Some(&req.body_html),
        req.publish_at.as_deref(),
    )?;
    let actor = me.actor();
    let by = me.id;
    let out = st
        .db
        .write(move |c| {
            load_in_scope(c, &scope, req.org_id)?;
            check_refs(c, Some(req.category_id), req.cover_file_id)?;
            let (html, text) = t.body.unwrap_or_default();
            let now = crate::time::now();
            let seq = repo::next_seq(c)?;
            c.execute(
                "INSERT INTO news (org_id, category_id, title, summary, cover_file_id, body_html, body_text, status, pinned,
                    publish_at, search_version, created_by, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'draft', ?8, ?9, ?10, ?11, ?12, ?12)",
                params![req.org_id, req.category_id, t.title, t.summary.unwrap_or_default(), req.cover_file_id, html, text,
                    req.pinned.unwrap_or(false), t.publish_at, seq, by, now],
            )?;
            let id = c.last_insert_rowid();
            audit::record(c, &actor, &Entry::success("news.create", "news", id, json!({"org_id": req.org_id})))?;
            load_scoped(c, &Scope::All, id)
        })
        .await?;
    st.news.search.sync(vec![out.item.id]).await;
    Ok(created(out))
}

/// Edit an article; a published article stays published and is re-indexed.
#[utoipa::path(patch, path = "/api/v1/admin/news/{id}", tag = "新闻", security(("bearer" = [])), request_body = NewsPatch,
    params(("id" = i64, Path, description = "新闻 ID")),
    responses((status = 200, body = NewsDetail), (status = 400), (status = 403), (status = 404)))]
pub async fn patch(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<NewsPatch>,
) -> Result<Response> {
    let scope = me.require(codes::NEWS_WRITE)?;
    let t = check_text(
        &st,
        req.title.as_deref(),
        req.summary.as_deref(),
        req.body_html.as_deref(),
        req.publish_at.as_deref(),
    )?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let cur = load_scoped(c, &scope, id)?;
            if let Some(org) = req.org_id {
                load_in_scope(c, &scope, org)?;
            }
            check_refs(c, req.category_id, req.cover_file_id)?;
            if cur.item.status == "scheduled"
                && t.publish_at.is_some_and(|p| p <= crate::time::now())
            {
                return Err(AppError::field(
                    "publish_at",
                    "定时发布的时间须晚于当前时间",
                ));
            }
            let mut changed: Vec<&str> = Vec::new();
            let mut set =
                |name: &'static str, v: Option<Value>, sets: &mut Vec<(String, Value)>| {
                    if let Some(v) = v {
                        changed.push(name);
                        sets.push((format!("{name} = ?"), v));
                    }
                };
            let mut sets: Vec<(String, Value)> = Vec::new();
            set("org_id", req.org_id.map(Value::Integer), &mut sets);
            set(
                "category_id",
                req.category_id.map(Value::Integer),
                &mut sets,
            );
            set("title", t.title.map(Value::Text), &mut sets);
            set("summary", t.summary.map(Value::Text), &mut sets);
            set(
                "cover_file_id",
                req.cover_file_id.map(Value::Integer),
                &mut sets,
            );
            set("publish_at", t.publish_at.map(Value::Integer), &mut sets);
            set(
                "pinned",
                req.pinned.map(|p| Value::Integer(p as i64)),
                &mut sets,
            );
            if let Some((html, text)) = t.body {
                set("body_html", Some(Value::Text(html)), &mut sets);
                sets.push(("body_text = ?".into(), Value::Text(text)));
            }
            if !sets.is_empty() {
                sets.push(("updated_at = ?".into(), Value::Integer(crate::time::now())));
                let (cols, mut vals): (Vec<String>, Vec<Value>) = sets.into_iter().unzip();
                vals.push(Value::Integer(id));
                c.execute(
                    &format!("UPDATE news SET {} WHERE id = ?", cols.join(", ")),
                    rusqlite::params_from_iter(vals),
                )?;
                repo::bump(c, id)?;
                audit::record(
                    c,
                    &actor,
                    &Entry::success("news.update", "news", id, json!({"fields": changed})),
                )?;
            }
            load_scoped(c, &Scope::All, id)
        })
        .await?;
    st.news.search.sync(vec![id]).await;
    Ok(ok(out))
}

/// Publish now, or schedule when `publish_at` (given or stored) is in the future.
#[utoipa::path(post, path = "/api/v1/admin/news/{id}/publish", tag = "新闻", security(("bearer" = [])),
    params(("id" = i64, Path, description = "新闻 ID")), request_body(content = PublishIn, description = "可省略"),
    responses((status = 200, body = NewsDetail), (status = 400), (status = 404), (status = 409, description = "已发布")))]
pub async fn publish(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    body: Bytes,
) -> Result<Response> {
    let scope = me.require(codes::NEWS_WRITE)?;
    // The body is optional: an empty body publishes at the stored time (or now).
    let req: PublishIn = if body.iter().all(u8::is_ascii_whitespace) {
        PublishIn::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            if let Some(f) = e
                .to_string()
                .split("unknown field `")
                .nth(1)
                .and_then(|r| r.split('`').next())
            {
                AppError::field(f, "不允许的字段")
            } else {
                AppError::BadRequest("请求体不是有效的 JSON".into())
            }
        })?
    };
    let at = check_text(&st, None, None, None, req.publish_at.as_deref())?.publish_at;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let cur = load_scoped(c, &scope, id)?;
            if cur.item.status == "published" {
                return Err(AppError::conflict_code("already_published", "该新闻已发布"));
            }
            let stored: Option<i64> =
                c.query_row("SELECT publish_at FROM news WHERE id = ?1", [id], |r| r.get(0))?;
            let now = crate::time::now();
            let at = at.or(stored.filter(|s| *s > now));
            let action = match at {
                Some(at) if at > now => {
                    c.execute(
                        "UPDATE news SET status = 'scheduled', publish_at = ?1, updated_at = ?2 WHERE id = ?3",
                        params![at, now, id],
                    )?;
                    "news.schedule"
                }
                _ => {
                    c.execute(
                        "UPDATE news SET status = 'published', publish_at = ?1, published_at = ?1, updated_at = ?1 WHERE id = ?2",
                        params![now, id],
                    )?;
                    "news.publish"
                }
            };
            repo::bump(c, id)?;
            audit::record(c, &actor, &Entry::success(action, "news", id, json!({"publish_at": at.map(crate::time::fmt)})))?;
            load_scoped(c, &Scope::All, id)
        })
        .await?;
    st.news.search.sync(vec![id]).await;
    Ok(ok(out))
}

/// Withdraw a published or scheduled article (it leaves member lists and search).
#[utoipa::path(post, path = "/api/v1/admin/news/{id}/withdraw", tag = "新闻", security(("bearer" = [])),
    params(("id" = i64, Path, description = "新闻 ID")),
    responses((status = 200, body = NewsDetail), (status = 404), (status = 409, description = "未发布")))]
pub async fn withdraw(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::NEWS_WRITE)?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let cur = load_scoped(c, &scope, id)?;
            if !["published", "scheduled"].contains(&cur.item.status.as_str()) {
                return Err(AppError::conflict_code(
                    "not_published",
                    "只能撤回已发布或定时发布的新闻",
                ));
            }
            c.execute(
                "UPDATE news SET status = 'withdrawn', updated_at = ?1 WHERE id = ?2",
                params![crate::time::now(), id],
            )?;
            repo::bump(c, id)?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "news.withdraw",
                    "news",
                    id,
                    json!({"from": cur.item.status}),
                ),
            )?;
            load_scoped(c, &Scope::All, id)
        })
        .await?;
    st.news.search.sync(vec![id]).await;
    Ok(ok(out))
}

/// Delete an article (kept as a tombstone for the index; gone from every list and search).
#[utoipa::path(delete, path = "/api/v1/admin/news/{id}", tag = "新闻", security(("bearer" = [])),
    params(("id" = i64, Path, description = "新闻 ID")), responses((status = 200), (status = 404)))]
pub async fn delete(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::NEWS_WRITE)?;
    let actor = me.actor();
    st.db
        .write(move |c| {
            let cur = load_scoped(c, &scope, id)?;
            let now = crate::time::now();
            c.execute(
                "UPDATE news SET deleted_at = ?1, updated_at = ?1 WHERE id = ?2",
                params![now, id],
            )?;
            repo::bump(c, id)?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "news.delete",
                    "news",
                    id,
                    json!({"status": cur.item.status}),
                ),
            )?;
            Ok(())
        })
        .await?;
    st.news.search.sync(vec![id]).await;
    Ok(ok(json!({})))
}
