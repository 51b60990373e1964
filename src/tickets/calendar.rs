//! Working time for reply deadlines: a category answers within N working hours (counted only
//! inside the working hours of working days) or N working days (the day a ticket arrives not
//! counted; due at the end of the Nth working day after it). Working days are Monday to Friday,
//! minus the installation's public holidays, plus its adjusted working weekends (调休), all in
//! Beijing time.

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// `[tickets]` settings: working hours and the holiday calendar.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TicketsConfig {
    /// Start of working hours, `HH:MM` Beijing time.
    pub work_start: String,
    /// End of working hours, `HH:MM` Beijing time (after `work_start`).
    pub work_end: String,
    /// Public holidays on weekdays, `YYYY-MM-DD` (e.g. the National Day week).
    pub holidays: Vec<String>,
    /// Weekend days that are working days (调休), `YYYY-MM-DD`.
    pub extra_workdays: Vec<String>,
}

impl Default for TicketsConfig {
    fn default() -> Self {
        TicketsConfig {
            work_start: "09:00".into(),
            work_end: "17:00".into(),
            holidays: Vec::new(),
            extra_workdays: Vec::new(),
        }
    }
}

fn minutes(s: &str) -> Option<i64> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    (s.len() == 5 && (0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
}

fn dates(list: &[String], key: &str) -> anyhow::Result<BTreeSet<NaiveDate>> {
    list.iter()
        .map(|d| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                anyhow::anyhow!("配置无效: tickets.{key} 中的 `{d}` 不是 YYYY-MM-DD 形式的日期")
            })
        })
        .collect()
}

impl TicketsConfig {
    /// Refuse a calendar that cannot count: bad times, an empty working day, bad dates, or a
    /// date that is both a holiday and a working day.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.calendar().map(|_| ())
    }

    /// The parsed calendar (valid after [`TicketsConfig::validate`] passed at start).
    pub fn calendar(&self) -> anyhow::Result<WorkCalendar> {
        let (Some(start), Some(end)) = (minutes(&self.work_start), minutes(&self.work_end)) else {
            anyhow::bail!(
                "配置无效: tickets.work_start 与 tickets.work_end 必须是 HH:MM 形式（如 09:00）"
            );
        };
        if start >= end {
            anyhow::bail!("配置无效: tickets.work_end 必须晚于 tickets.work_start");
        }
        let holidays = dates(&self.holidays, "holidays")?;
        let workdays = dates(&self.extra_workdays, "extra_workdays")?;
        if let Some(d) = holidays.intersection(&workdays).next() {
            anyhow::bail!("配置无效: {d} 不能既是节假日又是调休工作日");
        }
        Ok(WorkCalendar {
            start: start * 60,
            end: end * 60,
            holidays,
            workdays,
        })
    }
}

/// The installation's calendar (validated at start, so the fallback never applies).
pub fn of(st: &crate::app::AppState) -> WorkCalendar {
    st.cfg.tickets.calendar().unwrap_or_default()
}

/// The unit of a category's deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Hours inside working hours of working days.
    WorkHours,
    /// Whole working days after the day of arrival.
    WorkDays,
}

/// Units as stored and sent.
pub const UNITS: &[&str] = &["work_hours", "work_days"];

impl Unit {
    /// Parse the stored name (an unknown name counts as working hours, the column's default).
    pub fn parse(s: &str) -> Unit {
        if s == "work_days" {
            Unit::WorkDays
        } else {
            Unit::WorkHours
        }
    }

    /// How a deadline reads, e.g. `3 个工作日`, `8 个工作小时`.
    pub fn describe(self, amount: i64) -> String {
        match self {
            Unit::WorkHours => format!("{amount} 个工作小时"),
            Unit::WorkDays => format!("{amount} 个工作日"),
        }
    }
}

/// Seconds east of UTC of Beijing time (no daylight saving).
const CST: i64 = 8 * 3600;
const DAY: i64 = 86_400;
/// Counting stops after this many days (a deadline is at most a few months away; the bound
/// only guards against a calendar without working days).
const MAX_DAYS: i64 = 3660;

/// A parsed working-time calendar.
#[derive(Debug, Clone)]
pub struct WorkCalendar {
    /// Working hours start, seconds after midnight.
    start: i64,
    /// Working hours end, seconds after midnight.
    end: i64,
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
}

impl Default for WorkCalendar {
    fn default() -> Self {
        TicketsConfig::default()
            .calendar()
            .expect("default calendar is valid")
    }
}

/// Days since 1970-01-01 of the Beijing date of `ts`, and that day's midnight in unix seconds.
fn day_of(ts: i64) -> (i64, i64) {
    let day = (ts + CST).div_euclid(DAY);
    (day, day * DAY - CST)
}

fn date(day: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch") + chrono::Duration::days(day)
}

impl WorkCalendar {
    /// True when `d` is a working day: an adjusted working day, or a weekday not a holiday.
    pub fn is_workday(&self, d: NaiveDate) -> bool {
        if self.workdays.contains(&d) {
            return true;
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&d)
    }

