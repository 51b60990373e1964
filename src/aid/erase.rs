//! Erasure of a member's aid data when the account is deleted: the sealed values and the
//! family members go, the attachments' files are deleted (the member's own uploads by the
//! members' erasure, the clerk's uploads for a 代申请 here), open applications are cancelled
//! and a register entry is closed. Plain history (type, dates, steps, amounts) stays for
//! the statistics.

use crate::error::Result;
use rusqlite::{Connection, params};

/// Erase member `id`'s aid data in the caller's transaction; returns storage keys of the
/// staff-uploaded attachment files marked deleted here (the caller removes their bytes).
pub fn erase_member(c: &Connection, id: i64) -> Result<Vec<String>> {
    let now = crate::time::now();
    let keys: Vec<String> = c
        .prepare(
            "SELECT f.storage_key FROM files f WHERE f.deleted_at IS NULL AND f.id IN
               (SELECT x.file_id FROM aid_attachments x JOIN aid_applications a ON a.id = x.application_id WHERE a.member_id = ?1)",
        )?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    c.execute(
        "UPDATE files SET deleted_at = ?1 WHERE deleted_at IS NULL AND id IN
           (SELECT x.file_id FROM aid_attachments x JOIN aid_applications a ON a.id = x.application_id WHERE a.member_id = ?2)",
        params![now, id],
    )?;
    c.execute(
        "DELETE FROM file_refs WHERE ref_type = ?1 AND ref_id IN (SELECT id FROM aid_applications WHERE member_id = ?2)",
        params![super::repo::REF_TYPE, id],
    )?;
    c.execute(
        "DELETE FROM aid_attachments WHERE application_id IN (SELECT id FROM aid_applications WHERE member_id = ?1)",
        [id],
    )?;
    c.execute(
        "DELETE FROM aid_family_members WHERE application_id IN (SELECT id FROM aid_applications WHERE member_id = ?1)",
        [id],
    )?;
    c.execute(
        "UPDATE aid_applications SET sealed = NULL, erased_at = ?1, updated_at = ?1,
            status = CASE WHEN status = 'draft' OR status = 'pending' OR status = 'returned' THEN 'cancelled' ELSE status END
         WHERE member_id = ?2",
        params![now, id],
    )?;
    c.execute(
        "UPDATE aid_register SET status = 'left', left_reason = '账号注销', left_at = ?1, updated_at = ?1
         WHERE member_id = ?2 AND status = 'active'",
        params![now, id],
    )?;
    Ok(keys)
}
