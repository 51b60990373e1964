//! The HTTP hop to WeChat: one request in, status + content type + body out, with time limits,
//! the configured outbound proxy, and credential-free error text.

use super::errors::{Api, WechatError, redact};
use bytes::Bytes;
use std::time::Duration;

/// Connect limit: an unreachable WeChat (no outbound route, firewall) should fail fast.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Whole-request limit (connect, send, wait, read body). Login is interactive: fail fast.
pub(crate) const TOTAL_TIMEOUT: Duration = Duration::from_secs(10);

/// HTTP method of a WeChat call (the APIs we use need only these two).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Method {
    /// Query-string API (code2Session).
    Get,
    /// JSON-body API (everything else).
    Post,
}

/// A WeChat answer, fully read.
#[derive(Debug, Clone)]
pub(crate) struct RawResponse {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type` header, lower-cased (empty when absent).
    pub content_type: String,
    /// Body bytes.
    pub body: Bytes,
}

/// Sends requests through a dedicated reqwest client.
#[derive(Clone)]
pub(crate) struct Transport {
    http: reqwest::Client,
}

impl Transport {
    /// Build the client; `proxy` is the configured outbound proxy (empty = direct).
    pub(crate) fn new(proxy: &str) -> Self {
        let mut b = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TOTAL_TIMEOUT);
        let proxy = proxy.trim();
        if !proxy.is_empty() {
            match reqwest::Proxy::all(proxy) {
                Ok(p) => b = b.proxy(p),
                // A bad proxy URL must not take the server down; calls then go direct and fail
                // visibly if the site needs the proxy.
                Err(_) => {
                    tracing::warn!("wechat.proxy is not a valid URL; calling WeChat directly")
                }
            }
        }
        let http = b.build().unwrap_or_else(|_| reqwest::Client::new());
        Transport { http }
    }

    /// Send one request. `url` may carry credentials in its query; they never reach the error.
    pub(crate) async fn send(
        &self,
        api: Api,
        method: Method,
        url: &str,
        json: Option<Vec<u8>>,
    ) -> Result<RawResponse, WechatError> {
        let mut rb = match method {
            Method::Get => self.http.get(url),
            Method::Post => self.http.post(url),
        };
        if let Some(b) = json {
            rb = rb
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b);
        }
        let response = rb.send().await.map_err(|e| WechatError::Network {
            api,
            detail: describe(&e),
        })?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let body = response.bytes().await.map_err(|e| WechatError::Network {
            api,
            detail: describe(&e),
        })?;
        Ok(RawResponse {
            status,
            content_type,
            body,
        })
    }
}

/// The error without its URL (which carries the access token), redacted again in case a
/// cause quotes it.
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        format!("no answer within {} s", TOTAL_TIMEOUT.as_secs())
    } else if e.is_connect() {
        "connection failed".to_string()
    } else {
        "request failed".to_string()
    };
    let mut parts = vec![kind];
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        parts.push(c.to_string());
        cause = c.source();
    }
    redact(
        &parts
            .join(": ")
            .replace(e.url().map(|u| u.as_str()).unwrap_or("\u{0}"), "<url>"),
    )
}

/// Percent-encode query pairs (`application/x-www-form-urlencoded` rules).
pub(crate) fn encode_query(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(&mut out, k);
        out.push('=');
        encode_into(&mut out, v);
    }
    out
}

fn encode_into(out: &mut String, s: &str) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes from the client are encoded, so `&` or `#` cannot inject parameters.
    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            encode_query(&[("js_code", "a&b=c d#"), ("x", "登")]),
            "js_code=a%26b%3Dc%20d%23&x=%E7%99%BB"
        );
    }

    /// A closed port answers a network error that names no credential.
    #[tokio::test]
    async fn unreachable_server_is_a_network_error_without_token() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let t = Transport::new("");
        let url = format!("http://127.0.0.1:{port}/x?access_token=SECRET_TOKEN");
        let e = t
            .send(Api::PhoneNumber, Method::Post, &url, Some(b"{}".to_vec()))
            .await
            .unwrap_err();
        assert!(matches!(e, WechatError::Network { .. }), "{e:?}");
        assert!(e.is_transient());
        assert!(!format!("{e:?}").contains("SECRET_TOKEN"), "{e:?}");
    }
}
