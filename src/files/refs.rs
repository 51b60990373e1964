//! Who may reach a file: staff reach a file through the objects that refer to it, within their
//! data scope, not through the org of whoever uploaded it.
//!
//! A staff upload belongs to the uploader's org (and, for `self` scope, to the uploader). A
//! member's upload belongs to nobody on the staff side until an object refers to it: the
//! registration whose form it answers (reached by the organising activity's org), the member
//! whose avatar it is (the member's org), an activity or article using it as cover. So the
//! county organising an activity can open a registrant's attachment, and the registrant's home
//! county, which has no scope over that activity, cannot.

use crate::auth::Scope;
use crate::error::{AppError, Result};
use rusqlite::{Connection, params_from_iter, types::Value};

/// Reference kind of an image answer in a registration form.
pub const REGISTRATION: &str = "activity_registration";

/// Every object that can refer to a file, as `SELECT org_id …` with one `?` for the file id:
/// the org whose scope reaches the file through that object.
const REFERRERS: &[&str] = &[
    "SELECT a.org_id FROM file_refs fr JOIN activity_registrations r ON r.id = fr.ref_id
     JOIN activities a ON a.id = r.activity_id WHERE fr.ref_type = 'activity_registration' AND fr.file_id = ?",
    "SELECT org_id FROM members WHERE avatar_file_id = ?",
    "SELECT org_id FROM activities WHERE cover_file_id = ?",
    "SELECT org_id FROM news WHERE cover_file_id = ?",
];

/// Record that `ref_type`/`ref_id` refers to each of `files` (in the caller's transaction).
pub fn link(c: &Connection, files: &[i64], ref_type: &str, ref_id: i64) -> Result<()> {
    let mut st = c.prepare_cached(
        "INSERT OR IGNORE INTO file_refs (file_id, ref_type, ref_id) VALUES (?1, ?2, ?3)",
    )?;
    for f in files {
        st.execute(rusqlite::params![f, ref_type, ref_id])?;
    }
    Ok(())
}

/// True when staff with `scope` (account `admin_id`) may reach live file `id`: a staff upload
/// of an org in scope (or their own upload), or any file an object in scope refers to.
pub fn in_reach(c: &Connection, scope: &Scope, id: i64) -> Result<bool> {
    // A staff upload, by its org or its uploader (`self` scope), as before.
    let owner = "(CASE WHEN files.owner_type = 'admin' THEN files.owner_id END)";
    let (cond, mut p) = scope.sql("files.org_id", Some(owner));
    p.insert(0, Value::Integer(id));
    let own: bool = c.query_row(
        &format!(
            "SELECT count(*) > 0 FROM files WHERE id = ? AND deleted_at IS NULL AND owner_type = 'admin' AND {cond}"
        ),
        params_from_iter(p),
        |r| r.get(0),
    )?;
    if own {
        return Ok(true);
    }
    let live: bool = c.query_row(
        "SELECT count(*) > 0 FROM files WHERE id = ?1 AND deleted_at IS NULL",
        [id],
        |r| r.get(0),
    )?;
    if !live {
        return Ok(false);
    }
    // Through the objects that refer to it: one union, scope applied to the referrer's org.
    let union = REFERRERS.join(" UNION ");
    let (cond, mut p) = scope.sql("ref.org_id", None);
    let mut all: Vec<Value> = vec![Value::Integer(id); REFERRERS.len()];
    all.append(&mut p);
    let found: bool = c.query_row(
        &format!(
            "SELECT count(*) > 0 FROM ({union}) AS ref WHERE ref.org_id IS NOT NULL AND {cond}"
        ),
        params_from_iter(all),
        |r| r.get(0),
    )?;
    Ok(found)
}

/// `Ok(())` when the file is in reach, else the 404 a missing file gets.
pub fn require(c: &Connection, scope: &Scope, id: i64) -> Result<()> {
    if in_reach(c, scope, id)? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}
