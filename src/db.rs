//! SQLite access: a read pool plus one writer thread with group commit.
//!
//! The writer owns the only write connection. It takes the jobs waiting in its queue, runs them
//! inside one `BEGIN IMMEDIATE` transaction, each in its own savepoint (a failing job rolls back
//! alone), commits once and only then answers every job. With `synchronous=FULL` that keeps an
//! acknowledged write durable while paying one fsync per batch rather than per request.

use crate::config::{DbConfig, Synchronous};
use crate::error::{AppError, Result};
use crate::metrics::Metrics;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::{mpsc, oneshot};

/// Told the rowids of a watched table that the writer changed, after the batch that changed
/// them has ended (committed or rolled back) and before any job of it is answered.
pub type ChangeListener = Arc<dyn Fn(&[i64]) + Send + Sync>;

/// Watched tables and their listeners, shared with the writer thread.
type Watchers = Arc<RwLock<Vec<(&'static str, ChangeListener)>>>;

/// Lowest SQLite we accept (3.51.3 fixes the WAL-reset corruption bug).
pub const MIN_SQLITE: i32 = 3_051_003;

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<SqliteConnectionManager>,
    writer: mpsc::Sender<Box<dyn WriteJob>>,
    path: PathBuf,
    watchers: Watchers,
    litestream: bool,
}

/// The writer's automatic checkpoint threshold when Litestream checkpoints (1 GiB of 4 KiB
/// pages): Litestream checkpoints long before, so this only bounds the WAL if it stopped.
pub const LITESTREAM_AUTOCHECKPOINT: i64 = 262_144;

/// The writer's own automatic checkpoint threshold (64 MiB of 4 KiB pages) while the
/// background checkpointer runs: a backstop only. Under continuous writes the background
/// checkpoints never quite catch up with the newest commit, so the WAL could not start over;
/// the writer's checkpoint at this size copies only the few frames not yet copied and lets it.
pub const BACKSTOP_AUTOCHECKPOINT: i64 = 16_000;

/// How often the background checkpointer copies the WAL into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// A job for the writer, type-erased so jobs of any result type share one queue.
trait WriteJob: Send {
    /// Run inside the job's savepoint; true when it succeeded.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answer the caller once the batch's fate is known.
    fn finish(self: Box<Self>, commit: std::result::Result<(), String>);
}

struct TypedJob<T, F> {
    f: Option<F>,
    result: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> WriteJob for TypedJob<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T> + Send + 'static,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(f) = self.f.take() else { return false };
        // A panicking job must not take the writer thread (and every later write) down with it.
        let r = catch_unwind(AssertUnwindSafe(|| f(conn)))
            .unwrap_or_else(|_| Err(AppError::Internal("write job panicked".into())));
        let ok = r.is_ok();
        self.result = Some(r);
        ok
    }

    fn finish(self: Box<Self>, commit: std::result::Result<(), String>) {
        let out = match (commit, self.result) {
            (Ok(()), Some(r)) => r,
            (Ok(()), None) => Err(AppError::Internal("write job did not run".into())),
            // The job's own error is more precise than the batch failure it caused nothing to.
            (Err(_), Some(Err(e))) => Err(e),
            (Err(e), _) => Err(AppError::internal(format!("commit failed: {e}"))),
        };
        let _ = self.reply.send(out);
    }
}

/// Run `f` inside one read transaction on `c`.
///
/// Outside a transaction every statement takes and releases the WAL read lock on its own (a
/// lock on the shared-memory index, under a mutex all read connections share); a request that
/// runs ten statements would pay that ten times and, on a busy server, wait for the other
/// readers as often. One transaction takes it once, and all of the request's statements see
/// the same snapshot of the database.
fn in_read_transaction<T>(c: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    if !c.is_autocommit() {
        // Left open by a job that panicked on this pooled connection.
        c.prepare_cached("ROLLBACK")?.execute([])?;
    }
    c.prepare_cached("BEGIN")?.execute([])?;
    let out = catch_unwind(AssertUnwindSafe(|| f(c)))
        .unwrap_or_else(|_| Err(AppError::Internal("read job panicked".into())));
    // A read-only transaction has nothing to keep: ending it can only release the lock.
    c.prepare_cached("ROLLBACK")?.execute([])?;
    out
}

