//! Staff member administration: list and detail (masked), audited reveal, edit, manual add,
//! transfer between orgs, leaving the union.

use super::idcard::IdNumber;
use super::profile::check_name;
use super::repo::{self, AAD_ID, AAD_PHONE};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::auth::permissions::codes;
use crate::auth::{AdminAuth, Scope};
use crate::error::{AppError, AppJson, AppPath, AppQuery, Result, created, ok};
use crate::http::{Page, PageQuery};
use crate::messages::{Notice, notify_member};
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// A member as staff see it: phone and ID masked, and of the birth date only the year, so
/// nothing here narrows a masked ID number down to a few candidates (issue 17, item 2).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Member {
    /// Id.
    pub id: i64,
    /// Real name.
    pub name: Option<String>,
    /// Nickname.
    pub nickname: String,
    /// Masked phone.
    pub phone_masked: Option<String>,
    /// Masked ID number: region and last 2 characters (`110105**********2X`).
    pub id_number_masked: Option<String>,
    /// `male` / `female`.
    pub gender: Option<String>,
    /// Year of birth; the full date only through an audited reveal of the ID number.
    pub birth_year: Option<i64>,
    /// Status.
    pub status: String,
    /// Org.
    pub org_id: Option<i64>,
    /// Org name.
    pub org_name: Option<String>,
    /// Member number.
    pub member_no: Option<String>,
    /// Work unit.
    pub work_unit: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Joined at.
    pub joined_at: Option<String>,
    /// Registered at.
    pub created_at: String,
}

const SELECT: &str = "SELECT m.id, m.real_name, m.nickname, m.phone_masked, m.id_masked, m.gender,
    CAST(substr(m.birth_date, 1, 4) AS INTEGER), m.status,
    m.org_id, o.name, m.member_no, m.work_unit, m.job_title, m.joined_at, m.created_at
    FROM members m LEFT JOIN orgs o ON o.id = m.org_id";

/// Map a row of [`SELECT`].
pub fn map(r: &rusqlite::Row<'_>) -> rusqlite::Result<Member> {
    Ok(Member {
        id: r.get(0)?,
        name: r.get(1)?,
        nickname: r.get(2)?,
        phone_masked: r.get(3)?,
        id_number_masked: r.get(4)?,
        gender: r.get(5)?,
        birth_year: r.get(6)?,
        status: r.get(7)?,
        org_id: r.get(8)?,
        org_name: r.get(9)?,
        member_no: r.get(10)?,
        work_unit: r.get(11)?,
        job_title: r.get(12)?,
        joined_at: crate::time::fmt_opt(r.get(13)?),
        created_at: crate::time::fmt(r.get(14)?),
    })
}

/// Filters for the member list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberQuery {
    /// Only this org (and below when the caller's scope allows).
    pub org_id: Option<i64>,
    /// Status.
    pub status: Option<String>,
    /// Name (contains), member number (exact) or phone last 4 digits.
    pub q: Option<String>,
    /// Page.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Page size.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

/// Build the WHERE clause for a member query within `scope`.
pub fn filter(scope: &Scope, q: &MemberQuery) -> Result<(String, Vec<Value>)> {
    let (cond, mut p) = scope.sql("m.org_id", Some("m.created_by"));
    let mut wh = vec![cond, "m.status <> 'deleted'".to_string()];
    if let Some(o) = q.org_id {
        wh.push("m.org_id IN (SELECT c.id FROM orgs c, orgs t WHERE t.id = ? AND c.path GLOB t.path || '*')".into());
        p.push(Value::Integer(o));
    }
    if let Some(s) = q.status.as_deref().filter(|s| !s.is_empty()) {
        if !["registered", "pending", "active", "rejected", "left"].contains(&s) {
            return Err(AppError::field("status", "状态取值无效"));
        }
        wh.push("m.status = ?".into());
        p.push(Value::Text(s.into()));
    }
    if let Some(k) = q.q.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        if k.len() == 4 && k.chars().all(|c| c.is_ascii_digit()) {
            wh.push("(m.phone_last4 = ? OR m.member_no = ?)".into());
            p.push(Value::Text(k.into()));
            p.push(Value::Text(k.into()));
        } else {
            wh.push("(m.real_name LIKE ? OR m.member_no = ?)".into());
            p.push(Value::Text(format!("%{}%", k.replace(['%', '_'], ""))));
            p.push(Value::Text(k.into()));
        }
    }
    Ok((wh.join(" AND "), p))
}

