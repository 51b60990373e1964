//! SQL for members: lookups, creation, personal-field updates, member numbers.

use super::model::AppMe;
use crate::crypto::field::FieldCipher;
use crate::crypto::mask;
use crate::error::{AppError, Result};
use rusqlite::{Connection, OptionalExtension, params};

/// Associated data for encrypted phone numbers (a ciphertext cannot move to another field).
pub const AAD_PHONE: &str = "member.phone";
/// Associated data for encrypted ID numbers.
pub const AAD_ID: &str = "member.id_number";

/// The member's own view.
pub fn app_me(c: &Connection, id: i64) -> Result<AppMe> {
    c.prepare_cached(
        "SELECT id, nickname, avatar_file_id, phone_masked, status, org_id, member_no, realname_verified_at IS NOT NULL,
            identity_confirmed_at IS NOT NULL,
            (SELECT public_token FROM files WHERE files.id = members.avatar_file_id AND visibility = 'public')
         FROM members WHERE id = ?1 AND status <> 'deleted'",
    )?
    .query_row([id], |r| {
        Ok(AppMe {
            id: r.get(0)?,
            nickname: r.get(1)?,
            avatar_url: crate::files::public_url(r.get(9)?),
            phone_masked: r.get(3)?,
            status: r.get(4)?,
            org_id: r.get(5)?,
            member_no: r.get(6)?,
            realname_verified: r.get(7)?,
            identity_confirmed: r.get(8)?,
        })
    })
    .optional()?
    .ok_or(AppError::NotFound)
}

/// Find a live member by a unique column value (`openid`, `unionid`, `phone_bidx`, `id_bidx`).
pub fn find_by(c: &Connection, column: &str, value: &str) -> Result<Option<i64>> {
    debug_assert!(["openid", "unionid", "phone_bidx", "id_bidx"].contains(&column));
    Ok(c.prepare_cached(&format!(
        "SELECT id FROM members WHERE {column} = ?1 AND status <> 'deleted' ORDER BY id LIMIT 1"
    ))?
    .query_row([value], |r| r.get(0))
    .optional()?)
}

/// True when a member already holds this blind index. Answered from the UNIQUE index alone:
/// an erased account has its blind indexes cleared, so any holder is a live member, and the
/// table row (a random page among a million members) is never read.
pub fn bidx_taken(c: &Connection, column: &str, bidx: &str) -> Result<bool> {
    debug_assert!(["phone_bidx", "id_bidx"].contains(&column));
    Ok(
        c.prepare_cached(&format!("SELECT 1 FROM members WHERE {column} = ?1"))?
            .query_row([bidx], |_| Ok(()))
            .optional()?
            .is_some(),
    )
}

/// Create a registered (not yet member) account.
pub fn create(c: &Connection, openid: Option<&str>, unionid: Option<&str>) -> Result<i64> {
    let now = crate::time::now();
    c.execute(
        "INSERT INTO members (openid, unionid, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
        params![openid, unionid, now],
    )?;
    Ok(c.last_insert_rowid())
}

/// Normalise a mainland mobile number, or a field error.
pub fn parse_phone(field: &str, raw: &str) -> Result<String> {
    let p = raw.trim().trim_start_matches("+86").trim();
    let ok = p.len() == 11
        && p.starts_with('1')
        && p.chars().all(|c| c.is_ascii_digit())
        && p.as_bytes()[1] >= b'3';
    if ok {
        Ok(p.to_string())
    } else {
        Err(AppError::field(field, "请输入正确的 11 位手机号"))
    }
}