/// `EXPLAIN QUERY PLAN` of `sql` with NULL bound to every parameter, one line per step (for
/// tests that pin a query to an index).
#[cfg(test)]
pub fn query_plan(c: &Connection, sql: &str) -> String {
    let mut st = c
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .expect("explain");
    let nulls = vec![rusqlite::types::Value::Null; st.parameter_count()];
    st.query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
        .expect("plan")
        .map(|r| r.expect("plan row"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Apply the per-connection pragmas every connection needs.
fn apply_pragmas(conn: &Connection, sync: Synchronous) -> rusqlite::Result<()> {
    let sync = match sync {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    // Savepoint journals and sorts stay in memory rather than spilling to temp files: every
    // write job runs in a savepoint, so a spilled statement journal would cost a file write.
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000; PRAGMA synchronous={sync}; PRAGMA temp_store=MEMORY;"
    ))?;
    // Plans must not depend on bound values. Without this, SQLite (3.4x and later) reads the
    // value bound to `LIMIT ?` while planning and marks the statement to be compiled again
    // whenever that parameter is bound: every cached list query (nearly all of them end in
    // `LIMIT ?`) was parsed and planned afresh on every execution, which was most of the cost
    // of a member's home-screen requests. No query here relies on a bound value to pick an
    // index (partial-index conditions are written as literals).
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

/// Prepared statements kept per connection. rusqlite keeps 16 by default; the writer runs far
/// more distinct statements than that, and an evicted one is parsed again on its next use.
const STATEMENT_CACHE: usize = 256;

/// Open a connection with the write pragmas (used by the writer, migrations and CLI tools).
pub fn open_write_conn(path: &Path, sync: Synchronous) -> Result<Connection> {
    create_private(path)?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(AppError::Internal(format!(
            "journal_mode is {mode}, expected wal"
        )));
    }
    apply_pragmas(&conn, sync)?;
    // Erased personal data must not linger in freed pages of the database file.
    //
    // The writer's page cache is 8 MiB: enough that a batch of sign-ups, or most import chunks
    // of 500 rows, do not spill dirty pages to the WAL before their commit, and no larger because
    // a commit can cost a walk over the whole cache. When a B-tree page splits, SQLite may
    // renumber the new pages through the (never used) lock page, 262,145 with 4 KiB pages; the
    // page cache then believes it holds pages past the end of any database under 1 GiB, and
    // the commit that follows walks every cached page to drop them. With the 32 MiB cache of
    // earlier versions that walk was a tenth of the writer's time under a registration burst.
    //
    // The WAL is checkpointed every 4,000 pages (16 MiB) rather than SQLite's 1,000: a bulk
    // import writes more than 1,000 pages per commit, so the default checkpointed after every
    // commit (a fifth of the import's time), copying hot index pages again each time instead of
    // once per several commits.
    conn.execute_batch(
        "PRAGMA secure_delete=ON; PRAGMA cache_size=-8192; PRAGMA wal_autocheckpoint=4000;",
    )?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Create the database file empty with mode 0600 when it does not exist yet: SQLite would
/// create it 0644, and it gives the WAL and shm files the database file's mode.
fn create_private(path: &Path) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(AppError::Internal(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}

/// Refuse to run on an SQLite older than [`MIN_SQLITE`].
pub fn check_sqlite_version() -> anyhow::Result<()> {
    let v = rusqlite::version_number();
    if v < MIN_SQLITE {
        anyhow::bail!("SQLite {} 过旧，至少需要 3.51.3", rusqlite::version());
    }
    Ok(())
}

impl Db {
    /// Open the database at `path`, apply pending migrations and start the writer thread,
    /// whose connection signs audit rows with `audit_key`.
    pub fn open(
        path: &Path,
        cfg: &DbConfig,
        metrics: Arc<Metrics>,
        audit_key: &[u8],
    ) -> Result<Db> {
        check_sqlite_version().map_err(AppError::internal)?;
        let mut conn = open_write_conn(path, cfg.synchronous)?;
        if cfg.litestream {
            // A checkpoint by the application races Litestream's own (which copies the WAL
            // frames to the replica first); Litestream's documentation asks applications
            // under write load to leave checkpoints to it.
            conn.pragma_update(None, "wal_autocheckpoint", LITESTREAM_AUTOCHECKPOINT)?;
        }
        crate::audit::install_key(&conn, audit_key)?;
        crate::migrations::apply(&mut conn)?;
        // Checkpoints on a thread of their own: copying the WAL into the database file and
        // syncing it took the writer 100 ms and more at a time under a steady write load, and
        // every write waiting behind it (S5: write p99 101 ms, 5.8 ms without). A passive
        // checkpoint runs beside the writer and never blocks it. Under Litestream it does them.
        let checkpointer = if cfg.litestream {
            None
        } else {
            conn.pragma_update(None, "wal_autocheckpoint", BACKSTOP_AUTOCHECKPOINT)?;
            let c = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            apply_pragmas(&c, cfg.synchronous)?;
            let (stop, stopped) = std::sync::mpsc::channel::<()>();
            std::thread::Builder::new()
                .name("gonghui-checkpoint".into())
                .spawn(move || checkpoint_loop(c, stopped))
                .map_err(AppError::internal)?;
            Some(stop)
        };

        let sync = cfg.synchronous;
        let manager = SqliteConnectionManager::file(path)
            .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .with_init(move |c| {
                c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
                apply_pragmas(c, sync)?;
                c.execute_batch("PRAGMA query_only=ON;")
            });
        // No validity check on every checkout: a SQLite connection does not go stale, and the
        // check (an empty `execute_batch`) cost as much as a small read.
        let pool = r2d2::Pool::builder()
            .max_size(cfg.read_pool_size)
            .test_on_check_out(false)
            .build(manager)
            .map_err(AppError::internal)?;

        let (tx, rx) = mpsc::channel::<Box<dyn WriteJob>>(4096);
        let max_batch = cfg.max_batch;
        let watchers: Watchers = Arc::default();
        let w = watchers.clone();
        std::thread::Builder::new()
            .name("gonghui-writer".into())
            .spawn(move || {
                // The checkpointer stops when the writer does (its channel closes).
                let _stop = checkpointer;
                writer_loop(conn, rx, max_batch, metrics, w)
            })
            .map_err(AppError::internal)?;
        Ok(Db {
            pool,
            writer: tx,
            path: path.to_path_buf(),
            watchers,
            litestream: cfg.litestream,
        })
    }

    /// Tell `listener` the rowids of `table` changed by each writer batch (see
    /// [`ChangeListener`]). Caches of rows use it: every write goes through the one writer, so
    /// no code path can change a watched row without the cache hearing of it.
    pub fn watch(&self, table: &'static str, listener: ChangeListener) {
        self.watchers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push((table, listener));
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when Litestream replicates the database and checkpoints it (`db.litestream`).
    pub fn litestream(&self) -> bool {
        self.litestream
    }

    /// Run `f` on a pooled read connection, off the async executor.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.get()?;
            in_read_transaction(&conn, f)
        })
        .await
        .map_err(AppError::internal)?
    }

    /// Run `f` in the writer, inside a savepoint of the current batch transaction. The future
    /// resolves only after the batch has committed (or failed).
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let job = Box::new(TypedJob {
            f: Some(f),
            result: None,
            reply,
        });
        self.writer
            .send(job)
            .await
            .map_err(|_| AppError::Internal("writer stopped".into()))?;
        rx.await
            .map_err(|_| AppError::Internal("writer dropped the job".into()))?
    }
}

fn writer_loop(
    conn: Connection,
    mut rx: mpsc::Receiver<Box<dyn WriteJob>>,
    max_batch: usize,
    metrics: Arc<Metrics>,
    watchers: Watchers,
) {
    // Rows of watched tables touched by the current batch, noted by SQLite's update hook.
    let changed: Arc<Mutex<Vec<(usize, i64)>>> = Arc::default();
    {
        let (changed, watchers) = (changed.clone(), watchers.clone());
        let hook = move |_: rusqlite::hooks::Action, _: &str, table: &str, rowid: i64| {
            let w = watchers.read().unwrap_or_else(|e| e.into_inner());
            // Every listener of the table (several caches may watch one table, e.g. `orgs`).
            for (i, _) in w.iter().enumerate().filter(|(_, (t, _))| *t == table) {
                changed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((i, rowid));
            }
        };
        if let Err(e) = conn.update_hook(Some(hook)) {
            tracing::error!(error = %e, "could not watch row changes; row caches stay cold");
        }
    }
    let mut batch: Vec<Box<dyn WriteJob>> = Vec::with_capacity(max_batch);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        metrics.observe_write_batch(batch.len());
        let outcome = run_batch(&conn, &mut batch);
        notify_changes(&changed, &watchers);
        for job in batch.drain(..) {
            job.finish(outcome.clone());
        }
    }
}

