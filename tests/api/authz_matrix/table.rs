//! The expectation table: one row per OpenAPI operation, keyed by "METHOD /path/template"
//! (utoipa operation ids are handler names and repeat across modules, so they cannot key it).

/// Who a route is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aud {
    /// No token needed (sign-in, refresh, password policy).
    Public,
    /// Member token (`app` audience) only.
    Member,
    /// Staff token (`admin` audience) only.
    Staff,
}

/// How the data scope applies once the permission is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// No object: a list filtered to the scope, a catalogue, the caller itself.
    Free,
    /// The path names an object of county A: a sibling county gets 404 (for member routes:
    /// a members-only activity of A, a message to the A1 member; the B1 member gets 404).
    Obj,
    /// The body places a new object in county A: a sibling county gets 404, the target org
    /// being outside its scope (API.md: outside the scope is the same as missing).
    Create,
    /// The whole org tree must be in scope (`Scope::require_whole_tree`): only root passes.
    Whole,
    /// Only the account that created the object (an import job): everyone else gets 404.
    Own,
}

/// A static string.
type S = &'static str;

/// One row: route, audience, permission ("" = any signed-in account; "a|b" = either), scope
/// rule, fixture for `{id}` ("" = none), body template ("" = none, "upload" = multipart PNG;
/// `$A`, `$A1`, `$CAT`, `$MEMBER`, `$ROLE` are replaced by fixture ids). Bodies that grant
/// roles name roles made of the route's own permission: nobody may grant what they lack.
pub type Row = (S, Aud, S, Rule, S, S);

use Aud::*;
use Rule::*;

