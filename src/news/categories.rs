//! Staff management of news categories. Categories are shared by every org, so changing them
//! needs `news:write` over the whole org tree (the top-level union's staff).

use super::model::{Category, CategoryIn, CategoryPatch};
use super::repo;
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppError, AppJson, AppPath, Result, created, is_unique_violation, ok};
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

fn check_sort(ck: &mut Check, sort: Option<i64>) {
    if sort.is_some_and(|s| !(-1_000_000..=1_000_000).contains(&s)) {
        ck.fail("sort", "排序值须在 -1000000 到 1000000 之间");
    }
}

fn unique(e: rusqlite::Error) -> AppError {
    if is_unique_violation(&e) {
        AppError::conflict_code("name_taken", "已有同名栏目")
    } else {
        e.into()
    }
}

fn load(c: &Connection, id: i64) -> Result<Category> {
    c.query_row(
        "SELECT id, name, sort FROM news_categories WHERE id = ?1",
        [id],
        |r| {
            Ok(Category {
                id: r.get(0)?,
                name: r.get(1)?,
                sort: r.get(2)?,
            })
        },
    )
    .optional()?
    .ok_or(AppError::NotFound)
}

/// Every category, in order.
#[utoipa::path(get, path = "/api/v1/admin/news-categories", tag = "新闻", security(("bearer" = [])),
    responses((status = 200, body = Vec<Category>), (status = 403)))]
pub async fn list(State(st): State<AppState>, me: AdminAuth) -> Result<Response> {
    me.require(codes::NEWS_READ)?;
    Ok(ok(st.db.read(repo::categories).await?))
}

/// Create a category.
#[utoipa::path(post, path = "/api/v1/admin/news-categories", tag = "新闻", security(("bearer" = [])),
    request_body = CategoryIn, responses((status = 201, body = Category), (status = 400), (status = 403), (status = 409)))]
pub async fn create(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(req): AppJson<CategoryIn>,
) -> Result<Response> {
    let scope = me.require(codes::NEWS_WRITE)?;
    let mut ck = Check::new();
    let name = ck.text("name", "栏目名称", &req.name, 20);
    check_sort(&mut ck, req.sort);
    ck.finish()?;
    let sort = req.sort.unwrap_or(0);
    let actor = me.actor();
    let cat = st
        .db
        .write(move |c| {
            scope.require_whole_tree(c, "新闻栏目")?;
            let now = crate::time::now();
            c.execute(
                "INSERT INTO news_categories (name, sort, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
                params![name, sort, now],
            )
            .map_err(unique)?;
            let id = c.last_insert_rowid();
            audit::record(c, &actor, &Entry::success("news_category.create", "news_category", id, json!({"name": name})))?;
            load(c, id)
        })
        .await?;
    Ok(created(cat))
}

/// Rename or re-sort a category (renaming re-indexes its articles).
#[utoipa::path(patch, path = "/api/v1/admin/news-categories/{id}", tag = "新闻", security(("bearer" = [])),
    params(("id" = i64, Path, description = "栏目 ID")), request_body = CategoryPatch,
    responses((status = 200, body = Category), (status = 400), (status = 403), (status = 404), (status = 409)))]
pub async fn patch(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<CategoryPatch>,
) -> Result<Response> {
    let scope = me.require(codes::NEWS_WRITE)?;
    let mut ck = Check::new();
    let name = req
        .name
        .as_deref()
        .map(|n| ck.text("name", "栏目名称", n, 20));
    check_sort(&mut ck, req.sort);
    ck.finish()?;
    let actor = me.actor();
    let (cat, touched) = st
        .db
        .write(move |c| {
            scope.require_whole_tree(c, "新闻栏目")?;
            let cur = load(c, id)?;
            let renamed = name.as_ref().is_some_and(|n| *n != cur.name);
            c.execute(
                "UPDATE news_categories SET name = ?1, sort = ?2, updated_at = ?3 WHERE id = ?4",
                params![
                    name.clone().unwrap_or(cur.name),
                    req.sort.unwrap_or(cur.sort),
                    crate::time::now(),
                    id
                ],
            )
            .map_err(unique)?;
            // The category name is indexed: its articles must be re-indexed.
            let mut touched = Vec::new();
            if renamed {
                let mut s =
                    c.prepare("SELECT id FROM news WHERE category_id = ?1 AND deleted_at IS NULL")?;
                touched = s
                    .query_map([id], |r| r.get::<_, i64>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                for n in &touched {
                    repo::bump(c, *n)?;
                }
            }
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "news_category.update",
                    "news_category",
                    id,
                    json!({"name": name, "sort": req.sort}),
                ),
            )?;
            Ok((load(c, id)?, touched))
        })
        .await?;
    st.news.search.sync(touched).await;
    Ok(ok(cat))
}

/// Delete an unused category (`409 in_use` while any article, even a deleted one, refers to it).
#[utoipa::path(delete, path = "/api/v1/admin/news-categories/{id}", tag = "新闻", security(("bearer" = [])),
    params(("id" = i64, Path, description = "栏目 ID")),
    responses((status = 200), (status = 403), (status = 404), (status = 409)))]
pub async fn delete(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::NEWS_WRITE)?;
    let actor = me.actor();
    st.db
        .write(move |c| {
            scope.require_whole_tree(c, "新闻栏目")?;
            let cur = load(c, id)?;
            let used: i64 = c.query_row(
                "SELECT count(*) FROM news WHERE category_id = ?1",
                [id],
                |r| r.get(0),
            )?;
            if used > 0 {
                return Err(AppError::conflict_code(
                    "in_use",
                    format!("该栏目下有 {used} 篇新闻，不能删除"),
                ));
            }
            c.execute("DELETE FROM news_categories WHERE id = ?1", [id])?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "news_category.delete",
                    "news_category",
                    id,
                    json!({"name": cur.name}),
                ),
            )?;
            Ok(())
        })
        .await?;
    Ok(ok(json!({})))
}
