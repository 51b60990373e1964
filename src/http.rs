//! HTTP plumbing shared by every route: client IP behind trusted proxies, access log and
//! metrics, rate limiting, the fallback 404 and list pagination.

use crate::app::AppState;
use crate::error::AppError;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Instant;

/// The client's IP: the peer, or the right-most untrusted `X-Forwarded-For` hop when the peer
/// is a configured trusted proxy.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

/// Work out the client IP from the peer address and headers.
pub fn client_ip(peer: IpAddr, xff: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let Some(xff) = xff else { return peer };
    // Walk from the right: skip our own proxies, the first other hop is the client.
    let hops: Vec<IpAddr> = xff
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    hops.iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .copied()
        .or_else(|| hops.first().copied())
        .unwrap_or(peer)
}

/// Middleware: resolve the client IP, time the request, log it and count it.
pub async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let xff = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    let ip = client_ip(peer, xff, &state.trusted_proxies);
    req.extensions_mut().insert(ClientIp(ip));
    let method = req.method().as_str().to_string();
    // The route template, never the raw path: paths and queries may carry personal data.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "<unmatched>".into());
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    let secs = start.elapsed().as_secs_f64();
    let status = resp.status().as_u16();
    state.metrics.observe_request(&method, &route, status, secs);
    tracing::info!(
        target: "access",
        request_id = %request_id,
        %ip,
        method = %method,
        route = %route,
        status,
        ms = (secs * 1000.0) as u64,
        "request"
    );
    resp
}

/// Middleware: security headers on every response.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        "x-content-type-options",
        http::HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", http::HeaderValue::from_static("DENY"));
    h.insert(
        "referrer-policy",
        http::HeaderValue::from_static("no-referrer"),
    );
    resp
}

/// Fallback for unknown routes, in our error format.
pub async fn not_found() -> Response {
    AppError::NotFound.into_response()
}

/// Fallback for a known path with the wrong method, in our error format.
pub async fn method_not_allowed() -> Response {
    let body =
        serde_json::json!({"error": {"code": "method_not_allowed", "message": "不支持的请求方法"}});
    (http::StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response()
}

/// A per-IP rate limiter.
pub struct IpLimiter(DefaultKeyedRateLimiter<IpAddr>);

impl IpLimiter {
    /// Allow `per_minute` requests per IP per minute (burst the same).
    pub fn per_minute(per_minute: u32) -> IpLimiter {
        let n = NonZeroU32::new(per_minute.max(1)).expect("non-zero");
        IpLimiter(RateLimiter::keyed(Quota::per_minute(n)))
    }

    /// `Err(429)` when this IP is over its quota.
    pub fn check(&self, ip: IpAddr) -> Result<(), AppError> {
        // Keep memory bounded under address-spraying.
        if self.0.len() > 100_000 {
            self.0.retain_recent();
        }
        self.0.check_key(&ip).map_err(|_| AppError::RateLimited)
    }
}

/// The deepest row any list can reach: `page × page_size` may not exceed it. Deeper pages are
/// refused with a 400 rather than served, because an offset costs work (and, in the search
/// index, memory) in proportion to a number the client chose; a clerk narrows with filters.
pub const MAX_WINDOW: i64 = 10_000;

/// How many matching rows a list counts at most: a `total` of `COUNT_CAP + 1` means "more than
/// `COUNT_CAP`". No page past [`MAX_WINDOW`] can be fetched anyway, so an exact count beyond it
/// would only cost a scan of every matching row on every page view (audit logs, messages and
/// login logs grow without bound).
pub const COUNT_CAP: i64 = MAX_WINDOW;

/// `?page=&page_size=` for every list.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Items per page, default 20, at most 100.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

impl PageQuery {
    /// Validated `(page, page_size, offset)`.
    pub fn resolve(&self) -> Result<(i64, i64, i64), AppError> {
        let page = self.page.unwrap_or(1);
        let size = self.page_size.unwrap_or(20);
        if page < 1 {
            return Err(AppError::field("page", "页码须从 1 开始"));
        }
        if !(1..=100).contains(&size) {
            return Err(AppError::field("page_size", "每页条数须在 1 到 100 之间"));
        }
        // Checked: `page` is any i64 the client sent, and a wrapped product would page back to 1.
        match page.checked_mul(size) {
            Some(end) if end <= MAX_WINDOW => Ok((page, size, end - size)),
            _ => Err(AppError::field(
                "page",
                format!(
                    "最多只能查看前 {MAX_WINDOW} 条（每页 {size} 条时最多到第 {} 页），请用筛选条件缩小范围",
                    MAX_WINDOW / size
                ),
            )),
        }
    }
}

/// A page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// Items of this page.
    pub items: Vec<T>,
    /// Total matching items, counted up to 10,001: a total of 10,001 means more than 10,000
    /// (no page past the 10,000th row can be fetched; narrow the list with filters).
    pub total: i64,
    /// Page number.
    pub page: i64,
    /// Page size.
    pub page_size: i64,
}

