//! The WeChat calls other modules use: login (code2Session), phone binding (getPhoneNumber),
//! text moderation (msgSecCheck v2) and mini-program codes (getUnlimited).

use super::errors::{Api, WechatError};
use super::transport::{Method, encode_query};
use super::{WechatClient, api_error, parse_json};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The result of code2Session: who the member is. `session_key` decrypts `wx.getUserInfo`
/// data; it is a credential and never logged (Debug hides it).
#[derive(Clone, Deserialize)]
pub struct Session {
    /// The member's id within this mini-program.
    pub openid: String,
    /// The member's id across the owner's apps, when the mini-program is bound to an open
    /// platform account.
    #[serde(default)]
    pub unionid: Option<String>,
    /// Session key (secret).
    pub session_key: String,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("openid", &self.openid)
            .field("unionid", &self.unionid)
            .field("session_key", &"***")
            .finish()
    }
}

/// The phone number a member agreed to share (getPhoneNumber).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Phone {
    /// Number with the country code for non-Chinese numbers, e.g. `+1 2025550123`.
    pub phone_number: String,
    /// Number without the country code, e.g. `13800138000`.
    pub pure_phone_number: String,
    /// Country code, e.g. `86`.
    pub country_code: String,
}

impl fmt::Debug for Phone {
    // Personal data: logs only ever see the last four digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = &self.pure_phone_number;
        let tail: String = n
            .chars()
            .skip(n.chars().count().saturating_sub(4))
            .collect();
        f.debug_struct("Phone")
            .field("pure_phone_number", &format!("*******{tail}"))
            .field("country_code", &self.country_code)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct PhoneAnswer {
    phone_info: PhoneInfo,
}

#[derive(Deserialize)]
struct PhoneInfo {
    #[serde(flatten)]
    phone: Phone,
    #[serde(default)]
    watermark: Option<Watermark>,
}

#[derive(Deserialize)]
struct Watermark {
    #[serde(default)]
    appid: String,
}

/// Where the text being checked appears (msgSecCheck `scene`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecScene {
    /// 1: profile (nickname, signature).
    Profile = 1,
    /// 2: comment.
    Comment = 2,
    /// 3: forum post.
    Forum = 3,
    /// 4: social log.
    SocialLog = 4,
}

/// WeChat's verdict on a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Suggest {
    /// Publish.
    Pass,
    /// Hold for a human.
    Review,
    /// Refuse.
    Risky,
}

/// Result of msgSecCheck.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecCheck {
    /// What to do with the text.
    pub suggest: Suggest,
    /// WeChat's label (100 normal, 20001 politics, 20002 porn, …).
    pub label: i64,
}

#[derive(Deserialize)]
struct SecAnswer {
    result: SecResult,
}

#[derive(Deserialize)]
struct SecResult {
    suggest: String,
    #[serde(default)]
    label: i64,
}

/// Longest text WeChat checks in one call (characters); longer texts are checked in parts.
const SEC_CHECK_MAX_CHARS: usize = 2500;

/// A request for an unlimited mini-program code (getUnlimited).
#[derive(Debug, Clone, Default, Serialize)]
pub struct UnlimitedCode {
    /// Parameter the page receives (≤ 32 visible ASCII characters).
    pub scene: String,
    /// Page path without a leading slash, e.g. `pages/activity/detail`; empty = home page.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub page: String,
    /// `release` (default), `trial` or `develop`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_version: Option<String>,
    /// Width in pixels (280–1280).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Whether WeChat checks that `page` exists in the released version (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_path: Option<bool>,
}

/// Characters WeChat allows in a `scene`.
fn scene_char_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$&'()*+,/:;=?@-._~".contains(c)
}

impl WechatClient {
    /// code2Session: exchange a `wx.login` code (single use, 5 minutes) for the member's ids.
    pub async fn code2session(&self, js_code: &str) -> Result<Session, WechatError> {
        let api = Api::Code2Session;
        self.ensure_configured()?;
        if js_code.trim().is_empty() {
            // An empty code is certain to fail: answer as WeChat would, without the round trip.
            return Err(WechatError::Api {
                api,
                errcode: 40029,
                errmsg: "empty code".into(),
            });
        }
        let query = encode_query(&[
            ("appid", &self.inner.appid),
            ("secret", &self.inner.secret),
            ("js_code", js_code.trim()),
            ("grant_type", "authorization_code"),
        ]);
        let url = self.url(&format!("/sns/jscode2session?{query}"));
        let raw = self
            .inner
            .transport
            .send(api, Method::Get, &url, None)
            .await?;
        let session: Session = parse_json(api, &raw)?;
        if session.openid.is_empty() {
            return Err(WechatError::Decode {
                api,
                detail: "empty openid".into(),
            });
        }
        Ok(session)
    }

