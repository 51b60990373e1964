//! The load driver.
//!
//! Two measurements, both against the real server over loopback HTTP:
//! - `saturate`: closed loop, `conns` workers each send the next request when the last answers,
//!   for a fixed time. It finds the throughput (req/s) a route sustains.
//! - `open_loop`: requests are *scheduled* at a fixed rate and each one's latency is measured
//!   from its scheduled start, not from when it was actually sent. A stalled server therefore
//!   shows up in the percentiles instead of silently slowing the load down (the correction for
//!   coordinated omission used by wrk2 and oha).

use reqwest::{Client, Method, StatusCode};
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One request to send; built per call so a scenario can vary member, query or body.
#[derive(Clone)]
pub struct Req {
    /// HTTP method.
    pub method: Method,
    /// Full URL.
    pub url: String,
    /// Bearer token, if any.
    pub token: Option<Arc<str>>,
    /// JSON body, if any.
    pub body: Option<serde_json::Value>,
}

impl Req {
    /// A GET without a body.
    pub fn get(url: String, token: Option<Arc<str>>) -> Req {
        Req {
            method: Method::GET,
            url,
            token,
            body: None,
        }
    }
}

/// Latency percentiles in milliseconds plus counts.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Stats {
    /// Requests answered.
    pub requests: usize,
    /// Answers with a status other than the expected ones.
    pub errors: usize,
    /// Seconds the phase lasted.
    pub secs: f64,
    /// Answers per second.
    pub rps: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Worst latency, ms.
    pub max_ms: f64,
}

impl Stats {
    fn from(mut lat_us: Vec<u64>, errors: usize, secs: f64) -> Stats {
        lat_us.sort_unstable();
        let pct = |p: f64| -> f64 {
            if lat_us.is_empty() {
                return 0.0;
            }
            let i = ((lat_us.len() as f64 - 1.0) * p).round() as usize;
            lat_us[i] as f64 / 1000.0
        };
        Stats {
            requests: lat_us.len(),
            errors,
            secs,
            rps: lat_us.len() as f64 / secs,
            p50_ms: pct(0.50),
            p99_ms: pct(0.99),
            max_ms: lat_us.last().map(|v| *v as f64 / 1000.0).unwrap_or(0.0),
        }
    }
}

/// Percentiles of a list of durations (for in-process measurements), in the same shape.
pub fn stats_of(lat_us: Vec<u64>, secs: f64) -> Stats {
    Stats::from(lat_us, 0, secs)
}

/// An HTTP client with enough pooled connections for the bench.
pub fn client() -> Client {
    Client::builder()
        .pool_max_idle_per_host(512)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// Send one request; Ok(status) or Err on transport failure.
pub async fn send(client: &Client, r: &Req) -> Result<StatusCode, String> {
    let mut b = client.request(r.method.clone(), &r.url);
    if let Some(t) = &r.token {
        b = b.bearer_auth(t);
    }
    if let Some(body) = &r.body {
        b = b.json(body);
    }
    let resp = b.send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    // Read the body so the connection is reusable and the full response is timed.
    let _ = resp.bytes().await.map_err(|e| e.to_string())?;
    Ok(status)
}

/// Closed loop: `conns` workers for `dur`; `make(i)` builds the i-th request; `ok(status)` says
/// whether an answer counts as success.
pub async fn saturate<F, K>(client: &Client, conns: usize, dur: Duration, make: F, ok: K) -> Stats
where
    F: Fn(usize) -> Req + Send + Sync + 'static,
    K: Fn(StatusCode) -> bool + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let ok = Arc::new(ok);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + dur;
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (client, make, ok, next) = (client.clone(), make.clone(), ok.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0;
            while Instant::now() < deadline {
                let r = make(next.fetch_add(1, Ordering::Relaxed));
                let t = Instant::now();
                match send(&client, &r).await {
                    Ok(s) if ok(s) => {}
                    _ => errors += 1,
                }
                lat.push(t.elapsed().as_micros() as u64);
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.expect("worker");
        all.extend(l);
        errors += e;
    }
    Stats::from(all, errors, start.elapsed().as_secs_f64())
}

/// One burst's outcome: the stats, and the status and completion time (µs from the start)
/// of every request by index.
pub type BurstOutcome = (Stats, Vec<u16>, Vec<u64>);

/// Run exactly `n` requests with at most `conns` in flight (for bursts whose size matters,
/// such as a registration burst).
pub async fn burst<F>(client: &Client, conns: usize, n: usize, make: F) -> BurstOutcome
where
    F: Fn(usize) -> Req + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (client, make, next) = (client.clone(), make.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let r = make(i);
                let t = Instant::now();
                let s = send(&client, &r).await.map(|s| s.as_u16()).unwrap_or(0);
                let done = start.elapsed().as_micros() as u64;
                out.push((i, s, t.elapsed().as_micros() as u64, done));
            }
            out
        }));
    }
    let mut statuses = vec![0u16; n];
    let mut done_at = vec![0u64; n];
    let mut lat = Vec::with_capacity(n);
    for t in tasks {
        for (i, s, l, d) in t.await.expect("worker") {
            statuses[i] = s;
            done_at[i] = d;
            lat.push(l);
        }
    }
    let errors = statuses.iter().filter(|s| **s == 0 || **s >= 500).count();
    (
        Stats::from(lat, errors, start.elapsed().as_secs_f64()),
        statuses,
        done_at,
    )
}

/// Open loop at `rate` requests/second for `dur`, latency measured from each request's
/// scheduled start (coordinated-omission corrected).
pub async fn open_loop<F, K>(client: &Client, rate: f64, dur: Duration, make: F, ok: K) -> Stats
where
    F: Fn(usize) -> Req + Send + Sync + 'static,
    K: Fn(StatusCode) -> bool + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let ok = Arc::new(ok);
    let total = (rate * dur.as_secs_f64()).max(1.0) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let scheduled = start + interval.mul_f64(i as f64);
        tokio::time::sleep_until(scheduled.into()).await;
        let (client, make, ok) = (client.clone(), make.clone(), ok.clone());
        tasks.push(tokio::spawn(async move {
            let r = make(i);
            let good = matches!(send(&client, &r).await, Ok(s) if ok(s));
            (scheduled.elapsed().as_micros() as u64, good)
        }));
    }
    let mut lat = Vec::with_capacity(total);
    let mut errors = 0;
    for t in tasks {
        let (l, good) = t.await.expect("request task");
        lat.push(l);
        if !good {
            errors += 1;
        }
    }
    Stats::from(lat, errors, start.elapsed().as_secs_f64())
}
