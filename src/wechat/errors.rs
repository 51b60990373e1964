//! WeChat failures: every errcode of WECHAT.md mapped to a clear Chinese message and to the
//! HTTP error the API answers with.
//!
//! `Display` is the technical text for the server log (English, with the errcode); the member or
//! operator sees [`WechatError::user_message`] through [`AppError`]. Neither ever contains the
//! AppSecret, an access token, a login code or a session key.

use crate::error::AppError;
use std::fmt;

/// Which WeChat API a failure came from (an errcode can mean different things per API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `GET /sns/jscode2session`.
    Code2Session,
    /// `POST /cgi-bin/stable_token`.
    StableToken,
    /// `POST /wxa/business/getuserphonenumber`.
    PhoneNumber,
    /// `POST /cgi-bin/message/subscribe/send`.
    SubscribeSend,
    /// `POST /wxa/msg_sec_check` (v2).
    MsgSecCheck,
    /// `POST /wxa/getwxacodeunlimit`.
    GetUnlimited,
}

impl Api {
    /// The WeChat name of the API, for logs.
    pub fn name(self) -> &'static str {
        match self {
            Api::Code2Session => "code2Session",
            Api::StableToken => "getStableAccessToken",
            Api::PhoneNumber => "getPhoneNumber",
            Api::SubscribeSend => "subscribeMessage.send",
            Api::MsgSecCheck => "msgSecCheck",
            Api::GetUnlimited => "getUnlimited",
        }
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// errcodes that mean "the access token you sent is not (or no longer) valid": the client
/// refreshes the token once and retries once.
pub const TOKEN_REJECTED: [i64; 2] = [40001, 42001];

/// A failed WeChat call. Cloneable so callers waiting on one token refresh can share its error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WechatError {
    /// `wechat.appid` or `wechat.secret` is empty.
    #[error("WeChat mini-program is not configured (wechat.appid / wechat.secret empty)")]
    NotConfigured,
    /// The configuration cannot work (bad `api_base`).
    #[error("invalid WeChat configuration: {0}")]
    Config(String),
    /// We refused to send the request: an argument breaks a documented WeChat limit.
    #[error("invalid argument for WeChat {api}: {message}")]
    InvalidInput {
        /// The API that would have been called.
        api: Api,
        /// Chinese message for the caller.
        message: String,
    },
    /// WeChat answered with a non-zero `errcode`.
    #[error("WeChat {api} answered errcode {errcode}: {errmsg}")]
    Api {
        /// The API that answered.
        api: Api,
        /// WeChat's error code.
        errcode: i64,
        /// WeChat's own (English) message, for the log.
        errmsg: String,
    },
    /// WeChat answered with an HTTP error status and no errcode.
    #[error("WeChat {api} answered HTTP {status}")]
    Http {
        /// The API that answered.
        api: Api,
        /// HTTP status code.
        status: u16,
    },
    /// WeChat could not be reached (DNS, connect, TLS, timeout, broken connection).
    #[error("cannot reach WeChat {api}: {detail}")]
    Network {
        /// The API that was being called.
        api: Api,
        /// What went wrong, with any credentials removed.
        detail: String,
    },
    /// WeChat answered something we cannot read.
    #[error("unexpected answer from WeChat {api}: {detail}")]
    Decode {
        /// The API that answered.
        api: Api,
        /// What was wrong with the answer.
        detail: String,
    },
}

/// How a WeChat failure is answered to our own caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// The member's request was wrong (bad or used code, bad parameter): 400.
    BadRequest,
    /// WeChat refuses this user: 403.
    Forbidden,
    /// Too many calls: 429.
    RateLimited,
    /// The user has not subscribed (or used the subscription up): 409.
    NotSubscribed,
    /// Misconfiguration, quota or an outage: 503 with a message for the operator or user.
    Unavailable,
}

