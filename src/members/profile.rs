//! The member's own account: profile, consents, real name, personal-data copy, deletion.

use super::auth::MemberAuth;
use super::idcard::IdNumber;
use super::identity;
use super::model::{AppMe, ConsentIn, ProfilePatch, RealnameIn};
use super::repo::{self, AAD_ID, AAD_PHONE};
use crate::app::AppState;
use crate::audit::{self, Entry};
use crate::error::{AppError, AppJson, Result, ok};
use crate::validate::Check;
use axum::extract::State;
use axum::response::Response;
use rusqlite::params;
use serde_json::{Value, json};

/// The member's own profile.
#[utoipa::path(get, path = "/api/v1/app/me", tag = "职工账号", security(("bearer" = [])), responses((status = 200, body = AppMe), (status = 401)))]
pub async fn get_me(State(st): State<AppState>, me: MemberAuth) -> Result<Response> {
    Ok(ok(st.db.read(move |c| repo::app_me(c, me.id)).await?))
}

/// Change nickname or avatar.
#[utoipa::path(patch, path = "/api/v1/app/me", tag = "职工账号", security(("bearer" = [])), request_body = ProfilePatch,
    responses((status = 200, body = AppMe), (status = 400)))]
pub async fn patch_me(
    State(st): State<AppState>,
    me: MemberAuth,
    AppJson(req): AppJson<ProfilePatch>,
) -> Result<Response> {
    let mut ck = Check::new();
    let nickname = req
        .nickname
        .as_deref()
        .map(|n| ck.text("nickname", "昵称", n, 20));
    ck.finish()?;
    // A nickname passes the content-safety gate; a held one replaces the old one on approval.
    let hold = match &nickname {
        Some(n) => {
            crate::safety::gate::screen(&st, me.id, crate::wechat::SecScene::Profile, &[n]).await?
        }
        None => None,
    };
    let out = st
        .db
        .write(move |c| {
            if let Some(fid) = req.avatar_file_id {
                // Only a public image the member uploaded may become their avatar.
                let ok_file: bool = c.query_row(
                    "SELECT count(*) > 0 FROM files WHERE id = ?1 AND deleted_at IS NULL AND visibility = 'public'
                       AND owner_type = 'member' AND owner_id = ?2",
                    params![fid, me.id],
                    |r| r.get(0),
                )?;
                if !ok_file {
                    return Err(AppError::field("avatar_file_id", "头像文件不存在，请重新上传"));
                }
                c.execute("UPDATE members SET avatar_file_id = ?1 WHERE id = ?2", params![fid, me.id])?;
            }
            if let (Some(n), Some(rule)) = (&nickname, &hold) {
                let org = crate::safety::gate::member_org(c, me.id)?;
                crate::safety::gate::queue(c, &crate::safety::gate::Held {
                    kind: "nickname", ref_id: me.id, member_id: me.id, org_id: org,
                    content: n, payload: json!({"nickname": n}), rule,
                })?;
            } else if let Some(n) = &nickname {
                c.execute("UPDATE members SET nickname = ?1, updated_at = ?2 WHERE id = ?3", params![n, crate::time::now(), me.id])?;
            }
            repo::app_me(c, me.id)
        })
        .await?;
    Ok(ok(out))
}

/// Record a consent (privacy policy, or the separate consent for sensitive personal data).
#[utoipa::path(post, path = "/api/v1/app/me/consents", tag = "职工账号", security(("bearer" = [])), request_body = ConsentIn,
    responses((status = 200), (status = 400)))]
pub async fn consent(
    State(st): State<AppState>,
    me: MemberAuth,
    AppJson(req): AppJson<ConsentIn>,
) -> Result<Response> {
    let mut ck = Check::new();
    ck.one_of("kind", "同意类型", &req.kind, &["privacy", "sensitive"]);
    let version = ck.text("version", "版本号", &req.version, 32);
    ck.finish()?;
    let actor = me.actor();
    st.db
        .write(move |c| {
            c.execute(
                "INSERT INTO member_consents (member_id, kind, version, ip, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![me.id, req.kind, version, me.ip, crate::time::now()],
            )?;
            audit::record(c, &actor, &Entry::success("member.consent", "member", me.id, json!({"kind": req.kind, "version": version})))?;
            Ok(())
        })
        .await?;
    Ok(ok(json!({})))
}

