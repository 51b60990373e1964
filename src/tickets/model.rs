//! Ticket request and response types, limits, and the row mapping shared by both sides.

use crate::error::Result;
use crate::validate::Check;
use serde::{Deserialize, Serialize};

/// Most images on a ticket or one message.
pub const MAX_IMAGES: usize = 9;
/// Longest title, in characters.
pub const MAX_TITLE: usize = 100;
/// Longest ticket text, in characters.
pub const MAX_CONTENT: usize = 5000;
/// Longest message, in characters.
pub const MAX_MESSAGE: usize = 2000;
/// Longest transfer/escalation note or rating comment, in characters.
pub const MAX_NOTE: usize = 500;
/// A resolved ticket may be reopened (once) within this many seconds of its resolution; after
/// that the periodic job closes it.
pub const REOPEN_WINDOW_SECS: i64 = 7 * 86_400;
/// Ticket statuses.
pub const STATUSES: &[&str] = &["open", "resolved", "closed"];
/// Name shown for an anonymous member to staff below county level.
pub const ANONYMOUS: &str = "匿名职工";

/// A new ticket.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketIn {
    /// TicketCategory (`GET /api/v1/app/ticket-categories`).
    pub category_id: i64,
    /// Title, 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub title: String,
    /// Text, 1 to 5000 characters.
    #[schema(min_length = 1, max_length = 5000)]
    pub content: String,
    /// Up to 9 images the member uploaded (`POST /api/v1/app/files`).
    #[serde(default)]
    #[schema(max_items = 9)]
    pub file_ids: Vec<i64>,
    /// Hide the member's name from staff below county level.
    #[serde(default)]
    pub anonymous: bool,
    /// Mainland mobile number for a call-back (stored encrypted).
    #[schema(pattern = "^1[0-9]{10}$")]
    pub callback_phone: Option<String>,
}

/// Validated [`TicketIn`].
#[derive(Debug, Clone)]
pub struct TicketData {
    /// TicketCategory.
    pub category_id: i64,
    /// Title.
    pub title: String,
    /// Text.
    pub content: String,
    /// Images.
    pub file_ids: Vec<i64>,
    /// Anonymous towards grassroots staff.
    pub anonymous: bool,
    /// Call-back phone.
    pub phone: Option<String>,
}

/// Check an image list: at most 9, no repeats.
pub fn check_images(ck: &mut Check, ids: &[i64]) {
    if ids.len() > MAX_IMAGES {
        ck.fail("file_ids", format!("最多上传 {MAX_IMAGES} 张图片"));
    }
    let mut seen = std::collections::HashSet::new();
    if !ids.iter().all(|i| seen.insert(*i)) {
        ck.fail("file_ids", "图片不能重复");
    }
}

impl TicketIn {
    /// Validate every field at once.
    pub fn validate(&self) -> Result<TicketData> {
        let mut ck = Check::new();
        let title = ck.text("title", "标题", &self.title, MAX_TITLE);
        let content = ck.text("content", "诉求内容", &self.content, MAX_CONTENT);
        check_images(&mut ck, &self.file_ids);
        let phone = self
            .callback_phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string);
        if let Some(p) = &phone
            && !(p.len() == 11 && p.starts_with('1') && p.bytes().all(|b| b.is_ascii_digit()))
        {
            ck.fail("callback_phone", "回电号码须为 11 位手机号");
        }
        ck.finish()?;
        Ok(TicketData {
            category_id: self.category_id,
            title,
            content,
            file_ids: self.file_ids.clone(),
            anonymous: self.anonymous,
            phone,
        })
    }
}

/// A message (member addition or staff reply).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageIn {
    /// Text, 1 to 2000 characters.
    #[schema(min_length = 1, max_length = 2000)]
    pub content: String,
    /// Up to 9 images uploaded by the writer.
    #[serde(default)]
    #[schema(max_items = 9)]
    pub file_ids: Vec<i64>,
}

impl MessageIn {
    /// Validated `(text, images)`.
    pub fn validate(&self) -> Result<(String, Vec<i64>)> {
        let mut ck = Check::new();
        let t = ck.text("content", "留言内容", &self.content, MAX_MESSAGE);
        check_images(&mut ck, &self.file_ids);
        ck.finish()?;
        Ok((t, self.file_ids.clone()))
    }
}

