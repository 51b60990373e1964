//! Prometheus metrics: request counts and latency by route, DB write batch sizes.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// All metrics of the process; one instance lives in `AppState`.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    write_batch: Histogram,
    backup_verify_ok: Gauge,
    backup_success_ts: Gauge,
    orphans_removed: Counter,
    orphan_sweep_ts: Gauge,
    backup_age: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Create and register every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("gonghui");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let write_batch = Histogram::new(exponential_buckets(1.0, 2.0, 11));
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        registry.register(
            "db_write_batch_size",
            "Jobs committed together by the writer",
            write_batch.clone(),
        );
        let backup_verify_ok = Gauge::default();
        let backup_success_ts = Gauge::default();
        registry.register(
            "backup_last_verify_ok",
            "1 when the last verified backup passed, 0 when it failed (-1 before any)",
            backup_verify_ok.clone(),
        );
        registry.register(
            "backup_last_success_timestamp",
            "Unix time of the last backup that was written and verified (0 before any)",
            backup_success_ts.clone(),
        );
        let backup_age = Gauge::default();
        registry.register(
            "backup_age_seconds",
            "Seconds since the last backup that was written and verified (-1 before any)",
            backup_age.clone(),
        );
        backup_verify_ok.set(-1);
        let orphans_removed = Counter::default();
        let orphan_sweep_ts = Gauge::default();
        registry.register(
            "files_orphans_removed",
            "Stored objects without a live row removed by the orphan sweep",
            orphans_removed.clone(),
        );
        registry.register(
            "files_orphan_sweep_timestamp",
            "Unix time the last orphan sweep finished (0 before the first)",
            orphan_sweep_ts.clone(),
        );
        backup_age.set(-1);
        Metrics {
            registry,
            requests,
            latency,
            write_batch,
            backup_verify_ok,
            backup_success_ts,
            orphans_removed,
            orphan_sweep_ts,
            backup_age,
        }
    }

    /// Record one finished request. `route` is the matched route template, never the raw path.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.into(),
                route: route.into(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.into(),
                route: route.into(),
            })
            .observe(seconds);
    }

    /// Record the size of one committed write batch.
    pub fn observe_write_batch(&self, jobs: usize) {
        self.write_batch.observe(jobs as f64);
    }

    /// Record the result of the latest backup verification; `success_at` when it passed.
    pub fn set_backup(&self, verify_ok: bool, success_at: Option<i64>) {
        self.backup_verify_ok.set(i64::from(verify_ok));
        if let Some(ts) = success_at {
            self.backup_success_ts.set(ts);
        }
    }

    /// Record a finished orphan sweep: objects it removed, and when it finished.
    pub fn set_orphan_sweep(&self, removed: usize, finished_at: i64) {
        self.orphans_removed.inc_by(removed as u64);
        self.orphan_sweep_ts.set(finished_at);
    }

    /// Prometheus text exposition.
    pub fn render(&self) -> String {
        // The age is computed at scrape time, so an alert on it fires even when no backup
        // job runs at all any more.
        let ts = self.backup_success_ts.get();
        if ts > 0 {
            self.backup_age.set((crate::time::now() - ts).max(0));
        }
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
