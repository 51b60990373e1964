//! SQL for the `files` table.

use crate::error::Result;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// A stored file's metadata.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FileRow {
    /// Id.
    pub id: i64,
    /// Upload purpose.
    pub purpose: String,
    /// `public` or `private`.
    pub visibility: String,
    /// Sniffed content type.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// sha256 of the content, hex.
    pub sha256: String,
    /// Key in the store (never derived from the client's file name).
    #[serde(skip)]
    pub storage_key: String,
    /// `admin` or `member`.
    pub owner_type: String,
    /// Uploader.
    pub owner_id: i64,
    /// Org the file belongs to.
    pub org_id: Option<i64>,
    /// Upload time.
    #[serde(skip)]
    pub created_at: i64,
    /// Random name of a public file in its URL.
    #[serde(skip)]
    pub public_token: Option<String>,
    /// A public file stored before tokens existed: still served at its numeric URL.
    #[serde(skip)]
    pub legacy_id_url: bool,
    /// Public URL (`/files/{token}`), public files only.
    pub url: Option<String>,
}

/// Insert metadata; returns the id.
pub fn insert(c: &Connection, f: &FileRow) -> Result<i64> {
    c.execute(
        "INSERT INTO files (purpose, visibility, content_type, size, sha256, storage_key, owner_type, owner_id, org_id, created_at, public_token)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![f.purpose, f.visibility, f.content_type, f.size, f.sha256, f.storage_key, f.owner_type, f.owner_id, f.org_id, f.created_at, f.public_token],
    )?;
    Ok(c.last_insert_rowid())
}

const COLS: &str = "id, purpose, visibility, content_type, size, sha256, storage_key, owner_type, owner_id, org_id, created_at, public_token, legacy_id_url";

fn map(r: &rusqlite::Row<'_>) -> rusqlite::Result<FileRow> {
    let token: Option<String> = r.get(11)?;
    Ok(FileRow {
        id: r.get(0)?,
        purpose: r.get(1)?,
        visibility: r.get(2)?,
        content_type: r.get(3)?,
        size: r.get(4)?,
        sha256: r.get(5)?,
        storage_key: r.get(6)?,
        owner_type: r.get(7)?,
        owner_id: r.get(8)?,
        org_id: r.get(9)?,
        created_at: r.get(10)?,
        url: super::public_url(token.clone()),
        public_token: token,
        legacy_id_url: r.get(12)?,
    })
}

/// Load a live (not deleted) file.
pub fn get(c: &Connection, id: i64) -> Result<Option<FileRow>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {COLS} FROM files WHERE id = ?1 AND deleted_at IS NULL"
    ))?
    .query_row([id], map)
    .optional()?)
}

/// Load a live public file by its URL token.
pub fn get_by_token(c: &Connection, token: &str) -> Result<Option<FileRow>> {
    Ok(c
        .prepare_cached(&format!(
            "SELECT {COLS} FROM files WHERE public_token = ?1 AND visibility = 'public' AND deleted_at IS NULL"
        ))?
        .query_row([token], map)
        .optional()?)
}

/// Mark a live file deleted; false when it was already deleted or does not exist.
pub fn mark_deleted(c: &Connection, id: i64) -> Result<bool> {
    let n = c.execute(
        "UPDATE files SET deleted_at = ?1 WHERE id = ?2 AND deleted_at IS NULL",
        params![crate::time::now(), id],
    )?;
    Ok(n == 1)
}