/// Validate a real name: 2–30 characters, CJK letters or the middle dot of minority names.
pub fn check_name(field: &str, raw: &str) -> Result<String> {
    let n = raw.trim();
    let len = n.chars().count();
    let good = (2..=30).contains(&len)
        && n.chars().all(|c| {
            ('\u{4e00}'..='\u{9fff}').contains(&c)
                || c == '·'
                || c.is_ascii_alphabetic()
                || c == ' '
        });
    if good {
        Ok(n.to_string())
    } else {
        Err(AppError::field(
            field,
            "请输入身份证上的姓名（2 到 30 个字）",
        ))
    }
}

/// Record real name and ID number (needs the sensitive-data consent first). Limited to
/// 5 submissions per member per day and 20 per IP address per hour (429 beyond).
#[utoipa::path(post, path = "/api/v1/app/me/realname", tag = "职工账号", security(("bearer" = [])), request_body = RealnameIn,
    responses((status = 200, body = AppMe), (status = 400), (status = 403, description = "未同意敏感个人信息处理"),
        (status = 409, description = "id_number_taken（已记录，工作人员可核验后释放） / realname_locked"), (status = 429, description = "提交过于频繁")))]
pub async fn realname(
    State(st): State<AppState>,
    me: MemberAuth,
    AppJson(req): AppJson<RealnameIn>,
) -> Result<Response> {
    let name = check_name("name", &req.name)?;
    let id = IdNumber::parse(&req.id_number)?;
    if let Some(g) = req.gender.as_deref()
        && g != id.gender().as_str()
    {
        return Err(AppError::field("gender", "性别与身份证号不一致"));
    }
    let birth = id.birth_date().format("%Y-%m-%d").to_string();
    if let Some(b) = req.birth_date.as_deref()
        && b != birth
    {
        return Err(AppError::field("birth_date", "出生日期与身份证号不一致"));
    }
    let cipher = st.cipher.clone();
    let bidx = cipher.blind_index(id.normalized());
    let enc = cipher.encrypt(id.normalized(), AAD_ID)?;
    let (masked, gender) = (id.masked(), id.gender().as_str());
    let actor = me.actor();
    // Ok(Err(..)) commits the counted attempt (and a conflict record) while answering an error.
    let out: std::result::Result<AppMe, AppError> = st
        .db
        .write(move |c| {
            // Counted before anything is evaluated: the answer (saved, or 409 because another
            // account holds the number) must not become an oracle for ID numbers.
            let now = crate::time::now();
            let mine = identity::member_attempts(c, me.id, "realname", now - 86_400, false)?;
            let from_ip = identity::ip_attempts(c, &me.ip, "realname", now - 3600)?;
            if mine >= identity::REALNAME_PER_MEMBER_DAY || from_ip >= identity::REALNAME_PER_IP_HOUR {
                return Ok(Err(AppError::RateLimited));
            }
            identity::record_attempt(c, me.id, "realname", &me.ip)?;
            // A member's identity is part of the membership record: once admitted, changes go
            // through union staff, not self-service.
            let locked: bool = c.query_row(
                "SELECT status = 'active' AND realname_verified_at IS NOT NULL FROM members WHERE id = ?1",
                [me.id],
                |r| r.get(0),
            )?;
            if locked {
                return Ok(Err(AppError::conflict_code("realname_locked", "您已是会员，实名信息如需更正请联系所在工会")));
            }
            if !repo::has_consent(c, me.id, "sensitive")? {
                return Ok(Err(AppError::Forbidden("请先阅读并同意《敏感个人信息处理规则》".into())));
            }
            if let Some(other) = repo::find_by(c, "id_bidx", &bidx)?
                && other != me.id
            {
                // Kept for staff: the real person can have a squatted number released.
                super::conflicts::record(c, me.id, other, &bidx)?;
                return Ok(Err(AppError::conflict_code(
                    "id_number_taken",
                    "该身份证号已被其他账号登记。如是本人身份证，请携带身份证到所在工会核验处理",
                )));
            }
            // Typed in by the person themselves: that is the identity proof.
            c.execute(
                "UPDATE members SET real_name = ?1, id_enc = ?2, id_bidx = ?3, id_masked = ?4, gender = ?5, birth_date = ?6,
                    realname_verified_at = ?7, identity_confirmed_at = ?7, updated_at = ?7 WHERE id = ?8",
                params![name, enc, bidx, masked, gender, birth, now, me.id],
            )?;
            audit::record(c, &actor, &Entry::success("member.realname", "member", me.id, json!({"id_number": masked})))?;
            Ok(Ok(repo::app_me(c, me.id)?))
        })
        .await?;
    Ok(ok(out?))
}