/// Members in scope, masked. `total` is exact and read from the per-org member counts when
/// no keyword `q` is given (org and status filters included); with a keyword it counts
/// matches up to 10000, and 10001 means "more than 10000".
#[utoipa::path(get, path = "/api/v1/admin/members", tag = "会员管理", security(("bearer" = [])), params(MemberQuery),
    responses((status = 200, body = Page<Member>, description = "total：无关键字时为精确总数（来自按组织维护的计数）；有关键字时最多数到 10000，10001 表示超过 10000"), (status = 403)))]
pub async fn list(
    State(st): State<AppState>,
    me: AdminAuth,
    AppQuery(q): AppQuery<MemberQuery>,
) -> Result<Response> {
    let scope = me.require(codes::MEMBER_READ)?;
    let (page, size, offset) = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let (wh, p) = filter(&scope, &q)?;
    let keyword = q.q.as_deref().is_some_and(|k| !k.trim().is_empty());
    let status = q.status.clone().filter(|s| !s.is_empty());
    let out = st
        .db
        .read(move |c| {
            // The root admin's first page must not count a million rows: without a keyword
            // the total comes from the per-org counts kept by triggers; with one, a capped count.
            let total = match keyword {
                false => {
                    crate::stats::aggregates::member_total(c, &scope, q.org_id, status.as_deref())?
                }
                true => None,
            };
            let total = match total {
                Some(t) => t,
                None => crate::stats::aggregates::capped_count(
                    c,
                    &format!("FROM members m WHERE {wh}"),
                    p.clone(),
                )?,
            };
            let list = format!("{SELECT} WHERE {wh} ORDER BY m.id DESC LIMIT ? OFFSET ?");
            crate::http::fetch_page_with_total(c, total, &list, p, (page, size, offset), map)
        })
        .await?;
    Ok(ok(out))
}

/// Load one member in scope (404 otherwise).
pub fn load_scoped(c: &Connection, scope: &Scope, id: i64) -> Result<Member> {
    let (cond, mut p) = scope.sql("m.org_id", Some("m.created_by"));
    p.insert(0, Value::Integer(id));
    c.prepare_cached(&format!(
        "{SELECT} WHERE m.id = ? AND m.status <> 'deleted' AND {cond}"
    ))?
    .query_row(params_from_iter(p), map)
    .optional()?
    .ok_or(AppError::NotFound)
}

/// One member, masked.
#[utoipa::path(get, path = "/api/v1/admin/members/{id}", tag = "会员管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "会员 ID")), responses((status = 200, body = Member), (status = 404)))]
pub async fn get(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::MEMBER_READ)?;
    Ok(ok(st.db.read(move |c| load_scoped(c, &scope, id)).await?))
}

/// Which field to reveal.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealIn {
    /// `id_number` or `phone`.
    pub field: String,
}

/// Reveal a full ID number or phone (needs `member:reveal`; audited).
#[utoipa::path(post, path = "/api/v1/admin/members/{id}/reveal", tag = "会员管理", security(("bearer" = [])), request_body = RevealIn,
    params(("id" = i64, Path, description = "会员 ID")), responses((status = 200), (status = 403), (status = 404)))]