    /// getPhoneNumber: exchange the `code` from a phone-number button for the number.
    pub async fn phone_number(&self, code: &str) -> Result<Phone, WechatError> {
        let api = Api::PhoneNumber;
        let body = serde_json::json!({ "code": code.trim() });
        let answer: PhoneAnswer = self
            .post_json(api, "/wxa/business/getuserphonenumber", &body)
            .await?;
        // The watermark names the app the number was granted to; refuse one meant for another.
        if let Some(w) = &answer.phone_info.watermark
            && !w.appid.is_empty()
            && w.appid != self.inner.appid
        {
            return Err(WechatError::Decode {
                api,
                detail: "watermark appid does not match".into(),
            });
        }
        Ok(answer.phone_info.phone)
    }

    /// msgSecCheck v2. WeChat answers errcode 0 even for risky text; the verdict is `suggest`.
    /// Texts over 2500 characters are checked in parts and the worst verdict wins.
    pub async fn msg_sec_check(
        &self,
        openid: &str,
        scene: SecScene,
        content: &str,
    ) -> Result<SecCheck, WechatError> {
        self.ensure_configured()?;
        let mut worst = SecCheck {
            suggest: Suggest::Pass,
            label: 100,
        };
        let chars: Vec<char> = content.chars().collect();
        for part in chars.chunks(SEC_CHECK_MAX_CHARS) {
            let text: String = part.iter().collect();
            if text.trim().is_empty() {
                continue;
            }
            let body = serde_json::json!({
                "version": 2,
                "openid": openid,
                "scene": scene as u8,
                "content": text,
            });
            let answer: SecAnswer = self
                .post_json(Api::MsgSecCheck, "/wxa/msg_sec_check", &body)
                .await?;
            // An unknown verdict is treated as "review": a person decides, nothing is lost.
            let suggest = match answer.result.suggest.as_str() {
                "pass" => Suggest::Pass,
                "risky" => Suggest::Risky,
                _ => Suggest::Review,
            };
            if suggest > worst.suggest {
                worst = SecCheck {
                    suggest,
                    label: answer.result.label,
                };
            }
        }
        Ok(worst)
    }

    /// getUnlimited: the mini-program code image for `scene` + `page`. WeChat answers the image
    /// itself, or a JSON error (told apart by Content-Type).
    pub async fn unlimited_code(&self, req: &UnlimitedCode) -> Result<Bytes, WechatError> {
        let api = Api::GetUnlimited;
        let n = req.scene.chars().count();
        if n == 0 || n > 32 || !req.scene.chars().all(scene_char_ok) {
            return Err(WechatError::InvalidInput {
                api,
                message: "小程序码参数 scene 须为 1 至 32 个字母、数字或常用符号".into(),
            });
        }
        let raw = self
            .post_with_token(api, "/wxa/getwxacodeunlimit", req)
            .await?;
        if let Some(e) = api_error(api, &raw) {
            return Err(e);
        }
        if !raw.content_type.starts_with("image/") {
            return Err(WechatError::Decode {
                api,
                detail: format!("expected an image, got {:?}", raw.content_type),
            });
        }
        Ok(raw.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Debug output never shows the session key or the full phone number.
    #[test]
    fn debug_hides_secrets_and_personal_data() {
        let s = Session {
            openid: "o1".into(),
            unionid: None,
            session_key: "KEY==".into(),
        };
        assert!(!format!("{s:?}").contains("KEY=="));
        let p = Phone {
            phone_number: "13800138000".into(),
            pure_phone_number: "13800138000".into(),
            country_code: "86".into(),
        };
        let d = format!("{p:?}");
        assert!(d.contains("8000") && !d.contains("13800138000"), "{d}");
    }

    /// Scene characters follow WeChat's list.
    #[test]
    fn scene_characters() {
        assert!("a=1&b=2".chars().all(scene_char_ok));
        assert!(!"活动".chars().all(scene_char_ok));
        assert!(!"a b".chars().all(scene_char_ok));
    }
}