/// Store a phone on a member; `409 phone_taken` when another member has it.
pub fn set_phone(c: &Connection, cipher: &dyn FieldCipher, id: i64, phone: &str) -> Result<String> {
    let bidx = cipher.blind_index(phone);
    if let Some(other) = find_by(c, "phone_bidx", &bidx)?
        && other != id
    {
        return Err(AppError::conflict_code(
            "phone_taken",
            "该手机号已绑定其他账号",
        ));
    }
    let masked = mask::mask_phone(phone);
    c.execute(
        "UPDATE members SET phone_enc = ?1, phone_bidx = ?2, phone_last4 = ?3, phone_masked = ?4, updated_at = ?5 WHERE id = ?6",
        params![cipher.encrypt(phone, AAD_PHONE)?, bidx, &phone[phone.len() - 4..], masked, crate::time::now(), id],
    )?;
    Ok(masked)
}

/// Next member number: `GH` + year + 6-digit sequence, unique in the installation.
pub fn next_member_no(c: &Connection) -> Result<String> {
    let mut block = MemberNos::open(c)?;
    let no = block.take();
    block.close(c)?;
    Ok(no)
}

/// A run of member numbers handed out inside one write job: the sequence is read once and
/// written back once with what was used, so a bulk import pays two statements per chunk
/// rather than two per row, and a row that fails leaves no gap.
pub struct MemberNos {
    year: i64,
    last: i64,
}

impl MemberNos {
    /// Start at the current year's sequence.
    pub fn open(c: &Connection) -> Result<MemberNos> {
        let year: i64 = chrono::Utc::now()
            .format("%Y")
            .to_string()
            .parse()
            .unwrap_or(2026);
        let last: Option<i64> = c
            .prepare_cached("SELECT last FROM member_no_seq WHERE year = ?1")?
            .query_row([year], |r| r.get(0))
            .optional()?;
        Ok(MemberNos {
            year,
            last: last.unwrap_or(0),
        })
    }

    /// The next number (kept only once [`MemberNos::close`] records it).
    pub fn take(&mut self) -> String {
        self.last += 1;
        format!("GH{}{:06}", self.year, self.last)
    }

    /// Give back the last number handed out: it was not used.
    pub fn unuse(&mut self) {
        self.last -= 1;
    }

    /// Record the numbers used.
    pub fn close(self, c: &Connection) -> Result<()> {
        c.prepare_cached(
            "INSERT INTO member_no_seq (year, last) VALUES (?1, ?2) ON CONFLICT (year) DO UPDATE SET last = excluded.last",
        )?
        .execute(params![self.year, self.last])?;
        Ok(())
    }
}

/// Latest consent version of a kind, if any.
pub fn has_consent(c: &Connection, id: i64, kind: &str) -> Result<bool> {
    Ok(c.query_row(
        "SELECT count(*) > 0 FROM member_consents WHERE member_id = ?1 AND kind = ?2",
        params![id, kind],
        |r| r.get(0),
    )?)
}

/// Bump the token version and revoke refresh tokens: every session ends now.
pub fn revoke_sessions(c: &Connection, id: i64) -> Result<()> {
    c.execute(
        "UPDATE members SET token_version = token_version + 1 WHERE id = ?1",
        [id],
    )?;
    crate::auth::tokens::revoke_all(c, crate::auth::tokens::AUD_APP, id)?;
    Ok(())
}

/// Erase an account's real-name data (a squatted ID number released by staff): name, gender,
/// birth date and ID gone, identity unconfirmed, a pending application withdrawn.
pub fn clear_realname(c: &Connection, id: i64, now: i64) -> Result<()> {
    c.execute(
        "UPDATE members SET real_name = NULL, gender = NULL, birth_date = NULL, id_enc = NULL, id_bidx = NULL,
            id_masked = NULL, realname_verified_at = NULL, identity_confirmed_at = NULL,
            status = CASE status WHEN 'pending' THEN 'registered' ELSE status END, updated_at = ?1
         WHERE id = ?2",
        params![now, id],
    )?;
    c.execute(
        "UPDATE membership_applications SET status = 'withdrawn' WHERE member_id = ?1 AND status = 'pending'",
        [id],
    )?;
    Ok(())
}
