//! SMS providers: `log` for development (the code goes to the server log) and an HTTP template
//! provider for production gateways.

use crate::error::{AppError, Result};
use serde::{Deserialize, Serialize};

/// Sends a verification code to a phone.
#[async_trait::async_trait]
pub trait SmsProvider: Send + Sync {
    /// Deliver `code` to `phone`.
    async fn send_code(&self, phone: &str, code: &str) -> Result<()>;
}

/// Development provider: writes the code to the log (with the phone masked).
pub struct LogProvider;

#[async_trait::async_trait]
impl SmsProvider for LogProvider {
    async fn send_code(&self, phone: &str, code: &str) -> Result<()> {
        tracing::warn!(target: "sms", phone = %crate::crypto::mask::mask_phone(phone), code, "SMS provider `log` (development only): verification code");
        Ok(())
    }
}

/// Settings of the HTTP template provider.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSmsConfig {
    /// Gateway URL receiving a JSON POST.
    pub url: String,
    /// Template id at the gateway.
    pub template_id: String,
    /// Sign name (签名) at the gateway.
    pub sign_name: String,
    /// Bearer token for the gateway (redacted in `check`).
    pub token: String,
}

/// Production provider: POSTs `{phone, template_id, sign_name, params:{code}}` to a gateway.
pub struct HttpProvider {
    cfg: HttpSmsConfig,
    http: reqwest::Client,
}

impl HttpProvider {
    /// Build the provider.
    pub fn new(cfg: HttpSmsConfig) -> HttpProvider {
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        HttpProvider { cfg, http }
    }
}

#[async_trait::async_trait]
impl SmsProvider for HttpProvider {
    async fn send_code(&self, phone: &str, code: &str) -> Result<()> {
        let body = serde_json::json!({
            "phone": phone, "template_id": self.cfg.template_id, "sign_name": self.cfg.sign_name,
            "params": {"code": code}
        });
        let mut rb = self.http.post(&self.cfg.url).json(&body);
        if !self.cfg.token.is_empty() {
            rb = rb.bearer_auth(&self.cfg.token);
        }
        let unavailable = || AppError::Unavailable("短信服务暂时不可用，请稍后再试".into());
        let r = rb.send().await.map_err(|_| unavailable())?;
        if !r.status().is_success() {
            tracing::warn!(
                status = r.status().as_u16(),
                "SMS gateway refused the request"
            );
            return Err(unavailable());
        }
        Ok(())
    }
}
