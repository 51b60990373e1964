//! Activity request and response types, and the validated form of an activity.

use crate::error::{AppError, Result};
use crate::validate::Check;
use serde::{Deserialize, Serialize};

/// Activity statuses.
pub const STATUSES: &[&str] = &["draft", "published", "cancelled", "finished"];
/// Registration statuses that hold a place.
pub const LIVE: &str = "('pending', 'approved')";
/// Longest description (sanitised HTML), in characters.
pub const MAX_DESCRIPTION: usize = 20_000;
/// Check-in methods an activity may require: `any` (QR code or position) or `qr` (only the
/// rotating code shown at the venue).
pub const CHECKIN_METHODS: &[&str] = &["any", "qr"];

fn any_method() -> String {
    "any".into()
}

fn yes() -> bool {
    true
}

/// An activity as staff create or replace it (PATCH merges into this shape).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityIn {
    /// Organising org (in the caller's scope).
    pub org_id: i64,
    /// Title.
    pub title: String,
    /// Category code from the `activity_category` dictionary.
    pub category: String,
    /// Description, HTML (sanitised on save).
    #[serde(default)]
    pub description: String,
    /// Public cover image.
    pub cover_file_id: Option<i64>,
    /// Place name.
    pub location_name: String,
    /// Venue latitude (WGS-84), with `lng`.
    pub lat: Option<f64>,
    /// Venue longitude.
    pub lng: Option<f64>,
    /// Check-in radius in metres (default from the configuration).
    pub checkin_radius_m: Option<i64>,
    /// `any` (QR code or position, the default) or `qr` (only the QR code at the venue).
    #[serde(default = "any_method")]
    pub checkin_method: String,
    /// Start (RFC 3339).
    pub starts_at: String,
    /// End (RFC 3339).
    pub ends_at: String,
    /// Signup opens (RFC 3339).
    pub signup_starts_at: String,
    /// Signup closes (RFC 3339), not after the end.
    pub signup_ends_at: String,
    /// Places.
    pub quota: i64,
    /// Only active members of the org and below may see and register.
    #[serde(default = "yes")]
    pub members_only: bool,
    /// Registrations wait for staff approval.
    #[serde(default)]
    pub needs_review: bool,
    /// Registration form.
    pub form_template_id: Option<i64>,
    /// Points for attendance.
    #[serde(default)]
    pub points: i64,
}

/// A validated activity ready to store.
#[derive(Debug, Clone)]
pub struct ActivityData {
    /// Org.
    pub org_id: i64,
    /// Title.
    pub title: String,
    /// Category code.
    pub category: String,
    /// Sanitised HTML.
    pub description: String,
    /// Cover.
    pub cover_file_id: Option<i64>,
    /// Place.
    pub location_name: String,
    /// Coordinates.
    pub coords: Option<(f64, f64)>,
    /// Radius.
    pub checkin_radius_m: Option<i64>,
    /// `any` or `qr`.
    pub checkin_method: String,
    /// Times, unix seconds: starts, ends, signup starts, signup ends.
    pub times: [i64; 4],
    /// Places.
    pub quota: i64,
    /// Members only.
    pub members_only: bool,
    /// Needs review.
    pub needs_review: bool,
    /// Form.
    pub form_template_id: Option<i64>,
    /// Points.
    pub points: i64,
}

/// Check coordinates: both or none, inside the valid ranges.
pub fn check_coords(ck: &mut Check, lat: Option<f64>, lng: Option<f64>) -> Option<(f64, f64)> {
    match (lat, lng) {
        (None, None) => None,
        (Some(a), Some(o)) => {
            let mut good = true;
            if !(-90.0..=90.0).contains(&a) || !a.is_finite() {
                ck.fail("lat", "纬度须在 -90 到 90 之间");
                good = false;
            }
            if !(-180.0..=180.0).contains(&o) || !o.is_finite() {
                ck.fail("lng", "经度须在 -180 到 180 之间");
                good = false;
            }
            good.then_some((a, o))
        }
        (Some(_), None) => {
            ck.fail("lng", "经度和纬度须同时填写");
            None
        }
        (None, Some(_)) => {
            ck.fail("lat", "经度和纬度须同时填写");
            None
        }
    }
}

