//! Erasure of a member's uploads when the account is deleted (issue 17, item 7): the rows are
//! marked deleted inside the caller's write transaction, so `/files/{id}` and every staff route
//! answer 404 from the commit on, and the bytes are removed from the store after the commit.

use crate::app::AppState;
use crate::error::Result;
use rusqlite::{Connection, params};

/// Mark every live file uploaded by `owner_type` `owner_id` deleted; returns their storage
/// keys, whose bytes the caller removes with [`remove_objects`] once the transaction commits.
pub fn mark_owned_deleted(c: &Connection, owner_type: &str, owner_id: i64) -> Result<Vec<String>> {
    let keys: Vec<String> = c
        .prepare(
            "SELECT storage_key FROM files WHERE owner_type = ?1 AND owner_id = ?2 AND deleted_at IS NULL",
        )?
        .query_map(params![owner_type, owner_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    c.execute(
        "UPDATE files SET deleted_at = ?1 WHERE owner_type = ?2 AND owner_id = ?3 AND deleted_at IS NULL",
        params![crate::time::now(), owner_type, owner_id],
    )?;
    Ok(keys)
}

/// Remove objects from the store (local disk or S3, through the operator). A failure is logged
/// and counted in the answer, never fatal: the rows are already gone for every reader.
pub async fn remove_objects(st: &AppState, keys: &[String]) -> usize {
    let mut failed = 0;
    for key in keys {
        if let Err(e) = st.storage.delete(key).await {
            failed += 1;
            tracing::warn!(error = %e, "could not remove an erased file from storage");
        }
    }
    failed
}
