//! Time helpers: stored as UTC unix seconds, shown as RFC 3339 in Asia/Shanghai (+08:00).

use chrono::{DateTime, FixedOffset, TimeZone, Utc};

/// China Standard Time has no daylight saving: a fixed +08:00 offset is exact.
fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// Current time in unix seconds.
pub fn now() -> i64 {
    Utc::now().timestamp()
}

/// The clock of one running app: real time plus an offset tests move forward, so rules that
/// depend on time passing (ticket deadlines) are tested without sleeping. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Clock(std::sync::Arc<std::sync::atomic::AtomicI64>);

impl Clock {
    /// Current time in unix seconds on this clock.
    pub fn now(&self) -> i64 {
        now() + self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Move this clock forward by `secs` (tests only ever move it forward).
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Format unix seconds as RFC 3339 with +08:00.
pub fn fmt(ts: i64) -> String {
    cst()
        .timestamp_opt(ts, 0)
        .single()
        .map(|d| d.to_rfc3339())
        .unwrap_or_default()
}

/// Format optional unix seconds.
pub fn fmt_opt(ts: Option<i64>) -> Option<String> {
    ts.map(fmt)
}

/// Parse an RFC 3339 time (any offset) into unix seconds.
pub fn parse(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_beijing_time_and_round_trips() {
        let s = fmt(1_764_550_800); // 2025-12-01T01:00:00Z
        assert_eq!(s, "2025-12-01T09:00:00+08:00");
        assert_eq!(parse(&s), Some(1_764_550_800));
        assert_eq!(parse("not a time"), None);
    }
}
