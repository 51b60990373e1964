//! 参数设置 the system admin may change while the service runs: a short, fixed list of
//! installation settings whose new value is simply read by the next request (points rules,
//! check-in rules, the public address). They are stored in the `settings` table and take
//! effect at once. As on Vaultwarden's admin page, a setting that `config.toml`, a `GONGHUI_*`
//! environment variable or the command line sets wins over the stored one and is read-only
//! here, with its source shown: the operator who put it there owns it.
//!
//! Everything else (listen address, storage, secrets, WeChat credentials) needs a restart and
//! stays in the configuration file.

use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::config::Config;
use crate::error::{AppError, AppJson, Result};
use crate::points::config::PointsConfig;
use crate::system::config_view::{self, Source};
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, params};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// Prefix of the `settings` rows holding these values (`config:points.daily_cap`).
const ROW_PREFIX: &str = "config:";

/// The value a setting takes.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A whole number within bounds.
    Int {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// An `http(s)://` address or empty.
    Url,
}

/// One setting that may be changed at runtime.
#[derive(Debug)]
pub struct Spec {
    /// Dotted key as in `config.toml`.
    pub key: &'static str,
    /// Its Chinese name.
    pub label: &'static str,
    /// What it does, in the clerk's words.
    pub help: &'static str,
    /// Its type and bounds.
    pub kind: Kind,
}

/// The settings that may be changed at runtime, sorted by key. Each is read per request, so a
/// change needs no restart; none affects security, storage or connections.
pub const SPECS: &[Spec] = &[
    Spec {
        key: "activities.checkin_code_ttl_secs",
        label: "签到码有效期（秒）",
        help: "现场签到二维码每隔多少秒更换一次",
        kind: Kind::Int { min: 5, max: 60 },
    },
    Spec {
        key: "activities.checkin_open_before_minutes",
        label: "提前开放签到（分钟）",
        help: "活动开始前多少分钟可以签到",
        kind: Kind::Int { min: 0, max: 1440 },
    },
    Spec {
        key: "activities.default_checkin_radius_m",
        label: "默认签到半径（米）",
        help: "活动设置了场地位置但未设置半径时使用",
        kind: Kind::Int {
            min: 10,
            max: 10000,
        },
    },
    Spec {
        key: "points.daily_cap",
        label: "每日自动积分上限",
        help: "会员每天从签到、入会、活动签到获得的积分上限，0 表示不限",
        kind: Kind::Int {
            min: 0,
            max: 1_000_000,
        },
    },
    Spec {
        key: "points.membership_bonus",
        label: "入会奖励积分",
        help: "入会申请通过时赠送的积分，0 表示不送",
        kind: Kind::Int {
            min: 0,
            max: 100_000,
        },
    },
    Spec {
        key: "points.sign_in_points",
        label: "每日签到积分",
        help: "会员每日签到获得的积分，0 表示关闭签到",
        kind: Kind::Int { min: 0, max: 10000 },
    },
    Spec {
        key: "public_base_url",
        label: "对外访问地址",
        help: "会员端与小程序访问本系统的地址，如 https://gh.example.gov.cn；用于生成小程序代码包",
        kind: Kind::Url,
    },
];

/// The spec of `key`.
pub fn spec(key: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.key == key)
}

/// The runtime settings in effect.
#[derive(Debug, Clone)]
pub struct Tunables {
    /// `public_base_url`.
    pub public_base_url: String,
    /// `points.*`.
    pub points: PointsConfig,
    /// `activities.checkin_open_before_minutes`.
    pub checkin_open_before_minutes: i64,
    /// `activities.checkin_code_ttl_secs`.
    pub checkin_code_ttl_secs: i64,
    /// `activities.default_checkin_radius_m`.
    pub default_checkin_radius_m: i64,
}

impl Tunables {
    fn from_config(cfg: &Config) -> Tunables {
        Tunables {
            public_base_url: cfg.public_base_url.clone(),
            points: cfg.points.clone(),
            checkin_open_before_minutes: cfg.activities.checkin_open_before_minutes,
            checkin_code_ttl_secs: cfg.activities.checkin_code_ttl_secs,
            default_checkin_radius_m: cfg.activities.default_checkin_radius_m,
        }
    }