/// A rating of a resolved ticket.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingIn {
    /// 1 to 5.
    #[schema(minimum = 1, maximum = 5)]
    pub rating: i64,
    /// Optional comment, at most 500 characters.
    #[schema(max_length = 500)]
    pub comment: Option<String>,
}

/// A transfer to another org in the caller's scope.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketTransferIn {
    /// Target org (in scope, not the current one).
    pub org_id: i64,
    /// Why, 1 to 500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub note: String,
}

/// An escalation to the parent org.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateIn {
    /// Why, 1 to 500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub note: String,
}

/// An image of a ticket or message, with a short-lived URL.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Image {
    /// File id.
    pub id: i64,
    /// Signed URL, valid for a few minutes.
    pub url: String,
}

/// A category.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TicketCategory {
    /// Id.
    pub id: i64,
    /// Code.
    pub code: String,
    /// Name, e.g. 劳动维权.
    pub name: String,
    /// Unit of the reply deadline: `work_hours` (09:00–17:00 on working days by default) or
    /// `work_days` (the arrival day not counted; due at the end of the last one).
    #[schema(pattern = "^(work_hours|work_days)$")]
    pub deadline_unit: String,
    /// How many units until the first reply is due.
    pub deadline_amount: i64,
    /// The deadline as members read it, e.g. `2 个工作日`.
    pub deadline_text: String,
}

impl TicketCategory {
    /// Map `id, code, name, deadline_amount, deadline_unit`.
    pub fn map(r: &rusqlite::Row<'_>) -> rusqlite::Result<TicketCategory> {
        let (amount, unit): (i64, String) = (r.get(3)?, r.get(4)?);
        Ok(TicketCategory {
            id: r.get(0)?,
            code: r.get(1)?,
            name: r.get(2)?,
            deadline_text: super::calendar::Unit::parse(&unit).describe(amount),
            deadline_unit: unit,
            deadline_amount: amount,
        })
    }
}

/// A ticket row with what both sides' views are built from.
#[derive(Debug, Clone)]
pub struct TicketRow {
    /// Id.
    pub id: i64,
    /// Member.
    pub member_id: i64,
    /// Handling org.
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// Its path.
    pub org_path: String,
    /// TicketCategory.
    pub category_id: i64,
    /// TicketCategory name.
    pub category_name: String,
    /// TicketCategory deadline amount, in `deadline_unit`.
    pub deadline_amount: i64,
    /// TicketCategory deadline unit (`work_hours` or `work_days`).
    pub deadline_unit: String,
    /// Title.
    pub title: String,
    /// Text.
    pub content: String,
    /// Opening images.
    pub file_ids: Vec<i64>,
    /// Anonymous.
    pub anonymous: bool,
    /// Sealed call-back phone.
    pub phone_enc: Option<String>,
    /// Masked call-back phone.
    pub phone_masked: Option<String>,
    /// Status.
    pub status: String,
    /// Moderation state: 0 visible, 1 held, 2 rejected.
    pub held: i64,
    /// Deadline.
    pub deadline_at: i64,
    /// Answered since the deadline was set.
    pub answered: bool,
    /// First staff reply.
    pub first_reply_at: Option<i64>,
    /// Reopened once.
    pub reopened: bool,
    /// Resolved at.
    pub resolved_at: Option<i64>,
    /// Rating.
    pub rating: Option<i64>,
    /// Rating comment.
    pub rating_comment: Option<String>,
    /// Created.
    pub created_at: i64,
    /// Updated.
    pub updated_at: i64,
    /// Member real name or nickname.
    pub member_name: String,
}

/// Columns of a ticket (alias `t`, org `o`, category `k`, member `m`).
pub const SELECT: &str = "SELECT t.id, t.member_id, t.org_id, o.name, o.path, t.category_id, k.name, k.deadline_amount, t.title,
    t.content, t.file_ids, t.anonymous, t.callback_phone_enc, t.callback_phone_masked, t.status, t.held, t.deadline_at,
    t.answered, t.first_reply_at, t.reopened, t.resolved_at, t.rating, t.rating_comment, t.created_at, t.updated_at,
    coalesce(nullif(m.real_name, ''), m.nickname, ''), k.deadline_unit
    FROM tickets t JOIN orgs o ON o.id = t.org_id JOIN ticket_categories k ON k.id = t.category_id
    JOIN members m ON m.id = t.member_id";

