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
use rusqlite::{Connection, OptionalExtension, params_from_iter, types::Value};

/// Reference kind of an image answer in a registration form.
pub const REGISTRATION: &str = "activity_registration";

/// Every object that can refer to a file, as `SELECT org_id …` with one `?` for the file id:
/// the org whose scope reaches the file through that object.
const REFERRERS: &[&str] = &[
    "SELECT a.org_id FROM file_refs fr JOIN activity_registrations r ON r.id = fr.ref_id
     JOIN activities a ON a.id = r.activity_id WHERE fr.ref_type = 'activity_registration' AND fr.file_id = ?",
    "SELECT a.org_id FROM file_refs fr JOIN aid_applications a ON a.id = fr.ref_id
     WHERE fr.ref_type = 'aid_application' AND fr.file_id = ?",
    "SELECT org_id FROM members WHERE avatar_file_id = ?",
    // Ticket images reach the staff of the org handling the ticket now (after a transfer, the
    // new org; the old one no longer).
    "SELECT t.org_id FROM file_refs fr JOIN tickets t ON t.id = fr.ref_id WHERE fr.ref_type = 'ticket' AND t.held = 0 AND fr.file_id = ?",
    "SELECT t.org_id FROM file_refs fr JOIN ticket_messages tm ON tm.id = fr.ref_id JOIN tickets t ON t.id = tm.ticket_id
     WHERE fr.ref_type = 'ticket_message' AND tm.held = 0 AND fr.file_id = ?",
    // Review photos reach the organising org's staff (its moderators decide on them).
    "SELECT a.org_id FROM activity_review_images ri JOIN activities a ON a.id = ri.activity_id WHERE ri.file_id = ?",
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
    p.push(Value::Integer(id));
    // One read of the row: is it live, and is it a staff upload in scope?
    let row: Option<(bool, bool)> = c
        .query_row(
            &format!(
                "SELECT deleted_at IS NULL, deleted_at IS NULL AND owner_type = 'admin' AND {cond} FROM files WHERE id = ?"
            ),
            params_from_iter(p),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        None | Some((false, _)) => return Ok(false),
        Some((_, true)) => return Ok(true),
        Some((true, false)) => {}
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A database at the schema before migration 0013, with `data`, then upgraded by 0013.
    fn upgraded_with(data: &str) -> Connection {
        let c = Connection::open_in_memory().unwrap();
        let all = crate::migrations::all();
        for m in all.iter().filter(|m| m.version < 13) {
            c.execute_batch(&m.sql).unwrap();
        }
        c.execute_batch(data).unwrap();
        let m13 = all.iter().find(|m| m.version == 13).unwrap();
        c.execute_batch(&m13.sql).unwrap();
        // Later migrations too: the referrers include tables they add (tickets, aid applications).
        for m in all.iter().filter(|m| m.version > 13) {
            c.execute_batch(&m.sql).unwrap();
        }
        c
    }

    /// Migration 0013 on a populated database: every public file gets a token and keeps its
    /// numeric URL, private files get neither; the image answer of a registration becomes a
    /// reference (a file of somebody else named in an answer does not); activities default to
    /// `any` check-in.
    #[test]
    fn migration_0013_backfills_tokens_and_registration_references() {
        let c = upgraded_with(
            r#"
            INSERT INTO orgs (id, parent_id, name, code, kind, path, created_at, updated_at)
                VALUES (100, NULL, '县', 'x100', 'county', '/100/', 0, 0);
            INSERT INTO members (id, created_at, updated_at) VALUES (7, 0, 0), (8, 0, 0);
            INSERT INTO files (id, purpose, visibility, content_type, size, sha256, storage_key, owner_type, owner_id, created_at) VALUES
                (1, 'image', 'public', 'image/png', 1, '', 'k1', 'member', 7, 0),
                (2, 'attachment', 'private', 'image/png', 1, '', 'k2', 'member', 7, 0),
                (3, 'attachment', 'private', 'image/png', 1, '', 'k3', 'member', 8, 0);
            INSERT INTO form_templates (id, org_id, name, fields, created_at, updated_at) VALUES
                (1, 100, '表', '[{"key":"a","label":"A","type":"image"},{"key":"b","label":"B","type":"image"},{"key":"n","label":"N","type":"number"}]', 0, 0);
            INSERT INTO activities (id, org_id, title, category, location_name, starts_at, ends_at, signup_starts_at, signup_ends_at, quota, form_template_id, created_at, updated_at)
                VALUES (1, 100, '活动', 'sports', '地点', 0, 1, 0, 1, 10, 1, 0, 0);
            INSERT INTO activity_registrations (id, activity_id, member_id, status, answers, created_at)
                VALUES (5, 1, 7, 'approved', '{"a":2,"b":3,"n":1}', 0);
            "#,
        );
        let tokens: Vec<(i64, Option<String>, bool)> = c
            .prepare("SELECT id, public_token, legacy_id_url FROM files ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert!(tokens[0].1.as_deref().is_some_and(super::super::is_token));
        assert!(tokens[0].2);
        assert_eq!(tokens[1], (2, None, false));
        let refs: Vec<(i64, String, i64)> = c
            .prepare("SELECT file_id, ref_type, ref_id FROM file_refs")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(refs, vec![(2, REGISTRATION.to_string(), 5)]);
        let method: String = c
            .query_row(
                "SELECT checkin_method FROM activities WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(method, "any");
        // The organiser's county reaches the attachment; nobody reaches the unreferenced file.
        let county = Scope::Limited {
            subtrees: vec!["/100/".into()],
            orgs: vec![],
            owner: None,
        };
        assert!(in_reach(&c, &county, 2).unwrap());
        assert!(!in_reach(&c, &county, 3).unwrap());
        let other = Scope::Limited {
            subtrees: vec!["/200/".into()],
            orgs: vec![],
            owner: None,
        };
        assert!(!in_reach(&c, &other, 2).unwrap());
    }
}