fn time(ck: &mut Check, field: &str, label: &str, v: &str) -> i64 {
    match crate::time::parse(v.trim()) {
        Some(t) => t,
        None => {
            ck.fail(
                field,
                format!("{label}格式不正确，应为 2026-12-01T09:00:00+08:00"),
            );
            0
        }
    }
}

impl ActivityIn {
    /// Validate every field and sanitise the description with the articles' sanitiser
    /// (`image_hosts`: the extra hosts images may come from), all problems reported at once.
    pub fn validate(&self, image_hosts: &[String]) -> Result<ActivityData> {
        let mut ck = Check::new();
        let title = ck.text("title", "活动标题", &self.title, 100);
        let category = ck.code("category", "活动类别", &self.category, 32);
        let location_name = ck.text("location_name", "活动地点", &self.location_name, 100);
        let description = crate::news::sanitize::clean(&self.description, image_hosts);
        if !CHECKIN_METHODS.contains(&self.checkin_method.as_str()) {
            ck.fail(
                "checkin_method",
                "签到方式只能是 any（扫码或定位）或 qr（仅扫码）",
            );
        }
        if description.chars().count() > MAX_DESCRIPTION {
            ck.fail(
                "description",
                format!("活动介绍不能超过 {MAX_DESCRIPTION} 个字符"),
            );
        }
        let coords = check_coords(&mut ck, self.lat, self.lng);
        if let Some(r) = self.checkin_radius_m
            && !(10..=10_000).contains(&r)
        {
            ck.fail("checkin_radius_m", "签到半径须在 10 到 10000 米之间");
        }
        let s = time(&mut ck, "starts_at", "开始时间", &self.starts_at);
        let e = time(&mut ck, "ends_at", "结束时间", &self.ends_at);
        let ss = time(
            &mut ck,
            "signup_starts_at",
            "报名开始时间",
            &self.signup_starts_at,
        );
        let se = time(
            &mut ck,
            "signup_ends_at",
            "报名截止时间",
            &self.signup_ends_at,
        );
        if s > 0 && e > 0 && e <= s {
            ck.fail("ends_at", "结束时间须晚于开始时间");
        }
        if ss > 0 && se > 0 && se <= ss {
            ck.fail("signup_ends_at", "报名截止时间须晚于报名开始时间");
        }
        if se > 0 && e > 0 && se > e {
            ck.fail("signup_ends_at", "报名截止时间不能晚于活动结束时间");
        }
        if !(1..=100_000).contains(&self.quota) {
            ck.fail("quota", "名额须在 1 到 100000 之间");
        }
        if !(0..=10_000).contains(&self.points) {
            ck.fail("points", "积分须在 0 到 10000 之间");
        }
        ck.finish()?;
        Ok(ActivityData {
            org_id: self.org_id,
            title,
            category,
            description,
            cover_file_id: self.cover_file_id,
            location_name,
            coords,
            checkin_radius_m: self.checkin_radius_m,
            checkin_method: self.checkin_method.clone(),
            times: [s, e, ss, se],
            quota: self.quota,
            members_only: self.members_only,
            needs_review: self.needs_review,
            form_template_id: self.form_template_id,
            points: self.points,
        })
    }
}