    /// The value of `key` as JSON.
    pub fn get(&self, key: &str) -> Value {
        match key {
            "public_base_url" => json!(self.public_base_url),
            "points.sign_in_points" => json!(self.points.sign_in_points),
            "points.membership_bonus" => json!(self.points.membership_bonus),
            "points.daily_cap" => json!(self.points.daily_cap),
            "activities.checkin_open_before_minutes" => json!(self.checkin_open_before_minutes),
            "activities.checkin_code_ttl_secs" => json!(self.checkin_code_ttl_secs),
            "activities.default_checkin_radius_m" => json!(self.default_checkin_radius_m),
            _ => Value::Null,
        }
    }

    /// Set `key` from an already validated value.
    fn set(&mut self, key: &str, v: &Value) {
        let int = v.as_i64().unwrap_or_default();
        match key {
            "public_base_url" => self.public_base_url = v.as_str().unwrap_or_default().into(),
            "points.sign_in_points" => self.points.sign_in_points = int,
            "points.membership_bonus" => self.points.membership_bonus = int,
            "points.daily_cap" => self.points.daily_cap = int,
            "activities.checkin_open_before_minutes" => self.checkin_open_before_minutes = int,
            "activities.checkin_code_ttl_secs" => self.checkin_code_ttl_secs = int,
            "activities.default_checkin_radius_m" => self.default_checkin_radius_m = int,
            _ => {}
        }
    }
}

/// Check `v` against `spec`, recording a Chinese message on the setting's key; returns the
/// normalised value.
fn check_value(spec: &Spec, v: &Value, check: &mut Check) -> Value {
    match spec.kind {
        Kind::Int { min, max } => match v.as_i64() {
            Some(n) if (min..=max).contains(&n) => json!(n),
            _ => {
                check.fail(
                    spec.key,
                    format!("{}须为 {min} 到 {max} 之间的整数", spec.label),
                );
                Value::Null
            }
        },
        Kind::Url => {
            let Some(s) = v.as_str() else {
                check.fail(spec.key, format!("{}须为文本", spec.label));
                return Value::Null;
            };
            let s = s.trim().trim_end_matches('/');
            let scheme_ok = s.is_empty() || s.starts_with("http://") || s.starts_with("https://");
            let host = s.split_once("://").map_or("", |(_, h)| h);
            if !scheme_ok {
                check.fail(spec.key, "地址须以 http:// 或 https:// 开头");
            } else if s.chars().count() > 200 {
                check.fail(spec.key, "地址不能超过 200 个字符");
            } else if !s.is_empty() && host.is_empty() {
                check.fail(spec.key, "地址缺少域名");
            // The address lands in links and in the mini-program's JavaScript.
            } else if s
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "\"'`\\<>".contains(c))
            {
                check.fail(spec.key, "地址含有不允许的字符（空格、引号或尖括号）");
            }
            json!(s)
        }
    }
}

/// A setting that config.toml, the environment or the command line sets (and so wins).
#[derive(Debug, Clone)]
pub struct Pinned {
    /// Where it is set.
    pub source: Source,
}

#[derive(Debug)]
struct Current {
    /// Values stored in the database (valid ones only), by key.
    stored: BTreeMap<String, Value>,
    /// What requests read.
    tunables: Arc<Tunables>,
    /// Order of the write that stored them (writes run one at a time, so this orders commits).
    seq: u64,
}

/// The runtime settings: the configured values, the stored overrides and which keys the
/// configuration pins.
#[derive(Debug)]
pub struct Live {
    base: Tunables,
    pinned: BTreeMap<&'static str, Pinned>,
    cur: RwLock<Current>,
    next_seq: std::sync::atomic::AtomicU64,
}

impl Live {
    /// Start from the configuration and the rows stored in the database. Which keys the
    /// configuration pins is read from `config.toml` and the environment (blocking I/O: call at
    /// start-up only).
    pub fn open(cfg: &Config, c: &Connection) -> Result<Live> {
        let fig = Config::sources(&cfg.data_dir);
        let pinned = SPECS
            .iter()
            .filter_map(|s| {
                let source =
                    config_view::source_of(&fig, s.key, &Tunables::from_config(cfg).get(s.key));
                (source != Source::Default).then_some((s.key, Pinned { source }))
            })
            .collect();
        let live = Live {
            base: Tunables::from_config(cfg),
            pinned,
            cur: RwLock::new(Current {
                stored: BTreeMap::new(),
                tunables: Arc::new(Tunables::from_config(cfg)),
                seq: 0,
            }),
            next_seq: std::sync::atomic::AtomicU64::new(1),
        };
        live.install(load_stored(c)?, 0);
        Ok(live)
    }

    /// The settings in effect now.
    pub fn get(&self) -> Arc<Tunables> {
        self.cur
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .tunables
            .clone()
    }

