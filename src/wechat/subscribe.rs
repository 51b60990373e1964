//! subscribeMessage.send: one-time subscription messages, answered as an outcome the outbox
//! worker can act on (done, give up, or retry later) rather than as an error.

use super::WechatClient;
use super::errors::{Api, WechatError};
use serde::Serialize;
use std::collections::BTreeMap;

/// Which mini-program version a message opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MiniprogramState {
    /// Development version.
    Developer,
    /// Trial version.
    Trial,
    /// Released version (WeChat's default).
    Formal,
}

/// A subscription message. Values are fitted to the template limits when sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeMessage {
    /// Recipient openid.
    pub touser: String,
    /// Template id from the mini-program admin console.
    pub template_id: String,
    /// Page opened from the message (with query), e.g. `pages/msg/detail?id=3`.
    pub page: Option<String>,
    /// Template key (`thing1`, `time2`, …) → value.
    pub data: BTreeMap<String, String>,
    /// Version to open; `None` = released.
    pub miniprogram_state: Option<MiniprogramState>,
    /// Language (`zh_CN` when `None`).
    pub lang: Option<String>,
}

impl SubscribeMessage {
    /// A message for `touser` with template `template_id` and no data yet.
    pub fn new(touser: impl Into<String>, template_id: impl Into<String>) -> Self {
        SubscribeMessage {
            touser: touser.into(),
            template_id: template_id.into(),
            page: None,
            data: BTreeMap::new(),
            miniprogram_state: None,
            lang: None,
        }
    }

    /// Set the page the message opens.
    pub fn page(mut self, page: impl Into<String>) -> Self {
        self.page = Some(page.into());
        self
    }

    /// Set one template value, fitted to the limit of its key type.
    pub fn value(mut self, key: impl Into<String>, value: impl AsRef<str>) -> Self {
        let key = key.into();
        let v = fit_template_value(&key, value.as_ref());
        self.data.insert(key, v);
        self
    }

    /// Set the mini-program version the message opens.
    pub fn state(mut self, state: MiniprogramState) -> Self {
        self.miniprogram_state = Some(state);
        self
    }
}

/// What became of a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Delivered.
    Sent,
    /// 43101: the member refused or has no subscription left. Routine; do not retry.
    Refused,
    /// The message can never be sent as it is (40003 openid, 40037 template, 47003 data,
    /// 41030 page). Do not retry.
    Permanent {
        /// WeChat's errcode.
        errcode: i64,
        /// Chinese explanation.
        reason: String,
    },
    /// Might work later (-1 busy, network, HTTP 5xx, token or quota trouble, not configured).
    Transient {
        /// WeChat's errcode, when it answered with one.
        errcode: Option<i64>,
        /// Chinese explanation.
        reason: String,
    },
}

impl SendOutcome {
    /// True when the outbox should try again later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SendOutcome::Transient { .. })
    }

    /// Classify a failed send.
    fn from_error(e: &WechatError) -> Self {
        match e.errcode() {
            Some(43101) => SendOutcome::Refused,
            Some(code @ (40003 | 40037 | 47003 | 41030)) => SendOutcome::Permanent {
                errcode: code,
                reason: e.user_message(),
            },
            errcode => SendOutcome::Transient {
                errcode,
                reason: e.user_message(),
            },
        }
    }
}

#[derive(Serialize)]
struct Wire<'a> {
    touser: &'a str,
    template_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<&'a str>,
    data: BTreeMap<&'a str, WireValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    miniprogram_state: Option<MiniprogramState>,
    lang: &'a str,
}

#[derive(Serialize)]
struct WireValue {
    value: String,
}