/// A copy of every piece of personal data held about the member (decrypted for them). The
/// full ID number, name and birth date only once the member proved the identity
/// (`identity_confirmed`); before that they are masked as in staff lists.
#[utoipa::path(get, path = "/api/v1/app/me/export", tag = "职工账号", security(("bearer" = [])), responses((status = 200)))]
pub async fn export(State(st): State<AppState>, me: MemberAuth) -> Result<Response> {
    let cipher = st.cipher.clone();
    let actor = me.actor();
    let id = me.id;
    let copy = st
        .db
        .write(move |c| {
            let mut m: Value = c.query_row(
                "SELECT m.nickname, m.status, m.org_id, o.name, m.member_no, m.joined_at, m.work_unit, m.job_title, m.real_name,
                        m.gender, m.birth_date, m.phone_enc, m.id_enc, m.created_at, m.openid IS NOT NULL, m.unionid IS NOT NULL
                 FROM members m LEFT JOIN orgs o ON o.id = m.org_id WHERE m.id = ?1",
                [id],
                |r| {
                    let phone: Option<String> = r.get(11)?;
                    let idn: Option<String> = r.get(12)?;
                    Ok(json!({
                        "nickname": r.get::<_, String>(0)?, "status": r.get::<_, String>(1)?, "org_id": r.get::<_, Option<i64>>(2)?,
                        "org_name": r.get::<_, Option<String>>(3)?, "member_no": r.get::<_, Option<String>>(4)?,
                        "joined_at": crate::time::fmt_opt(r.get(5)?), "work_unit": r.get::<_, Option<String>>(6)?,
                        "job_title": r.get::<_, Option<String>>(7)?, "real_name": r.get::<_, Option<String>>(8)?,
                        "gender": r.get::<_, Option<String>>(9)?, "birth_date": r.get::<_, Option<String>>(10)?,
                        "phone_enc": phone, "id_enc": idn, "registered_at": crate::time::fmt(r.get(13)?),
                        "wechat_linked": r.get::<_, bool>(14)?, "wechat_unionid_linked": r.get::<_, bool>(15)?,
                    }))
                },
            )?;
            let phone = m["phone_enc"].as_str().map(|p| cipher.decrypt(p, AAD_PHONE)).transpose()?;
            let mut idn = m["id_enc"].as_str().map(|p| cipher.decrypt(p, AAD_ID)).transpose()?;
            let proven = identity::confirmed(c, id)?;
            let obj = m.as_object_mut().ok_or_else(|| AppError::internal("export shape"))?;
            if !proven {
                // Staff recorded this identity and the SMS code proves only the phone: until the
                // identity proof, the copy shows what staff lists show (issue 17, item 8).
                idn = idn.map(|v| crate::crypto::mask::mask_id_number(&v));
                let name = obj.get("real_name").and_then(Value::as_str).map(crate::crypto::mask::mask_name);
                obj.insert("real_name".into(), json!(name));
                let year: Option<String> = obj.get("birth_date").and_then(Value::as_str).map(|d| d.chars().take(4).collect());
                obj.insert("birth_date".into(), json!(year));
            }
            obj.remove("phone_enc");
            obj.remove("id_enc");
            obj.insert("phone".into(), json!(phone));
            obj.insert("id_number".into(), json!(idn));
            obj.insert("identity_confirmed".into(), json!(proven));
            let mut st = c.prepare("SELECT kind, version, at FROM member_consents WHERE member_id = ?1 ORDER BY id")?;
            let consents: Vec<Value> = st
                .query_map([id], |r| Ok(json!({"kind": r.get::<_, String>(0)?, "version": r.get::<_, String>(1)?, "at": crate::time::fmt(r.get(2)?)})))?
                .collect::<rusqlite::Result<_>>()?;
            let mut st = c.prepare("SELECT id, org_id, work_unit, job_title, answers, status, reason, created_at FROM membership_applications WHERE member_id = ?1 ORDER BY id")?;
            let apps: Vec<Value> = st
                .query_map([id], |r| {
                    let answers: String = r.get(4)?;
                    Ok(json!({"id": r.get::<_, i64>(0)?, "org_id": r.get::<_, i64>(1)?, "work_unit": r.get::<_, String>(2)?,
                        "job_title": r.get::<_, Option<String>>(3)?, "answers": serde_json::from_str::<Value>(&answers).unwrap_or(Value::Null),
                        "status": r.get::<_, String>(5)?, "reason": r.get::<_, Option<String>>(6)?, "created_at": crate::time::fmt(r.get(7)?)}))
                })?
                .collect::<rusqlite::Result<_>>()?;
            audit::record(c, &actor, &Entry::success("member.export_self", "member", id, json!({})))?;
            Ok(json!({"member": m, "consents": consents, "membership_applications": apps, "exported_at": crate::time::fmt(crate::time::now())}))
        })
        .await?;
    Ok(ok(copy))
}