/// An activity as staff see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Activity {
    /// Id.
    pub id: i64,
    /// Org.
    pub org_id: i64,
    /// Org name.
    pub org_name: String,
    /// Title.
    pub title: String,
    /// Category code.
    pub category: String,
    /// Category name.
    pub category_name: Option<String>,
    /// Sanitised HTML.
    pub description: String,
    /// Cover file.
    pub cover_file_id: Option<i64>,
    /// Cover URL.
    pub cover_url: Option<String>,
    /// Place.
    pub location_name: String,
    /// Latitude.
    pub lat: Option<f64>,
    /// Longitude.
    pub lng: Option<f64>,
    /// Check-in radius, metres.
    pub checkin_radius_m: Option<i64>,
    /// `any` (QR code or position) or `qr` (only the QR code at the venue).
    pub checkin_method: String,
    /// Start.
    pub starts_at: String,
    /// End.
    pub ends_at: String,
    /// Signup opens.
    pub signup_starts_at: String,
    /// Signup closes.
    pub signup_ends_at: String,
    /// Places.
    pub quota: i64,
    /// Members only.
    pub members_only: bool,
    /// Needs review.
    pub needs_review: bool,
    /// Form template.
    pub form_template_id: Option<i64>,
    /// Points for attendance.
    pub points: i64,
    /// `draft`, `published`, `cancelled`, `finished`.
    pub status: String,
    /// Live registrations (pending + approved).
    pub registered: i64,
    /// Places left.
    pub remaining: i64,
    /// Created at.
    pub created_at: String,
}

impl Activity {
    /// The activity as members may see it: the venue's coordinates and check-in radius are
    /// withheld (a member's phone needs none of them, and they would let anyone fake a
    /// position inside the geofence).
    pub fn for_member(mut self) -> Activity {
        self.lat = None;
        self.lng = None;
        self.checkin_radius_m = None;
        self
    }

    /// True when members may check in by position (the venue has coordinates and the
    /// activity does not require the QR code).
    pub fn location_checkin(&self) -> bool {
        self.checkin_method == "any" && self.lat.is_some() && self.lng.is_some()
    }
}

/// Internal row of an activity with raw times, for rules.
#[derive(Debug, Clone)]
pub struct ActivityRow {
    /// Public view.
    pub view: Activity,
    /// Org path (scope and audience checks).
    pub org_path: String,
    /// Unix times: starts, ends, signup starts, signup ends.
    pub times: [i64; 4],
}

/// Columns read by [`map_row`].
pub const SELECT: &str = "SELECT a.id, a.org_id, o.name, a.title, a.category, d.name, a.description, a.cover_file_id,
    a.location_name, a.lat, a.lng, a.checkin_radius_m, a.starts_at, a.ends_at, a.signup_starts_at, a.signup_ends_at,
    a.quota, a.members_only, a.needs_review, a.form_template_id, a.points, a.status,
    a.live_count,
    a.created_at, o.path, a.checkin_method, cf.public_token
    FROM activities a JOIN orgs o ON o.id = a.org_id
    LEFT JOIN dictionary_items d ON d.dict = 'activity_category' AND d.code = a.category
    LEFT JOIN files cf ON cf.id = a.cover_file_id AND cf.visibility = 'public'";

/// Map a row of [`SELECT`].
pub fn map_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ActivityRow> {
    let times: [i64; 4] = [r.get(12)?, r.get(13)?, r.get(14)?, r.get(15)?];
    let cover: Option<i64> = r.get(7)?;
    let quota: i64 = r.get(16)?;
    let registered: i64 = r.get(22)?;
    Ok(ActivityRow {
        view: Activity {
            id: r.get(0)?,
            org_id: r.get(1)?,
            org_name: r.get(2)?,
            title: r.get(3)?,
            category: r.get(4)?,
            category_name: r.get(5)?,
            description: r.get(6)?,
            cover_file_id: cover,
            cover_url: crate::files::public_url(r.get(26)?),
            location_name: r.get(8)?,
            lat: r.get(9)?,
            lng: r.get(10)?,
            checkin_radius_m: r.get(11)?,
            checkin_method: r.get(25)?,
            starts_at: crate::time::fmt(times[0]),
            ends_at: crate::time::fmt(times[1]),
            signup_starts_at: crate::time::fmt(times[2]),
            signup_ends_at: crate::time::fmt(times[3]),
            quota,
            members_only: r.get(17)?,
            needs_review: r.get(18)?,
            form_template_id: r.get(19)?,
            points: r.get(20)?,
            status: r.get(21)?,
            registered,
            remaining: (quota - registered).max(0),
            created_at: crate::time::fmt(r.get(23)?),
        },
        org_path: r.get(24)?,
        times,
    })
}

