//! One error type for the whole service, mapped to the JSON error shape of API.md in one place.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::BTreeMap;

/// Result alias used by handlers, repositories and jobs.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Field name → Chinese message, for `400 validation_failed`.
pub type FieldErrors = BTreeMap<String, String>;

/// Every failure the API can answer with. Internal errors keep their cause for the log only.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400 with per-field messages.
    #[error("validation failed")]
    Validation(FieldErrors),
    /// 400 for a request that is malformed as a whole (bad JSON, wrong content).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 400 with a precise code, e.g. `content_rejected` (content safety refused the text).
    #[error("rejected {code}: {message}")]
    Rejected {
        /// snake_case code.
        code: &'static str,
        /// Chinese message for the user.
        message: String,
    },
    /// 401: no token, bad token, wrong audience, revoked.
    #[error("unauthenticated")]
    Unauthenticated(String),
    /// 403: authenticated but lacking the permission (or an action not allowed to this actor).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404: missing or outside the caller's data scope (the two are indistinguishable).
    #[error("not found")]
    NotFound,
    /// 409 and friends: a state conflict with a precise code.
    #[error("conflict {code}: {message}")]
    Conflict {
        /// snake_case code such as `conflict`, `already_registered`.
        code: &'static str,
        /// Chinese message for the user.
        message: String,
    },
    /// 413.
    #[error("payload too large")]
    PayloadTooLarge(String),
    /// 415.
    #[error("unsupported media type")]
    UnsupportedMediaType(String),
    /// 423.
    #[error("account locked")]
    Locked(String),
    /// 429.
    #[error("rate limited")]
    RateLimited,
    /// 503: the service is misconfigured or an outside system is unavailable.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// 503 `disk_full`: the data disk has no room for the write (nothing was written).
    #[error("disk full")]
    DiskFull,
    /// 500: logged with its cause, answered without it.
    #[error("internal: {0}")]
    Internal(String),
}

impl AppError {
    /// Validation error on a single field.
    pub fn field(name: &str, message: impl Into<String>) -> Self {
        let mut f = FieldErrors::new();
        f.insert(name.to_string(), message.into());
        AppError::Validation(f)
    }

    /// A plain `409 conflict` with a Chinese message.
    pub fn conflict(message: impl Into<String>) -> Self {
        AppError::Conflict {
            code: "conflict",
            message: message.into(),
        }
    }

    /// A 409 with a precise code.
    pub fn conflict_code(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Conflict {
            code,
            message: message.into(),
        }
    }

    /// Wrap any error as internal (500); the cause goes to the log only. A cause that says the
    /// disk is full is the 503 `disk_full` instead: the client may retry once space is freed.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        let cause = e.to_string();
        if crate::disk::text_says_full(&cause) {
            tracing::warn!(%cause, "write refused: disk full");
            return AppError::DiskFull;
        }
        AppError::Internal(cause)
    }

    /// HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Validation(_) | AppError::BadRequest(_) | AppError::Rejected { .. } => {
                StatusCode::BAD_REQUEST
            }
            AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Locked(_) => StatusCode::LOCKED,
            AppError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) | AppError::DiskFull => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code_and_message(&self) -> (&'static str, String) {
        match self {
            AppError::Validation(_) => ("validation_failed", "提交的数据有误，请检查后重试".into()),
            AppError::BadRequest(m) => ("validation_failed", m.clone()),
            AppError::Rejected { code, message } => (code, message.clone()),
            AppError::Unauthenticated(m) => ("unauthenticated", m.clone()),
            AppError::Forbidden(m) => ("forbidden", m.clone()),
            AppError::NotFound => ("not_found", "资源不存在".into()),
            AppError::Conflict { code, message } => (code, message.clone()),
            AppError::PayloadTooLarge(m) => ("payload_too_large", m.clone()),
            AppError::UnsupportedMediaType(m) => ("unsupported_media_type", m.clone()),
            AppError::Locked(m) => ("account_locked", m.clone()),
            AppError::RateLimited => ("rate_limited", "请求过于频繁，请稍后再试".into()),
            AppError::Unavailable(m) => ("service_unavailable", m.clone()),
            AppError::DiskFull => (
                "disk_full",
                "磁盘空间不足，本次修改未保存，请联系管理员清理空间后重试".into(),
            ),
            AppError::Internal(_) => ("internal", "服务器内部错误，请稍后再试".into()),
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorInner<'a>,
}

#[derive(Serialize)]
struct ErrorInner<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<&'a FieldErrors>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let AppError::Internal(cause) = &self {
            // Logged once here; the body never carries internals.
            tracing::error!(%cause, "internal error");
        }
        let (code, message) = self.code_and_message();
        let fields = match &self {
            AppError::Validation(f) => Some(f),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorInner {
                code,
                message,
                fields,
            },
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if matches!(self, AppError::DiskFull) {
            resp.headers_mut().insert(
                crate::disk::DISK_FULL_HEADER,
                http::HeaderValue::from_static("1"),
            );
        }
        resp
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        if matches!(&e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull)
        {
            return AppError::DiskFull;
        }
        AppError::internal(format!("sqlite: {e}"))
    }
}

