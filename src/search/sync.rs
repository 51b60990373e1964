//! The index writer thread: live updates, startup repair and full rebuilds.

use super::schema::{Fields, IndexRow, ROW_SQL, map_row};
use rusqlite::{Connection, OpenFlags, params_from_iter};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError};
use tantivy::{Index, IndexReader, IndexWriter, TantivyDocument, Term};
use tokio::sync::oneshot;

type Done<T> = oneshot::Sender<Result<T, String>>;

/// Work for the writer thread.
pub(super) enum Msg {
    /// Re-read these article ids from SQLite and replace their documents.
    Sync {
        ids: Vec<i64>,
        done: Option<Done<()>>,
    },
    /// Compare versions with SQLite and fix every difference.
    Repair(Done<RepairReport>),
    /// Drop everything and index every article again.
    Rebuild {
        progress: Box<dyn FnMut(u64, u64) + Send>,
        done: Done<u64>,
    },
    /// Finish and release the writer.
    Close(oneshot::Sender<()>),
}

/// What a repair found and fixed.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RepairReport {
    /// Articles in SQLite that should be in the index.
    pub in_db: usize,
    /// Documents in the index before the repair.
    pub in_index: usize,
    /// Articles (re)indexed because they were missing or held an old version.
    pub reindexed: usize,
    /// Documents removed because their article is gone (or duplicated).
    pub removed: usize,
}

/// Articles per SQLite read and per commit during repair.
const CHUNK: usize = 1000;

pub(super) struct Worker {
    writer: IndexWriter<TantivyDocument>,
    reader: IndexReader,
    f: Fields,
    db_path: PathBuf,
    conn: Option<Connection>,
}

impl Worker {
    pub(super) fn new(
        writer: IndexWriter<TantivyDocument>,
        reader: IndexReader,
        f: Fields,
        db_path: PathBuf,
    ) -> Worker {
        Worker {
            writer,
            reader,
            f,
            db_path,
            conn: None,
        }
    }

    /// Serve messages until every sender is gone or `Close` arrives.
    pub(super) fn run(mut self, rx: Receiver<Msg>) {
        let mut next: Option<Msg> = None;
        loop {
            let msg = match next.take() {
                Some(m) => m,
                None => match rx.recv() {
                    Ok(m) => m,
                    Err(_) => return,
                },
            };
            match msg {
                Msg::Sync { ids, done } => {
                    // Group every update already waiting into one commit.
                    let mut ids = ids;
                    let mut dones: Vec<Done<()>> = done.into_iter().collect();
                    loop {
                        match rx.try_recv() {
                            Ok(Msg::Sync { ids: more, done }) => {
                                ids.extend(more);
                                dones.extend(done);
                            }
                            Ok(other) => {
                                next = Some(other);
                                break;
                            }
                            Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                        }
                    }
                    ids.sort_unstable();
                    ids.dedup();
                    let r = self.apply(&ids).and_then(|_| self.commit());
                    for d in dones {
                        let _ = d.send(r.clone());
                    }
                }
                Msg::Repair(done) => {
                    let _ = done.send(self.repair());
                }
                Msg::Rebuild { progress, done } => {
                    let _ = done.send(self.rebuild(progress));
                }
                Msg::Close(done) => {
                    let _ = self.writer.wait_merging_threads();
                    let _ = done.send(());
                    return;
                }
            }
        }
    }

    fn conn(&mut self) -> Result<&Connection, String> {
        if self.conn.is_none() {
            let c = Connection::open_with_flags(
                &self.db_path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| e.to_string())?;
            c.execute_batch("PRAGMA busy_timeout=5000; PRAGMA query_only=ON;")
                .map_err(|e| e.to_string())?;
            self.conn = Some(c);
        }
        Ok(self.conn.as_ref().expect("just opened"))
    }