pub async fn reveal(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<RevealIn>,
) -> Result<Response> {
    let scope = me.require(codes::MEMBER_REVEAL)?;
    let (col, aad) = match req.field.as_str() {
        "id_number" => ("id_enc", AAD_ID),
        "phone" => ("phone_enc", AAD_PHONE),
        _ => return Err(AppError::field("field", "只能查看 id_number 或 phone")),
    };
    let actor = me.actor();
    let cipher = st.cipher.clone();
    let field = req.field.clone();
    // A write: the audit row and the disclosure happen together or not at all.
    let value = st
        .db
        .write(move |c| {
            load_scoped(c, &scope, id)?;
            let enc: Option<String> = c.query_row(
                &format!("SELECT {col} FROM members WHERE id = ?1"),
                [id],
                |r| r.get(0),
            )?;
            let enc =
                enc.ok_or_else(|| AppError::conflict_code("not_recorded", "该会员尚未登记此信息"))?;
            let plain = cipher.decrypt(&enc, aad)?;
            audit::record(
                c,
                &actor,
                &Entry::success("member.reveal", "member", id, json!({"field": field})),
            )?;
            Ok(plain)
        })
        .await?;
    Ok(ok(json!({"field": req.field, "value": value})))
}

/// Edit a member's details.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberPatch {
    /// Real name.
    pub name: Option<String>,
    /// Work unit.
    pub work_unit: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
}

/// Change a member's name, work unit or job title.
#[utoipa::path(patch, path = "/api/v1/admin/members/{id}", tag = "会员管理", security(("bearer" = [])), request_body = MemberPatch,
    params(("id" = i64, Path, description = "会员 ID")), responses((status = 200, body = Member), (status = 400), (status = 404)))]
pub async fn patch(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<MemberPatch>,
) -> Result<Response> {
    let scope = me.require(codes::MEMBER_WRITE)?;
    let name = req
        .name
        .as_deref()
        .map(|n| check_name("name", n))
        .transpose()?;
    let mut ck = Check::new();
    let work_unit = req
        .work_unit
        .as_deref()
        .map(|w| ck.text("work_unit", "工作单位", w, 100));
    let job_title = req
        .job_title
        .as_deref()
        .map(|j| ck.text("job_title", "职务", j, 50));
    ck.finish()?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let cur = load_scoped(c, &scope, id)?;
            let mut changed = vec![];
            if name.is_some() {
                changed.push("name");
            }
            if work_unit.is_some() {
                changed.push("work_unit");
            }
            if job_title.is_some() {
                changed.push("job_title");
            }
            c.execute(
                "UPDATE members SET real_name = ?1, work_unit = ?2, job_title = ?3, updated_at = ?4 WHERE id = ?5",
                params![name.or(cur.name), work_unit.or(cur.work_unit), job_title.or(cur.job_title), crate::time::now(), id],
            )?;
            // Field names only: the audit log never holds personal values.
            audit::record(c, &actor, &Entry::success("member.update", "member", id, json!({"fields": changed})))?;
            load_scoped(c, &Scope::All, id)
        })
        .await?;
    Ok(ok(out))
}

/// Manually add an active member.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberNew {
    /// Real name.
    pub name: String,
    /// 18-character ID number.
    pub id_number: String,
    /// Mobile number.
    pub phone: Option<String>,
    /// Org in scope.
    pub org_id: i64,
    /// Work unit.
    pub work_unit: String,
    /// Job title.
    pub job_title: Option<String>,
}

/// Validated new-member data, shared with the xlsx import.
pub struct NewMember {
    /// Name.
    pub name: String,
    /// Parsed ID.
    pub id: IdNumber,
    /// Phone.
    pub phone: Option<String>,
    /// Work unit.
    pub work_unit: String,
    /// Job title.
    pub job_title: Option<String>,
}

/// Blind indexes of a new member's ID number and phone, once both are known to be free:
/// `409 id_number_taken` / `409 phone_taken` otherwise.
pub fn check_free(
    c: &Connection,
    cipher: &dyn crate::crypto::field::FieldCipher,
    m: &NewMember,
) -> Result<(String, Option<String>)> {
    let bidx = cipher.blind_index(m.id.normalized());
    if repo::find_by(c, "id_bidx", &bidx)?.is_some() {
        return Err(AppError::conflict_code(
            "id_number_taken",
            "该身份证号已登记为其他会员",
        ));
    }
    let phone = match &m.phone {
        Some(p) => {
            let pb = cipher.blind_index(p);
            if repo::find_by(c, "phone_bidx", &pb)?.is_some() {
                return Err(AppError::conflict_code(
                    "phone_taken",
                    "该手机号已绑定其他账号",
                ));
            }
            Some(pb)
        }
        None => None,
    };
    Ok((bidx, phone))
}