impl From<r2d2::Error> for AppError {
    fn from(e: r2d2::Error) -> Self {
        AppError::Internal(format!("pool: {e}"))
    }
}

impl From<opendal::Error> for AppError {
    fn from(e: opendal::Error) -> Self {
        if e.kind() == opendal::ErrorKind::NotFound {
            return AppError::NotFound;
        }
        AppError::internal(format!("storage: {e}"))
    }
}

/// True when a SQLite error is a UNIQUE constraint violation (for mapping to 409).
pub fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

/// JSON body extractor whose rejections answer in our error format (and in Chinese).
/// Unknown fields are refused by `#[serde(deny_unknown_fields)]` on every request type.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct AppJson<T>(pub T);

impl<T: Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => {
                // serde's message names the field; keep it but in a Chinese frame.
                let detail = e.body_text();
                if let Some(field) = unknown_field_name(&detail) {
                    return AppError::field(&field, "不允许的字段");
                }
                AppError::BadRequest(format!("请求数据格式不正确：{}", strip_prefix(&detail)))
            }
            JsonRejection::JsonSyntaxError(_) => {
                AppError::BadRequest("请求体不是有效的 JSON".into())
            }
            JsonRejection::MissingJsonContentType(_) => {
                AppError::UnsupportedMediaType("请求需使用 Content-Type: application/json".into())
            }
            JsonRejection::BytesRejection(e) => {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::PayloadTooLarge("请求体过大".into())
                } else {
                    AppError::BadRequest("无法读取请求体".into())
                }
            }
            _ => AppError::BadRequest("请求数据格式不正确".into()),
        }
    }
}

fn strip_prefix(s: &str) -> &str {
    s.strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(s)
}

fn unknown_field_name(detail: &str) -> Option<String> {
    let i = detail.find("unknown field `")?;
    let rest = &detail[i + "unknown field `".len()..];
    let end = rest.find('`')?;
    Some(rest[..end].to_string())
}

/// Success envelope `{"data": …}`.
#[derive(Serialize)]
pub struct Data<T> {
    /// The payload.
    pub data: T,
}

/// Wrap a value in the success envelope with status 200.
pub fn ok<T: Serialize>(data: T) -> Response {
    axum::Json(Data { data }).into_response()
}

/// Wrap a value in the success envelope with status 201.
pub fn created<T: Serialize>(data: T) -> Response {
    (StatusCode::CREATED, axum::Json(Data { data })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_is_extracted_from_serde_message() {
        let m = "Failed to deserialize the JSON body into the target type: unknown field `is_admin`, expected one of `a`";
        assert_eq!(unknown_field_name(m).as_deref(), Some("is_admin"));
    }

    #[test]
    fn internal_error_does_not_leak_cause() {
        let r = AppError::internal("secret path /etc/x").into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}

/// A bare JSON body without the envelope (health checks).
pub fn ok_raw(v: serde_json::Value) -> Response {
    axum::Json(v).into_response()
}

/// Query-string extractor whose rejections answer in our error format.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct AppQuery<T>(pub T);

impl From<axum::extract::rejection::QueryRejection> for AppError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        let detail = r.body_text();
        let detail = detail
            .strip_prefix("Failed to deserialize query string: ")
            .unwrap_or(&detail);
        AppError::BadRequest(format!("查询参数不正确：{detail}"))
    }
}

/// Path-parameter extractor whose rejections answer in our error format (a non-numeric id is
/// a 404: no such resource can exist).
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct AppPath<T>(pub T);

impl From<axum::extract::rejection::PathRejection> for AppError {
    fn from(_: axum::extract::rejection::PathRejection) -> Self {
        AppError::NotFound
    }
}