    /// Where the configuration sets `key`, when it does.
    pub fn pinned(&self, key: &str) -> Option<&Pinned> {
        self.pinned.get(key)
    }

    /// The stored value of `key` when it is the one in effect.
    pub fn stored(&self, key: &str) -> Option<Value> {
        if self.pinned.contains_key(key) {
            return None;
        }
        let cur = self.cur.read().unwrap_or_else(|e| e.into_inner());
        cur.stored.get(key).cloned()
    }

    /// Apply the stored rows of write `seq` unless a later write already did.
    fn install(&self, stored: BTreeMap<String, Value>, seq: u64) {
        let mut t = self.base.clone();
        let mut valid = BTreeMap::new();
        for (key, v) in stored {
            let Some(spec) = spec(&key) else { continue };
            let mut check = Check::new();
            let v = check_value(spec, &v, &mut check);
            // A value an older version accepted but this one does not is ignored, not fatal.
            if check.finish().is_err() {
                tracing::warn!(key, "stored setting out of range, ignored");
                continue;
            }
            if !self.pinned.contains_key(spec.key) {
                t.set(spec.key, &v);
            }
            valid.insert(key, v);
        }
        let mut cur = self.cur.write().unwrap_or_else(|e| e.into_inner());
        if seq >= cur.seq {
            *cur = Current {
                stored: valid,
                tunables: Arc::new(t),
                seq,
            };
        }
    }
}

/// The stored rows, by key.
fn load_stored(c: &Connection) -> Result<BTreeMap<String, Value>> {
    let mut stmt = c.prepare("SELECT key, value FROM settings WHERE key LIKE 'config:%'")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (key, value) = row?;
        if let (Some(k), Ok(v)) = (
            key.strip_prefix(ROW_PREFIX),
            serde_json::from_str::<Value>(&value),
        ) {
            out.insert(k.to_string(), v);
        }
    }
    Ok(out)
}

/// `Some(v)` for a present field (even `null`), so absent and `null` differ.
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Changes to the runtime settings: a field left out stays as it is, `null` goes back to the
/// value of the configuration (its default). Settings the configuration file or environment
/// sets cannot be changed here.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    /// 对外访问地址: `http(s)://…`, or empty.
    #[serde(rename = "public_base_url", default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub public_base_url: Option<Option<String>>,
    /// 每日签到积分 (0 turns the sign-in off).
    #[serde(
        rename = "points.sign_in_points",
        default,
        deserialize_with = "present"
    )]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10000)]
    pub sign_in_points: Option<Option<i64>>,
    /// 入会奖励积分.
    #[serde(
        rename = "points.membership_bonus",
        default,
        deserialize_with = "present"
    )]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 100000)]
    pub membership_bonus: Option<Option<i64>>,
    /// 每日自动积分上限 (0 = no cap).
    #[serde(rename = "points.daily_cap", default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1000000)]
    pub daily_cap: Option<Option<i64>>,
    /// 提前开放签到（分钟）.
    #[serde(
        rename = "activities.checkin_open_before_minutes",
        default,
        deserialize_with = "present"
    )]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1440)]
    pub checkin_open_before_minutes: Option<Option<i64>>,
    /// 签到码有效期（秒）.
    #[serde(
        rename = "activities.checkin_code_ttl_secs",
        default,
        deserialize_with = "present"
    )]
    #[schema(value_type = Option<i64>, minimum = 5, maximum = 60)]
    pub checkin_code_ttl_secs: Option<Option<i64>>,
    /// 默认签到半径（米）.
    #[serde(
        rename = "activities.default_checkin_radius_m",
        default,
        deserialize_with = "present"
    )]
    #[schema(value_type = Option<i64>, minimum = 10, maximum = 10000)]
    pub default_checkin_radius_m: Option<Option<i64>>,
}

impl SettingsUpdate {
    /// The fields sent: key and new value (`None` = back to the configured value).
    fn changes(self) -> Vec<(&'static str, Option<Value>)> {
        let int = |v: Option<Option<i64>>| v.map(|o| o.map(Value::from));
        [
            (
                "public_base_url",
                self.public_base_url.map(|o| o.map(Value::from)),
            ),
            ("points.sign_in_points", int(self.sign_in_points)),
            ("points.membership_bonus", int(self.membership_bonus)),
            ("points.daily_cap", int(self.daily_cap)),
            (
                "activities.checkin_open_before_minutes",
                int(self.checkin_open_before_minutes),
            ),
            (
                "activities.checkin_code_ttl_secs",
                int(self.checkin_code_ttl_secs),
            ),
            (
                "activities.default_checkin_radius_m",
                int(self.default_checkin_radius_m),
            ),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    }
}

/// Change runtime settings (`setting:write` over the whole org tree). They take effect at
/// the next request; the answer is the whole settings list as `GET` gives it.
#[utoipa::path(put, path = "/api/v1/admin/settings/config", tag = "系统设置", security(("bearer" = [])),
    request_body = SettingsUpdate,
    responses((status = 200, body = Vec<config_view::ConfigItem>),
        (status = 400, description = "validation_failed：参数超出范围，或该参数由配置文件、环境变量设置"),
        (status = 403)))]
