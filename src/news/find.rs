//! Full-text search shared by members and staff: the index ranks and filters (so totals and
//! pages are exact), SQLite supplies the rows and has the last word on visibility.

use super::model::{NewsHit, NewsItem};
use super::repo;
use crate::app::AppState;
use crate::error::Result;
use crate::http::Page;
use crate::search::SearchRequest;

/// Build the request with `build` (which also returns the `visible` re-check), run it and
/// build one page of hits. `visible` re-checks each row against SQLite: a row changed in the
/// instant between its SQLite commit and the index commit is left out rather than shown.
/// Everything runs in one blocking task on one read connection: a search is one hop off the
/// async executor, not three.
pub async fn find<B, V>(
    st: &AppState,
    (page, size, _offset): (i64, i64, i64),
    build: B,
) -> Result<Page<NewsHit>>
where
    B: FnOnce(&rusqlite::Connection) -> Result<(SearchRequest, V)> + Send + 'static,
    V: Fn(&NewsItem) -> bool,
{
    let index = st.news.search.clone();
    let views = st.news.views.clone();
    let (items, total) = st
        .db
        .read(move |c| {
            let (req, visible) = build(c)?;
            let hits = index.search(&req)?;
            let hl = hits.highlighter;
            let ids = hits.ids;
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
            Ok((out, hits.total as i64))
        })
        .await?;
    Ok(Page {
        items,
        total,
        page,
        page_size: size,
    })
}
