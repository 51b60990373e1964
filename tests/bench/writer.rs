//! Writer throughput: acknowledged single-row writes per second through `Db::write`, grouped
//! (the production writer) vs. one transaction per write (max_batch = 1), both with the same
//! concurrency in the same run. Run with `cargo bench --bench writer` (add `-- --quick` for a
//! short run). Not part of `cargo test`; nothing here asserts a time.

use gonghui::config::{DbConfig, Synchronous};
use gonghui::db::Db;
use gonghui::metrics::Metrics;
use std::sync::Arc;
use std::time::Instant;

struct Run {
    label: String,
    writes: usize,
    secs: f64,
}

async fn run(sync: Synchronous, max_batch: usize, writers: usize, per_writer: usize) -> Run {
    let dir = tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| ".".into()))
        .expect("tempdir");
    let cfg = DbConfig {
        synchronous: sync,
        read_pool_size: 4,
        max_batch,
        litestream: false,
    };
    let db = Db::open(
        &dir.path().join("bench.db"),
        &cfg,
        Arc::new(Metrics::new()),
        b"bench audit key",
    )
    .expect("open");
    db.write(|c| Ok(c.execute_batch("CREATE TABLE w(id INTEGER PRIMARY KEY, k INTEGER, v TEXT)")?))
        .await
        .unwrap();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                db.write(move |c| {
                    c.execute(
                        "INSERT INTO w(k, v) VALUES (?1, ?2)",
                        rusqlite::params![(w * per_writer + i) as i64, "注册报名"],
                    )?;
                    Ok(())
                })
                .await
                .expect("write");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let n: i64 = db
        .read(|c| Ok(c.query_row("SELECT count(*) FROM w", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(
        n as usize,
        writers * per_writer,
        "every acknowledged write must be stored"
    );
    let label = format!("{:?} max_batch={max_batch}", sync);
    Run {
        label,
        writes: writers * per_writer,
        secs,
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let writers = 64;
    let per_writer = if quick { 20 } else { 400 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // One-txn-per-write is slow under FULL: give it fewer writes, the rate is what counts.
        let runs = vec![
            run(Synchronous::Full, 512, writers, per_writer).await,
            run(Synchronous::Full, 1, writers, per_writer / 4).await,
            run(Synchronous::Normal, 512, writers, per_writer).await,
            run(Synchronous::Normal, 1, writers, per_writer / 4).await,
        ];
        println!("\nwriter throughput ({writers} concurrent writers, single-row inserts, acknowledged after commit)");
        println!("{:<28} {:>8} {:>9} {:>12}", "variant", "writes", "seconds", "writes/s");
        for r in &runs {
            println!("{:<28} {:>8} {:>9.3} {:>12.0}", r.label, r.writes, r.secs, r.writes as f64 / r.secs);
        }
        let rate = |i: usize| runs[i].writes as f64 / runs[i].secs;
        println!("\nFULL grouped / FULL one-txn-per-write = {:.1}x", rate(0) / rate(1));
        println!("NORMAL grouped / NORMAL one-txn-per-write = {:.1}x", rate(2) / rate(3));
        println!("FULL grouped / NORMAL grouped = {:.2}", rate(0) / rate(2));
    });
}