/// Copy the WAL into the database file every [`CHECKPOINT_EVERY`] (a passive checkpoint:
/// it does what readers allow and never waits for the writer), until `stop` closes.
fn checkpoint_loop(conn: Connection, stop: std::sync::mpsc::Receiver<()>) {
    use std::sync::mpsc::RecvTimeoutError;
    // A full disk fails every attempt: say so once a minute, not four times a second.
    let mut warned: Option<std::time::Instant> = None;
    while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            && warned.is_none_or(|t| t.elapsed().as_secs() >= 60)
        {
            tracing::warn!(error = %e, "background checkpoint failed");
            warned = Some(std::time::Instant::now());
        }
    }
}

/// Hand the rows changed by the batch that just ended to their listeners. Rolled-back changes
/// are reported too: a listener that forgets a row it did not need to is merely cold.
fn notify_changes(changed: &Mutex<Vec<(usize, i64)>>, watchers: &Watchers) {
    let mut rows = std::mem::take(&mut *changed.lock().unwrap_or_else(|e| e.into_inner()));
    if rows.is_empty() {
        return;
    }
    rows.sort_unstable();
    rows.dedup();
    let w = watchers.read().unwrap_or_else(|e| e.into_inner());
    for (i, (_, listener)) in w.iter().enumerate() {
        let ids: Vec<i64> = rows.iter().filter(|r| r.0 == i).map(|r| r.1).collect();
        if !ids.is_empty() {
            listener(&ids);
        }
    }
}