/// Parse a stored JSON list of file ids.
pub fn ids(json: &str) -> Vec<i64> {
    serde_json::from_str(json).unwrap_or_default()
}

/// Map a [`SELECT`] row.
pub fn map_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TicketRow> {
    Ok(TicketRow {
        id: r.get(0)?,
        member_id: r.get(1)?,
        org_id: r.get(2)?,
        org_name: r.get(3)?,
        org_path: r.get(4)?,
        category_id: r.get(5)?,
        category_name: r.get(6)?,
        deadline_amount: r.get(7)?,
        title: r.get(8)?,
        content: r.get(9)?,
        file_ids: ids(&r.get::<_, String>(10)?),
        anonymous: r.get(11)?,
        phone_enc: r.get(12)?,
        phone_masked: r.get(13)?,
        status: r.get(14)?,
        held: r.get(15)?,
        deadline_at: r.get(16)?,
        answered: r.get(17)?,
        first_reply_at: r.get(18)?,
        reopened: r.get(19)?,
        resolved_at: r.get(20)?,
        rating: r.get(21)?,
        rating_comment: r.get(22)?,
        created_at: r.get(23)?,
        updated_at: r.get(24)?,
        member_name: r.get(25)?,
        deadline_unit: r.get(26)?,
    })
}

impl TicketRow {
    /// Past its deadline with no staff reply since it was set.
    pub fn overdue(&self, now: i64) -> bool {
        self.status == "open" && !self.answered && self.deadline_at <= now
    }

    /// When a reply is due if the deadline starts at `from`.
    pub fn due(&self, cal: &super::calendar::WorkCalendar, from: i64) -> i64 {
        let unit = super::calendar::Unit::parse(&self.deadline_unit);
        cal.deadline(from, unit, self.deadline_amount)
    }
}

/// The moderation state as text.
pub fn held_text(h: i64) -> &'static str {
    match h {
        0 => "visible",
        1 => "pending",
        _ => "rejected",
    }
}

/// A ticket as its member sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MyTicket {
    /// Id.
    pub id: i64,
    /// TicketCategory.
    pub category_id: i64,
    /// TicketCategory name.
    pub category_name: String,
    /// Title.
    pub title: String,
    /// `open`, `resolved` or `closed`.
    pub status: String,
    /// `visible`, `pending` (held for review) or `rejected`.
    pub moderation: String,
    /// The org handling it, e.g. 「XX县总工会」.
    pub org_name: String,
    /// Anonymous towards grassroots staff.
    pub anonymous: bool,
    /// Reply deadline.
    pub deadline_at: String,
    /// Rating once rated.
    pub rating: Option<i64>,
    /// Rating comment.
    pub rating_comment: Option<String>,
    /// May rate now (resolved, not rated).
    pub can_rate: bool,
    /// May reopen now (resolved, not reopened before, within 7 days).
    pub can_reopen: bool,
    /// Opened.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

impl TicketRow {
    /// The member's view at `now`.
    pub fn mine(&self, now: i64) -> MyTicket {
        let resolved = self.status == "resolved";
        MyTicket {
            id: self.id,
            category_id: self.category_id,
            category_name: self.category_name.clone(),
            title: self.title.clone(),
            status: self.status.clone(),
            moderation: held_text(self.held).into(),
            org_name: self.org_name.clone(),
            anonymous: self.anonymous,
            deadline_at: crate::time::fmt(self.deadline_at),
            rating: self.rating,
            rating_comment: self.rating_comment.clone(),
            can_rate: resolved && self.rating.is_none(),
            can_reopen: resolved
                && !self.reopened
                && self
                    .resolved_at
                    .is_some_and(|r| now - r <= REOPEN_WINDOW_SECS),
            created_at: crate::time::fmt(self.created_at),
            updated_at: crate::time::fmt(self.updated_at),
        }
    }
}

