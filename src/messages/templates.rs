//! Subscription-message templates: which WeChat template each event type uses and how our notice
//! fields fill its keys. Stored as one JSON setting; staff read and replace it as a whole.

use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppError, AppJson, FieldErrors, Result, ok};
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Key of the setting row.
pub const SETTING_KEY: &str = "subscription_templates";

/// Event types that produce notices (and so may have a template).
pub const EVENTS: &[&str] = &[
    "membership.approved",
    "membership.rejected",
    "member.transferred",
    "member.left",
    "activity.registered",
    "activity.approved",
    "activity.rejected",
    "activity.cancelled",
    "activity.reminder",
    "benefit.claimed",
    "benefit.redeemed",
    "mall.ordered",
    "mall.fulfilled",
    "mall.cancelled",
    "points.adjusted",
    "points.expiring",
    "ticket.replied",
    "ticket.transferred",
    "ticket.resolved",
    "content.rejected",
    "aid.submitted",
    "aid.returned",
    "aid.approved",
    "aid.rejected",
];

/// Our notice field names a template key may be filled from.
pub const FIELDS: &[&str] = &["title", "time", "place", "result", "reason"];

/// WeChat template key types (`thing1`, `time2`, …).
const KEY_TYPES: &[&str] = &[
    "thing",
    "phrase",
    "time",
    "date",
    "character_string",
    "number",
    "letter",
    "symbol",
    "amount",
    "name",
    "phone_number",
    "car_number",
];

/// The template used for one event type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
// Named apart from the activity `Template`: one components name per shape, or one overwrites the other.
#[schema(as = SubscriptionTemplate)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// Template id from the mini-program admin console.
    pub template_id: String,
    /// Page opened when the notice carries no link of its own, e.g. `pages/msg/index`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// Template key (`thing1`) → our field name (`title`, `time`, `place`, `result`, `reason`).
    pub data: BTreeMap<String, String>,
}

/// Event type → template.
pub type Templates = BTreeMap<String, Template>;

/// The stored templates (empty when never set).
pub fn load(c: &Connection) -> Result<Templates> {
    let raw: Option<String> = c
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [SETTING_KEY],
            |r| r.get(0),
        )
        .optional()?;
    match raw {
        None => Ok(Templates::new()),
        Some(s) => serde_json::from_str(&s).map_err(AppError::internal),
    }
}

/// True when `id` looks like a WeChat template id.
pub fn valid_template_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// True when `key` is a template key such as `thing1` or `character_string12`.
fn valid_key(key: &str) -> bool {
    let kind = key.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = key.len() - kind.len();
    KEY_TYPES.contains(&kind) && (1..=3).contains(&digits)
}

/// Check a whole template map; every problem is reported by its path (`membership.approved.data.thing1`).
pub fn validate(t: &Templates) -> Result<()> {
    let mut errors = FieldErrors::new();
    if t.len() > EVENTS.len() {
        errors.insert("templates".into(), "模板配置过多".into());
    }
    for (event, tpl) in t {
        if !EVENTS.contains(&event.as_str()) {
            errors.insert(
                event.clone(),
                format!("未知的事件类型，可选：{}", EVENTS.join("、")),
            );
            continue;
        }
        if !valid_template_id(&tpl.template_id) {
            errors.insert(
                format!("{event}.template_id"),
                "模板 ID 须为 1 到 64 位字母、数字、下划线或短横线".into(),
            );
        }
        if let Some(p) = &tpl.page
            && (p.is_empty()
                || p.chars().count() > 200
                || p.starts_with('/')
                || p.contains("://")
                || p.chars().any(|c| c.is_control() || c.is_whitespace()))
        {
            errors.insert(
                format!("{event}.page"),
                "页面路径须为小程序页面，如 pages/msg/index，不超过 200 个字符".into(),
            );
        }
        if tpl.data.is_empty() || tpl.data.len() > 20 {
            errors.insert(format!("{event}.data"), "模板字段须为 1 到 20 项".into());
        }
        for (key, field) in &tpl.data {
            if !valid_key(key) {
                errors.insert(
                    format!("{event}.data.{key}"),
                    "模板字段名无效，应如 thing1、time2、phrase3".into(),
                );
            } else if !FIELDS.contains(&field.as_str()) {
                errors.insert(
                    format!("{event}.data.{key}"),
                    format!("未知的通知字段，可选：{}", FIELDS.join("、")),
                );
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// The subscription templates per event type.
#[utoipa::path(get, path = "/api/v1/admin/settings/subscription-templates", tag = "消息", security(("bearer" = [])),
    responses((status = 200, body = BTreeMap<String, Template>), (status = 403)))]
pub async fn get(State(st): State<AppState>, me: AdminAuth) -> Result<Response> {
    me.require(codes::SETTING_READ)?;
    Ok(ok(st.db.read(load).await?))
}

/// One event's template id, as the member client needs it for WeChat's subscription prompt.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AppTemplate {
    /// Event type, e.g. `activity.approved`.
    pub event: String,
    /// WeChat template id.
    pub template_id: String,
}

/// The configured templates (at most one per event type, so the list is short and unpaged).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AppTemplates {
    /// Event types with a template.
    pub items: Vec<AppTemplate>,
}