/// Run every job of the batch in one transaction; the commit's outcome answers them all.
fn run_batch(
    conn: &Connection,
    batch: &mut [Box<dyn WriteJob>],
) -> std::result::Result<(), String> {
    // Cached statements: these run for every job, and parsing them each time was a visible
    // share of the writer's time.
    let run =
        |sql: &str| -> rusqlite::Result<()> { conn.prepare_cached(sql)?.execute([]).map(|_| ()) };
    run("BEGIN IMMEDIATE").map_err(|e| e.to_string())?;
    for job in batch.iter_mut() {
        if let Err(e) = run("SAVEPOINT job") {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e.to_string());
        }
        let ok = job.run(conn);
        let end = if ok {
            run("RELEASE job")
        } else {
            run("ROLLBACK TO job").and_then(|_| run("RELEASE job"))
        };
        if let Err(e) = end {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e.to_string());
        }
    }
    match run("COMMIT") {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn open_temp() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(
            &dir.path().join("t.db"),
            &DbConfig::default(),
            Arc::new(Metrics::new()),
            b"test audit key",
        )
        .unwrap();
        (dir, db)
    }

    async fn create_table(db: &Db) {
        db.write(|c| Ok(c.execute_batch("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT UNIQUE)")?))
            .await
            .unwrap();
    }

    async fn count(db: &Db) -> i64 {
        db.read(|c| Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?))
            .await
            .unwrap()
    }

    /// A failing job rolls back only its own savepoint; its neighbours in the batch commit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn failing_job_does_not_roll_back_neighbours() {
        let (_d, db) = open_temp();
        create_table(&db).await;
        // Hold the writer so the next jobs queue up and share one batch.
        let (hold_tx, hold_rx) = std::sync::mpsc::channel::<()>();
        let blocker = {
            let db = db.clone();
            tokio::spawn(async move {
                db.write(move |_| {
                    hold_rx.recv_timeout(Duration::from_secs(5)).ok();
                    Ok(())
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut handles = Vec::new();
        for i in 0..10 {
            let db = db.clone();
            handles.push(tokio::spawn(async move {
                db.write(move |c| {
                    c.execute("INSERT INTO t(v) VALUES (?1)", [format!("v{i}")])?;
                    if i % 2 == 1 {
                        // Fail after writing: the row must disappear with the savepoint.
                        return Err(AppError::conflict("odd"));
                    }
                    Ok(i)
                })
                .await
            }));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        hold_tx.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        let mut oks = 0;
        for h in handles {
            match h.await.unwrap() {
                Ok(i) => {
                    assert_eq!(i % 2, 0);
                    oks += 1
                }
                Err(AppError::Conflict { .. }) => {}
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert_eq!(oks, 5);
        assert_eq!(count(&db).await, 5);
        let odd: i64 = db
            .read(|c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM t WHERE v IN ('v1','v3','v5','v7','v9')",
                    [],
                    |r| r.get(0),
                )?)
            })
            .await
            .unwrap();
        assert_eq!(odd, 0);
    }

    /// A job's caller is not answered until the whole batch has committed, and a reader
    /// does not see its row before that either.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn nothing_is_acknowledged_before_commit() {
        let (_d, db) = open_temp();
        create_table(&db).await;
        // `gate` keeps the writer busy so that `a` and `b` queue up and share the next batch.
        let (gate_tx, gate_rx) = std::sync::mpsc::channel::<()>();
        let gate = spawn_write(&db, move |_| {
            gate_rx.recv_timeout(Duration::from_secs(5)).ok();
            Ok(())
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let a = spawn_write(&db, |c| {
            c.execute("INSERT INTO t(v) VALUES ('a')", [])?;
            Ok(())
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        let (hold_tx, hold_rx) = std::sync::mpsc::channel::<()>();
        let b = spawn_write(&db, move |_| {
            started_tx.send(()).ok();
            hold_rx.recv_timeout(Duration::from_secs(5)).ok();
            Ok(())
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        gate_tx.send(()).unwrap();
        gate.await.unwrap().unwrap();
        // `b` now runs inside the batch that has already run `a`.
        started_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !a.is_finished(),
            "job acknowledged before its batch committed"
        );
        assert_eq!(count(&db).await, 0, "uncommitted row visible to a reader");
        hold_tx.send(()).unwrap();
        a.await.unwrap().unwrap();
        b.await.unwrap().unwrap();
        assert_eq!(count(&db).await, 1);
    }

    fn spawn_write<F>(db: &Db, f: F) -> tokio::task::JoinHandle<Result<()>>
    where
        F: FnOnce(&Connection) -> Result<()> + Send + 'static,
    {
        let db = db.clone();
        tokio::spawn(async move { db.write(f).await })
    }

    /// A panicking job answers with an error and the writer keeps serving.
    #[tokio::test]
    async fn panicking_job_does_not_stop_the_writer() {
        let (_d, db) = open_temp();
        create_table(&db).await;
        let r: Result<()> = db.write(|_| panic!("boom")).await;
        assert!(matches!(r, Err(AppError::Internal(_))));
        db.write(|c| Ok(c.execute("INSERT INTO t(v) VALUES ('after')", [])?))
            .await
            .unwrap();
        assert_eq!(count(&db).await, 1);
    }

    /// Readers cannot write, even by mistake.
    #[tokio::test]
    async fn read_connections_are_read_only() {
        let (_d, db) = open_temp();
        create_table(&db).await;
        let r = db
            .read(|c| Ok(c.execute("INSERT INTO t(v) VALUES ('x')", [])?))
            .await;
        assert!(r.is_err());
    }

    /// A cached statement ending in `LIMIT ?` runs with new bindings without being compiled
    /// again (SQLite re-prepares such statements on every binding unless plans are kept
    /// independent of bound values).
    #[tokio::test]
    async fn cached_statements_with_a_bound_limit_are_not_prepared_again() {
        let (_d, db) = open_temp();
        create_table(&db).await;
        let reprepares = db
            .read(|c| {
                for n in [1, 5, 2, 9] {
                    let mut st = c.prepare_cached("SELECT v FROM t ORDER BY id DESC LIMIT ?")?;
                    st.query_map([n], |r| r.get::<_, String>(0))?
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                }
                let st = c.prepare_cached("SELECT v FROM t ORDER BY id DESC LIMIT ?")?;
                Ok(st.get_status(rusqlite::StatementStatus::RePrepare))
            })
            .await
            .unwrap();
        assert_eq!(reprepares, 0);
    }

    #[test]
    fn bundled_sqlite_is_new_enough() {
        check_sqlite_version().unwrap();
    }

    #[test]
    fn the_write_connection_checkpoints_every_4000_pages_with_an_8_mib_cache() {
        let dir = tempfile::tempdir().unwrap();
        let c = open_write_conn(&dir.path().join("t.db"), Synchronous::Full).unwrap();
        let get = |p: &str| -> i64 {
            c.query_row(&format!("PRAGMA {p}"), [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(get("wal_autocheckpoint"), 4000);
        assert_eq!(get("cache_size"), -8192);
        assert_eq!(get("secure_delete"), 1);
        assert_eq!(get("synchronous"), 2);
    }

    /// Commits reach the database file without the writer checkpointing: the background
    /// checkpointer copies them (the writer's own threshold is far above what is written here).
    #[tokio::test]
    async fn a_background_thread_checkpoints_the_wal() {
        let (dir, db) = open_temp();
        let file = dir.path().join("t.db");
        let n = db
            .write(|c| Ok(c.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get::<_, i64>(0))?))
            .await
            .unwrap();
        assert_eq!(n, BACKSTOP_AUTOCHECKPOINT);
        let before = std::fs::metadata(&file).unwrap().len();
        db.write(|c| {
            c.execute_batch(
                "CREATE TABLE big(v BLOB);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
                 INSERT INTO big SELECT randomblob(4000) FROM n;",
            )?;
            Ok(())
        })
        .await
        .unwrap();
        let grown = (0..100).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            std::fs::metadata(&file).unwrap().len() > before + 1_000_000
        });
        assert!(grown, "the database file did not grow: no checkpoint ran");
    }

    /// Under Litestream the writer's own checkpoints only cap the WAL at 1 GiB.
    #[tokio::test]
    async fn litestream_leaves_checkpoints_to_the_replicator() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = DbConfig {
            litestream: true,
            ..DbConfig::default()
        };
        let db = Db::open(
            &dir.path().join("t.db"),
            &cfg,
            Arc::new(Metrics::new()),
            b"test audit key",
        )
        .unwrap();
        assert!(db.litestream());
        let n = db
            .write(|c| Ok(c.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get::<_, i64>(0))?))
            .await
            .unwrap();
        assert_eq!(n, LITESTREAM_AUTOCHECKPOINT);
        let (_dir, plain) = open_temp();
        assert!(!plain.litestream());
    }
}
