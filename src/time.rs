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
///
/// Written out by hand for years 0–9999 (every list item carries several times, and chrono's
/// general formatter was a tenth of a news page's cost); chrono formats anything else.
pub fn fmt(ts: i64) -> String {
    let local = ts.checked_add(8 * 3600);
    let (days, secs) = match local {
        Some(l) => (l.div_euclid(86_400), l.rem_euclid(86_400)),
        None => (i64::MIN, 0),
    };
    match civil(days) {
        Some((y, m, d)) if (0..=9999).contains(&y) => format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+08:00",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        ),
        _ => cst()
            .timestamp_opt(ts, 0)
            .single()
            .map(|d| d.to_rfc3339())
            .unwrap_or_default(),
    }
}

/// The proleptic Gregorian (year, month, day) of `days` since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`); `None` far outside any real date.
fn civil(days: i64) -> Option<(i64, i64, i64)> {
    if !(-1_000_000_000..=1_000_000_000).contains(&days) {
        return None;
    }
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    Some((y, m, d))
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

    /// The hand-written format equals chrono's for every kind of date, and chrono takes over
    /// outside years 0–9999.
    #[test]
    fn fast_format_matches_chrono() {
        let chrono_fmt = |ts: i64| {
            cst()
                .timestamp_opt(ts, 0)
                .single()
                .map(|d| d.to_rfc3339())
                .unwrap_or_default()
        };
        let mut samples = vec![
            0,
            -1,
            -28_800,
            -28_801,
            951_782_400,   // 2000-02-29 08:00 +08:00
            4_107_542_399, // 2100-02-28 23:59:59 UTC
            253_402_271_999,
            253_402_272_000,
            -62_167_248_000,
            -62_167_248_001,
            i64::MAX,
            i64::MIN,
        ];
        let mut x: i64 = 1;
        for _ in 0..20_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            samples.push(x.rem_euclid(300_000_000_000) - 70_000_000_000);
        }
        for ts in samples {
            assert_eq!(fmt(ts), chrono_fmt(ts), "ts {ts}");
        }
    }

    #[test]
    fn formats_in_beijing_time_and_round_trips() {
        let s = fmt(1_764_550_800); // 2025-12-01T01:00:00Z
        assert_eq!(s, "2025-12-01T09:00:00+08:00");
        assert_eq!(parse(&s), Some(1_764_550_800));
        assert_eq!(parse("not a time"), None);
    }
}