    /// When a reply is due for something arriving at `from` (unix seconds).
    pub fn deadline(&self, from: i64, unit: Unit, amount: i64) -> i64 {
        let amount = amount.max(1);
        let (first, _) = day_of(from);
        match unit {
            Unit::WorkHours => {
                let mut left = amount * 3600;
                for day in first..first + MAX_DAYS {
                    if !self.is_workday(date(day)) {
                        continue;
                    }
                    let midnight = day * DAY - CST;
                    let (open, close) = (midnight + self.start, midnight + self.end);
                    let begin = from.max(open);
                    if begin >= close {
                        continue;
                    }
                    if left <= close - begin {
                        return begin + left;
                    }
                    left -= close - begin;
                }
                from + amount * 3600
            }
            Unit::WorkDays => {
                let mut counted = 0;
                for day in first + 1..first + 1 + MAX_DAYS {
                    if self.is_workday(date(day)) {
                        counted += 1;
                        if counted == amount {
                            return day * DAY - CST + self.end;
                        }
                    }
                }
                from + amount * DAY
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix seconds of a Beijing wall-clock time.
    fn bj(s: &str) -> i64 {
        crate::time::parse(&format!("{s}+08:00")).unwrap()
    }

    fn cal(holidays: &[&str], workdays: &[&str]) -> WorkCalendar {
        TicketsConfig {
            holidays: holidays.iter().map(|s| s.to_string()).collect(),
            extra_workdays: workdays.iter().map(|s| s.to_string()).collect(),
            ..TicketsConfig::default()
        }
        .calendar()
        .unwrap()
    }

    // 2026-12-04 is a Friday.
    #[test]
    fn working_hours_skip_the_night_and_the_weekend() {
        let c = WorkCalendar::default();
        let h = Unit::WorkHours;
        // Inside one working day.
        assert_eq!(
            c.deadline(bj("2026-12-01T10:00:00"), h, 4),
            bj("2026-12-01T14:00:00")
        );
        // Friday 15:00 + 4 working hours: 2 on Friday, 2 on Monday.
        assert_eq!(
            c.deadline(bj("2026-12-04T15:00:00"), h, 4),
            bj("2026-12-07T11:00:00")
        );
        // Arriving on Saturday: counting starts Monday 09:00.
        assert_eq!(
            c.deadline(bj("2026-12-05T20:00:00"), h, 8),
            bj("2026-12-07T17:00:00")
        );
        // Arriving after hours: the next morning; exactly filling a day ends at its close.
        assert_eq!(
            c.deadline(bj("2026-12-01T18:30:00"), h, 1),
            bj("2026-12-02T10:00:00")
        );
        // Before opening on a working day: from 09:00 that day.
        assert_eq!(
            c.deadline(bj("2026-12-01T07:00:00"), h, 2),
            bj("2026-12-01T11:00:00")
        );
        // 24 working hours from Thursday 09:00 = Thu, Fri, Mon.
        assert_eq!(
            c.deadline(bj("2026-12-03T09:00:00"), h, 24),
            bj("2026-12-07T17:00:00")
        );
    }

    #[test]
    fn working_days_do_not_count_the_arrival_day_or_weekends() {
        let c = WorkCalendar::default();
        let d = Unit::WorkDays;
        assert_eq!(
            c.deadline(bj("2026-12-01T10:00:00"), d, 1),
            bj("2026-12-02T17:00:00")
        );
        // Friday → Monday; Thursday + 3 → Tuesday.
        assert_eq!(
            c.deadline(bj("2026-12-04T08:00:00"), d, 1),
            bj("2026-12-07T17:00:00")
        );
        assert_eq!(
            c.deadline(bj("2026-12-03T16:00:00"), d, 3),
            bj("2026-12-08T17:00:00")
        );
        // A Sunday arrival: Monday is the first working day.
        assert_eq!(
            c.deadline(bj("2026-12-06T23:59:00"), d, 1),
            bj("2026-12-07T17:00:00")
        );
        // Just after midnight Beijing time is already the new day (UTC is still the day before).
        assert_eq!(
            c.deadline(bj("2026-12-02T00:30:00"), d, 1),
            bj("2026-12-03T17:00:00")
        );
    }

    #[test]
    fn holidays_and_adjusted_working_days_count() {
        // National Day: Thu 10-01 to Wed 10-07 off, Sat 10-10 worked (2026 style).
        let c = cal(
            &[
                "2026-10-01",
                "2026-10-02",
                "2026-10-05",
                "2026-10-06",
                "2026-10-07",
            ],
            &["2026-10-10"],
        );
        assert!(!c.is_workday(NaiveDate::from_ymd_opt(2026, 10, 2).unwrap()));
        assert!(c.is_workday(NaiveDate::from_ymd_opt(2026, 10, 10).unwrap()));
        // Arriving on 09-30 (Wed): the next working day is Thu 10-08.
        assert_eq!(
            c.deadline(bj("2026-09-30T12:00:00"), Unit::WorkDays, 1),
            bj("2026-10-08T17:00:00")
        );
        // Thu 10-08, Fri 10-09, Sat 10-10 (worked).
        assert_eq!(
            c.deadline(bj("2026-09-30T12:00:00"), Unit::WorkDays, 3),
            bj("2026-10-10T17:00:00")
        );
        // Working hours: 09-30 12:00–17:00 is 5 hours, then 10-08.
        assert_eq!(
            c.deadline(bj("2026-09-30T12:00:00"), Unit::WorkHours, 7),
            bj("2026-10-08T11:00:00")
        );
    }

    #[test]
    fn bad_calendars_are_refused() {
        let bad = |f: fn(&mut TicketsConfig)| {
            let mut t = TicketsConfig::default();
            f(&mut t);
            t.validate().is_err()
        };
        assert!(bad(|t| t.work_start = "9:00".into()));
        assert!(bad(|t| t.work_end = "08:00".into()));
        assert!(bad(|t| t.holidays = vec!["2026-13-01".into()]));
        assert!(bad(|t| {
            t.holidays = vec!["2026-10-10".into()];
            t.extra_workdays = vec!["2026-10-10".into()];
        }));
        assert!(TicketsConfig::default().validate().is_ok());
    }
}