/// Every operation of the OpenAPI document. Rows run in this order; the ones that end a
/// principal's session or account (logout, member self-deletion) come last.
#[rustfmt::skip]
pub const TABLE: &[Row] = &[
    // Staff sign-in and session.
    ("POST /api/v1/admin/auth/login", Public, "", Free, "", r#"{"username":"admin","password":"Admin#2026pw"}"#),
    ("POST /api/v1/admin/auth/refresh", Public, "", Free, "", r#"{"refresh_token":"x"}"#),
    ("GET /api/v1/admin/auth/password-policy", Public, "", Free, "", ""),
    ("POST /api/v1/admin/auth/password", Staff, "", Free, "", r#"{"old_password":"x","new_password":"y"}"#),
    ("GET /api/v1/admin/me", Staff, "", Free, "", ""),
    ("GET /api/v1/admin/me/login-logs", Staff, "", Free, "", ""),
    ("GET /api/v1/admin/dashboard", Staff, "", Free, "", ""),
    // Statistics: without org_id the caller's own org, so every holder gets its own answer.
    ("GET /api/v1/admin/stats/{topic}", Staff, "stats:read", Free, "", ""),
    ("GET /api/v1/admin/stats/{topic}/export", Staff, "stats:read", Free, "", ""),
    ("GET /api/v1/admin/permissions", Staff, "", Free, "", ""),
    // Orgs, accounts, roles, logs.
    ("GET /api/v1/admin/orgs", Staff, "org:read", Free, "", ""),
    ("POST /api/v1/admin/orgs", Staff, "org:write", Create, "", r#"{"parent_id":$A,"name":"新组织","code":"mx-new","kind":"grassroots"}"#),
    ("PATCH /api/v1/admin/orgs/{id}", Staff, "org:write", Obj, "a1", "{}"),
    ("DELETE /api/v1/admin/orgs/{id}", Staff, "org:write", Obj, "org_del", ""),
    ("GET /api/v1/admin/accounts", Staff, "account:read", Free, "", ""),
    ("POST /api/v1/admin/accounts", Staff, "account:write", Create, "", r#"{"username":"mx_new","name":"新账号","org_id":$A1,"role_ids":[$ROLE],"password":"Clerk#2026pw"}"#),
    ("GET /api/v1/admin/accounts/{id}", Staff, "account:read", Obj, "acc_a1", ""),
    ("PATCH /api/v1/admin/accounts/{id}", Staff, "account:write", Obj, "acc_a1", "{}"),
    ("POST /api/v1/admin/accounts/{id}/password", Staff, "account:write", Obj, "acc_a1", r#"{"new_password":""}"#),
    ("GET /api/v1/admin/accounts/locked", Staff, "account:read", Free, "", ""),
    // Not locked: an allowed caller gets 409, a refused one 403/404.
    ("POST /api/v1/admin/accounts/{id}/unlock", Staff, "account:write", Obj, "acc_a1", ""),
    ("GET /api/v1/admin/sessions", Staff, "account:read", Free, "", ""),
    ("DELETE /api/v1/admin/sessions/{id}", Staff, "account:write", Obj, "sess", ""),
    ("GET /api/v1/admin/roles", Staff, "role:read", Free, "", ""),
    // Without `org_id` the caller's own org: every caller gets its own answer.
    ("GET /api/v1/admin/roles/assignable", Staff, "account:write", Free, "", ""),
    ("POST /api/v1/admin/roles", Staff, "role:write", Free, "", r#"{"name":"","permissions":["role:write"],"data_scope":"org"}"#),
    ("PUT /api/v1/admin/roles/{id}", Staff, "role:write", Obj, "role_a", r#"{"name":"改名角色","permissions":["role:write"],"data_scope":"org"}"#),
    ("DELETE /api/v1/admin/roles/{id}", Staff, "role:write", Obj, "role_del", ""),
    ("GET /api/v1/admin/audit-logs", Staff, "audit:read", Free, "", ""),
    ("GET /api/v1/admin/login-logs", Staff, "loginlog:read", Free, "", ""),
    ("GET /api/v1/admin/log-catalogue", Staff, "audit:read|loginlog:read", Free, "", ""),
    // Files.
    ("POST /api/v1/admin/files", Staff, "file:write", Free, "", "upload"),
    ("GET /api/v1/admin/files/{id}", Staff, "file:read", Obj, "file", ""),
    ("GET /api/v1/admin/files/{id}/download", Staff, "file:read", Obj, "file", ""),
    ("POST /api/v1/admin/files/{id}/signed-url", Staff, "file:read", Obj, "file", ""),
    ("DELETE /api/v1/admin/files/{id}", Staff, "file:write", Obj, "file_del", ""),
    // Members.
    ("GET /api/v1/admin/members", Staff, "member:read", Free, "", ""),
    ("POST /api/v1/admin/members", Staff, "member:write", Create, "", r#"{"org_id":$A1,"name":"赵六","id_number":"11010519491231002X","work_unit":"县第一中学"}"#),
    ("GET /api/v1/admin/members/export", Staff, "member:export", Free, "", ""),
    ("POST /api/v1/admin/members/import", Staff, "member:import", Free, "", "{}"),
    ("GET /api/v1/admin/members/import-template", Staff, "member:import", Free, "", ""),
    ("GET /api/v1/admin/members/import/{job_id}", Staff, "member:import", Own, "job", ""),
    ("GET /api/v1/admin/members/import/{job_id}/errors", Staff, "member:import", Own, "job", ""),
    ("GET /api/v1/admin/members/import-jobs", Staff, "member:import", Free, "", ""),
    ("GET /api/v1/admin/members/realname-conflicts", Staff, "member:review", Free, "", ""),
    ("POST /api/v1/admin/members/realname-conflicts/{id}/dismiss", Staff, "member:review", Obj, "conflict", r#"{"reason":"已核实"}"#),
    ("POST /api/v1/admin/members/realname-conflicts/{id}/release", Staff, "member:review", Obj, "conflict", r#"{"reason":"已核实"}"#),
    ("POST /api/v1/admin/members/verify-card", Staff, "member:read", Free, "", r#"{"qr_payload":"x"}"#),
    ("GET /api/v1/admin/members/{id}", Staff, "member:read", Obj, "member", ""),
    ("PATCH /api/v1/admin/members/{id}", Staff, "member:write", Obj, "member", "{}"),
    ("POST /api/v1/admin/members/{id}/reveal", Staff, "member:reveal", Obj, "member", r#"{"field":"phone"}"#),
    ("POST /api/v1/admin/members/{id}/transfer", Staff, "member:write", Obj, "mem_x", r#"{"org_id":$A}"#),
    ("POST /api/v1/admin/members/{id}/leave", Staff, "member:write", Obj, "mem_x", "{}"),
    ("GET /api/v1/admin/membership/applications", Staff, "member:review", Free, "", ""),
    ("POST /api/v1/admin/membership/applications/{id}/approve", Staff, "member:review", Obj, "application", "{}"),
    ("POST /api/v1/admin/membership/applications/{id}/reject", Staff, "member:review", Obj, "application", r#"{"reason":"材料不全"}"#),
    ("POST /api/v1/admin/membership/applications/bulk-approve", Staff, "member:review", Create, "", r#"{"ids":[$APPLICATION]}"#),
    // Activities.
    ("GET /api/v1/admin/dictionaries/{dict}", Staff, "activity:read", Free, "", ""),
    ("POST /api/v1/admin/dictionaries/{dict}", Staff, "activity:write", Whole, "", r#"{"code":"mx_cat","name":"测试类别"}"#),
    ("GET /api/v1/admin/form-templates", Staff, "activity:read", Free, "", ""),
    ("POST /api/v1/admin/form-templates", Staff, "activity:write", Free, "", r#"{"name":"","fields":[]}"#),
    ("GET /api/v1/admin/form-templates/{id}", Staff, "activity:read", Obj, "tpl", ""),
    ("PATCH /api/v1/admin/form-templates/{id}", Staff, "activity:write", Obj, "tpl", "{}"),
    ("DELETE /api/v1/admin/form-templates/{id}", Staff, "activity:write", Obj, "tpl_del", ""),
    ("GET /api/v1/admin/activities", Staff, "activity:read", Free, "", ""),
    ("POST /api/v1/admin/activities", Staff, "activity:write", Create, "", "$ACTIVITY"),
    ("GET /api/v1/admin/activities/{id}", Staff, "activity:read", Obj, "act", ""),
    ("PATCH /api/v1/admin/activities/{id}", Staff, "activity:write", Obj, "act", "{}"),
    ("POST /api/v1/admin/activities/{id}/publish", Staff, "activity:write", Obj, "act", "{}"),
    ("GET /api/v1/admin/activities/{id}/checkin-code", Staff, "activity:checkin", Obj, "act", ""),
    ("GET /api/v1/admin/activities/{id}/registrations", Staff, "activity:read", Obj, "act", ""),
    ("GET /api/v1/admin/activities/{id}/registrations/export", Staff, "activity:export", Obj, "act", ""),
    ("POST /api/v1/admin/activities/{id}/registrations/{rid}/approve", Staff, "activity:review", Obj, "act", "{}"),
    ("POST /api/v1/admin/activities/{id}/registrations/{rid}/reject", Staff, "activity:review", Obj, "act", r#"{"reason":"材料不全"}"#),
    ("POST /api/v1/admin/activities/{id}/registrations/bulk-approve", Staff, "activity:review", Obj, "act", r#"{"ids":[$RID]}"#),
    ("GET /api/v1/admin/activities/{id}/stats", Staff, "activity:read", Obj, "act", ""),
    ("POST /api/v1/admin/activities/{id}/cancel", Staff, "activity:write", Obj, "act_cancel", r#"{"reason":"天气原因"}"#),
    ("DELETE /api/v1/admin/activities/{id}", Staff, "activity:write", Obj, "act_del", ""),
    // News.
    ("GET /api/v1/admin/news-categories", Staff, "news:read", Free, "", ""),
    ("POST /api/v1/admin/news-categories", Staff, "news:write", Whole, "", r#"{"name":"新栏目"}"#),
    ("PATCH /api/v1/admin/news-categories/{id}", Staff, "news:write", Whole, "cat", "{}"),
    ("DELETE /api/v1/admin/news-categories/{id}", Staff, "news:write", Whole, "cat_del", ""),
    ("GET /api/v1/admin/news", Staff, "news:read", Free, "", ""),
    ("POST /api/v1/admin/news", Staff, "news:write", Create, "", r#"{"org_id":$A,"category_id":$CAT,"title":"新闻","body_html":"<p>正文</p>"}"#),
    ("GET /api/v1/admin/news/{id}", Staff, "news:read", Obj, "news", ""),
    ("PATCH /api/v1/admin/news/{id}", Staff, "news:write", Obj, "news", "{}"),
    ("POST /api/v1/admin/news/{id}/publish", Staff, "news:write", Obj, "news", "{}"),
    ("POST /api/v1/admin/news/{id}/withdraw", Staff, "news:write", Obj, "news_wd", "{}"),
    ("DELETE /api/v1/admin/news/{id}", Staff, "news:write", Obj, "news_del", ""),
    // Messages, outbox, settings.
    ("GET /api/v1/admin/messages", Staff, "message:read", Free, "", ""),
    ("POST /api/v1/admin/messages", Staff, "message:write", Create, "", r#"{"title":"通知","content":"开会","audience":{"org_ids":[$A],"include_descendants":true}}"#),
    ("GET /api/v1/admin/messages/{id}", Staff, "message:read", Obj, "msg", ""),
    ("GET /api/v1/admin/outbox", Staff, "message:read", Free, "", ""),
    ("GET /api/v1/admin/settings/subscription-templates", Staff, "setting:read", Free, "", ""),
    ("PUT /api/v1/admin/settings/subscription-templates", Staff, "setting:write", Whole, "", "{}"),
    // Backups: whole tree only (an archive holds every org's data).
    ("GET /api/v1/admin/backups", Staff, "backup:manage", Whole, "", ""),
    ("POST /api/v1/admin/backups", Staff, "backup:manage", Whole, "", ""),
    ("POST /api/v1/admin/backups/{id}/verify", Staff, "backup:manage", Whole, "bak", ""),
    ("GET /api/v1/admin/backups/{id}/download", Staff, "backup:manage", Whole, "bak", ""),
    ("DELETE /api/v1/admin/backups/{id}", Staff, "backup:manage", Whole, "bak_del", ""),
    ("GET /api/v1/admin/settings/config", Staff, "setting:read", Whole, "", ""),
    ("PUT /api/v1/admin/settings/config", Staff, "setting:write", Whole, "", r#"{"points.membership_bonus":12}"#),
    ("GET /api/v1/admin/dictionaries", Staff, "", Free, "", ""),
    ("PUT /api/v1/admin/dictionaries/{dict}/{code}/color", Staff, "setting:write", Whole, "", r#"{"color":"success"}"#),
    ("GET /api/v1/admin/system/diag", Staff, "setting:read", Whole, "", ""),
    ("GET /api/v1/admin/miniprogram/package", Staff, "miniprogram:download", Whole, "", ""),
    // Member app: sign-in.
    ("POST /api/v1/app/auth/refresh", Public, "", Free, "", r#"{"refresh_token":"x"}"#),
    ("POST /api/v1/app/auth/sms/send", Public, "", Free, "", r#"{"phone":"1"}"#),
    ("POST /api/v1/app/auth/sms/login", Public, "", Free, "", r#"{"phone":"1","code":"1"}"#),
    ("POST /api/v1/app/auth/wechat", Public, "", Free, "", r#"{"code":""}"#),
    // Member app: own account.
    ("GET /api/v1/app/me", Member, "", Free, "", ""),
    ("PATCH /api/v1/app/me", Member, "", Free, "", "{}"),
    ("GET /api/v1/app/me/activities", Member, "", Free, "", ""),
    ("GET /api/v1/app/me/card", Member, "", Free, "", ""),
    ("GET /api/v1/app/me/card/qr.png", Member, "", Free, "", ""),
    ("POST /api/v1/app/me/consents", Member, "", Free, "", r#"{"kind":"","version":""}"#),
    ("GET /api/v1/app/me/export", Member, "", Free, "", ""),
    ("POST /api/v1/app/me/identity", Member, "", Free, "", "{}"),
    ("POST /api/v1/app/me/phone", Member, "", Free, "", r#"{"phone":"1","code":"1"}"#),
    ("POST /api/v1/app/me/realname", Member, "", Free, "", r#"{"real_name":"","id_number":""}"#),
    ("GET /api/v1/app/orgs", Member, "", Free, "", ""),
    ("POST /api/v1/app/membership/applications", Member, "", Free, "", r#"{"org_id":$A1,"work_unit":""}"#),
    ("POST /api/v1/app/files", Member, "", Free, "", "upload"),
    ("POST /api/v1/app/subscriptions", Member, "", Free, "", "{}"),
    ("GET /api/v1/app/subscriptions/templates", Member, "", Free, "", ""),
    // Member app: activities, messages, news.
    ("GET /api/v1/app/activities", Member, "", Free, "", ""),
    ("GET /api/v1/app/activities/{id}", Member, "", Obj, "act", ""),
    ("POST /api/v1/app/activities/{id}/registrations", Member, "", Obj, "act", "{}"),
    ("POST /api/v1/app/activities/{id}/checkin", Member, "", Obj, "act", "{}"),
    ("POST /api/v1/app/activities/{id}/review", Member, "", Obj, "act", r#"{"rating":5}"#),
    ("GET /api/v1/app/activities/{id}/reviews", Member, "", Obj, "act", ""),
    ("DELETE /api/v1/app/activities/{id}/registrations/mine", Member, "", Obj, "act", ""),
    ("GET /api/v1/app/messages", Member, "", Free, "", ""),
    ("GET /api/v1/app/messages/unread-count", Member, "", Free, "", ""),
    ("POST /api/v1/app/messages/{id}/read", Member, "", Obj, "msg", ""),
    ("POST /api/v1/app/messages/read-all", Member, "", Free, "", ""),
    ("GET /api/v1/app/news", Member, "", Free, "", ""),
    ("GET /api/v1/app/news/categories", Member, "", Free, "", ""),
    ("GET /api/v1/app/news/search", Member, "", Free, "", ""),
    ("GET /api/v1/app/news/{id}", Member, "", Obj, "news_pub", ""),
    // Benefits, points and the mall (staff).
    ("GET /api/v1/admin/benefits", Staff, "benefit:read", Free, "", ""),
    ("POST /api/v1/admin/benefits", Staff, "benefit:write", Create, "", r#"{"org_id":$A,"title":"体检","kind":"service","starts_at":"2026-01-01T00:00:00+08:00","ends_at":"2035-01-01T00:00:00+08:00","stock":5}"#),
    ("GET /api/v1/admin/benefits/{id}", Staff, "benefit:read", Obj, "benefit", ""),
    ("PATCH /api/v1/admin/benefits/{id}", Staff, "benefit:write", Obj, "benefit", "{}"),
    ("DELETE /api/v1/admin/benefits/{id}", Staff, "benefit:write", Obj, "benefit_del", ""),
    ("POST /api/v1/admin/benefits/{id}/publish", Staff, "benefit:write", Obj, "benefit", ""),
    ("POST /api/v1/admin/benefits/{id}/close", Staff, "benefit:write", Obj, "benefit_close", ""),
    ("GET /api/v1/admin/benefits/{id}/claims", Staff, "benefit:read", Obj, "benefit", ""),
    ("GET /api/v1/admin/benefits/{id}/claims/export", Staff, "benefit:export", Obj, "benefit", ""),
    ("POST /api/v1/admin/benefit-claims/redeem", Staff, "benefit:redeem", Obj, "", r#"{"code":"$CLAIM_CODE"}"#),
    ("GET /api/v1/admin/members/{id}/points", Staff, "member:read", Obj, "member", ""),
    ("POST /api/v1/admin/members/{id}/points/adjust", Staff, "points:adjust", Obj, "member", r#"{"delta":1,"reason":"矩阵"}"#),
    ("GET /api/v1/admin/mall/goods", Staff, "benefit:read", Free, "", ""),
    ("POST /api/v1/admin/mall/goods", Staff, "benefit:write", Create, "", r#"{"org_id":$A,"title":"雨伞","points_price":5,"stock":3}"#),
    ("GET /api/v1/admin/mall/goods/{id}", Staff, "benefit:read", Obj, "goods", ""),
    ("PATCH /api/v1/admin/mall/goods/{id}", Staff, "benefit:write", Obj, "goods", "{}"),
    ("DELETE /api/v1/admin/mall/goods/{id}", Staff, "benefit:write", Obj, "goods_del", ""),
    ("GET /api/v1/admin/mall/orders", Staff, "benefit:read", Free, "", ""),
    ("GET /api/v1/admin/mall/orders/export", Staff, "benefit:export", Free, "", ""),
    ("POST /api/v1/admin/mall/orders/{id}/fulfil", Staff, "benefit:redeem", Obj, "order", r#"{"pickup_code":"X"}"#),
    ("POST /api/v1/admin/mall/orders/{id}/cancel", Staff, "benefit:write", Obj, "order", r#"{"reason":"矩阵"}"#),
    // Benefits, points and the mall (members).
    ("GET /api/v1/app/benefits", Member, "", Free, "", ""),
    ("GET /api/v1/app/benefits/{id}", Member, "", Obj, "benefit", ""),
    ("POST /api/v1/app/benefits/{id}/claims", Member, "", Obj, "benefit", ""),
    ("GET /api/v1/app/me/benefit-claims", Member, "", Free, "", ""),
    ("GET /api/v1/app/me/benefit-claims/{id}/qr.png", Member, "", Obj, "claim", ""),
    ("GET /api/v1/app/me/points", Member, "", Free, "", ""),
    ("POST /api/v1/app/me/points/sign-in", Member, "", Free, "", ""),
    ("GET /api/v1/app/mall/goods", Member, "", Free, "", ""),
    ("POST /api/v1/app/mall/orders", Member, "", Obj, "", r#"{"goods_id":$GOODS}"#),
    ("GET /api/v1/app/me/mall/orders", Member, "", Free, "", ""),
    ("POST /api/v1/app/me/mall/orders/{id}/cancel", Member, "", Obj, "order", ""),
    // Tickets and content safety (staff).
    ("GET /api/v1/admin/ticket-categories", Staff, "ticket:read|ticket:category", Free, "", ""),
    ("PATCH /api/v1/admin/ticket-categories/{id}", Staff, "ticket:category", Whole, "ticket_cat", r#"{"deadline_unit":"work_days","deadline_amount":2}"#),
    ("GET /api/v1/admin/tickets", Staff, "ticket:read", Free, "", ""),
    ("GET /api/v1/admin/tickets/notices", Staff, "ticket:read", Free, "", ""),
    ("GET /api/v1/admin/tickets/stats", Staff, "ticket:read", Free, "", ""),
    ("GET /api/v1/admin/tickets/export", Staff, "ticket:export", Free, "", ""),
    ("GET /api/v1/admin/tickets/{id}", Staff, "ticket:read", Obj, "ticket", ""),
    ("POST /api/v1/admin/tickets/{id}/messages", Staff, "ticket:reply", Obj, "ticket", r#"{"content":"矩阵答复"}"#),
    // To its own org: allowed callers get 409 same_org, so the ticket stays put.
    ("POST /api/v1/admin/tickets/{id}/transfer", Staff, "ticket:reply", Obj, "ticket", r#"{"org_id":$A1,"note":"矩阵"}"#),
    ("POST /api/v1/admin/tickets/{id}/escalate", Staff, "ticket:reply", Obj, "ticket_esc", r#"{"note":"矩阵"}"#),
    ("POST /api/v1/admin/tickets/{id}/resolve", Staff, "ticket:reply", Obj, "ticket_res", ""),
    ("GET /api/v1/admin/sensitive-words", Staff, "safety:manage", Free, "", ""),
    ("POST /api/v1/admin/sensitive-words", Staff, "safety:manage", Whole, "", r#"{"word":"矩阵新词","level":"block"}"#),
    ("DELETE /api/v1/admin/sensitive-words/{id}", Staff, "safety:manage", Whole, "word", ""),
    ("GET /api/v1/admin/moderation", Staff, "safety:manage", Free, "", ""),
    ("POST /api/v1/admin/moderation/{id}/approve", Staff, "safety:manage", Obj, "mod_item", ""),
    ("POST /api/v1/admin/moderation/{id}/reject", Staff, "safety:manage", Obj, "mod_item2", r#"{"reason":"矩阵"}"#),
    // Tickets (members).
    ("GET /api/v1/app/ticket-categories", Member, "", Free, "", ""),
    ("GET /api/v1/app/tickets", Member, "", Free, "", ""),
    ("POST /api/v1/app/tickets", Member, "", Free, "", r#"{"category_id":5,"title":"矩阵","content":"矩阵诉求"}"#),
    ("GET /api/v1/app/tickets/{id}", Member, "", Obj, "ticket", ""),
    ("POST /api/v1/app/tickets/{id}/messages", Member, "", Obj, "ticket", r#"{"content":"矩阵补充"}"#),
    ("POST /api/v1/app/tickets/{id}/rating", Member, "", Obj, "ticket", r#"{"rating":5}"#),
    ("POST /api/v1/app/tickets/{id}/reopen", Member, "", Obj, "ticket", ""),
    // Hardship aid (members).
    ("GET /api/v1/app/aid/types", Member, "", Free, "", ""),
    ("GET /api/v1/app/aid/reasons", Member, "", Free, "", ""),
    ("POST /api/v1/app/aid/applications", Member, "", Free, "", r#"{"type_id":1,"reason_code":"other","household_size":1,"monthly_income":"0"}"#),
    ("GET /api/v1/app/aid/applications", Member, "", Free, "", ""),
    ("GET /api/v1/app/aid/applications/{id}", Member, "", Obj, "aid_app", ""),
    ("PATCH /api/v1/app/aid/applications/{id}", Member, "", Obj, "aid_app", r#"{"type_id":1,"reason_code":"other","household_size":1,"monthly_income":"0"}"#),
    ("PUT /api/v1/app/aid/applications/{id}", Member, "", Obj, "aid_app", r#"{"type_id":1,"reason_code":"other","household_size":1,"monthly_income":"0"}"#),
    ("POST /api/v1/app/aid/applications/{id}/submit", Member, "", Obj, "aid_app", ""),
    // Hardship aid (staff).
    ("GET /api/v1/admin/aid/types", Staff, "aid:read", Free, "", ""),
    ("POST /api/v1/admin/aid/types", Staff, "aid:type", Whole, "", r#"{"code":"mx_type","name":"矩阵类型","steps":[{"name":"县级审批","level":"county"}]}"#),
    ("PATCH /api/v1/admin/aid/types/{id}", Staff, "aid:type", Whole, "aid_type", "{}"),
    ("GET /api/v1/admin/aid/applications", Staff, "aid:read", Free, "", ""),
    ("POST /api/v1/admin/aid/applications", Staff, "aid:write", Create, "", r#"{"member_id":$MEMBER,"application":{"type_id":1,"reason_code":"other","household_size":1,"monthly_income":"0"}}"#),
    ("GET /api/v1/admin/aid/applications/export", Staff, "aid:export", Free, "", ""),
    ("GET /api/v1/admin/aid/applications/{id}", Staff, "aid:read", Obj, "aid_app", ""),
    ("POST /api/v1/admin/aid/applications/{id}/reveal", Staff, "aid:reveal", Obj, "aid_app", ""),
    ("POST /api/v1/admin/aid/applications/{id}/disbursements", Staff, "aid:write", Obj, "aid_app", r#"{"amount":"100","date":"2026-01-01","form":"cash"}"#),
    ("POST /api/v1/admin/aid/applications/{id}/return", Staff, "aid:approve", Obj, "aid_app", r#"{"opinion":"矩阵"}"#),
    ("POST /api/v1/admin/aid/applications/{id}/approve", Staff, "aid:approve", Obj, "aid_app", "{}"),
    ("POST /api/v1/admin/aid/applications/{id}/reject", Staff, "aid:approve", Obj, "aid_app", r#"{"opinion":"矩阵"}"#),
    ("GET /api/v1/admin/aid/register", Staff, "aid:read", Free, "", ""),
    ("GET /api/v1/admin/aid/register/export", Staff, "aid:export", Free, "", ""),
    ("POST /api/v1/admin/aid/register/{id}/review", Staff, "aid:write", Obj, "aid_reg", ""),
    ("POST /api/v1/admin/aid/register/{id}/leave", Staff, "aid:write", Obj, "aid_reg", r#"{"reason":"矩阵"}"#),
    ("GET /api/v1/admin/aid/stats", Staff, "aid:read", Free, "", ""),
    // Last: these end the caller's session or account.
    ("POST /api/v1/admin/auth/logout", Staff, "", Free, "", ""),
    ("DELETE /api/v1/app/me", Member, "", Free, "", ""),
];