/// A message of the thread as the member sees it: staff replies carry only the org's name.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberMessage {
    /// Id.
    pub id: i64,
    /// `member` or `staff`.
    pub author: String,
    /// For staff replies: the org that answered (never the staff member's name).
    pub org_name: Option<String>,
    /// Text.
    pub content: String,
    /// Images.
    pub images: Vec<Image>,
    /// `visible`, `pending` or `rejected` (the member's own held messages).
    pub moderation: String,
    /// Written at.
    pub created_at: String,
}

/// The thread as the member sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberThread {
    /// The ticket.
    #[serde(flatten)]
    pub ticket: MyTicket,
    /// Its text.
    pub content: String,
    /// Its images.
    pub images: Vec<Image>,
    /// Masked call-back phone.
    pub callback_phone_masked: Option<String>,
    /// Messages after `cursor`, oldest first.
    pub messages: crate::cursor::CursorPage<MemberMessage>,
}

/// A ticket in the staff queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffTicket {
    /// Id.
    pub id: i64,
    /// Handling org.
    pub org_id: i64,
    /// Its name.
    pub org_name: String,
    /// TicketCategory.
    pub category_id: i64,
    /// TicketCategory name.
    pub category_name: String,
    /// Title.
    pub title: String,
    /// `open`, `resolved` or `closed`.
    pub status: String,
    /// Past the deadline without a staff reply.
    pub overdue: bool,
    /// Reply deadline.
    pub deadline_at: String,
    /// Member name (masked in lists; 匿名职工 for anonymous tickets below county level).
    pub member_name: String,
    /// Anonymous ticket.
    pub anonymous: bool,
    /// First staff reply.
    pub first_reply_at: Option<String>,
    /// Reopened once.
    pub reopened: bool,
    /// Rating.
    pub rating: Option<i64>,
    /// Opened.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

impl TicketRow {
    /// The staff view; `name` is what this caller may see of the member.
    pub fn staff(&self, now: i64, name: String) -> StaffTicket {
        StaffTicket {
            id: self.id,
            org_id: self.org_id,
            org_name: self.org_name.clone(),
            category_id: self.category_id,
            category_name: self.category_name.clone(),
            title: self.title.clone(),
            status: self.status.clone(),
            overdue: self.overdue(now),
            deadline_at: crate::time::fmt(self.deadline_at),
            member_name: name,
            anonymous: self.anonymous,
            first_reply_at: crate::time::fmt_opt(self.first_reply_at),
            reopened: self.reopened,
            rating: self.rating,
            created_at: crate::time::fmt(self.created_at),
            updated_at: crate::time::fmt(self.updated_at),
        }
    }
}

/// A message as staff see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffMessage {
    /// Id.
    pub id: i64,
    /// `member` or `staff`.
    pub author: String,
    /// For staff replies: the org answered for.
    pub org_name: Option<String>,
    /// For staff replies: the account's display name (staff only, never shown to members).
    pub staff_name: Option<String>,
    /// Text.
    pub content: String,
    /// Images.
    pub images: Vec<Image>,
    /// Written at.
    pub created_at: String,
}

/// A transfer or escalation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Route {
    /// `transfer` or `escalate`.
    pub kind: String,
    /// From org name.
    pub from_org_name: String,
    /// To org name.
    pub to_org_name: String,
    /// Note.
    pub note: String,
    /// When.
    pub created_at: String,
}

/// The staff detail of a ticket.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StaffThread {
    /// The ticket.
    #[serde(flatten)]
    pub ticket: StaffTicket,
    /// Member id (absent when the member is anonymous to this caller).
    pub member_id: Option<i64>,
    /// Text.
    pub content: String,
    /// Images.
    pub images: Vec<Image>,
    /// Call-back phone: in full to staff who may see the member's name, else masked.
    pub callback_phone: Option<String>,
    /// Rating comment.
    pub rating_comment: Option<String>,
    /// Transfers and escalations, oldest first.
    pub routes: Vec<Route>,
    /// Messages after `cursor`, oldest first.
    pub messages: crate::cursor::CursorPage<StaffMessage>,
}
