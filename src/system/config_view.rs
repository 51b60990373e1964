//! 参数设置: the effective installation configuration, read-only, with where each value
//! came from (built-in default, `config.toml`, a `GONGHUI_*` environment variable or the
//! command line), as Vaultwarden's admin page shows overrides. Secrets are redacted.

use super::settings::{self, Live};
use crate::app::AppState;
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::config::Config;
use crate::error::{Result, ok};
use axum::extract::State;
use axum::response::Response;
use figment::Figment;
use serde::Serialize;
use serde_json::Value;

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Built-in default.
    Default,
    /// `<data_dir>/config.toml`.
    File,
    /// A `GONGHUI_*` environment variable.
    Env,
    /// A command-line option (`--data-dir`, `--listen`).
    Cli,
    /// Changed on the 参数设置 page (stored in the database; see `system::settings`).
    Database,
}

/// The Chinese name of a source.
pub fn source_label(s: Source) -> &'static str {
    match s {
        Source::Default => "默认值",
        Source::File => "配置文件",
        Source::Env => "环境变量",
        Source::Cli => "命令行参数",
        Source::Database => "参数设置",
    }
}

/// One configuration value.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConfigItem {
    /// Dotted key as in `config.toml`, e.g. `auth.admin_access_ttl_secs`.
    pub key: String,
    /// The value in effect (secrets as `***`): a string, number, boolean, list or null.
    pub value: Value,
    /// Where it came from.
    pub source: Source,
    /// That source's Chinese name.
    pub source_label: &'static str,
    /// The environment variable that would override it.
    pub env_var: String,
    /// True when it may be changed on this page (a runtime setting the configuration does
    /// not set); see `PUT /api/v1/admin/settings/config`.
    pub editable: bool,
    /// Chinese name of a runtime setting (null for the others).
    pub label: Option<&'static str>,
    /// What a runtime setting does (null for the others).
    pub help: Option<&'static str>,
    /// Smallest allowed value of a numeric runtime setting.
    pub min: Option<i64>,
    /// Largest allowed value of a numeric runtime setting.
    pub max: Option<i64>,
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        _ => out.push((prefix.to_string(), v.clone())),
    }
}

/// The source of `key` in `fig`; `effective` differing from what the layers give means a
/// command-line option set it.
pub fn source_of(fig: &Figment, key: &str, effective: &Value) -> Source {
    let layered: Option<Value> = fig.extract_inner(key).ok();
    if layered.as_ref().is_some_and(|l| l != effective) && (key == "listen" || key == "data_dir") {
        return Source::Cli;
    }
    match fig.find_metadata(key) {
        Some(md) if matches!(md.source, Some(figment::Source::File(_))) => Source::File,
        Some(md) if md.name.contains("environment") => Source::Env,
        _ => Source::Default,
    }
}

/// Every configuration value with its source, sorted by key; runtime settings as `live` has
/// them (a stored value shows as source `database`).
pub fn items(cfg: &Config, live: &Live) -> Vec<ConfigItem> {
    let fig = Config::sources(&cfg.data_dir);
    let mut flat = Vec::new();
    flatten("", &cfg.redacted(), &mut flat);
    flat.sort_by(|a, b| a.0.cmp(&b.0));
    flat.into_iter()
        .map(|(key, value)| {
            let mut source = source_of(&fig, &key, &value);
            let mut value = value;
            let spec = settings::spec(&key);
            if let Some(v) = spec.and_then(|_| live.stored(&key)) {
                (source, value) = (Source::Database, v);
            }
            let (min, max) = match spec.map(|s| s.kind) {
                Some(settings::Kind::Int { min, max }) => (Some(min), Some(max)),
                _ => (None, None),
            };
            ConfigItem {
                env_var: format!("GONGHUI_{}", key.replace('.', "__").to_uppercase()),
                source_label: source_label(source),
                editable: spec.is_some() && live.pinned(&key).is_none(),
                label: spec.map(|s| s.label),
                help: spec.map(|s| s.help),
                min,
                max,
                source,
                value,
                key,
            }
        })
        .collect()
}

/// The effective installation configuration (`setting:read` over the whole org tree). The
/// runtime settings (`editable`) are changed with `PUT`; the rest in `config.toml` or the
/// environment, then restart.
#[utoipa::path(get, path = "/api/v1/admin/settings/config", tag = "系统设置", security(("bearer" = [])),
    responses((status = 200, body = Vec<ConfigItem>), (status = 403)))]
pub async fn config(State(st): State<AppState>, me: AdminAuth) -> Result<Response> {
    let scope = me.require(codes::SETTING_READ)?;
    st.db
        .read(move |c| scope.require_whole_tree(c, "安装参数"))
        .await?;
    // Reads config.toml again to learn the sources: blocking file I/O off the executor.
    let cfg = st.cfg.clone();
    let state = st.clone();
    let out = tokio::task::spawn_blocking(move || items(&cfg, &state.live))
        .await
        .map_err(crate::error::AppError::internal)?;
    Ok(ok(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_told_apart_and_secrets_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.execute_batch("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL); INSERT INTO settings VALUES ('config:points.daily_cap', '7', 0), ('config:activities.checkin_code_ttl_secs', '30', 0);").unwrap();
        std::fs::write(dir.path().join("config.toml"), "[auth]\nadmin_access_ttl_secs = 1200\n[wechat]\nsecret = \"s3cret\"\n[activities]\ncheckin_code_ttl_secs = 20\n").unwrap();
        let mut cfg: Config = Config::sources(dir.path()).extract().unwrap();
        cfg.data_dir = dir.path().to_path_buf();
        let live = Live::open(&cfg, &db).unwrap();
        let items = items(&cfg, &live);
        let get = |k: &str| items.iter().find(|i| i.key == k).unwrap();
        assert_eq!(get("auth.admin_access_ttl_secs").source, Source::File);
        assert_eq!(get("auth.admin_access_ttl_secs").value, 1200);
        assert_eq!(get("auth.app_access_ttl_secs").source, Source::Default);
        assert_eq!(get("wechat.secret").value, "***");
        assert_eq!(
            get("auth.app_access_ttl_secs").env_var,
            "GONGHUI_AUTH__APP_ACCESS_TTL_SECS"
        );
        assert!(items.iter().all(|i| i.key != "field_key"));
        // A stored runtime setting is in effect and shown as such; one the file pins is not.
        assert_eq!(get("points.daily_cap").source, Source::Database);
        assert_eq!(get("points.daily_cap").value, 7);
        assert!(get("points.daily_cap").editable);
        assert_eq!(live.get().points.daily_cap, 7);
        let ttl = get("activities.checkin_code_ttl_secs");
        assert_eq!((ttl.source, ttl.editable), (Source::File, false));
        assert_eq!(live.get().checkin_code_ttl_secs, 20);
        assert!(!get("auth.admin_access_ttl_secs").editable);
    }
}
