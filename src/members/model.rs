//! Member request and response types.

use serde::{Deserialize, Serialize};

/// The member as the mini-program sees itself.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AppMe {
    /// Member id.
    pub id: i64,
    /// Nickname.
    pub nickname: String,
    /// Avatar URL, if set.
    pub avatar_url: Option<String>,
    /// Masked phone (`138****5678`), if bound.
    pub phone_masked: Option<String>,
    /// `registered`, `pending`, `active`, `rejected` or `left`.
    pub status: String,
    /// Org, once applied or joined.
    pub org_id: Option<i64>,
    /// Member number, once approved.
    pub member_no: Option<String>,
    /// Real name and ID number recorded.
    pub realname_verified: bool,
    /// The person behind this account proved the recorded real-name identity: they typed it in
    /// themselves, or (for a record staff created) passed `POST /app/me/identity`. Until then
    /// the full ID number, the full name and the member card are withheld.
    pub identity_confirmed: bool,
}

/// Proof of identity for a real-name record this account did not enter itself.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityIn {
    /// The last 6 characters of the recorded ID number (digits, last one may be `X`).
    pub id_last6: String,
}

/// WeChat login.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WechatLogin {
    /// Code from `wx.login`.
    pub code: String,
}

/// Ask for an SMS code.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsSend {
    /// Mainland mobile number, 11 digits.
    pub phone: String,
}

/// Log in with an SMS code.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmsLogin {
    /// Mainland mobile number.
    pub phone: String,
    /// The 6-digit code.
    pub code: String,
}

/// Refresh member tokens.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Refresh {
    /// The refresh token.
    pub refresh_token: String,
}

/// Bind the WeChat phone number.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneBind {
    /// Code from the `getPhoneNumber` button.
    pub code: String,
}

/// Answer of a phone binding.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PhoneBound {
    /// Masked phone.
    pub phone_masked: String,
}

/// Profile change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    /// New nickname (1–20 characters).
    pub nickname: Option<String>,
    /// An uploaded public avatar file.
    pub avatar_file_id: Option<i64>,
}

/// A consent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentIn {
    /// `privacy` (privacy policy) or `sensitive` (separate consent for sensitive data).
    pub kind: String,
    /// Version of the text agreed to.
    pub version: String,
}

/// Real-name registration.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RealnameIn {
    /// Name as on the ID card.
    pub name: String,
    /// 18-character resident ID number.
    pub id_number: String,
    /// `male` or `female`; must agree with the ID number when given.
    pub gender: Option<String>,
    /// `YYYY-MM-DD`; must agree with the ID number when given.
    pub birth_date: Option<String>,
}

/// Membership application.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationIn {
    /// The union org to join.
    pub org_id: i64,
    /// Employer / work unit.
    pub work_unit: String,
    /// Job title.
    pub job_title: Option<String>,
    /// Extra answers (free JSON object).
    #[schema(value_type = Object)]
    pub answers: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Application state answered to the member.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApplicationOut {
    /// Application id.
    pub id: i64,
    /// `pending`, `approved`, `rejected`.
    pub status: String,
}

/// The electronic member card.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Card {
    /// Member number.
    pub member_no: String,
    /// Real name.
    pub name: String,
    /// Org name.
    pub org_name: String,
    /// Joined at (RFC 3339).
    pub joined_at: String,
    /// Signed payload to show as a QR code.
    pub qr_payload: String,
    /// When the payload stops being valid.
    pub qr_expires_at: String,
}
