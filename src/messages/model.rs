//! Request and response shapes of the message center.

use serde::{Deserialize, Serialize};

/// Who a staff message goes to: orgs (with or without their descendants) or listed members.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceIn {
    /// Target orgs (a broadcast, stored once).
    pub org_ids: Option<Vec<i64>>,
    /// With `org_ids`: include every org below them (default true).
    pub include_descendants: Option<bool>,
    /// Target members (a direct message).
    pub member_ids: Option<Vec<i64>>,
}

/// A message sent by staff.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendIn {
    /// Title (≤ 50 characters).
    pub title: String,
    /// Plain-text body (≤ 2000 characters).
    pub content: String,
    /// Mini-program page to open, e.g. `pages/news/detail?id=3`.
    pub link: Option<String>,
    /// Recipients.
    pub audience: AudienceIn,
}

/// Delivery and read statistics of one message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
// Named apart from the activity `Stats`: one components name per shape, or one overwrites the other.
#[schema(as = MessageStats)]
pub struct Stats {
    /// Recipients when sent (broadcast: active members reached at that moment).
    pub recipients: i64,
    /// Members who have read it.
    pub read: i64,
}

/// One target org of a broadcast.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AudienceOrg {
    /// Org id.
    pub org_id: i64,
    /// Org name.
    pub org_name: String,
    /// Whether the orgs below it are included.
    pub include_descendants: bool,
}

/// A message as staff see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminMessage {
    /// Id.
    pub id: i64,
    /// `broadcast`, `direct` or `event`.
    pub kind: String,
    /// Event type of an event message.
    pub event: Option<String>,
    /// Title.
    pub title: String,
    /// Body (detail only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Page to open.
    pub link: Option<String>,
    /// Owning org.
    pub org_id: Option<i64>,
    /// Sending account's display name (system events: none).
    pub sender_name: Option<String>,
    /// Sent at.
    pub created_at: String,
    /// Statistics.
    pub stats: Stats,
    /// Target orgs of a broadcast (detail only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience_orgs: Option<Vec<AudienceOrg>>,
}

/// A message as a member sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AppMessage {
    /// Id.
    pub id: i64,
    /// `broadcast`, `direct` or `event`.
    pub kind: String,
    /// Event type of an event message.
    pub event: Option<String>,
    /// Title.
    pub title: String,
    /// Body.
    pub content: String,
    /// Page to open.
    pub link: Option<String>,
    /// Sent at.
    pub created_at: String,
    /// Read by this member.
    pub read: bool,
}

/// Unread messages.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnreadCount {
    /// Count.
    pub count: i64,
}

/// Template ids accepted in `wx.requestSubscribeMessage`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionsIn {
    /// Accepted template ids (1 to 3, as one WeChat request allows).
    pub template_ids: Vec<String>,
}

/// What was recorded.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubscriptionsOut {
    /// Template ids credited with one more send.
    pub accepted: Vec<String>,
    /// Template ids no event uses (nothing recorded).
    pub ignored: Vec<String>,
}