/// Reason given when staff reject or cancel.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonIn {
    /// Why (shown to the member).
    pub reason: String,
}

/// Optional reason for cancelling an activity.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelIn {
    /// Why (shown to registered members).
    pub reason: Option<String>,
}

/// `YYYY-MM-DD HH:MM` in Beijing time, for notices and spreadsheets.
pub fn local_time(ts: i64) -> String {
    let s = crate::time::fmt(ts);
    s.get(..16).map(|t| t.replace('T', " ")).unwrap_or(s)
}

/// 409 unless the status allows the change.
pub fn closed(status: &str) -> AppError {
    match status {
        "cancelled" => AppError::conflict_code("activity_not_open", "活动已取消"),
        "finished" => AppError::conflict_code("activity_not_open", "活动已结束"),
        "draft" => AppError::conflict_code("activity_not_open", "活动尚未发布"),
        _ => AppError::conflict_code("activity_not_open", "活动当前不可操作"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> ActivityIn {
        ActivityIn {
            org_id: 1,
            title: "健步走".into(),
            category: "sports".into(),
            description: "<p>好</p><script>alert(1)</script>".into(),
            cover_file_id: None,
            location_name: "体育场".into(),
            lat: Some(25.0),
            lng: Some(102.0),
            checkin_radius_m: None,
            checkin_method: "any".into(),
            starts_at: "2026-12-01T09:00:00+08:00".into(),
            ends_at: "2026-12-01T11:00:00+08:00".into(),
            signup_starts_at: "2026-11-01T09:00:00+08:00".into(),
            signup_ends_at: "2026-11-30T09:00:00+08:00".into(),
            quota: 10,
            members_only: true,
            needs_review: false,
            form_template_id: None,
            points: 5,
        }
    }

    #[test]
    fn description_is_sanitised() {
        let d = good().validate(&[]).unwrap();
        assert_eq!(d.description, "<p>好</p>");
    }

    /// Activity descriptions go through the articles' sanitiser: images only from our own
    /// files or a configured host, never from an arbitrary remote server.
    #[test]
    fn description_images_follow_the_article_rule() {
        let mut a = good();
        a.description = r#"<p>图</p><img src="/files/0123456789abcdef0123456789abcdef"><img src="https://tracker.example/p.gif"><img src="https://img.example.cn/a.png">"#.into();
        let d = a.validate(&["img.example.cn".to_string()]).unwrap();
        assert!(
            !d.description.contains("tracker.example"),
            "{}",
            d.description
        );
        assert!(
            d.description
                .contains("/files/0123456789abcdef0123456789abcdef")
        );
        assert!(d.description.contains("https://img.example.cn/a.png"));
    }

    /// Only the known check-in methods are accepted.
    #[test]
    fn checkin_method_is_checked() {
        let mut a = good();
        a.checkin_method = "gps".into();
        let Err(AppError::Validation(f)) = a.validate(&[]) else {
            panic!()
        };
        assert!(f.contains_key("checkin_method"));
    }

    #[test]
    fn bad_times_and_coords_are_reported_together() {
        let mut a = good();
        a.ends_at = "2026-12-01T08:00:00+08:00".into();
        a.signup_ends_at = "2026-12-02T09:00:00+08:00".into();
        a.lat = Some(91.0);
        a.quota = 0;
        let Err(AppError::Validation(f)) = a.validate(&[]) else {
            panic!()
        };
        assert!(f.contains_key("ends_at") && f.contains_key("lat") && f.contains_key("quota"));
        assert!(f.contains_key("signup_ends_at"));
    }
}