/// Run a counted, paginated query: `count_sql` (`SELECT count(*) FROM … WHERE …`) counts the
/// matches up to [`COUNT_CAP`] + 1, `list_sql` (ending in `LIMIT ? OFFSET ?`) fetches one page
/// with the same parameters plus size and offset.
pub fn fetch_page<T, F>(
    c: &rusqlite::Connection,
    count_sql: &str,
    list_sql: &str,
    params: Vec<rusqlite::types::Value>,
    (page, size, offset): (i64, i64, i64),
    map: F,
) -> Result<Page<T>, AppError>
where
    F: FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
{
    let total: i64 = c.query_row(
        &capped_count_sql(count_sql),
        rusqlite::params_from_iter(params.clone()),
        |r| r.get(0),
    )?;
    fetch_page_with_total(c, total, list_sql, params, (page, size, offset), map)
}

/// `SELECT count(*) FROM … WHERE …` rewritten to stop after [`COUNT_CAP`] + 1 rows (any other
/// shape is left as it is: it was written to count something else exactly).
fn capped_count_sql(count_sql: &str) -> std::borrow::Cow<'_, str> {
    match count_sql.trim_start().strip_prefix("SELECT count(*) FROM ") {
        Some(rest) => format!(
            "SELECT count(*) FROM (SELECT 1 FROM {rest} LIMIT {})",
            COUNT_CAP + 1
        )
        .into(),
        None => count_sql.into(),
    }
}

/// [`fetch_page`] with a total the caller already knows (from an aggregate or a capped count).
pub fn fetch_page_with_total<T, F>(
    c: &rusqlite::Connection,
    total: i64,
    list_sql: &str,
    mut params: Vec<rusqlite::types::Value>,
    (page, size, offset): (i64, i64, i64),
    map: F,
) -> Result<Page<T>, AppError>
where
    F: FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
{
    use rusqlite::params_from_iter;
    params.push(rusqlite::types::Value::Integer(size));
    params.push(rusqlite::types::Value::Integer(offset));
    let mut st = c.prepare(list_sql)?;
    let items = st
        .query_map(params_from_iter(params), map)?
        .collect::<rusqlite::Result<Vec<T>>>()?;
    Ok(Page {
        items,
        total,
        page,
        page_size: size,
    })
}

/// A download of personal or installation data (exports, archives, packages): an attachment
/// named by `file_params` (`filename="…"`, optionally with `filename*=`), which no shared or
/// browser cache may keep.
pub fn private_attachment(
    mime: &str,
    len: u64,
    file_params: &str,
    body: axum::body::Body,
) -> Result<Response, AppError> {
    Response::builder()
        .header(http::header::CONTENT_TYPE, mime)
        .header(http::header::CONTENT_LENGTH, len)
        .header(
            http::header::CONTENT_DISPOSITION,
            format!("attachment; {file_params}"),
        )
        .header(http::header::CACHE_CONTROL, "private, no-store")
        .body(body)
        .map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_totals_stop_counting_past_the_window() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE t (k INTEGER); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000) INSERT INTO t SELECT i % 3 FROM n;",
        )
        .unwrap();
        let page = |sql: &str, k: i64| {
            fetch_page(
                &c,
                sql,
                "SELECT k FROM t WHERE k >= ? LIMIT ? OFFSET ?",
                vec![rusqlite::types::Value::Integer(k)],
                (1, 2, 0),
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
        };
        // 12,000 rows match: counted only to the cap plus one.
        let p = page("SELECT count(*) FROM t WHERE k >= ?", 0);
        assert_eq!((p.total, p.items.len()), (COUNT_CAP + 1, 2));
        // 4,000 match: exact.
        assert_eq!(page("SELECT count(*) FROM t WHERE k >= ?", 2).total, 4_000);
        // Another shape is left exact.
        assert_eq!(
            page("SELECT count(DISTINCT k) FROM t WHERE k >= ?", 0).total,
            3
        );
    }

    #[test]
    fn forwarded_for_is_trusted_only_from_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let trusted = vec!["10.0.0.0/8".parse::<IpNet>().unwrap()];
        let xff = Some("1.2.3.4, 10.0.0.7");
        assert_eq!(
            client_ip(proxy, xff, &trusted),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
        let stranger: IpAddr = "8.8.8.8".parse().unwrap();
        assert_eq!(client_ip(stranger, xff, &trusted), stranger);
        assert_eq!(client_ip(proxy, Some("garbage"), &trusted), proxy);
        // A client cannot smuggle an address left of the real one.
        assert_eq!(
            client_ip(proxy, Some("6.6.6.6, 1.2.3.4"), &trusted),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn page_bounds() {
        assert!(
            PageQuery {
                page: Some(0),
                page_size: None
            }
            .resolve()
            .is_err()
        );
        assert!(
            PageQuery {
                page: None,
                page_size: Some(101)
            }
            .resolve()
            .is_err()
        );
        assert_eq!(
            PageQuery {
                page: Some(3),
                page_size: Some(10)
            }
            .resolve()
            .unwrap(),
            (3, 10, 20)
        );
        // The last page inside the window is served, one past it and huge values are refused.
        let at = |page: i64, size: i64| {
            PageQuery {
                page: Some(page),
                page_size: Some(size),
            }
            .resolve()
        };
        assert_eq!(at(100, 100).unwrap(), (100, 100, 9_900));
        assert!(at(101, 100).is_err());
        assert!(at(10_000_000_000, 100).is_err());
        assert!(at(i64::MAX, 100).is_err());
        assert!(at(i64::MAX, 1).is_err());
    }
}
