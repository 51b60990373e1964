//! The stable access token: fetched from `POST /cgi-bin/stable_token`, cached in process until
//! five minutes before WeChat says it expires, refreshed by one caller at a time.
//!
//! Why a single mutex around fetch-and-store: when the token runs out, every concurrent request
//! needs a new one at once; letting them all call WeChat would burn the daily token quota
//! (and force-refreshes are limited to 20 a day). Waiters get the refreshed token, or the
//! refresher's error, without calling WeChat again.

use super::errors::{Api, WechatError};
use super::transport::Method;
use super::{WechatClient, parse_json};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long before WeChat's expiry we stop using a token.
pub(crate) const EXPIRY_MARGIN: Duration = Duration::from_secs(300);

/// The process-wide token slot.
#[derive(Default)]
pub(crate) struct TokenCache {
    slot: Mutex<Slot>,
}

#[derive(Default)]
struct Slot {
    token: Option<Cached>,
    /// The last failed fetch: callers that were already waiting share it instead of retrying.
    failure: Option<(Instant, WechatError)>,
}

struct Cached {
    value: String,
    fresh_until: Instant,
}

/// When a token fetched at `fetched_at` with WeChat's `expires_in` stops being used.
pub(crate) fn fresh_until(fetched_at: Instant, expires_in: u64) -> Instant {
    fetched_at + Duration::from_secs(expires_in).saturating_sub(EXPIRY_MARGIN)
}

#[derive(Serialize)]
struct StableTokenRequest<'a> {
    grant_type: &'static str,
    appid: &'a str,
    secret: &'a str,
    force_refresh: bool,
}

#[derive(Deserialize)]
struct StableTokenAnswer {
    access_token: String,
    expires_in: u64,
}

impl Slot {
    /// The cached token, if still fresh.
    fn fresh(&self, now: Instant) -> Option<String> {
        self.token
            .as_ref()
            .filter(|t| now < t.fresh_until)
            .map(|t| t.value.clone())
    }

    /// The error of a fetch that ended after `since` (i.e. while the caller was waiting).
    fn failure_since(&self, since: Instant) -> Option<WechatError> {
        self.failure
            .as_ref()
            .filter(|(at, _)| *at >= since)
            .map(|(_, e)| e.clone())
    }
}

impl WechatClient {
    /// A valid access token for token-using APIs, from the cache or freshly fetched. Never log
    /// it. Concurrent callers share one fetch.
    pub async fn access_token(&self) -> Result<String, WechatError> {
        self.ensure_configured()?;
        let asked_at = Instant::now();
        let mut slot = self.inner.tokens.slot.lock().await;
        if let Some(t) = slot.fresh(Instant::now()) {
            return Ok(t);
        }
        if let Some(e) = slot.failure_since(asked_at) {
            return Err(e);
        }
        self.fetch_into(&mut slot, false).await
    }

    /// After WeChat rejected `rejected` (40001/42001): drop it from the cache and get a new one.
    /// If another caller already replaced it, that token is used without calling WeChat.
    pub(crate) async fn refresh_rejected_token(
        &self,
        rejected: &str,
    ) -> Result<String, WechatError> {
        let asked_at = Instant::now();
        let mut slot = self.inner.tokens.slot.lock().await;
        if let Some(t) = slot.fresh(Instant::now()).filter(|t| t != rejected) {
            return Ok(t);
        }
        if let Some(e) = slot.failure_since(asked_at) {
            return Err(e);
        }
        slot.token = None;
        let token = self.fetch_into(&mut slot, false).await?;
        if token != rejected {
            return Ok(token);
        }
        // WeChat still hands out the token it just rejected (e.g. the AppSecret was reset):
        // only then spend one of the 20 daily forced refreshes.
        tracing::warn!("stable_token returned the rejected token; forcing a refresh");
        slot.token = None;
        self.fetch_into(&mut slot, true).await
    }

    /// Fetch from WeChat and store the result (token or failure) in the locked slot.
    async fn fetch_into(
        &self,
        slot: &mut Slot,
        force_refresh: bool,
    ) -> Result<String, WechatError> {
        match self.fetch_stable_token(force_refresh).await {
            Ok((value, expires_in)) => {
                let now = Instant::now();
                slot.failure = None;
                slot.token = Some(Cached {
                    value: value.clone(),
                    fresh_until: fresh_until(now, expires_in),
                });
                Ok(value)
            }
            Err(e) => {
                slot.failure = Some((Instant::now(), e.clone()));
                Err(e)
            }
        }
    }

    /// One `stable_token` call.
    async fn fetch_stable_token(&self, force_refresh: bool) -> Result<(String, u64), WechatError> {
        let api = Api::StableToken;
        let body = StableTokenRequest {
            grant_type: "client_credential",
            appid: &self.inner.appid,
            secret: &self.inner.secret,
            force_refresh,
        };
        let body = serde_json::to_vec(&body).map_err(|e| WechatError::Decode {
            api,
            detail: e.to_string(),
        })?;
        let url = self.url("/cgi-bin/stable_token");
        let raw = self
            .inner
            .transport
            .send(api, Method::Post, &url, Some(body))
            .await?;
        let answer: StableTokenAnswer = parse_json(api, &raw)?;
        if answer.access_token.is_empty() {
            return Err(WechatError::Decode {
                api,
                detail: "empty access_token".into(),
            });
        }
        tracing::debug!(
            expires_in = answer.expires_in,
            force_refresh,
            "WeChat access token refreshed"
        );
        Ok((answer.access_token, answer.expires_in))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 7200 s token is used for 6900 s; a token shorter than the margin is not cached.
    #[test]
    fn token_is_fresh_until_five_minutes_before_expiry() {
        let t0 = Instant::now();
        assert_eq!(fresh_until(t0, 7200), t0 + Duration::from_secs(6900));
        assert_eq!(fresh_until(t0, 120), t0);
        let slot = Slot {
            token: Some(Cached {
                value: "T".into(),
                fresh_until: fresh_until(t0, 7200),
            }),
            failure: None,
        };
        assert_eq!(
            slot.fresh(t0 + Duration::from_secs(6899)).as_deref(),
            Some("T")
        );
        assert_eq!(slot.fresh(t0 + Duration::from_secs(6900)), None);
    }
}