pub async fn update(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(req): AppJson<SettingsUpdate>,
) -> Result<Response> {
    let scope = me.require(codes::SETTING_WRITE)?;
    let changes = req.changes();
    if changes.is_empty() {
        return Err(AppError::BadRequest("没有要修改的参数".into()));
    }
    let mut check = Check::new();
    let mut rows: Vec<(&'static Spec, Option<Value>)> = Vec::new();
    for (key, v) in changes {
        let Some(spec) = spec(key) else { continue };
        if let Some(p) = st.live.pinned(key) {
            let env = format!("GONGHUI_{}", key.replace('.', "__").to_uppercase());
            check.fail(
                key,
                format!(
                    "该参数已由{}设置（{env}），请在那里修改后重启服务",
                    config_view::source_label(p.source)
                ),
            );
            continue;
        }
        let v = v.map(|v| check_value(spec, &v, &mut check));
        rows.push((spec, v));
    }
    check.finish()?;
    let actor = me.actor();
    let live = st.clone();
    let seq = st
        .db
        .write(move |c| {
            scope.require_whole_tree(c, "安装参数")?;
            let now = crate::time::now();
            let before = live.live.get();
            let (mut fields, mut from, mut to) = (Vec::new(), Map::new(), Map::new());
            for (spec, v) in &rows {
                let row_key = format!("{ROW_PREFIX}{}", spec.key);
                let new = match v {
                    Some(v) => {
                        c.execute(
                            "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)
                             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                            params![row_key, v.to_string(), now],
                        )?;
                        v.clone()
                    }
                    None => {
                        c.execute("DELETE FROM settings WHERE key = ?1", [&row_key])?;
                        live.live.base.get(spec.key)
                    }
                };
                let old = before.get(spec.key);
                if old != new {
                    fields.push(spec.label);
                    from.insert(spec.label.into(), old);
                    to.insert(spec.label.into(), new);
                }
            }
            let stored = load_stored(c)?;
            let summary = json!({"fields": fields, "from": from, "to": to});
            audit::record(
                c,
                &actor,
                &Entry::success("setting.update", "setting", "config", summary),
            )?;
            // Taken inside the writer, so the order of the numbers is the order of commits.
            let seq = live
                .live
                .next_seq
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok((stored, seq))
        })
        .await?;
    st.live.install(seq.0, seq.1);
    let cfg = st.cfg.clone();
    let live = st.clone();
    let out = tokio::task::spawn_blocking(move || config_view::items(&cfg, &live.live))
        .await
        .map_err(AppError::internal)?;
    Ok(crate::error::ok(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_sorted_and_read_back() {
        assert!(SPECS.windows(2).all(|w| w[0].key < w[1].key));
        let mut t = Tunables::from_config(&Config::default());
        for s in SPECS {
            let v = match s.kind {
                Kind::Int { max, .. } => json!(max),
                Kind::Url => json!("https://gh.example.cn"),
            };
            t.set(s.key, &v);
            assert_eq!(t.get(s.key), v, "{}", s.key);
        }
    }

    #[test]
    fn values_are_checked_with_chinese_messages() {
        let mut check = Check::new();
        let url = spec("public_base_url").unwrap();
        assert_eq!(
            check_value(url, &json!(" https://a.cn/ "), &mut check),
            "https://a.cn"
        );
        assert!(check.finish().is_ok());
        for bad in [
            json!("ftp://a"),
            json!("https://a.cn/\"x"),
            json!(3),
            json!("https://"),
        ] {
            let mut check = Check::new();
            check_value(url, &bad, &mut check);
            assert!(check.finish().is_err(), "{bad}");
        }
        let ttl = spec("activities.checkin_code_ttl_secs").unwrap();
        let mut check = Check::new();
        check_value(ttl, &json!(61), &mut check);
        let Err(AppError::Validation(f)) = check.finish() else {
            panic!("61 accepted")
        };
        assert!(f["activities.checkin_code_ttl_secs"].contains("5 到 60"));
    }
}