/// Insert an active member with a member number; `409 id_number_taken` on a duplicate ID.
pub fn insert_active(
    c: &Connection,
    cipher: &dyn crate::crypto::field::FieldCipher,
    org_id: i64,
    by: i64,
    m: &NewMember,
) -> Result<(i64, String)> {
    let bidx = check_free(c, cipher, m)?;
    let no = repo::next_member_no(c)?;
    let id = insert_numbered(c, cipher, org_id, by, m, bidx, &no)?;
    Ok((id, no))
}

/// Insert an active member whose ID and phone were checked free ([`check_free`], giving
/// `bidx`) under member number `no`. One statement, so it is whole or absent on failure; the
/// bulk import runs it for every row of a workbook.
pub fn insert_numbered(
    c: &Connection,
    cipher: &dyn crate::crypto::field::FieldCipher,
    org_id: i64,
    by: i64,
    m: &NewMember,
    (id_bidx, phone_bidx): (String, Option<String>),
    no: &str,
) -> Result<i64> {
    let phone = match (&m.phone, phone_bidx) {
        (Some(p), Some(pb)) => Some((
            cipher.encrypt(p, repo::AAD_PHONE)?,
            pb,
            p[p.len() - 4..].to_string(),
            crate::crypto::mask::mask_phone(p),
        )),
        _ => None,
    };
    let now = crate::time::now();
    c.prepare_cached(
        "INSERT INTO members (status, org_id, member_no, joined_at, work_unit, job_title, real_name, gender, birth_date, id_enc, id_bidx,
            id_masked, realname_verified_at, created_by, created_at, updated_at, org_since, phone_enc, phone_bidx, phone_last4, phone_masked)
         VALUES ('active', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?3, ?12, ?3, ?3, ?3, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        org_id, no, now, m.work_unit, m.job_title, m.name, m.id.gender().as_str(), m.id.birth_date().format("%Y-%m-%d").to_string(),
        cipher.encrypt(m.id.normalized(), AAD_ID)?, id_bidx, m.id.masked(), by,
        phone.as_ref().map(|p| &p.0), phone.as_ref().map(|p| &p.1), phone.as_ref().map(|p| &p.2), phone.as_ref().map(|p| &p.3)
    ])?;
    Ok(c.last_insert_rowid())
}

/// Add a member by hand (active at once, with a member number).
#[utoipa::path(post, path = "/api/v1/admin/members", tag = "会员管理", security(("bearer" = [])), request_body = MemberNew,
    responses((status = 201, body = Member), (status = 400), (status = 404), (status = 409)))]
pub async fn create(
    State(st): State<AppState>,
    me: AdminAuth,
    AppJson(req): AppJson<MemberNew>,
) -> Result<Response> {
    let scope = me.require(codes::MEMBER_WRITE)?;
    let mut ck = Check::new();
    let name = check_name("name", &req.name)
        .map_err(|_| ck.fail("name", "请输入身份证上的姓名（2 到 30 个字）"))
        .ok();
    let id = match IdNumber::parse(&req.id_number) {
        Ok(i) => Some(i),
        Err(e) => {
            ck.fail("id_number", e.to_string());
            None
        }
    };
    let phone = req
        .phone
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .and_then(|p| {
            repo::parse_phone("phone", p)
                .map_err(|_| ck.fail("phone", "请输入正确的 11 位手机号"))
                .ok()
        });
    let work_unit = ck.text("work_unit", "工作单位", &req.work_unit, 100);
    let job_title = req
        .job_title
        .as_deref()
        .filter(|j| !j.trim().is_empty())
        .map(|j| ck.text("job_title", "职务", j, 50));
    ck.finish()?;
    let (Some(name), Some(id)) = (name, id) else {
        return Err(AppError::internal("validated"));
    };
    let new = NewMember {
        name,
        id,
        phone,
        work_unit,
        job_title,
    };
    let actor = me.actor();
    let cipher = st.cipher.clone();
    let out = st
        .db
        .write(move |c| {
            let org = crate::system::orgs::load_active_in_scope(
                c,
                &scope,
                req.org_id,
                "org_id",
                "新增会员",
            )?;
            let (mid, no) = insert_active(c, cipher.as_ref(), org.id, me.id, &new)?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "member.create",
                    "member",
                    mid,
                    json!({"org_id": org.id, "member_no": no}),
                ),
            )?;
            load_scoped(c, &Scope::All, mid)
        })
        .await?;
    Ok(created(out))
}