    /// Replace the documents of `ids` by what SQLite holds now (none for a deleted article).
    fn apply(&mut self, ids: &[i64]) -> Result<(), String> {
        let f = self.f;
        for chunk in ids.chunks(CHUNK) {
            let rows = load_rows(self.conn()?, chunk).map_err(|e| e.to_string())?;
            for id in chunk {
                self.writer
                    .delete_term(Term::from_field_u64(f.id, *id as u64));
            }
            for r in rows {
                self.writer
                    .add_document(r.document(&f))
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// Commit with the SQLite change sequence as payload, then make it visible.
    fn commit(&mut self) -> Result<(), String> {
        let seq: i64 = self
            .conn()?
            .query_row("SELECT seq FROM news_search_seq WHERE id = 1", [], |r| {
                r.get(0)
            })
            .map_err(|e| e.to_string())?;
        let mut prepared = self.writer.prepare_commit().map_err(|e| e.to_string())?;
        prepared.set_payload(&serde_json::json!({ "seq": seq }).to_string());
        prepared.commit().map_err(|e| e.to_string())?;
        self.reader.reload().map_err(|e| e.to_string())
    }

    fn repair(&mut self) -> Result<RepairReport, String> {
        // Note the sequence first: every change after it gets its own live update anyway.
        self.reader.reload().map_err(|e| e.to_string())?;
        let indexed = index_versions(&self.reader, &self.f).map_err(|e| e.to_string())?;
        let mut db: HashMap<i64, i64> = HashMap::new();
        {
            let c = self.conn()?;
            let mut st = c
                .prepare("SELECT id, search_version FROM news WHERE deleted_at IS NULL")
                .map_err(|e| e.to_string())?;
            let rows = st
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
                .map_err(|e| e.to_string())?;
            for row in rows {
                let (id, v) = row.map_err(|e| e.to_string())?;
                db.insert(id, v);
            }
        }
        let mut report = RepairReport {
            in_db: db.len(),
            in_index: indexed.values().map(|(_, n)| *n).sum(),
            ..Default::default()
        };
        let mut fix: Vec<i64> = Vec::new();
        for (id, v) in &db {
            match indexed.get(id) {
                Some((iv, 1)) if iv == v => {}
                _ => {
                    fix.push(*id);
                    report.reindexed += 1;
                }
            }
        }
        for (id, (_, n)) in &indexed {
            if !db.contains_key(id) {
                fix.push(*id);
                report.removed += n;
            } else if *n > 1 {
                report.removed += n - 1;
            }
        }
        fix.sort_unstable();
        for chunk in fix.chunks(CHUNK) {
            self.apply(chunk)?;
            self.commit()?;
        }
        if fix.is_empty() && payload_seq(self.reader.searcher().index()).is_none() {
            // First start: record the sequence so the payload is always present.
            self.commit()?;
        }
        Ok(report)
    }

    fn rebuild(&mut self, mut progress: Box<dyn FnMut(u64, u64) + Send>) -> Result<u64, String> {
        let f = self.f;
        self.writer
            .delete_all_documents()
            .map_err(|e| e.to_string())?;
        let mut n: u64 = 0;
        {
            let conn = match self.conn.take() {
                Some(c) => c,
                None => {
                    self.conn()?;
                    self.conn.take().expect("opened")
                }
            };
            let res = (|| -> Result<(), String> {
                let total: i64 = conn
                    .query_row(
                        "SELECT count(*) FROM news WHERE deleted_at IS NULL",
                        [],
                        |r| r.get(0),
                    )
                    .map_err(|e| e.to_string())?;
                let total = total as u64;
                progress(0, total);
                let mut st = conn
                    .prepare(&format!(
                        "{ROW_SQL} WHERE n.deleted_at IS NULL ORDER BY n.id"
                    ))
                    .map_err(|e| e.to_string())?;
                let rows = st.query_map([], map_row).map_err(|e| e.to_string())?;
                for row in rows {
                    let r = row.map_err(|e| e.to_string())?;
                    self.writer
                        .add_document(r.document(&f))
                        .map_err(|e| e.to_string())?;
                    n += 1;
                    if n.is_multiple_of(5000) {
                        progress(n, total);
                    }
                }
                progress(n, total);
                Ok(())
            })();
            self.conn = Some(conn);
            if let Err(e) = res {
                let _ = self.writer.rollback();
                return Err(e);
            }
        }
        self.commit()?;
        Ok(n)
    }
}

/// Load the indexable rows (not deleted) among `ids`.
pub fn load_rows(c: &Connection, ids: &[i64]) -> rusqlite::Result<Vec<IndexRow>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let qs = vec!["?"; ids.len()].join(",");
    let mut st = c.prepare(&format!(
        "{ROW_SQL} WHERE n.id IN ({qs}) AND n.deleted_at IS NULL"
    ))?;
    st.query_map(params_from_iter(ids.iter()), map_row)?
        .collect()
}

/// Every live document's article id → (version, how many documents carry that id).
pub fn index_versions(
    reader: &IndexReader,
    f: &Fields,
) -> tantivy::Result<HashMap<i64, (i64, usize)>> {
    let searcher = reader.searcher();
    let mut out: HashMap<i64, (i64, usize)> = HashMap::new();
    let id_name = searcher.schema().get_field_name(f.id).to_string();
    let ver_name = searcher.schema().get_field_name(f.version).to_string();
    for seg in searcher.segment_readers() {
        let ids = seg.fast_fields().u64(&id_name)?;
        let vers = seg.fast_fields().u64(&ver_name)?;
        for doc in seg.doc_ids_alive() {
            let (Some(id), Some(v)) = (ids.first(doc), vers.first(doc)) else {
                continue;
            };
            let e = out.entry(id as i64).or_insert((v as i64, 0));
            e.1 += 1;
            // Two copies with different versions are always re-indexed.
            if e.0 != v as i64 {
                e.0 = -1;
            }
        }
    }
    Ok(out)
}

/// The `seq` recorded in the last commit's payload.
pub fn payload_seq(index: &Index) -> Option<i64> {
    let meta = index.load_metas().ok()?;
    let v: serde_json::Value = serde_json::from_str(meta.payload.as_deref()?).ok()?;
    v["seq"].as_i64()
}
