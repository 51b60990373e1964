//! The tantivy news index with a Chinese tokenizer; SQLite stays the source of truth.
//!
//! One dedicated thread owns the only [`tantivy::IndexWriter`]. Writers of news tell it which
//! article ids changed after their SQLite transaction committed; it reads those rows back from
//! SQLite, replaces their documents, commits (recording the SQLite change sequence in the
//! commit payload) and reloads the reader, so a published article is searchable well within a
//! second. Every document carries the `news.search_version` it was built from: at startup the
//! versions in the index are compared with SQLite and any difference is re-indexed or deleted
//! (a crash between the two commits, a lost segment, an edit behind the index's back).

pub mod query;
pub mod schema;
mod sync;

use crate::error::{AppError, Result};
pub use query::{Highlighter, SearchHits, SearchRequest};
use schema::Fields;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
pub use sync::RepairReport;
use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexReader, ReloadPolicy};
use tokio::sync::oneshot;

/// Memory budget of the index writer (split between its threads).
const WRITER_BUDGET: usize = 64 * 1024 * 1024;

/// Handle to the news index; cheap to clone.
#[derive(Clone)]
pub struct SearchIndex(Arc<Shared>);

struct Shared {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    /// `None` when another process holds the index writer (e.g. a CLI tool next to the server).
    tx: Option<mpsc::Sender<sync::Msg>>,
}

impl SearchIndex {
    /// Open (or create) the index in `dir` and start its writer thread, which reads articles
    /// from the SQLite database at `db_path`. A corrupt or outdated index is recreated empty
    /// (a repair then fills it from SQLite).
    pub fn open(dir: &Path, db_path: &Path) -> anyhow::Result<SearchIndex> {
        let (schema, fields) = schema::schema();
        let index = match open_index(dir, &schema) {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(error = %e, dir = %dir.display(), "search index unusable, recreating it");
                std::fs::remove_dir_all(dir).ok();
                open_index(dir, &schema)?
            }
        };
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let threads = std::thread::available_parallelism()
            .map(|n| n.get().min(4))
            .unwrap_or(1);
        let tx = match index.writer_with_num_threads(threads, WRITER_BUDGET) {
            Ok(writer) => {
                let (tx, rx) = mpsc::channel();
                let worker =
                    sync::Worker::new(writer, reader.clone(), fields, db_path.to_path_buf());
                std::thread::Builder::new()
                    .name("gonghui-search".into())
                    .spawn(move || worker.run(rx))?;
                Some(tx)
            }
            Err(tantivy::TantivyError::LockFailure(..)) => {
                tracing::warn!("search index is locked by another process; searching only");
                None
            }
            Err(e) => return Err(e.into()),
        };
        Ok(SearchIndex(Arc::new(Shared {
            index,
            reader,
            fields,
            tx,
        })))
    }

    /// The index directory under a data dir.
    pub fn dir(data_dir: &Path) -> PathBuf {
        data_dir.join("index")
    }

    /// False when another process holds the index writer (this handle can only search).
    pub fn is_writable(&self) -> bool {
        self.0.tx.is_some()
    }

    /// The field handles.
    pub fn fields(&self) -> Fields {
        self.0.fields
    }

    /// The tantivy index (benchmarks and tests query it directly).
    pub fn index(&self) -> &Index {
        &self.0.index
    }

    /// The reader searches go through.
    pub fn reader(&self) -> &IndexReader {
        &self.0.reader
    }

    fn send(&self, msg: sync::Msg) -> Result<()> {
        let tx =
            self.0.tx.as_ref().ok_or_else(|| {
                AppError::Unavailable("搜索索引被其他进程占用，请稍后再试".into())
            })?;
        tx.send(msg)
            .map_err(|_| AppError::Internal("search writer stopped".into()))
    }

    /// Bring the documents of `ids` in line with SQLite and wait until that is searchable.
    /// Call it after the SQLite transaction committed. A failure is logged, never returned:
    /// the change is safely in SQLite and the next start repairs the index.
    pub async fn sync(&self, ids: Vec<i64>) {
        if ids.is_empty() {
            return;
        }
        let (done, rx) = oneshot::channel();
        let sent = self.send(sync::Msg::Sync {
            ids,
            done: Some(done),
        });
        let outcome = match sent {
            Ok(()) => rx
                .await
                .unwrap_or_else(|_| Err("search writer dropped the job".into())),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = outcome {
            tracing::error!(error = %e, "search index update failed; it is repaired at the next start");
        }
    }

    /// Compare every document's version with SQLite and fix the differences.
    pub async fn repair(&self) -> Result<RepairReport> {
        let (done, rx) = oneshot::channel();
        self.send(sync::Msg::Repair(done))?;
        rx.await
            .map_err(|_| AppError::Internal("search writer dropped the job".into()))?
            .map_err(AppError::Internal)
    }

    /// Rebuild the index from scratch; `progress(done, total)` is called along the way.
    /// Searches keep seeing the old index until the rebuild commits.
    pub async fn rebuild(&self, progress: Box<dyn FnMut(u64, u64) + Send>) -> Result<u64> {
        let (done, rx) = oneshot::channel();
        self.send(sync::Msg::Rebuild { progress, done })?;
        rx.await
            .map_err(|_| AppError::Internal("search writer dropped the job".into()))?
            .map_err(AppError::Internal)
    }

    /// Stop the writer thread and release the index lock (pending jobs are finished first).
    pub async fn close(&self) {
        let (done, rx) = oneshot::channel();
        if self.send(sync::Msg::Close(done)).is_ok() {
            let _ = rx.await;
        }
    }

    /// Run a search (blocking: call it from a blocking thread).
    pub fn search(&self, req: &SearchRequest) -> Result<SearchHits> {
        query::run(&self.0.reader, &self.0.fields, req)
    }

    /// The SQLite change sequence recorded by the last commit, if any.
    pub fn committed_seq(&self) -> Option<i64> {
        sync::payload_seq(&self.0.index)
    }
}

fn open_index(dir: &Path, schema: &tantivy::schema::Schema) -> anyhow::Result<Index> {
    std::fs::create_dir_all(dir)?;
    let mmap = MmapDirectory::open(dir)?;
    let index = Index::open_or_create(mmap, schema.clone())?;
    if index.schema() != *schema {
        anyhow::bail!("index schema differs from this version's schema");
    }
    schema::register(&index);
    Ok(index)
}

/// Repair the index against SQLite at startup (logged; an index another process holds is
/// left to that process).
pub async fn startup_repair(index: &SearchIndex) {
    if index.0.tx.is_none() {
        return;
    }
    match index.repair().await {
        Ok(r) if r.reindexed + r.removed > 0 => {
            tracing::warn!(?r, "search index repaired against the database")
        }
        Ok(r) => tracing::debug!(?r, "search index matches the database"),
        Err(e) => tracing::error!(error = %e, "search index repair failed"),
    }
}
