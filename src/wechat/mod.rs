//! WeChat server API client (contract: `shared/WECHAT.md`).
//!
//! One [`WechatClient`] per process, cheap to clone: code2Session, a cached stable access token
//! (one refresher, refresh-once-and-retry on 40001/42001), getPhoneNumber, subscribeMessage.send,
//! msgSecCheck and getUnlimited. All calls go to `wechat.api_base`, so tests point it at a fake
//! server. Failures are [`WechatError`]s that convert into [`AppError`](crate::error::AppError)
//! with Chinese messages.
//!
//! Never logged or put into errors: the AppSecret, access tokens, login codes, session keys.

mod api;
mod errors;
mod subscribe;
mod token;
mod transport;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests_calls;
#[cfg(test)]
mod tests_token;

pub use api::{Phone, SecCheck, SecScene, Session, Suggest, UnlimitedCode};
pub use errors::{Api, TOKEN_REJECTED, WechatError};
pub use subscribe::{
    MiniprogramState, SendOutcome, SubscribeMessage, fit_template_value, truncate_chars,
};

use crate::config::WechatConfig;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;
use token::TokenCache;
use transport::{Method, RawResponse, Transport};

/// Where WeChat lives when `wechat.api_base` is empty.
pub const DEFAULT_API_BASE: &str = "https://api.weixin.qq.com";

/// Client for the WeChat server API. Clones share the connection pool and the token cache.
#[derive(Clone)]
pub struct WechatClient {
    inner: Arc<Inner>,
}

struct Inner {
    appid: String,
    secret: String,
    /// `api_base` without a trailing slash; paths are appended with their leading one.
    base: String,
    transport: Transport,
    tokens: TokenCache,
}

impl fmt::Debug for WechatClient {
    // Hand-written so the AppSecret can never be printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatClient")
            .field("appid", &self.inner.appid)
            .field("base", &self.inner.base)
            .field("configured", &self.is_configured())
            .finish_non_exhaustive()
    }
}

/// The `errcode`/`errmsg` head every WeChat JSON answer may carry.
#[derive(serde::Deserialize)]
struct ErrHead {
    #[serde(default)]
    errcode: Option<i64>,
    #[serde(default)]
    errmsg: Option<String>,
}

impl WechatClient {
    /// Build a client from configuration. An empty appid/secret is allowed (every call then
    /// answers [`WechatError::NotConfigured`]); an unusable `api_base` is not.
    pub fn new(cfg: &WechatConfig) -> Result<Self, WechatError> {
        let base = normalize_base(&cfg.api_base)?;
        Ok(WechatClient {
            inner: Arc::new(Inner {
                appid: cfg.appid.trim().to_string(),
                secret: cfg.secret.trim().to_string(),
                base,
                transport: Transport::new(&cfg.proxy),
                tokens: TokenCache::default(),
            }),
        })
    }

    /// True when both the AppID and the AppSecret are set.
    pub fn is_configured(&self) -> bool {
        !self.inner.appid.is_empty() && !self.inner.secret.is_empty()
    }

    /// The mini-program AppID this client speaks for.
    pub fn appid(&self) -> &str {
        &self.inner.appid
    }

    fn ensure_configured(&self) -> Result<(), WechatError> {
        if self.is_configured() {
            Ok(())
        } else {
            Err(WechatError::NotConfigured)
        }
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.inner.base, path_and_query)
    }

    /// POST a JSON body to a token-using API; on 40001/42001 refresh the token once (skipping
    /// our cache) and retry once. The answer is returned raw: getUnlimited answers an image.
    async fn post_with_token(
        &self,
        api: Api,
        path: &str,
        body: &impl Serialize,
    ) -> Result<RawResponse, WechatError> {
        self.ensure_configured()?;
        let body = serde_json::to_vec(body).map_err(|e| WechatError::Decode {
            api,
            detail: format!("cannot encode request: {e}"),
        })?;
        let token = self.access_token().await?;
        let first = self.post_raw(api, path, &token, body.clone()).await?;
        let rejected = api_error(api, &first).is_some_and(|e| e.is_token_rejected());
        if !rejected {
            return Ok(first);
        }
        tracing::info!(
            api = api.name(),
            "WeChat rejected the access token; refreshing once"
        );
        let fresh = self.refresh_rejected_token(&token).await?;
        self.post_raw(api, path, &fresh, body).await
    }

    async fn post_raw(
        &self,
        api: Api,
        path: &str,
        token: &str,
        body: Vec<u8>,
    ) -> Result<RawResponse, WechatError> {
        let url = self.url(&format!(
            "{path}?{}",
            transport::encode_query(&[("access_token", token)])
        ));
        self.inner
            .transport
            .send(api, Method::Post, &url, Some(body))
            .await
    }

    /// POST to a token-using API and read its JSON answer.
    async fn post_json<T: DeserializeOwned>(
        &self,
        api: Api,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, WechatError> {
        let raw = self.post_with_token(api, path, body).await?;
        parse_json(api, &raw)
    }
}

