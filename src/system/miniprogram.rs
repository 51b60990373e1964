//! The WeChat mini-program code package: the member client's mp-weixin build, embedded in the
//! binary like the admin UI, handed to the office as a zip that WeChat's developer tool opens
//! and uploads as it is. The zip carries this installation's AppID (`wechat.appid`) in
//! `project.config.json` and its public address (`public_base_url`) in the API client, where
//! the build left a placeholder (`assets/member/vite.config.ts`).

use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::AdminAuth;
use crate::auth::permissions::codes;
use crate::error::{AppError, Result};
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use rust_embed::RustEmbed;
use serde_json::json;
use std::io::Write;

/// The built mini-program (committed, so `cargo build` needs no Node).
#[derive(RustEmbed)]
#[folder = "assets/member/dist/mp-weixin/"]
struct MpAssets;

/// What the build writes where the API address goes.
pub const API_BASE_PLACEHOLDER: &str = "@@GONGHUI_API_BASE@@";

/// Why the package cannot be made yet, in the admin's words.
fn not_configured(what: &str, place: &str) -> AppError {
    AppError::conflict_code(
        "miniprogram_not_configured",
        format!("尚未配置{what}，无法生成小程序代码包。请在{place}中设置，详见部署说明。"),
    )
}

/// The AppID and API address the package is made for, checked.
fn target(st: &AppState) -> Result<(String, String)> {
    let appid = st.cfg.wechat.appid.trim().to_string();
    if appid.is_empty() {
        return Err(not_configured("小程序 AppID（wechat.appid）", "配置文件"));
    }
    let base = st
        .live
        .get()
        .public_base_url
        .trim()
        .trim_end_matches('/')
        .to_string();
    if base.is_empty() {
        return Err(not_configured(
            "对外访问地址（public_base_url）",
            "“参数设置”页面或配置文件",
        ));
    }
    // The address lands inside a JavaScript string: nothing that could end or escape it.
    if base
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "\"'`\\<>".contains(c))
    {
        return Err(AppError::conflict_code(
            "miniprogram_not_configured",
            "对外访问地址（public_base_url）含有不允许的字符",
        ));
    }
    Ok((appid, base))
}

/// Build the zip: every file of the build, the placeholder replaced by `base`, the AppID set.
pub fn build_zip(appid: &str, base: &str) -> Result<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    let mut zw = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut names: Vec<String> = MpAssets::iter().map(|n| n.into_owned()).collect();
    names.sort();
    if !names.iter().any(|n| n == "app.json") {
        return Err(AppError::internal("mini-program build missing (app.json)"));
    }
    let mut placed = false;
    for name in &names {
        let Some(file) = MpAssets::get(name) else {
            continue;
        };
        let data: Vec<u8> = if name == "project.config.json" {
            project_config(&file.data, appid)?
        } else if name.ends_with(".js") {
            let text = String::from_utf8_lossy(&file.data);
            if text.contains(API_BASE_PLACEHOLDER) {
                placed = true;
                text.replace(API_BASE_PLACEHOLDER, base).into_bytes()
            } else {
                file.data.into_owned()
            }
        } else {
            file.data.into_owned()
        };
        zw.start_file(name.as_str(), opts)
            .map_err(AppError::internal)?;
        zw.write_all(&data).map_err(AppError::internal)?;
    }
    if !placed {
        return Err(AppError::internal(
            "mini-program build has no API address placeholder",
        ));
    }
    Ok(zw.finish().map_err(AppError::internal)?.into_inner())
}

/// The build's `project.config.json` with this office's AppID.
fn project_config(raw: &[u8], appid: &str) -> Result<Vec<u8>> {
    let mut cfg: serde_json::Value = serde_json::from_slice(raw).map_err(AppError::internal)?;
    let obj = cfg
        .as_object_mut()
        .ok_or_else(|| AppError::internal("project.config.json is not an object"))?;
    obj.insert("appid".into(), json!(appid));
    obj.insert("projectname".into(), json!("工会服务"));
    serde_json::to_vec_pretty(&cfg).map_err(AppError::internal)
}

/// Download the mini-program code package (zip) made for this installation.
#[utoipa::path(get, path = "/api/v1/admin/miniprogram/package", tag = "系统", security(("bearer" = [])),
    responses(
        (status = 200, description = "小程序代码包（zip）", content_type = "application/zip"),
        (status = 403), (status = 409, description = "未配置 AppID 或对外访问地址")))]
pub async fn package(State(st): State<AppState>, me: AdminAuth) -> Result<Response> {
    let scope = me.require(codes::MINIPROGRAM_DOWNLOAD)?;
    // The package is the whole installation's: only an account over the whole tree gets it.
    st.db
        .read({
            let scope = scope.clone();
            move |c| scope.require_whole_tree(c, "小程序代码包")
        })
        .await?;
    let (appid, base) = target(&st)?;
    let (a, b) = (appid.clone(), base.clone());
    let bytes = tokio::task::spawn_blocking(move || build_zip(&a, &b))
        .await
        .map_err(AppError::internal)??;
    let actor = me.actor();
    let size = bytes.len();
    st.db
        .write(move |c| {
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "miniprogram.package",
                    "miniprogram",
                    &appid,
                    json!({"appid": appid, "api_base": base, "bytes": size}),
                ),
            )?;
            Ok(())
        })
        .await?;
    crate::http::private_attachment(
        "application/zip",
        size as u64,
        "filename=\"gonghui-miniprogram.zip\"",
        Body::from(bytes),
    )
}