impl WechatClient {
    /// subscribeMessage.send. Never fails: every result is a [`SendOutcome`].
    pub async fn send_subscribe(&self, msg: &SubscribeMessage) -> SendOutcome {
        let api = Api::SubscribeSend;
        // Answer the certain failures as WeChat would, without spending a call.
        let local = if msg.touser.trim().is_empty() {
            Some(40003)
        } else if msg.template_id.trim().is_empty() {
            Some(40037)
        } else {
            None
        };
        if let Some(errcode) = local {
            return SendOutcome::from_error(&WechatError::Api {
                api,
                errcode,
                errmsg: "empty field".into(),
            });
        }
        let wire = Wire {
            touser: &msg.touser,
            template_id: &msg.template_id,
            page: msg.page.as_deref().filter(|p| !p.is_empty()),
            // Fit again: callers may have filled `data` directly. Truncate rather than fail.
            data: msg
                .data
                .iter()
                .map(|(k, v)| {
                    let value = fit_template_value(k, v);
                    (k.as_str(), WireValue { value })
                })
                .collect(),
            miniprogram_state: msg.miniprogram_state,
            lang: msg.lang.as_deref().unwrap_or("zh_CN"),
        };
        let result = self
            .post_with_token(api, "/cgi-bin/message/subscribe/send", &wire)
            .await
            .and_then(|raw| match super::api_error(api, &raw) {
                Some(e) => Err(e),
                None => Ok(()),
            });
        match result {
            Ok(()) => SendOutcome::Sent,
            Err(e) => SendOutcome::from_error(&e),
        }
    }
}

/// Keep at most `max` characters (not bytes: template limits count Chinese characters as one).
pub fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

/// Fit a template value to the limit of its key type (`thing3` → `thing`, ≤ 20 characters;
/// `phrase` ≤ 5; `character_string`, `number`, `letter` ≤ 32; `symbol` ≤ 5). A cut `thing`
/// ends in "…" so the reader sees it was shortened; other types are cut plainly. Unknown types
/// (`time`, `date`, `amount`, …) are only trimmed.
pub fn fit_template_value(key: &str, value: &str) -> String {
    let value = value.trim();
    let kind = key.trim_end_matches(|c: char| c.is_ascii_digit());
    match kind {
        "thing" => {
            if value.chars().count() <= 20 {
                value.to_string()
            } else {
                format!("{}…", truncate_chars(value, 19))
            }
        }
        "phrase" | "symbol" => truncate_chars(value, 5),
        "character_string" | "number" | "letter" => truncate_chars(value, 32),
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Truncation counts characters, so Chinese text is never split inside a character.
    #[test]
    fn truncation_is_by_characters() {
        assert_eq!(truncate_chars("工会会员服务", 4), "工会会员");
        assert_eq!(truncate_chars("abc", 10), "abc");
        assert_eq!(truncate_chars("", 3), "");
    }

    /// Each template type gets its limit.
    #[test]
    fn template_values_fit_their_type() {
        let long = "关于开展二〇二五年度职工疗休养活动的通知请各单位按时报名";
        let thing = fit_template_value("thing1", long);
        assert_eq!(thing.chars().count(), 20);
        assert!(thing.ends_with('…'));
        assert_eq!(fit_template_value("thing2", "短标题"), "短标题");
        assert_eq!(
            fit_template_value("phrase3", "审核已经通过了"),
            "审核已经通"
        );
        let id = "A".repeat(40);
        assert_eq!(fit_template_value("character_string12", &id).len(), 32);
        assert_eq!(
            fit_template_value("time4", " 2025-01-01 10:00 "),
            "2025-01-01 10:00"
        );
    }

    /// Outcomes: refusal is routine, bad data is permanent, busy is retryable.
    #[test]
    fn errcodes_classify_into_outcomes() {
        let e = |errcode| WechatError::Api {
            api: Api::SubscribeSend,
            errcode,
            errmsg: String::new(),
        };
        assert_eq!(SendOutcome::from_error(&e(43101)), SendOutcome::Refused);
        assert!(matches!(
            SendOutcome::from_error(&e(47003)),
            SendOutcome::Permanent { errcode: 47003, .. }
        ));
        assert!(SendOutcome::from_error(&e(-1)).is_retryable());
        assert!(SendOutcome::from_error(&WechatError::NotConfigured).is_retryable());
        assert!(!SendOutcome::Refused.is_retryable());
    }
}