/// Trim the configured base URL and check it is an absolute http(s) URL.
fn normalize_base(api_base: &str) -> Result<String, WechatError> {
    let base = api_base.trim().trim_end_matches('/');
    let base = if base.is_empty() {
        DEFAULT_API_BASE
    } else {
        base
    };
    let uri: http::Uri = base
        .parse()
        .map_err(|_| WechatError::Config(format!("wechat.api_base is not a URL: {base}")))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(_)) if uri.query().is_none() => Ok(base.to_string()),
        _ => Err(WechatError::Config(format!(
            "wechat.api_base must be an http(s) URL without query: {base}"
        ))),
    }
}

/// The WeChat error carried by an answer, if any: a non-zero `errcode` in a JSON body, else an
/// HTTP error status. Logged here, once, without credentials.
fn api_error(api: Api, raw: &RawResponse) -> Option<WechatError> {
    let looks_json = raw.content_type.contains("json")
        || raw.content_type.starts_with("text/")
        || raw.body.first() == Some(&b'{');
    let head = looks_json
        .then(|| serde_json::from_slice::<ErrHead>(&raw.body).ok())
        .flatten();
    let err = match head {
        Some(ErrHead {
            errcode: Some(code),
            errmsg,
        }) if code != 0 => WechatError::Api {
            api,
            errcode: code,
            errmsg: errmsg.unwrap_or_default(),
        },
        _ if raw.status >= 400 => WechatError::Http {
            api,
            status: raw.status,
        },
        _ => return None,
    };
    if err.errcode() == Some(43101) {
        // Members refusing subscriptions is routine, not something to alert on.
        tracing::info!(api = api.name(), error = %err, "WeChat subscription not available");
    } else {
        tracing::warn!(api = api.name(), error = %err, "WeChat call failed");
    }
    Some(err)
}

/// Turn a raw answer into `T`, or into the WeChat error it carries.
fn parse_json<T: DeserializeOwned>(api: Api, raw: &RawResponse) -> Result<T, WechatError> {
    if let Some(e) = api_error(api, raw) {
        return Err(e);
    }
    serde_json::from_slice(&raw.body).map_err(|e| WechatError::Decode {
        api,
        detail: format!("bad JSON ({e})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trailing slashes and blanks in `api_base` do not produce `//` paths.
    #[test]
    fn base_url_is_normalized() {
        assert_eq!(
            normalize_base("http://127.0.0.1:9/ ").unwrap(),
            "http://127.0.0.1:9"
        );
        assert_eq!(
            normalize_base("https://x.example/wx//").unwrap(),
            "https://x.example/wx"
        );
        assert_eq!(normalize_base("").unwrap(), DEFAULT_API_BASE);
        assert!(normalize_base("api.weixin.qq.com").is_err());
        assert!(normalize_base("ftp://x").is_err());
    }

    /// The client's Debug output never shows the secret.
    #[test]
    fn debug_hides_secret() {
        let c = WechatClient::new(&WechatConfig {
            appid: "wx123".into(),
            secret: "VERY_SECRET".into(),
            api_base: String::new(),
            proxy: String::new(),
        })
        .unwrap();
        let d = format!("{c:?}");
        assert!(d.contains("wx123") && !d.contains("VERY_SECRET"), "{d}");
    }

    /// errcode 0 is success even with an HTTP 200 JSON body; a bare 502 is an HTTP error.
    #[test]
    fn error_head_detection() {
        let ok = RawResponse {
            status: 200,
            content_type: "application/json".into(),
            body: bytes::Bytes::from_static(br#"{"errcode":0,"errmsg":"ok"}"#),
        };
        assert!(api_error(Api::SubscribeSend, &ok).is_none());
        let bad = RawResponse {
            status: 502,
            content_type: "text/html".into(),
            body: bytes::Bytes::from_static(b"<html>bad gateway</html>"),
        };
        assert!(matches!(
            api_error(Api::SubscribeSend, &bad),
            Some(WechatError::Http { status: 502, .. })
        ));
    }
}