/// Transfer target.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferIn {
    /// New org (must be in scope, as must the current one).
    pub org_id: i64,
}

/// Move a member to another org; both orgs must be in the caller's scope.
#[utoipa::path(post, path = "/api/v1/admin/members/{id}/transfer", tag = "会员管理", security(("bearer" = [])), request_body = TransferIn,
    params(("id" = i64, Path, description = "会员 ID")), responses((status = 200, body = Member), (status = 400, description = "目标组织已停用"), (status = 404)))]
pub async fn transfer(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
    AppJson(req): AppJson<TransferIn>,
) -> Result<Response> {
    let scope = me.require(codes::MEMBER_WRITE)?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let cur = load_scoped(c, &scope, id)?;
            let to = crate::system::orgs::load_active_in_scope(
                c,
                &scope,
                req.org_id,
                "org_id",
                "转入会员",
            )?;
            c.execute(
                "UPDATE members SET org_id = ?1, org_since = ?2, updated_at = ?2 WHERE id = ?3",
                params![to.id, crate::time::now(), id],
            )?;
            let audit_id = audit::record(
                c,
                &actor,
                &Entry::success(
                    "member.transfer",
                    "member",
                    id,
                    json!({"org_id": {"from": cur.org_id, "to": to.id}}),
                ),
            )?;
            // Keyed by the audit row: one notice per transfer, even two in the same second.
            let notice = Notice {
                event: "member.transferred",
                title: "会员关系已转移".into(),
                content: format!("您的工会会员关系已转入{}。", to.name),
                link: None,
                org_id: Some(to.id),
                fields: json!({"title": "会员关系转移", "result": "已转入", "place": to.name,
                    "time": crate::time::fmt(crate::time::now())}),
                key: format!("member.transferred:{audit_id}"),
            };
            notify_member(c, id, &notice)?;
            load_scoped(c, &Scope::All, id)
        })
        .await?;
    Ok(ok(out))
}

/// Record that an active member left the union.
#[utoipa::path(post, path = "/api/v1/admin/members/{id}/leave", tag = "会员管理", security(("bearer" = [])),
    params(("id" = i64, Path, description = "会员 ID")), responses((status = 200, body = Member), (status = 404), (status = 409)))]
pub async fn leave(
    State(st): State<AppState>,
    me: AdminAuth,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    let scope = me.require(codes::MEMBER_WRITE)?;
    let actor = me.actor();
    let out = st
        .db
        .write(move |c| {
            let cur = load_scoped(c, &scope, id)?;
            if cur.status != "active" {
                return Err(AppError::conflict_code(
                    "not_active",
                    "只有在册会员可以办理退会",
                ));
            }
            let now = crate::time::now();
            c.execute(
                "UPDATE members SET status = 'left', left_at = ?1, updated_at = ?1 WHERE id = ?2",
                params![now, id],
            )?;
            let audit_id = audit::record(
                c,
                &actor,
                &Entry::success("member.leave", "member", id, json!({})),
            )?;
            let notice = Notice {
                event: "member.left",
                title: "退会手续已办理".into(),
                content: "您的退会手续已办理完成，感谢您对工会工作的支持。".into(),
                link: None,
                org_id: cur.org_id,
                fields: json!({"title": "退会办理", "result": "已退会", "time": crate::time::fmt(now)}),
                key: format!("member.left:{audit_id}"),
            };
            notify_member(c, id, &notice)?;
            load_scoped(c, &Scope::All, id)
        })
        .await?;
    Ok(ok(out))
}