/// Delete the account: personal fields erased (not flagged), WeChat identity released, tokens
/// revoked, activity answers blanked, every uploaded file deleted (row and bytes); the
/// anonymous row stays so that history keeps its references.
#[utoipa::path(delete, path = "/api/v1/app/me", tag = "职工账号", security(("bearer" = [])), responses((status = 200), (status = 401)))]
pub async fn delete_me(State(st): State<AppState>, me: MemberAuth) -> Result<Response> {
    let actor = me.actor();
    let id = me.id;
    // Journalled before the erasure commits, so no restore of an older backup brings the
    // person back (see backup::journal).
    let dir = st.cfg.data_dir.clone();
    tokio::task::spawn_blocking(move || crate::backup::journal::append(&dir, id))
        .await
        .map_err(AppError::internal)?
        .map_err(|e| AppError::internal(format!("erasure journal: {e}")))?;
    let keys = st
        .db
        .write(move |c| {
            let keys = erase(c, id)?;
            audit::record(
                c,
                &actor,
                &Entry::success(
                    "member.delete_self",
                    "member",
                    id,
                    json!({"files": keys.len()}),
                ),
            )?;
            Ok(keys)
        })
        .await?;
    // The rows are gone for every reader at the commit; now the bytes (disk or S3).
    crate::files::erase::remove_objects(&st, &keys).await;
    // Old page images in the WAL still hold the erased values: fold the WAL into the main file
    // (secure_delete zeroes freed space there) and truncate it. Not under Litestream: it
    // checkpoints itself, and its replica keeps old WAL segments for its retention anyway
    // (README: 持续复制).
    if st.db.litestream() {
        return Ok(ok(json!({})));
    }
    let path = st.db.path().to_path_buf();
    let _ = tokio::task::spawn_blocking(move || {
        if let Ok(conn) = rusqlite::Connection::open(&path) {
            // Wait out a checkpoint already running rather than give up.
            let _ = conn.busy_timeout(std::time::Duration::from_secs(5));
            let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
    })
    .await;
    Ok(ok(json!({})))
}

/// Erase every personal field of a member and end its sessions: the member row, application
/// and activity answers, consent IPs, attempt records, and the files they uploaded (marked
/// deleted here; returns their storage keys, whose bytes the caller removes after the commit).
pub fn erase(c: &rusqlite::Connection, id: i64) -> Result<Vec<String>> {
    c.execute(
        "DELETE FROM sms_codes WHERE phone_bidx IN (SELECT phone_bidx FROM members WHERE id = ?1)",
        [id],
    )?;
    c.execute(
        "UPDATE members SET openid = NULL, unionid = NULL, phone_enc = NULL, phone_bidx = NULL, phone_last4 = NULL,
            phone_masked = NULL, nickname = '', avatar_file_id = NULL, real_name = NULL, gender = NULL, birth_date = NULL,
            id_enc = NULL, id_bidx = NULL, id_masked = NULL, identity_confirmed_at = NULL, work_unit = NULL, job_title = NULL, status = 'deleted',
            deleted_at = ?1, updated_at = ?1 WHERE id = ?2",
        params![crate::time::now(), id],
    )?;
    // A pending application is withdrawn: nobody can approve a deleted account back to life.
    c.execute(
        "UPDATE membership_applications SET work_unit = '', job_title = NULL, answers = '{}', reason = NULL,
            status = CASE status WHEN 'pending' THEN 'withdrawn' ELSE status END WHERE member_id = ?1",
        [id],
    )?;
    c.execute(
        "UPDATE member_consents SET ip = '' WHERE member_id = ?1",
        [id],
    )?;
    c.execute("DELETE FROM member_attempts WHERE member_id = ?1", [id])?;
    super::conflicts::forget(c, id)?;
    crate::activities::sealing::erase_member_answers(c, id)?;
    crate::tickets::repo::erase_member(c, id)?;
    let mut keys = crate::files::erase::mark_owned_deleted(c, "member", id)?;
    keys.extend(crate::aid::erase::erase_member(c, id)?);
    repo::revoke_sessions(c, id)?;
    Ok(keys)
}