/// Chinese message and answer class for a WeChat errcode.
fn describe(api: Api, errcode: i64) -> (Class, String) {
    use Class::*;
    let (class, msg): (Class, &str) = match errcode {
        -1 => (Unavailable, "微信服务繁忙，请稍后再试"),
        // The login code from wx.login and the phone code from getPhoneNumber share 40029.
        40029 if api == Api::PhoneNumber => (BadRequest, "手机号授权凭证无效或已过期，请重新授权"),
        40029 => (BadRequest, "登录凭证无效或已过期，请重新进入小程序"),
        40163 => (BadRequest, "登录凭证已被使用，请重新进入小程序"),
        45011 => (RateLimited, "操作太频繁，请稍后再试"),
        40226 => (
            Forbidden,
            "当前微信账号被微信判定存在安全风险，暂时无法登录",
        ),
        40001 | 42001 => (
            Unavailable,
            "微信接口调用凭证无效，请稍后再试；如持续出现，请管理员检查 AppSecret 是否被重置",
        ),
        40013 => (
            Unavailable,
            "微信小程序 AppID 配置错误，请管理员检查 wechat.appid",
        ),
        40125 => (
            Unavailable,
            "微信小程序 AppSecret 配置错误，请管理员检查 wechat.secret",
        ),
        41002 | 41004 => (
            Unavailable,
            "微信小程序 AppID 或 AppSecret 未配置，请联系管理员",
        ),
        40164 => (
            Unavailable,
            "服务器 IP 不在微信白名单中，请管理员在微信公众平台「开发管理 → 开发设置 → IP 白名单」中加入本服务器的出口 IP",
        ),
        45009 => (
            Unavailable,
            "微信接口今日调用次数已达上限，请明天再试或联系管理员",
        ),
        48001 => (
            Unavailable,
            "小程序未获得该微信接口的权限，请管理员在微信公众平台开通",
        ),
        40003 => (BadRequest, "微信用户标识（openid）无效，请重新进入小程序"),
        40037 => (Unavailable, "订阅消息模板 ID 无效，请管理员检查模板配置"),
        47003 => (BadRequest, "订阅消息内容不符合模板要求"),
        41030 => (BadRequest, "页面路径不存在，或小程序尚未发布该页面"),
        43101 => (NotSubscribed, "用户未订阅该消息或订阅次数已用完"),
        40129 => (BadRequest, "内容安全检测的场景值无效"),
        43104 => (BadRequest, "用户标识与当前小程序不匹配"),
        44002 => (BadRequest, "待检测的内容不能为空"),
        87014 => (Forbidden, "内容含有违法违规信息，请修改后再提交"),
        40169 => (BadRequest, "小程序码参数 scene 不合法（最长 32 个字符）"),
        40097 => (BadRequest, "微信接口参数错误"),
        _ => {
            return (
                Unavailable,
                format!("微信接口调用失败（错误码 {errcode}），请稍后再试"),
            );
        }
    };
    (class, msg.to_string())
}

impl WechatError {
    /// The WeChat errcode, when WeChat answered with one.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            WechatError::Api { errcode, .. } => Some(*errcode),
            _ => None,
        }
    }

    /// True when WeChat rejected the access token we sent (refresh once and retry once).
    pub fn is_token_rejected(&self) -> bool {
        self.errcode().is_some_and(|c| TOKEN_REJECTED.contains(&c))
    }

    /// True when trying again later may succeed (busy, network, HTTP 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            WechatError::Api { errcode, .. } => matches!(errcode, -1 | 45011),
            WechatError::Http { status, .. } => *status >= 500 || *status == 429,
            WechatError::Network { .. } => true,
            _ => false,
        }
    }

    /// The Chinese message shown to the member or operator.
    pub fn user_message(&self) -> String {
        match self {
            WechatError::NotConfigured => {
                "微信小程序未配置（缺少 AppID 或 AppSecret），暂时无法使用微信功能，请联系管理员"
                    .into()
            }
            WechatError::Config(_) => "微信接口地址配置错误，请管理员检查 wechat.api_base".into(),
            WechatError::InvalidInput { message, .. } => message.clone(),
            WechatError::Api { api, errcode, .. } => describe(*api, *errcode).1,
            WechatError::Http { .. } | WechatError::Decode { .. } => {
                "微信服务暂时异常，请稍后再试".into()
            }
            WechatError::Network { .. } => "无法连接微信服务器，请稍后再试".into(),
        }
    }
}

/// 40029/40163 are answered as 400, not 401: the bad credential is the `code` in the request
/// body, not the caller's own session, and mini-program clients treat a 401 as "my app token
/// expired" and would loop through refresh and re-login instead of asking for a new code.
impl From<WechatError> for AppError {
    fn from(e: WechatError) -> Self {
        let message = e.user_message();
        let class = match &e {
            WechatError::InvalidInput { .. } => Class::BadRequest,
            WechatError::Api { api, errcode, .. } => describe(*api, *errcode).0,
            _ => Class::Unavailable,
        };
        match class {
            Class::BadRequest => AppError::BadRequest(message),
            Class::Forbidden => AppError::Forbidden(message),
            Class::RateLimited => AppError::RateLimited,
            Class::NotSubscribed => AppError::conflict_code("not_subscribed", message),
            Class::Unavailable => AppError::Unavailable(message),
        }
    }
}