/// Template ids per event for the mini-program's subscription prompt (ids only: the field
/// mapping is the server's business).
#[utoipa::path(get, path = "/api/v1/app/subscriptions/templates", tag = "消息", security(("bearer" = [])),
    responses((status = 200, body = AppTemplates), (status = 401)))]
pub async fn app_list(
    State(st): State<AppState>,
    _me: crate::members::auth::MemberAuth,
) -> Result<Response> {
    let all = st.db.read(load).await?;
    let items = all
        .into_iter()
        .filter(|(_, t)| !t.template_id.is_empty())
        .map(|(event, t)| AppTemplate {
            event,
            template_id: t.template_id,
        })
        .collect();
    Ok(ok(AppTemplates { items }))
}

/// Replace the subscription templates (the whole map).
#[utoipa::path(put, path = "/api/v1/admin/settings/subscription-templates", tag = "消息", security(("bearer" = [])),
    request_body = BTreeMap<String, Template>,
    responses((status = 200, body = BTreeMap<String, Template>), (status = 400), (status = 403)))]
pub async fn put(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(mut req): AppJson<Templates>,
) -> Result<Response> {
    let scope = me.require(codes::SETTING_WRITE)?;
    for tpl in req.values_mut() {
        tpl.template_id = tpl.template_id.trim().to_string();
        tpl.page = tpl.page.as_deref().map(str::trim).map(String::from);
    }
    validate(&req)?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            scope.require_whole_tree(c, "订阅消息模板")?;
            let before = load(c)?;
            let value = serde_json::to_string(&req).map_err(AppError::internal)?;
            c.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                params![SETTING_KEY, value, crate::time::now()],
            )?;
            let changed: Vec<&str> = EVENTS
                .iter()
                .copied()
                .filter(|e| before.get(*e) != req.get(*e))
                .collect();
            let summary = json!({"events": req.keys().collect::<Vec<_>>(), "changed": changed});
            audit::record(
                c,
                &actor,
                &Entry::success("setting.update", "setting", SETTING_KEY, summary),
            )?;
            Ok(req)
        })
        .await?;
    Ok(ok(out))
}

/// Fill the template keys from a notice's fields. Times given as RFC 3339 are shown the way
/// WeChat's `time` type expects (`2026-12-01 09:00`, Beijing time); a missing value becomes
/// `-` so WeChat never sees an empty `thing`.
pub fn fill(tpl: &Template, fields: &Value) -> BTreeMap<String, String> {
    tpl.data
        .iter()
        .map(|(key, field)| {
            let raw = match &fields[field.as_str()] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            let is_time = key.starts_with("time") || key.starts_with("date");
            let value = match crate::time::parse(raw.trim()) {
                Some(ts) if is_time => display_time(ts),
                _ if raw.trim().is_empty() => "-".to_string(),
                _ => raw,
            };
            (key.clone(), value)
        })
        .collect()
}

/// `2026-12-01 09:00` in Beijing time.
pub fn display_time(ts: i64) -> String {
    crate::time::fmt(ts)
        .get(..16)
        .map(|s| s.replacen('T', " ", 1))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tpl(id: &str, data: &[(&str, &str)]) -> Template {
        Template {
            template_id: id.into(),
            page: None,
            data: data
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn validation_names_every_bad_part() {
        let mut t = Templates::new();
        t.insert(
            "membership.approved".into(),
            tpl("TPL_OK", &[("thing1", "title")]),
        );
        validate(&t).unwrap();
        t.insert("nope".into(), tpl("TPL_OK", &[("thing1", "title")]));
        t.insert(
            "membership.rejected".into(),
            tpl("bad id!", &[("thingy", "title"), ("phrase2", "salary")]),
        );
        let Err(AppError::Validation(f)) = validate(&t) else {
            panic!()
        };
        assert!(f.contains_key("nope"));
        assert!(f.contains_key("membership.rejected.template_id"));
        assert!(f.contains_key("membership.rejected.data.thingy"));
        assert!(f.contains_key("membership.rejected.data.phrase2"));
    }

    #[test]
    fn fill_maps_fields_and_formats_times() {
        let t = tpl(
            "T",
            &[
                ("thing1", "title"),
                ("time2", "time"),
                ("phrase3", "reason"),
            ],
        );
        let v = json!({"title": "入会申请", "time": "2026-12-01T01:00:00Z"});
        let d = fill(&t, &v);
        assert_eq!(d["thing1"], "入会申请");
        assert_eq!(d["time2"], "2026-12-01 09:00");
        assert_eq!(d["phrase3"], "-");
    }
}
