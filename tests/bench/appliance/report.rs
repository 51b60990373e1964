//! The report: every scenario's absolute figures for context, its ratio to the same-run
//! baseline, the target and whether it is met. Written to `target/bench/report.json` and
//! printed as a table.

use serde::Serialize;
use serde_json::{Value, json};
use std::path::Path;

/// One ratio with its target.
#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    /// Scenario id, e.g. `S1`.
    pub scenario: &'static str,
    /// What is compared.
    pub what: String,
    /// The ratio measured.
    pub value: f64,
    /// Target, e.g. `>= 0.70`.
    pub target: String,
    /// Whether the target is met.
    pub met: bool,
}

impl Ratio {
    /// The table's verdict: `yes`, `NO`, or `-` for a context-only ratio.
    fn verdict(&self) -> &'static str {
        match (self.target.as_str(), self.met) {
            ("context", _) => "-",
            (_, true) => "yes",
            (_, false) => "NO",
        }
    }
}

/// The whole report.
pub struct Report {
    started: chrono::DateTime<chrono::Local>,
    plan: crate::Plan,
    machine: Value,
    /// Ratios in the order measured.
    pub ratios: Vec<Ratio>,
    /// Absolute figures by scenario, for context.
    pub details: serde_json::Map<String, Value>,
    /// The bare JSON route's req/s in this run (0 until measured).
    pub bare_rps: f64,
}

fn machine(dir: &Path) -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let mem_kib: u64 = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next()?.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0);
    let (p50, p99) = crate::data::fsync_probe(dir, 200);
    json!({
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "cpu_model": cpu,
        "mem_gib": (mem_kib as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        "os": std::env::consts::OS,
        "fsync_probe_ms": {"p50": p50, "p99": p99, "note": "append 4 KiB + fdatasync, 200 times, on the bench data dir's file system"},
        "load_generator_shares_server_cores": true,
        "note": "the load generator runs on the same machine and shares its cores with the server; ratios compare runs with the same sharing",
    })
}

impl Report {
    /// Start a report; probes the machine and the data dir's fsync.
    pub fn new(plan: crate::Plan, dir: &Path) -> Report {
        Report {
            started: chrono::Local::now(),
            plan,
            machine: machine(dir),
            ratios: Vec::new(),
            details: Default::default(),
            bare_rps: 0.0,
        }
    }

    /// Record a ratio that must be at least `min`.
    pub fn at_least(&mut self, scenario: &'static str, what: &str, value: f64, min: f64) {
        self.push(scenario, what, value, format!(">= {min}"), value >= min);
    }

    /// Record a ratio that must be at most `max`.
    pub fn at_most(&mut self, scenario: &'static str, what: &str, value: f64, max: f64) {
        self.push(scenario, what, value, format!("<= {max}"), value <= max);
    }

    /// Record a ratio shown for context only: no target, never counted as met or missed.
    pub fn context(&mut self, scenario: &'static str, what: &str, value: f64) {
        self.push(scenario, what, value, "context".into(), true);
    }

    /// Record a yes/no check (1.0 = yes).
    pub fn check(&mut self, scenario: &'static str, what: &str, ok: bool) {
        self.push(scenario, what, if ok { 1.0 } else { 0.0 }, "yes".into(), ok);
    }

    fn push(&mut self, scenario: &'static str, what: &str, value: f64, target: String, met: bool) {
        let r = Ratio {
            scenario,
            what: what.into(),
            value,
            target,
            met,
        };
        let verdict = match r.verdict() {
            "yes" => "met",
            "NO" => "NOT MET",
            _ => "(context only)",
        };
        println!(
            "  {scenario} {what}: {value:.3} (target {}) {verdict}",
            r.target
        );
        self.ratios.push(r);
    }

    /// Attach absolute figures for a scenario.
    pub fn detail(&mut self, key: &str, v: Value) {
        println!("  {key}: {v}");
        self.details.insert(key.into(), v);
    }

    /// Write `target/bench/report.json` and print the table.
    pub fn finish(&self) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|_| root.join("target"));
        let out = target.join("bench");
        std::fs::create_dir_all(&out).expect("report dir");
        let doc = json!({
            "started": self.started.to_rfc3339(),
            "finished": chrono::Local::now().to_rfc3339(),
            "plan": self.plan,
            "machine": self.machine,
            "ratios": self.ratios,
            "details": self.details,
        });
        let path = out.join("report.json");
        std::fs::write(&path, serde_json::to_string_pretty(&doc).expect("json"))
            .expect("write report");
        println!(
            "\n== gonghui appliance bench ({} mode, {}) ==",
            self.plan.mode,
            self.started.format("%Y-%m-%d %H:%M")
        );
        println!("machine: {}", self.machine);
        println!(
            "{:<4} {:<58} {:>9} {:>10} {:>8}",
            "id", "ratio", "value", "target", "met"
        );
        for r in &self.ratios {
            println!(
                "{:<4} {:<58} {:>9.3} {:>10} {:>8}",
                r.scenario,
                r.what,
                r.value,
                r.target,
                r.verdict()
            );
        }
        println!("report: {}", path.display());
    }
}