/// Remove credential values (`access_token`, `secret`, `js_code`, `code`) from a text before it
/// reaches a log or an error: transport errors like to quote the URL.
pub(crate) fn redact(text: &str) -> String {
    const KEYS: [&str; 4] = ["access_token=", "secret=", "js_code=", "code="];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for key in KEYS {
            if rest.starts_with(key)
                && !out.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            {
                out.push_str(key);
                out.push_str("***");
                let value_len = rest[key.len()..]
                    .find(['&', ' ', '"', '\'', ')', ',', '}'])
                    .unwrap_or(rest.len() - key.len());
                rest = &rest[key.len() + value_len..];
                continue 'outer;
            }
        }
        let ch = rest.chars().next().expect("non-empty");
        out.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    fn api_err(api: Api, errcode: i64) -> WechatError {
        WechatError::Api {
            api,
            errcode,
            errmsg: "x".into(),
        }
    }

    /// 40029 from code2Session becomes a 400 with the exact re-enter message.
    #[test]
    fn invalid_login_code_maps_to_chinese_bad_request() {
        let e: AppError = api_err(Api::Code2Session, 40029).into();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        match e {
            AppError::BadRequest(m) => assert_eq!(m, "登录凭证无效或已过期，请重新进入小程序"),
            other => panic!("unexpected {other:?}"),
        }
    }

    /// Every errcode of WECHAT.md has a deliberate mapping (no generic fallback message).
    #[test]
    fn every_documented_errcode_has_a_specific_answer() {
        let table: &[(Api, i64, StatusCode)] = &[
            (Api::Code2Session, 40029, StatusCode::BAD_REQUEST),
            (Api::Code2Session, 40163, StatusCode::BAD_REQUEST),
            (Api::Code2Session, 45011, StatusCode::TOO_MANY_REQUESTS),
            (Api::Code2Session, 40226, StatusCode::FORBIDDEN),
            (Api::Code2Session, -1, StatusCode::SERVICE_UNAVAILABLE),
            (Api::StableToken, 40001, StatusCode::SERVICE_UNAVAILABLE),
            (Api::StableToken, 40013, StatusCode::SERVICE_UNAVAILABLE),
            (Api::StableToken, 40125, StatusCode::SERVICE_UNAVAILABLE),
            (Api::StableToken, 40164, StatusCode::SERVICE_UNAVAILABLE),
            (Api::StableToken, 42001, StatusCode::SERVICE_UNAVAILABLE),
            (Api::StableToken, 45009, StatusCode::SERVICE_UNAVAILABLE),
            (Api::PhoneNumber, 40029, StatusCode::BAD_REQUEST),
            (Api::SubscribeSend, 43101, StatusCode::CONFLICT),
            (Api::SubscribeSend, 40003, StatusCode::BAD_REQUEST),
            (Api::SubscribeSend, 40037, StatusCode::SERVICE_UNAVAILABLE),
            (Api::SubscribeSend, 47003, StatusCode::BAD_REQUEST),
            (Api::SubscribeSend, 41030, StatusCode::BAD_REQUEST),
            (Api::MsgSecCheck, 40129, StatusCode::BAD_REQUEST),
            (Api::MsgSecCheck, 43104, StatusCode::BAD_REQUEST),
            (Api::MsgSecCheck, 44002, StatusCode::BAD_REQUEST),
            (Api::GetUnlimited, 41030, StatusCode::BAD_REQUEST),
        ];
        for &(api, code, status) in table {
            let e = api_err(api, code);
            assert!(
                !e.user_message().contains("错误码"),
                "{code} falls back to the generic message"
            );
            assert_eq!(AppError::from(e).status(), status, "errcode {code}");
        }
    }

    /// The whitelist error tells the operator what to fix.
    #[test]
    fn ip_whitelist_error_is_an_operator_message() {
        match AppError::from(api_err(Api::StableToken, 40164)) {
            AppError::Unavailable(m) => assert!(m.starts_with("服务器 IP 不在微信白名单中"), "{m}"),
            other => panic!("unexpected {other:?}"),
        }
    }

    /// The unconfigured client answers 503 with a "not configured" message.
    #[test]
    fn not_configured_is_503_with_clear_message() {
        let e = AppError::from(WechatError::NotConfigured);
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(matches!(e, AppError::Unavailable(m) if m.contains("未配置")));
    }

    /// Unknown codes still say something useful and keep the code for support.
    #[test]
    fn unknown_errcode_mentions_the_code() {
        let m = api_err(Api::MsgSecCheck, 99999).user_message();
        assert!(m.contains("99999"), "{m}");
    }

    /// Busy and network failures are retryable; bad input is not.
    #[test]
    fn transient_classification() {
        assert!(api_err(Api::SubscribeSend, -1).is_transient());
        assert!(!api_err(Api::SubscribeSend, 47003).is_transient());
        assert!(
            WechatError::Http {
                api: Api::SubscribeSend,
                status: 502
            }
            .is_transient()
        );
        assert!(api_err(Api::PhoneNumber, 42001).is_token_rejected());
    }

    /// Tokens, secrets and codes never survive into error text.
    #[test]
    fn redact_hides_credentials() {
        let s = "GET http://x/sns/jscode2session?appid=wx1&secret=S3CR3T&js_code=abc&grant_type=a \
                 and /wxa?access_token=TOKEN123, {\"code\":1} code=zz";
        let r = redact(s);
        for leaked in ["S3CR3T", "abc", "TOKEN123", "zz"] {
            assert!(!r.contains(leaked), "{leaked} leaked in {r}");
        }
        assert!(r.contains("appid=wx1") && r.contains("grant_type=a"), "{r}");
    }
}
