//! Full-text search shared by members and staff: the index ranks and filters (so totals and
//! pages are exact), SQLite supplies the rows and has the last word on visibility.

use super::model::{NewsHit, NewsItem};
use super::repo;
use crate::app::AppState;
use crate::error::{AppError, Result};
use crate::http::Page;
use crate::search::SearchRequest;

/// Run `req` and build one page of hits. `visible` re-checks each row against SQLite: a row
/// changed in the instant between its SQLite commit and the index commit is left out rather
/// than shown.
pub async fn find(
    st: &AppState,
    req: SearchRequest,
    (page, size, _offset): (i64, i64, i64),
    visible: impl Fn(&NewsItem) -> bool + Send + 'static,
) -> Result<Page<NewsHit>> {
    let index = st.news.search.clone();
    let hits = tokio::task::spawn_blocking(move || index.search(&req))
        .await
        .map_err(AppError::internal)??;
    let total = hits.total as i64;
    let ids = hits.ids;
    let hl = hits.highlighter;
    let views = st.news.views.clone();
    let items = st
        .db
        .read(move |c| {
            let mut rows = repo::by_ids(c, &ids)?;
            let mut out = Vec::with_capacity(ids.len());
            for id in &ids {
                let Some((mut item, text)) = rows.remove(id) else {
                    continue;
                };
                if !visible(&item) {
                    continue;
                }
                item.view_count += views.pending(item.id);
                let title_highlight = hl.title(&item.title);
                let snippet = hl.snippet(&text, &item.summary);
                out.push(NewsHit {
                    item,
                    title_highlight,
                    snippet,
                });
            }
            Ok(out)
        })
        .await?;
    Ok(Page {
        items,
        total,
        page,
        page_size: size,
    })
}
